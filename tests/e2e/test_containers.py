"""Jobs in containers, with a real engine: Debian's podman (runc, cgroupfs),
its storage in a temp dir of this test session (tests/podman_env.py).
Skipped, with the reason, only where podman cannot run at all."""

import hashlib
import json
import shlex
import subprocess
import sys
import threading

import pytest

from conftest import REPO, VERDI, make_job

sys.path.insert(0, str(REPO / "tests"))
import podman_env  # noqa: E402


def cjob(podman, command, job_id="c-job-20240101T000000.0Z", **extra):
    job = make_job(command, job_id=job_id, **extra)
    job.setdefault("container_image_name", podman.image)
    return job


def run(verdi, podman, job, args=(), env=None, timeout=120):
    full = dict(podman.env)
    full.update(env or {})
    return verdi(job, args=["--container-engine", "podman", *args], env=full, timeout=timeout)


def test_argv_uid_workdir_env_and_files(verdi, podman):
    job = cjob(podman, "sh -c 'echo ARGS \"$0\" \"$1\"; id -u; id -g; pwd; echo FOO=$FOO' 'a b' c",
               runtime_options={"env": "FOO=$HOST_FOO"})
    r = run(verdi, podman, job, env={"HOST_FOO": "from host"})
    assert r.returncode == 0, r.stderr
    d = r.job_dir
    out = (d / "_stdout.txt").read_text().splitlines()
    import os
    assert out == ["ARGS a b c", str(os.getuid()), str(os.getgid()), str(d), "FOO=from host"]
    # _run.sh holds the whole container command, each word quoted.
    script = (d / "_run.sh").read_text().splitlines()[-1]
    words = shlex.split(script)
    assert words[:6] == ["podman", "run", "--init", "--rm", "-u", f"{os.getuid()}:{os.getgid()}"]
    assert words[words.index(podman.image) + 1:] == [
        "sh", "-c", "echo ARGS \"$0\" \"$1\"; id -u; id -g; pwd; echo FOO=$FOO", "a b", "c"]
    assert "--name" in words and f"verdi.job_id={job['job_id']}" in words
    # The image id is in _context.json and the job; _docker_params.json describes it.
    image_id = json.loads((d / "_context.json").read_text())["container_image_id"]
    assert image_id and r.job_json()["container_image_id"] == image_id
    params = json.loads((d / "_docker_params.json").read_text())
    assert params[podman.image]["working_dir"] == str(d)
    # No container is left.
    assert podman.containers(f"verdi.job_id={job['job_id']}") == []


def test_mounts_rw_ro_relative(verdi, podman, tmp_path):
    rw = tmp_path / "rw"
    rw.mkdir()
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "in.txt").write_text("read me\n")
    script = ("echo out > /mnt/rw/out.txt; cat /mnt/ro/in.txt; "
              "touch /mnt/ro/x 2>/dev/null && echo RO-WRITABLE; cat rel/in.txt; "
              "touch $(pwd)/../../../../../../../jobs/probe 2>/dev/null; echo done")
    job = cjob(podman, f"sh -c {shlex.quote(script)}",
               container_mappings={"$RW_DIR": ["/mnt/rw", "rw"], str(ro): "/mnt/ro",
                                   str(ro) + "/": "rel"})
    r = run(verdi, podman, job, env={"RW_DIR": str(rw)})
    assert r.returncode == 0, r.stderr
    assert (rw / "out.txt").read_text() == "out\n"
    out = (r.job_dir / "_stdout.txt").read_text()
    assert out == "read me\nread me\ndone\n", out
    # Only the job's own dir of the work root is mounted: <root>/jobs is not
    # (test_container_reach.py has the hysds layout, which mounts it).
    assert not (verdi.root / "jobs" / "probe").exists()


@pytest.mark.parametrize("host", ["/", "/etc", "/var/lib", "/tmp/../usr"])
def test_blacklisted_mounts_fail_the_job(verdi, podman, host):
    job = cjob(podman, "true", container_mappings={host: "/x"})
    r = run(verdi, podman, job)
    assert r.returncode != 0
    info = r.job_json()["job_info"]
    assert info["job_status"] == "job-failed"
    assert f"container_mappings.{host}" in info["error"] and "refusing" in info["error"]
    assert not (r.job_dir / "_exit_code").exists()  # nothing was run


