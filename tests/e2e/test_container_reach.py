"""What a container job can reach on the host, with a real podman
(tests/podman_env.py): mounts resolved before they are checked, sensitive
paths and other jobs' dirs refused, runtime_options limited to an
allow-list, file:// inputs only from where the job could have mounted. An
attacking job fails with a message naming what was refused, is closed out,
and the worker serves the next job; an ordinary HySDS-style job still runs.
"""

import json
import os
import shlex
import subprocess
import time
import uuid

import msgpack
import pytest
import redis

from conftest import VERDI, make_job

RUN_JOB = "hysds.job_worker.run_job"


@pytest.fixture
def host(tmp_path):
    """A worker home as HySDS job-specs expect it ($HOME/.netrc, $HOME/.aws),
    with credentials no job may read, and another job's dir in the work root."""
    home = tmp_path / "home" / "ops"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text("[default]\n")
    (home / ".netrc").write_text("machine example.com\n")
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_rsa").write_text("PRIVATE KEY\n")
    (tmp_path / "etc-link").symlink_to("/etc")
    (tmp_path / "passwd-link").symlink_to("/etc/passwd")
    other = tmp_path / "root" / "jobs" / "2020" / "01" / "01" / "00" / "00" / "other-job"
    other.mkdir(parents=True)
    (other / "result.txt").write_text("another job's output\n")
    (other / ".done").write_text("")
    data = tmp_path / "data"
    data.mkdir()
    (data / "in.txt").write_text("data for the job\n")

    class Host:
        pass
    h = Host()
    h.tmp, h.home, h.other, h.data = tmp_path, home, other, data
    h.env = {"HOME": str(home)}
    return h


def run(verdi, podman, host, job, args=()):
    """`verdi run_job` with podman and the host's home; r.dir is the job's
    dir (another job's lies in the same root), r.info its final job_info."""
    env = dict(podman.env)
    env.update(host.env)
    r = verdi(job, args=["--container-engine", "podman", *args], env=env, timeout=120)
    r.dir = job_dir(r.root, job["job_id"])
    r.info = json.loads((r.dir / "_job.json").read_text())["job_info"]
    return r


def cjob(podman, command, job_id="reach-20240101T000000.0Z", **extra):
    job = make_job(command, job_id=job_id, **extra)
    job.setdefault("container_image_name", podman.image)
    return job


def job_dir(root, job_id):
    dirs = [p.parent for p in root.glob(f"jobs/*/*/*/*/*/{job_id}/.done")]
    assert len(dirs) == 1, dirs
    return dirs[0]


