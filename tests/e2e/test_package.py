"""The .deb (cpack on the build tree, as scripts/package makes it), installed
with dpkg into a fresh Debian 12 root (debootstrap, packaging/debian-root),
runs the example job there; and the image scripts/image builds from such a
root runs it with podman.

The first run debootstraps the root (minutes, from the machine's Debian
mirror); it is kept in <build>/debian12 for the next runs.
"""

import pathlib
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import REPO, VERDI, make_job
from services import free_port

BUILD = pathlib.Path(VERDI).resolve().parents[1]  # the binary is <build>/verdi/verdi
ROOT_CACHE = BUILD / "debian12"
DEBIAN_ROOT = REPO / "packaging" / "debian-root"
EXAMPLE_JOB = "/usr/share/verdi/examples/hello_world/test_job.json"


def run(argv, timeout=300, **kwargs):
    proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                          timeout=timeout, **kwargs)
    assert proc.returncode == 0, f"{argv}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def version():
    return run([VERDI, "--version"]).stdout.split()[1]


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """cpack on the build tree: the .deb and its -dbgsym .ddeb."""
    out = tmp_path_factory.mktemp("cpack")
    assert (BUILD / "CPackConfig.cmake").exists(), f"{BUILD} is not a configured build tree"
    run(["cpack", "-G", "DEB", "--config", BUILD / "CPackConfig.cmake", "-B", out], cwd=out)
    deb = out / f"verdi_{version()}_amd64.deb"
    ddeb = out / f"verdi-dbgsym_{version()}_amd64.ddeb"
    assert deb.exists() and ddeb.exists(), sorted(p.name for p in out.iterdir())
    return deb, ddeb


def contents(package):
    return {line.split()[-1].lstrip(".") for line in
            run(["dpkg-deb", "--contents", package]).stdout.splitlines()}