def test_image_loaded_from_tarball_with_sha256(verdi, podman, tmp_path):
    tar = podman.image_tarball("localhost/verdi-load:sha", tmp_path / "img.tar")
    digest = hashlib.sha256(tar.read_bytes()).hexdigest()
    bad = cjob(podman, "true", container_image_name="localhost/verdi-load:sha",
               container_image_url=f"file://{tar}", container_image_sha256="0" * 64)
    r = run(verdi, podman, bad)
    assert r.returncode != 0
    assert "sha256 mismatch" in r.job_json()["job_info"]["error"]
    assert podman.podman("image", "exists", "localhost/verdi-load:sha", check=False).returncode != 0

    good = cjob(podman, "echo loaded", job_id="c-job-good-20240101T000000.0Z",
                container_image_name="localhost/verdi-load:sha",
                container_image_url=f"file://{tar}", container_image_sha256=digest)
    r2 = verdi_again(verdi, podman, good, tmp_path / "root2")
    assert r2.returncode == 0, r2.stderr
    assert (r2.job_dir / "_stdout.txt").read_text() == "loaded\n"


def test_sidecar_sha256_and_failed_load(verdi, podman, tmp_path):
    tar = podman.image_tarball("localhost/verdi-load:side", tmp_path / "side.tar")
    (tmp_path / "side.tar.sha256").write_text("f" * 64 + "  side.tar\n")
    r = run(verdi, podman, cjob(podman, "true", container_image_name="localhost/verdi-load:side",
                                container_image_url=str(tar)))
    assert "sha256 mismatch" in r.job_json()["job_info"]["error"]
    junk = tmp_path / "junk.tar"
    junk.write_text("not an image")
    r = verdi_again(verdi, podman, cjob(podman, "true", container_image_name="localhost/nope:1",
                                        container_image_url=str(junk)), tmp_path / "root3")
    error = r.job_json()["job_info"]["error"]
    assert r.returncode != 0 and "podman load failed" in error, error


def verdi_again(verdi, podman, job, root, extra=()):
    """Runs verdi with another root (the fixture's root holds one job)."""
    job_file = root.parent / (root.name + ".json")
    job_file.write_text(json.dumps(job))
    proc = subprocess.run([VERDI, "run_job", "--root-work-dir", str(root), "--container-engine",
                           "podman", *extra, str(job_file)], capture_output=True, text=True,
                          env=podman.full_env(), timeout=300)

    class R:
        pass
    r = R()
    r.returncode, r.stdout, r.stderr = proc.returncode, proc.stdout, proc.stderr
    dirs = [p.parent for p in root.glob("jobs/*/*/*/*/*/*/.done")]
    r.job_dir = dirs[0] if len(dirs) == 1 else None
    r.job_json = lambda: json.loads((r.job_dir / "_job.json").read_text())
    return r