# (name, job fields given the host, text the error holds)
ATTACKS = [
    ("link-to-etc", lambda h: {"container_mappings": {str(h.tmp / "etc-link"): "/x"}},
     "refusing to mount /etc (from "),
    ("bin-rw", lambda h: {"container_mappings": {"/bin": ["/x", "rw"]}},
     "container_mappings./bin: refusing to mount /usr/bin (from /bin): it is under the blacklisted /usr"),
    ("var-run", lambda h: {"container_mappings": {"/var/run": "/x"}},
     "refusing to mount /run (from /var/run): it is /run"),
    ("sys", lambda h: {"container_mappings": {"/sys/fs/cgroup": "/x"}},
     "no container job may reach"),
    ("home", lambda h: {"container_mappings": {"$HOME": "/x"}}, "container_mappings.$HOME: refusing"),
    ("home-ssh", lambda h: {"container_mappings": {"$HOME/.ssh": "/x"}},
     "the worker's credentials"),
    ("netrc-rw", lambda h: {"container_mappings": {"$HOME/.netrc": ["/x", "rw"]}},
     "which a container job may only read"),
    ("work-root-parent", lambda h: {"container_mappings": {str(h.tmp): "/x"}},
     "holds"),
    ("other-job", lambda h: {"container_mappings": {str(h.other): ["/x", "rw"]}},
     "outside this job's dir"),
    ("missing", lambda h: {"container_mappings": {str(h.tmp / "nope"): "/x"}},
     "does not exist on this host"),
    ("volume-option", lambda h: {"runtime_options": {"volume": "/etc:/x"}},
     "runtime_options.volume: refused"),
    ("privileged", lambda h: {"runtime_options": {"privileged": True}},
     "runtime_options.privileged: refused: --privileged is not an allowed engine option"),
    ("cap-add", lambda h: {"runtime_options": {"cap-add": "ALL"}}, "CONTAINER_ALLOWED_RUNTIME_OPTIONS"),
    ("env-pattern", lambda h: {"runtime_options": {"env": "*"}}, "expected NAME=value"),
    ("file-etc", lambda h: {"localize_urls": [{"url": "file:///etc/hostname"}]},
     "refusing /etc/hostname"),
    ("file-link", lambda h: {"localize_urls": [{"url": f"file://{h.tmp}/passwd-link"}]},
     "refusing /etc/passwd"),
    ("file-ssh", lambda h: {"localize_urls": [{"url": f"file://{h.home}/.ssh/id_rsa",
                                               "cache": False}]},
     "the worker's credentials"),
    ("file-other-job", lambda h: {"localize_urls": [{"url": f"file://{h.other}/result.txt"}]},
     "outside this job's dir"),
    ("image-name-option", lambda h: {"container_image_name": "--privileged"},
     "container_image_name: '--privileged' is not an image reference"),
    ("image-from-etc", lambda h: {"container_image_url": f"file://{h.tmp}/etc-link/hostname"},
     "container_image_url: refusing to load /etc/hostname: it is under /etc"),
]


@pytest.mark.parametrize("name,fields,error", ATTACKS, ids=[a[0] for a in ATTACKS])
def test_an_attacking_job_is_refused_and_closed_out(verdi, podman, host, name, fields, error):
    job = cjob(podman, "sh -c 'cat /x/* > stolen.txt; echo RAN'", **fields(host))
    r = run(verdi, podman, host, job)
    assert r.returncode != 0
    info = r.info  # closed out: .done and the final _job.json
    assert info["job_status"] == "job-failed"
    assert error in info["error"], info["error"]
    assert "job-failed: " in r.stdout and error in r.stdout, r.stdout  # run_job's last line
    assert not (r.dir / "_exit_code").exists()  # nothing was run
    assert not (r.dir / "stolen.txt").exists()
    assert podman.containers(f"verdi.job_id={job['job_id']}") == []


def test_a_bind_mount_of_etc_is_refused_under_its_other_name(verdi, podman, host):
    """realpath cannot see a bind mount: the rules also go by device and inode."""
    if os.geteuid() != 0:
        pytest.skip("bind-mounting /etc needs root")
    alias = host.tmp / "etc-bind"
    alias.mkdir()
    subprocess.run(["mount", "--bind", "/etc", str(alias)], check=True)
    try:
        job = cjob(podman, "sh -c 'cat /x/hostname'", container_mappings={str(alias): "/x"})
        r = run(verdi, podman, host, job)
    finally:
        subprocess.run(["umount", str(alias)], check=True)
    assert r.returncode != 0
    assert f"{alias} is /etc under another name, and it is /etc (" in r.info["error"], r.info
    assert not (r.dir / "_exit_code").exists()


def test_an_option_value_is_never_another_option(verdi, podman, host):
    job = cjob(podman, "sh -c 'echo RAN'", runtime_options={"memory": "64m --privileged"})
    r = run(verdi, podman, host, job)
    assert r.returncode != 0
    assert r.info["job_status"] == "job-failed"
    words = shlex.split((r.dir / "_run.sh").read_text().splitlines()[-1])
    assert "--memory=64m --privileged" in words and "--privileged" not in words
    assert "RAN" not in (r.dir / "_stdout.txt").read_text()  # the engine refused the size


