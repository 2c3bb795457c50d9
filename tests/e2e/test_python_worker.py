"""A Python Celery worker with mingle, gossip and event heartbeats on shares the
broker with verdi: it syncs with verdi at start (mingle's `hello`), watches its
heartbeats (gossip), and logs not one error or warning about it. Every field
verdi sends in `hello`, heartbeats, worker events and control replies has the
type the Python worker's own has. Both run in a time zone half an hour off
UTC, where a wrong `utcoffset` shows as an hour of drift."""

import os
import pathlib
import re
import signal
import subprocess
import time
import uuid

import pytest

from conftest import make_job
from test_events import Capture
from test_hysds_client import HYSDS_CELERYCONFIG

RUN_JOB = "hysds.job_worker.run_job"
CELERY = ["/usr/bin/python3", "-m", "celery"]
TZ = "Asia/Kolkata"  # UTC+5:30: Python's utcoffset() is -6

# The Python worker's application: HySDS's serializers ("hysds"), or Celery's
# defaults ("defaults": json only).
PYWORKER_APP = '''
import os, time
from celery import Celery
app = Celery("pyworker", broker=os.environ["VERDI_TEST_BROKER"],
             backend=os.environ["VERDI_TEST_BACKEND"])
if os.environ["VERDI_TEST_SETUP"] == "hysds":
    app.conf.update(task_serializer="msgpack", result_serializer="msgpack",
                    accept_content=["msgpack", "json"], event_serializer="msgpack",
                    task_queue_max_priority=10)
app.conf.update(worker_send_task_events=True, task_track_started=True, task_acks_late=True,
                worker_prefetch_multiplier=1)

@app.task(name="pyworker.nap")
def nap(seconds):
    time.sleep(seconds)
    return seconds
'''

# A line the Python worker logs at WARNING or above, or a traceback.
BAD_LINE = re.compile(r"^\[[^\]]*: (WARNING|ERROR|CRITICAL)/|Traceback|Error\(")


@pytest.fixture
def vhost(services):
    """A virtual host of this test's own: no other test's worker mingles here."""
    name = f"mingle-{uuid.uuid4().hex[:8]}"
    services.rabbitmqctl("add_vhost", name)
    services.rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    yield services.state["amqp_url"].rstrip("/") + "/" + name
    services.rabbitmqctl("delete_vhost", name)