def in_root(root, *command, check=True, timeout=300):
    proc = subprocess.run([str(DEBIAN_ROOT), "run", str(root), *command], capture_output=True,
                          text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, f"{command}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def wait_for(condition, timeout, what):
    """Until condition() holds; `what` (text, or a function giving it) says
    what did not happen."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what() if callable(what) else what
        time.sleep(0.2)


def probe(url):
    """(status, body) of a GET; None while nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return None


def mounts_under(path):
    with open("/proc/self/mountinfo") as f:
        return [line for line in f if f" {path}/" in line]


def test_package_holds_a_stripped_binary_and_its_debug_info_apart(packages, tmp_path):
    deb, ddeb = packages
    files = contents(deb)
    for f in ["/usr/bin/verdi", "/usr/share/man/man1/verdi.1.gz",
              "/usr/share/man/man1/verdi-worker.1.gz", "/usr/lib/systemd/system/verdi-worker@.service",
              "/usr/lib/systemd/system/verdi-manager.service", "/etc/verdi/verdi.env",
              "/etc/verdi/manager.env", "/usr/share/verdi/examples/hello_world/test_job.json"]:
        assert f in files, f"{f} not in {deb.name}: {sorted(files)}"
    run(["dpkg-deb", "--extract", deb, tmp_path / "deb"])
    binary = tmp_path / "deb" / "usr" / "bin" / "verdi"
    assert ", stripped" in run(["file", binary]).stdout
    assert binary.stat().st_size < 20 << 20, binary.stat().st_size
    # Its debug info is in the .ddeb, under the binary's build id.
    notes = run(["readelf", "--notes", binary]).stdout
    build_id = notes.split("Build ID:")[1].split()[0]
    assert f"/usr/lib/debug/.build-id/{build_id[:2]}/{build_id[2:]}.debug" in contents(ddeb)
    assert ".gnu_debuglink" in run(["readelf", "--section-headers", binary]).stdout
    # Depends come from the libraries it links.
    depends = run(["dpkg-deb", "--field", deb, "Depends"]).stdout
    for lib in ["libc6", "librabbitmq4", "libhiredis0.14", "libcurl4", "libssl3", "libfmt9"]:
        assert lib in depends, depends
    conffiles = run(["dpkg-deb", "--info", deb, "conffiles"]).stdout
    assert conffiles.split() == ["/etc/verdi/verdi.env", "/etc/verdi/manager.env"]


@pytest.fixture(scope="module")
def root(packages, tmp_path_factory):
    """A fresh Debian 12 root with the .deb installed: dpkg -i, after its
    Depends and nothing else from the mirror."""
    deb, _ = packages
    root = tmp_path_factory.mktemp("debian12") / "root"
    run([DEBIAN_ROOT, "make", root, ROOT_CACHE], timeout=900)
    assert (root / "etc" / "debian_version").read_text().startswith("12.")
    assert not (root / "usr" / "bin" / "verdi").exists()
    run([DEBIAN_ROOT, "install", root, deb])
    yield root
    shutil.rmtree(root.parent, ignore_errors=True)  # a few hundred MB


def test_installed_in_a_fresh_debian_12_root_it_runs_the_example_job(root):
    status = in_root(root, "dpkg-query", "--show", "--showformat=${Status}", "verdi").stdout
    assert status == "install ok installed"
    assert in_root(root, "sh", "-c", "command -v verdi").stdout.strip() == "/usr/bin/verdi"
    assert in_root(root, "verdi", "--version").stdout.strip() == f"verdi {version()}"
    job = in_root(root, "verdi", "run_job", "--root-work-dir", "/tmp/work", EXAMPLE_JOB, check=False)
    assert job.returncode == 0, job.stdout + job.stderr
    assert "job-completed" in job.stdout
    work_dir = job.stdout.split("work dir: ")[1].split()[0]
    assert (root / work_dir.lstrip("/") / "_stdout.txt").read_text().startswith("Hello, World!")
    assert (root / work_dir.lstrip("/") / ".done").exists()
    # The package made the user the units run as.
    assert in_root(root, "id", "-u", "verdi").stdout.strip().isdigit()
    assert oct((root / "etc" / "verdi" / "verdi.env").stat().st_mode & 0o777) == "0o600"
    # The units, as systemd reads them (systemd installed only now, so that it
    # could not have brought a library verdi's Depends missed).
    in_root(root, "apt-get", "install", "-y", "-qq", "--no-install-recommends", "systemd")
    verify = in_root(root, "systemd-analyze", "verify", "--man=no", "verdi-worker@jobs.service",
                     "verdi-manager.service")
    assert verify.stderr == "", verify.stderr
    show = in_root(root, "systemd-analyze", "cat-config",
                   "systemd/system/verdi-worker@.service").stdout
    for line in ["KillMode=mixed", "TimeoutStopSec=660", "Delegate=yes", "Restart=on-failure",
                 "EnvironmentFile=-/etc/verdi/worker-%i.env",
                 "ExecStart=/usr/bin/verdi worker -Q %i -n %i@%%h $VERDI_WORKER_ARGS"]:
        assert line in show.splitlines(), show
    # Nothing stays mounted once the commands are done.
    assert mounts_under(root) == []


def test_the_image_runs_the_example_job_and_a_worker(packages, podman, services, queue_name):
    deb, _ = packages
    image = run([REPO / "scripts" / "image", "--deb", deb, "--root-cache", ROOT_CACHE],
                env=podman.full_env(), timeout=900).stdout.strip()
    assert image == f"localhost/verdi:{version()}"
    try:
        config = podman.podman("inspect", "--format",
                               "{{.Config.User}} {{json .Config.Entrypoint}}", image).stdout
        assert config.strip() == 'verdi ["/usr/bin/tini","--","verdi"]', config
        out = podman.podman("run", "--rm", image, "--version").stdout
        assert out.strip() == f"verdi {version()}"
        job = podman.podman("run", "--rm", image, "run_job", EXAMPLE_JOB, check=False)
        assert job.returncode == 0, job.stdout + job.stderr
        assert "job-completed" in job.stdout and "work dir: /data/work/jobs/" in job.stdout
        # A worker, as the Kubernetes manifest starts it, answers the probes,
        # and SIGTERM (through tini) is a warm shutdown: exit code 0.
        port = free_port()
        name = f"verdi-image-worker-{queue_name[-8:]}"
        podman.podman("run", "--detach", "--name", name, "--network=host",
                      "--env", f"CELERY_BROKER_URL={services.state['amqp_url']}", image,
                      "worker", "-Q", queue_name, "--metrics-port", str(port),
                      "--metrics-bind", "127.0.0.1")
        wait_for(lambda: probe(f"http://127.0.0.1:{port}/readyz") == (200, "ok\n"), 30,
                 lambda: "the worker in the image never got ready:\n"
                 + podman.podman("logs", name).stderr)
        assert probe(f"http://127.0.0.1:{port}/healthz") == (200, "ok\n")
        podman.podman("stop", "--time", "30", name)
        assert podman.podman("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip() == "0"
    finally:
        podman.podman("rmi", "--force", image, "localhost/verdi:latest",
                      f"localhost/verdi-root:{version()}", check=False)


def test_the_worker_unit_shuts_down_warm_under_systemd(root, podman, services, celery_app,
                                                      queue_name):
    """verdi-worker@QUEUE under a real systemd (PID 1 of a container made from
    the root): it consumes QUEUE with the settings of its env file, `systemctl
    stop` lets the running job finish, and a crash is restarted."""
    in_root(root, "apt-get", "install", "-y", "-qq", "--no-install-recommends", "systemd")
    port = free_port()
    (root / "etc" / "verdi" / f"worker-{queue_name}.env").write_text(
        f"CELERY_BROKER_URL={services.state['amqp_url']}\n"
        f"CELERY_RESULT_BACKEND={services.state['redis_url']}\n"
        f"VERDI_WORKER_ARGS=--kill-grace 1 --metrics-port {port} --metrics-bind 127.0.0.1\n")
    image = "localhost/verdi-systemd-test:1"
    subprocess.run(f"tar --numeric-owner -C {root} -c . | podman import --quiet - {image}",
                   shell=True, check=True, env=podman.full_env(), capture_output=True, timeout=300)
    unit = f"verdi-worker@{queue_name}.service"
    name = f"verdi-systemd-{queue_name[-8:]}"
    # Host network: the test's RabbitMQ and Redis listen on loopback.
    podman.podman("run", "--detach", "--name", name, "--systemd=always", "--network=host",
                  image, "/lib/systemd/systemd")
    try:
        def sh(command, check=True):
            return podman.podman("exec", name, "sh", "-c", command, check=check)

        wait_for(lambda: sh("systemctl is-system-running", check=False).stdout.strip()
                 in ("running", "degraded"), 60, "systemd did not come up")
        sh(f"systemctl start {unit}")
        journal = f"journalctl --no-pager -o cat -u {unit}"
        wait_for(lambda: "connected to" in sh(journal).stdout, 30, "the worker did not connect")
        assert sh(f"stat -c %U /proc/$(systemctl show -P MainPID {unit})").stdout.strip() == "verdi"
        # Its flags came from VERDI_WORKER_ARGS, one word each.
        assert probe(f"http://127.0.0.1:{port}/readyz") == (200, "ok\n")

        job = make_job("/bin/sh -c 'sleep 4; echo finished'", job_id="systemd-20240101T000000.0Z")
        result = celery_app.send_task("hysds.job_worker.run_job", args=[job], queue=queue_name)
        wait_for(lambda: result.state == "STARTED", 30, "the job did not start")
        start = time.monotonic()
        sh(f"systemctl stop {unit}")  # returns once the worker has exited
        assert time.monotonic() - start > 1.5, "stopped before the job could finish"
        assert result.get(timeout=30)["status"] == "job-completed"
        shown = sh(f"systemctl show -P Result {unit}; systemctl show -P ExecMainStatus {unit}")
        assert shown.stdout.split() == ["success", "0"], shown.stdout + sh(journal).stdout

        # Killed, it comes back (Restart=on-failure, after RestartSec).
        sh(f"systemctl start {unit}")
        wait_for(lambda: sh(f"systemctl show -P MainPID {unit}").stdout.strip() != "0", 30,
                 "the worker did not start again")
        first = sh(f"systemctl show -P MainPID {unit}").stdout.strip()
        sh(f"systemctl kill --kill-whom=main --signal=SIGKILL {unit}")
        wait_for(lambda: sh(f"systemctl show -P NRestarts {unit}").stdout.strip() == "1"
                 and sh(f"systemctl show -P MainPID {unit}").stdout.strip() not in ("0", first),
                 40, "the killed worker was not restarted")
    finally:
        podman.podman("rm", "--force", "--time", "0", name, check=False)
        podman.podman("rmi", "--force", image, check=False)