def test_a_hysds_style_job_still_runs_and_sees_only_its_own_dir(verdi, podman, host):
    """$HOME/.netrc and $HOME/.aws mapped read-only (as HySDS job-specs do),
    memory and pids limits, a file:// input: it runs, with its own dir and
    the cache mounted, and no other job's dir."""
    script = ("cat .netrc /home/ops/.aws/credentials in.txt; "
              "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || echo 67108864; "
              f"cat {host.other}/result.txt 2>/dev/null || echo NO-PEER; "
              "touch .netrc 2>/dev/null && echo NETRC-WRITABLE; echo out > mine.txt")
    job = cjob(podman, f"sh -c {shlex.quote(script)}",
               container_mappings={"$HOME/.netrc": ".netrc", "$HOME/.aws": "/home/ops/.aws"},
               runtime_options={"memory": "64m", "pids-limit": 64},
               localize_urls=[{"url": f"file://{host.data}/in.txt"}])
    r = run(verdi, podman, host, job)
    assert r.returncode == 0, r.stderr
    d = r.dir
    assert (d / "_stdout.txt").read_text() == (
        "machine example.com\n[default]\ndata for the job\n67108864\nNO-PEER\n")
    assert (d / "mine.txt").read_text() == "out\n"
    params = json.loads((d / "_docker_params.json").read_text())[podman.image]
    cache = str(r.root / "cache")
    assert params["volumes"] == [[str(d), str(d)], [cache, cache + ":ro"],
                                 [str(host.home / ".aws"), "/home/ops/.aws:ro"],
                                 [str(host.home / ".netrc"), str(d / ".netrc") + ":ro"]]
    assert params["runtime_options"] == {"memory": "64m", "pids-limit": "64"}
    words = shlex.split((d / "_run.sh").read_text().splitlines()[-1])
    assert "--memory=64m" in words and "--pids-limit=64" in words


def test_the_hysds_layout_mounts_every_job_dir(verdi, podman, host):
    job = cjob(podman, f"sh -c 'cat {host.other}/result.txt'")
    r = run(verdi, podman, host, job, args=["--container-mount-layout", "hysds"])
    assert r.returncode == 0, r.stderr
    assert (r.dir / "_stdout.txt").read_text() == "another job's output\n"
    volumes = json.loads((r.dir / "_docker_params.json").read_text())[podman.image]["volumes"]
    assert [str(r.root / "jobs"), str(r.root / "jobs")] in volumes
    assert [str(r.root / "workers"), str(r.root / "workers")] in volumes