class PythonWorker:
    def __init__(self, tmp_path, broker, backend, setup, name, queue):
        (tmp_path / "pyworker.py").write_text(PYWORKER_APP)
        self.log_path = tmp_path / f"{name}.log"
        self.cwd = tmp_path
        self.env = dict(os.environ, VERDI_TEST_BROKER=broker, VERDI_TEST_BACKEND=backend,
                        VERDI_TEST_SETUP=setup, TZ=TZ, PYTHONUNBUFFERED="1")
        with open(self.log_path, "w") as log:
            # Mingle and gossip are on by default; -E: task events.
            self.proc = subprocess.Popen(
                [*CELERY, "-A", "pyworker", "worker", "-n", f"{name}@localhost", "-Q", queue,
                 "-P", "threads", "-c", "2", "-E", "--heartbeat-interval", "1", "-l", "info"],
                cwd=tmp_path, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def celery(self, *args):
        """Celery's CLI with the worker's application (its serializers)."""
        return subprocess.run([*CELERY, "-A", "pyworker", *args], capture_output=True,
                              text=True, timeout=60, cwd=self.cwd, env=self.env)

    def log(self):
        return self.log_path.read_text()

    def wait_for_log(self, text, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and text not in self.log():
            assert self.proc.poll() is None, f"the Python worker exited:\n{self.log()}"
            time.sleep(0.1)
        assert text in self.log(), self.log()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def type_name(value):
    for t, name in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"),
                    (dict, "dict"), ((list, tuple), "list")):
        if isinstance(value, t):
            return name
    return type(value).__name__


def mismatches(python, ours, path):
    """Where `ours` has another type than `python` for the same field (None on
    either side is a value left out, not a type). Maps keyed by ids or task
    names (no key in common) compare their first values; a task's args and
    kwargs are the task's own, only their container is compared."""
    if python is None or ours is None:
        return []
    if path.endswith((".args", ".kwargs")):
        return [] if type_name(python) == type_name(ours) else [
            f"{path}: Python sends {type_name(python)}, verdi {type_name(ours)}"]
    if isinstance(python, dict) and isinstance(ours, dict):
        common = python.keys() & ours.keys()
        if not common and python and ours:
            return mismatches(next(iter(python.values())), next(iter(ours.values())), path + ".*")
        return [m for k in sorted(common) for m in mismatches(python[k], ours[k], f"{path}.{k}")]
    if isinstance(python, (list, tuple)) and isinstance(ours, (list, tuple)):
        return mismatches(python[0], ours[0], path + "[0]") if python and ours else []
    if type_name(python) != type_name(ours):
        return [f"{path}: Python sends {type_name(python)} ({python!r}), verdi "
                f"{type_name(ours)} ({ours!r})"]
    return []


def replies(app, command, arguments, nodes):
    """{node: reply} of `command` from each of `nodes`."""
    got = {}
    for reply in app.control.broadcast(command, arguments=arguments, destination=nodes,
                                       reply=True, timeout=3, limit=len(nodes)):
        got.update(reply)
    assert set(got) == set(nodes), f"{command}: replies from {sorted(got)}, not {nodes}"
    return got


@pytest.mark.parametrize("setup", ["hysds", "defaults"])
def test_python_worker_shares_the_broker_with_verdi(start_worker, services, vhost, tmp_path,
                                                   setup):
    from celery import Celery

    backend = services.state["redis_url"]
    app = Celery("mingle-client", broker=vhost, backend=backend)
    app.conf.update(accept_content=["json", "msgpack"], event_serializer="msgpack")
    if setup == "hysds":
        app.conf.update(task_serializer="msgpack", result_serializer="msgpack",
                        task_queue_max_priority=10)
    tag = uuid.uuid4().hex[:8]
    verdi_node, py_node = f"verdi-{tag}@localhost", f"py-{tag}@localhost"
    verdi_queue, py_queue = f"verdi-jobs-{tag}", f"py-jobs-{tag}"
    capture = Capture(app)
    python = verdi = None
    try:
        extra = ["-n", verdi_node]
        if setup == "hysds":
            config = tmp_path / "celeryconfig.py"
            config.write_text(HYSDS_CELERYCONFIG)
            extra += ["--config", str(config)]
        verdi = start_worker(*extra, "--heartbeat-interval", "1", broker=vhost, queue=verdi_queue,
                             env={"TZ": TZ})
        revoked_id = f"revoked-{tag}"
        assert app.control.revoke(revoked_id, destination=[verdi_node], reply=True, timeout=3) == [
            {verdi_node: {"ok": f"tasks {revoked_id} flagged as revoked"}}]

        # Mingle: the Python worker asks verdi for its revoked ids and clock at start.
        python = PythonWorker(tmp_path, vhost, backend, setup, f"py-{tag}", py_queue)
        python.wait_for_log(f"{py_node} ready.")
        assert "mingle: sync with 1 nodes" in python.log(), python.log()
        assert revoked_id in app.control.inspect([py_node], timeout=3).revoked()[py_node]

        # Both at work: a job on verdi, a task on Python, an ETA task held by each.
        jobs = [app.send_task(RUN_JOB, args=[make_job("/bin/sleep 3", job_id=f"job-{tag}")],
                              queue=verdi_queue),
                app.send_task("pyworker.nap", args=[3], queue=py_queue)]
        held = [app.send_task(RUN_JOB, args=[make_job("/bin/true", job_id=f"eta-{tag}")],
                              queue=verdi_queue, countdown=60),
                app.send_task("pyworker.nap", args=[0], queue=py_queue, countdown=60)]
        deadline = time.monotonic() + 15
        while any(r.state != "STARTED" for r in jobs) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [r.state for r in jobs] == ["STARTED", "STARTED"]

        # Every control reply: same types as Python's, field by field.
        nodes = [py_node, verdi_node]
        problems = []
        commands = [("ping", {}), ("stats", {}), ("active", {}), ("reserved", {}),
                    ("scheduled", {}), ("registered", {}), ("revoked", {}),
                    ("active_queues", {}), ("clock", {}), ("report", {}), ("conf", {}),
                    ("query_task", {"ids": [r.id for r in jobs]}),
                    ("hello", {"from_node": f"other-{tag}@localhost",
                               "revoked": {f"theirs-{tag}": [time.monotonic(), f"theirs-{tag}"]}})]
        for command, arguments in commands:
            got = replies(app, command, arguments, nodes)
            problems += mismatches(got[py_node], got[verdi_node], command)
        # hello also passed the sender's revoked ids on, as Python's does.
        for node in nodes:
            assert f"theirs-{tag}" in app.control.inspect([node], timeout=3).revoked()[node]

        # Celery's own CLI against both: every node answers, nothing fails.
        for command in ("ping", "stats", "active", "scheduled", "revoked", "active_queues"):
            proc = python.celery("inspect", command)
            assert proc.returncode == 0, proc.stdout + proc.stderr
            assert "2 nodes online" in proc.stdout, proc.stdout
            assert "Error" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr

        assert [r.get(timeout=30) is not None for r in jobs] == [True, True]
        for r in held:
            r.revoke()
        time.sleep(2)  # heartbeats go on: gossip watches them (and their drift)
    finally:
        if python is not None:
            python.stop()
        if verdi is not None:
            verdi.stop()
        time.sleep(1)
        capture.stop()
        app.close()

    # Worker events: the same types, heartbeats and all.
    for kind in ("worker-online", "worker-heartbeat", "worker-offline"):
        ours, theirs = capture.of_type(kind, "verdi-" + tag), capture.of_type(kind, "py-" + tag)
        assert ours and theirs, f"{kind}: verdi sent {len(ours)}, Python {len(theirs)}"
        problems += mismatches(theirs[-1], ours[-1], kind)
    assert problems == [], "\n".join(problems)

    bad = [line for line in python.log().splitlines() if BAD_LINE.search(line)]
    assert bad == [], "\n".join(bad)
    # Nor does verdi find fault with what the Python worker sent it.
    bad = [line for line in verdi.log().splitlines()
           if re.search(r" (WARNING|ERROR) ", line) and "remote control" in line]
    assert bad == [], "\n".join(bad)