def test_three_concurrent_jobs_load_the_image_once(podman, tmp_path):
    tar = podman.image_tarball("localhost/verdi-load:conc", tmp_path / "conc.tar")
    root = tmp_path / "root"
    procs = []
    for i in range(3):
        job = cjob(podman, f"echo job{i}", job_id=f"conc-{i}-20240101T000000.0Z",
                   container_image_name="localhost/verdi-load:conc",
                   container_image_url=f"file://{tar}")
        f = tmp_path / f"job{i}.json"
        f.write_text(json.dumps(job))
        procs.append(subprocess.Popen(
            [VERDI, "run_job", "--root-work-dir", str(root), "--container-engine", "podman", str(f)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=podman.full_env()))
    logs = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        logs.append(err)
    loads = sum(log.count("image localhost/verdi-load:conc: loading") for log in logs)
    assert loads == 1, "\n".join(logs)
    ids = {json.loads(p.read_text())["container_image_id"]
           for p in root.glob("jobs/*/*/*/*/*/*/_job.json")}
    assert len(ids) == 1


STUBBORN = "sh -c 'trap \"\" TERM; echo started; while true; do sleep 1; done'"


@pytest.mark.parametrize("limit", ["soft_time_limit", "time_limit"])
def test_time_limits_kill_the_container(verdi, podman, limit):
    job = cjob(podman, STUBBORN, **{limit: 3})
    r = run(verdi, podman, job, args=["--kill-grace", "1"], timeout=120)
    assert r.returncode != 0
    info = r.job_json()["job_info"]
    assert info["job_status"] == "job-failed"
    assert ("Soft" if limit == "soft_time_limit" else "Hard") in info["error"]
    assert (r.job_dir / "_stdout.txt").read_text().startswith("started")
    assert podman.containers(f"verdi.job_id={job['job_id']}") == []
    assert podman.podman("ps", "-a", "--format", "{{.Names}}").stdout.strip() == ""


def test_sigterm_to_verdi_kills_the_container(verdi, podman, tmp_path):
    import signal
    import time
    job = cjob(podman, STUBBORN, job_id="c-sig-20240101T000000.0Z")
    f = tmp_path / "sig.json"
    f.write_text(json.dumps(job))
    root = tmp_path / "sigroot"
    p = subprocess.Popen([VERDI, "run_job", "--root-work-dir", str(root), "--kill-grace", "1",
                          "--container-engine", "podman", str(f)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=podman.full_env())
    deadline = time.monotonic() + 60
    while not list(root.glob("jobs/*/*/*/*/*/*/_stdout.txt")) or \
            "started" not in list(root.glob("jobs/*/*/*/*/*/*/_stdout.txt"))[0].read_text():
        assert time.monotonic() < deadline and p.poll() is None
        time.sleep(0.1)
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=60)
    done = list(root.glob("jobs/*/*/*/*/*/*/.done"))
    assert len(done) == 1
    info = json.loads((done[0].parent / "_job.json").read_text())["job_info"]
    assert info["job_status"] == "job-terminated"
    assert podman.containers(f"verdi.job_id={job['job_id']}") == []


def test_env_values_are_never_on_a_command_line(podman, tmp_path):
    import os
    import pathlib
    import time
    from conftest import SECRET_ENV, files_holding
    # The command checks the values it was given, says so, then sleeps while
    # every process's command line is read; its text never holds "topsecret".
    check = ('s=top; s=${s}secret; test "$MY_API_TOKEN" = $s && '
             'test "$RESULTS" = redis://:$s@h:6379/0 || exit 3; echo checked; sleep 4')
    cfg = tmp_path / "worker.json"
    cfg.write_text(json.dumps({"configs": [{
        "type": "job-e2e:test",
        "command": {"path": "sh", "arguments": ["-c", check],
                    "env": [{"key": "MY_API_TOKEN", "value": "topsecret"},
                            {"key": "RESULTS", "value": "redis://:topsecret@h:6379/0"}]}}]}))
    job_file = tmp_path / "secret.json"
    job_file.write_text(json.dumps(cjob(podman, "ignored", job_id="c-secret-20240101T000000.0Z")))
    root = tmp_path / "secret-root"
    proc = subprocess.Popen(
        [VERDI, "run_job", "--root-work-dir", str(root), "--container-engine", "podman",
         str(job_file)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=podman.full_env({"HYSDS_WORKER_CFG": str(cfg), **SECRET_ENV}))
    deadline = time.monotonic() + 120
    checked = False
    while not checked:
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        checked = any("checked" in p.read_text()
                      for p in root.glob("jobs/*/*/*/*/*/*/_stdout.txt"))
        time.sleep(0.1)
    # The container runs: verdi, the engine, its helpers and the command are all up.
    seen = []
    for cmdline in pathlib.Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes()
        except OSError:
            continue  # gone, or not ours to read
        seen.append(text)
        assert b"topsecret" not in text, text.replace(b"\0", b" ")
    assert any(b"--env\0MY_API_TOKEN\0" in text for text in seen)  # the engine was seen
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err  # the command inside saw the right values
    assert "topsecret" not in out + err
    assert files_holding(root) == []
    d = [p.parent for p in root.glob("jobs/*/*/*/*/*/*/.done")][0]
    words = shlex.split((d / "_run.sh").read_text().splitlines()[-1])
    assert words[words.index("--env") + 1] == "MY_API_TOKEN"
    assert os.path.exists(d / "_docker_params.json")