def test_the_allow_list_is_extended_by_the_setting(verdi, podman, host):
    job = cjob(podman, "sh -c 'echo ran'", runtime_options={"network": "none"})
    r = run(verdi, podman, host, job)
    assert "runtime_options.network: refused" in r.info["error"]
    fresh = host.tmp / "root2"
    env = podman.full_env({**host.env, "CONTAINER_ALLOWED_RUNTIME_OPTIONS": "network"})
    job_file = host.tmp / "net.json"
    job_file.write_text(json.dumps(job))
    proc = subprocess.run([VERDI, "run_job", "--root-work-dir", str(fresh), "--container-engine",
                           "podman", str(job_file)], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (job_dir(fresh, job["job_id"]) / "_stdout.txt").read_text() == "ran\n"


def test_a_host_job_still_localizes_any_file_it_can_read(verdi, host):
    """The difference: a job on the host runs as the worker's user and could
    read the file itself, so its file:// inputs are not limited."""
    job = make_job("cat hostname", localize_urls=[{"url": "file:///etc/hostname"}])
    r = verdi(job, env=host.env)
    assert r.returncode == 0, r.stderr
    assert (job_dir(r.root, job["job_id"]) / "_stdout.txt").read_text() == open("/etc/hostname").read()


def statuses(redis_url, key, task_id):
    client = redis.Redis.from_url(redis_url)
    docs = [msgpack.unpackb(raw, raw=False) for raw in client.lrange(key, 0, -1)]
    return [d for d in docs if d["uuid"] == task_id]


def test_the_worker_refuses_an_attacking_job_and_serves_the_next(start_worker, celery_app,
                                                                  services, queue_name, podman,
                                                                  host, tmp_path):
    key = f"logstash-{uuid.uuid4().hex[:8]}"
    url = services.state["redis_url"]
    worker = start_worker("-c", "1", "--container-engine", "podman",
                          "--redis-job-status-url", url, "--redis-job-status-key", key,
                          env={**podman.env, **host.env})
    attack = cjob(podman, "sh -c 'cat /x/shadow'", job_id="reach-attack",
                  container_mappings={str(host.tmp / "etc-link"): "/x"},
                  runtime_options={"memory": "64m"})
    result = celery_app.send_task(RUN_JOB, args=[attack], queue=queue_name)
    with pytest.raises(Exception) as raised:
        result.get(timeout=120)
    assert result.state == "FAILURE"
    assert "refusing to mount /etc" in str(raised.value), raised.value
    deadline = time.monotonic() + 20
    while not [d for d in statuses(url, key, result.id) if d["status"] == "job-failed"]:
        assert time.monotonic() < deadline, statuses(url, key, result.id)
        time.sleep(0.1)
    failed = [d for d in statuses(url, key, result.id) if d["status"] == "job-failed"][0]
    assert "refusing to mount /etc" in failed["error"]
    assert "refusing to mount /etc" in worker.log()
    attack_dir = job_dir(tmp_path / "root", "reach-attack")
    assert not (attack_dir / "_exit_code").exists()

    normal = cjob(podman, "sh -c 'cat .netrc'", job_id="reach-normal",
                  container_mappings={"$HOME/.netrc": ".netrc"},
                  runtime_options={"memory": "64m"})
    summary = celery_app.send_task(RUN_JOB, args=[normal],
                                   queue=queue_name).get(timeout=120)
    assert summary["status"] == "job-completed"
    out = job_dir(tmp_path / "root", "reach-normal") / "_stdout.txt"
    assert out.read_text() == "machine example.com\n"



def test_the_settings_come_from_flags_env_and_the_config_file(tmp_path):
    cfg = tmp_path / "celeryconfig.py"
    cfg.write_text('CONTAINER_MOUNT_LAYOUT = "hysds"\n'
                   'CONTAINER_ALLOWED_RUNTIME_OPTIONS = "network tmpfs"\n')
    env = env_without_these_settings()
    out = subprocess.run([VERDI, "worker", "--print-config", "--config", str(cfg)],
                         capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    lines = printed_settings(out.stdout)
    assert lines["CONTAINER_MOUNT_LAYOUT"] == "hysds"
    assert lines["CONTAINER_ALLOWED_RUNTIME_OPTIONS"] == "network tmpfs"
    assert lines["WORKER_MOUNT_BLACKLIST"] == "/dev /etc /lib /proc /usr /var"
    out = subprocess.run([VERDI, "worker", "--print-config", "--config", str(cfg)],
                         capture_output=True, text=True,
                         env=dict(env, CONTAINER_MOUNT_LAYOUT="job"))
    assert printed_settings(out.stdout)["CONTAINER_MOUNT_LAYOUT"] == "job"  # env beats the file
    cfg.write_text('CONTAINER_MOUNT_LAYOUT = "everything"\n')
    out = subprocess.run([VERDI, "worker", "--print-config", "--config", str(cfg)],
                         capture_output=True, text=True, env=env)
    assert out.returncode == 2
    assert "CONTAINER_MOUNT_LAYOUT" in out.stderr and "everything" in out.stderr, out.stderr


def printed_settings(stdout):
    """`--print-config`'s "name = value  (source)" lines as {name: value}."""
    rows = (line.split(" = ", 1) for line in stdout.splitlines() if not line.startswith("#"))
    return {name: value.split("  (", 1)[0] for name, value in rows}


def env_without_these_settings():
    return {k: v for k, v in os.environ.items()
            if k not in ("CONTAINER_MOUNT_LAYOUT", "CONTAINER_ALLOWED_RUNTIME_OPTIONS",
                         "HYSDS_CELERY_CFG")}
