"""Shared helpers for the end-to-end tests: they run the real `verdi` binary."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import uuid

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
VERDI = os.environ.get("VERDI_BIN", str(REPO / "build" / "verdi" / "verdi"))


def process_running(pid):
    """Whether `pid` is a live process (a zombie nobody reaped is not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def wait_until_gone(pid, timeout=5):
    """True once `pid` no longer runs; False if it still does after `timeout` s."""
    deadline = time.monotonic() + timeout
    while process_running(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def make_job(command, job_id="e2e-job-20240101T000000.0Z", **extra):
    """A minimal run_job payload that runs `command` (a shell-quoted string)."""
    job = {
        "job_id": job_id,
        "type": "job-e2e:test",
        "context": {},
        "localize_urls": [],
        "params": {"_command": command},
        "job_info": {"id": job_id},
    }
    for key, value in extra.items():
        if key in ("soft_time_limit", "time_limit"):
            job["job_info"][key] = value
        else:
            job[key] = value
    return job


# -- secrets: jobs whose environment and worker config hold "topsecret" -------

# A shell check that the job's environment holds the secrets, written so that
# its own text (in argv, _run.sh, _job.json) never holds "topsecret".
CHECK_SECRETS = ('s=top; s=${s}secret; '
                 'test "$MY_API_TOKEN" = $s && test "$RESULTS" = redis://:$s@h:6379/0 && '
                 'test "$BROKER" = amqp://u:$s@h// && test "$MY_BROKER_URL" = amqp://u:$s@h// && '
                 'test "$MY_REDIS_URL" = redis://:$s@h:6379/0 && '
                 'test "$AWS_SECRET_ACCESS_KEY" = $s && echo all there')
SECRET_ENV = {"MY_BROKER_URL": "amqp://u:topsecret@h//",
              "MY_REDIS_URL": "redis://:topsecret@h:6379/0",
              "GRQ_UPDATE_URL_BULK": "https://user:topsecret@grq:8878/api/v0.1/grq/dataset/index",
              "AWS_SECRET_ACCESS_KEY": "topsecret"}


def secret_worker_config(path):
    """Writes at path a worker config whose job-e2e:test command runs
    CHECK_SECRETS, with secrets in its env entries."""
    path.write_text(json.dumps({"configs": [{
        "type": "job-e2e:test",
        "command": {"path": "/bin/sh", "arguments": ["-c", CHECK_SECRETS],
                    "env": [{"key": "MY_API_TOKEN", "value": "topsecret"},
                            {"key": "RESULTS", "value": "redis://:topsecret@h:6379/0"},
                            {"key": "BROKER", "value": "amqp://u:topsecret@h//"},
                            {"key": "PLAIN", "value": "visible"}]}}]}))
    return path


def files_holding(root, needle=b"topsecret"):
    """The files under root whose bytes hold needle."""
    return [p for p in pathlib.Path(root).rglob("*") if p.is_file() and needle in p.read_bytes()]


class Run:
    def __init__(self, proc, root):
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.root = root

    @property
    def job_dir(self):
        dirs = [p.parent for p in self.root.glob("jobs/*/*/*/*/*/*/.done")]
        assert len(dirs) == 1, f"expected one finished job dir, found {dirs}\n{self.stderr}"
        return dirs[0]

    def job_json(self):
        return json.loads((self.job_dir / "_job.json").read_text())


@pytest.fixture
def verdi(tmp_path):
    """Runs `verdi run_job` on a job dict (or raw text) with a private root."""
    root = tmp_path / "root"

    def run(job, args=(), env=None, timeout=60):
        job_file = tmp_path / "job.json"
        job_file.write_text(job if isinstance(job, str) else json.dumps(job))
        full_env = dict(os.environ)
        full_env.update(env or {})
        proc = subprocess.run(
            [VERDI, "run_job", "--root-work-dir", str(root), *args, str(job_file)],
            capture_output=True, text=True, env=full_env, timeout=timeout)
        return Run(proc, root)

    run.root = root
    run.tmp = tmp_path
    return run


# -- real services and a running worker ---------------------------------------

sys.path.insert(0, str(REPO / "tests"))
import podman_env  # noqa: E402
from services import Services  # noqa: E402


@pytest.fixture(scope="module")
def podman(tmp_path_factory):
    """A private podman (tests/podman_env.py) with the busybox test image;
    its containers are removed when the module ends."""
    try:
        env = podman_env.PodmanEnv(tmp_path_factory.mktemp("podman"))
    except podman_env.Unavailable as e:
        pytest.skip(f"no container engine can run here: {e}")
    yield env
    env.remove_all_containers()


@pytest.fixture(scope="session")
def services(tmp_path_factory):
    """The RabbitMQ and Redis of this test run: the ones ctest started
    (VERDI_TEST_SERVICES), else a private pair for this pytest session."""
    path = os.environ.get("VERDI_TEST_SERVICES")
    if path:
        assert os.path.exists(path), f"VERDI_TEST_SERVICES={path} does not exist"
        yield Services(os.path.dirname(path))
        return
    own = Services(tmp_path_factory.mktemp("services")).start()
    yield own
    own.stop()


class WorkerProcess:
    """A `verdi worker` started by a test, with its log kept in a file."""

    def __init__(self, args, log_path, env):
        self.log_path = log_path
        self.log_file = open(log_path, "w")
        self.proc = subprocess.Popen([VERDI, "worker", *args], stdout=self.log_file,
                                     stderr=subprocess.STDOUT, env=env)

    def log(self):
        return pathlib.Path(self.log_path).read_text()

    def wait_for_log(self, text, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return
            assert self.proc.poll() is None, f"worker exited early:\n{self.log()}"
            time.sleep(0.05)
        raise AssertionError(f"worker never logged {text!r}:\n{self.log()}")

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()
        return self.proc.returncode


@pytest.fixture
def queue_name(request):
    """A queue of this test's own, so tests never see each other's messages."""
    return f"verdi-test-{request.node.name}-{uuid.uuid4().hex[:8]}".replace("[", "-").replace("]", "")


@pytest.fixture
def start_worker(services, tmp_path, queue_name):
    """Starts `verdi worker` on the test's queue, stopped at the end."""
    workers = []

    def start(*extra, queue=None, broker=None, backend=None, ready=True, env=None, extra_args=()):
        args = ["--broker", broker or services.state["amqp_url"],
                "--result-backend", backend if backend is not None else services.state["redis_url"],
                "-Q", queue or queue_name, "--root-work-dir", str(tmp_path / "root"),
                "--kill-grace", "1", *extra, *extra_args]
        full_env = dict(os.environ)
        full_env.update(env or {})
        w = WorkerProcess(args, tmp_path / f"worker{len(workers)}.log", full_env)
        workers.append(w)
        if ready:
            w.wait_for_log("connected to")
        return w

    yield start
    for w in workers:
        w.stop(signal.SIGQUIT)


@pytest.fixture
def celery_app(services):
    """A stock Python Celery client (Debian's python3-celery) on the test services."""
    from celery import Celery
    app = Celery("verdi-e2e", broker=services.state["amqp_url"], backend=services.state["redis_url"])
    app.conf.update(task_serializer="json", accept_content=["json", "msgpack"],
                    result_serializer="json", broker_connection_retry_on_startup=True)
    yield app
    app.close()
