"""Monitoring and operating `verdi worker` with Debian's stock Celery CLI
(`celery inspect`, `celery events --dump`, `celery control`), plus job
statuses through a Redis outage and a warm shutdown."""

import gc
import json
import os
import signal
import subprocess
import time
import uuid

import msgpack
import pytest
import redis
from celery.exceptions import TaskRevokedError

from conftest import make_job
from services import Services
from test_events import Capture

RUN_JOB = "hysds.job_worker.run_job"
CELERY = ["/usr/bin/python3", "-m", "celery"]


def job(command):
    return make_job(command, job_id=f"cli-{uuid.uuid4().hex[:12]}")


def celery_cli(services, *args, timeout=60):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run([*CELERY, "-b", services.state["amqp_url"],
                           "--result-backend", services.state["redis_url"], *args],
                          capture_output=True, text=True, timeout=timeout, env=env)


def json_reply(proc):
    """The JSON document `celery inspect --json` prints before "N node(s) online"."""
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc, _ = json.JSONDecoder().raw_decode(proc.stdout.strip())
    return doc


def node_of(celery_app, prefix, timeout=10):
    """The full (expanded %h) name of the one node whose name starts with `prefix`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        names = [n for reply in celery_app.control.ping(timeout=1) for n in reply
                 if n.startswith(prefix)]
        if names:
            assert len(names) == 1, names
            return names[0]
    raise AssertionError(f"no node {prefix}* answered a ping")


def wait_state(result, state, timeout=15):
    deadline = time.monotonic() + timeout
    while result.state != state and time.monotonic() < deadline:
        time.sleep(0.05)
    assert result.state == state


def documents(redis_url, key):
    client = redis.Redis.from_url(redis_url)
    return [msgpack.unpackb(raw, raw=False) for raw in client.lrange(key, 0, -1)]


def done_dirs(root):
    return [p.parent for p in root.glob("jobs/*/*/*/*/*/*/.done")]


@pytest.fixture(autouse=True)
def collect_results():
    """Frees this test's AsyncResults (caught exceptions keep them in cycles)
    while the result backend still runs: their __del__ talks to Redis."""
    yield
    gc.collect()


@pytest.fixture
def prefix():
    return f"cli-test-{uuid.uuid4().hex[:6]}@"


# -- 1. celery inspect ----------------------------------------------------------

def test_celery_inspect_cli(start_worker, services, celery_app, queue_name, prefix):
    start_worker("-n", prefix + "%h")
    node = node_of(celery_app, prefix)

    ping = json_reply(celery_cli(services, "inspect", "ping", "-d", node, "--json"))
    assert ping == {node: {"ok": "pong"}}

    stats = json_reply(celery_cli(services, "inspect", "stats", "-d", node, "--json"))
    assert list(stats) == [node]
    assert "total" in stats[node] and "broker" in stats[node], stats
    assert stats[node]["broker"]["transport"] == "amqp"

    registered = json_reply(celery_cli(services, "inspect", "registered", "-d", node, "--json"))
    assert registered == {node: [RUN_JOB, "verdi.noop"]}

    queues = json_reply(celery_cli(services, "inspect", "active_queues", "-d", node, "--json"))
    assert [q["name"] for q in queues[node]] == [queue_name]

    idle = json_reply(celery_cli(services, "inspect", "active", "-d", node, "--json"))
    assert idle == {node: []}

    result = celery_app.send_task(RUN_JOB, args=[job("/bin/sleep 3")], queue=queue_name)
    wait_state(result, "STARTED")
    active = json_reply(celery_cli(services, "inspect", "active", "-d", node, "--json"))
    assert [a["id"] for a in active[node]] == [result.id]
    assert active[node][0]["name"] == RUN_JOB
    assert result.get(timeout=30)["status"] == "job-completed"

    # The human-readable form too (no --json): "-> node: OK" and a node count.
    plain = celery_cli(services, "inspect", "ping", "-d", node)
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert f"{node}: OK" in plain.stdout and "pong" in plain.stdout and "1 node online" in plain.stdout, plain.stdout
    plain = celery_cli(services, "inspect", "stats", "-d", node)
    assert plain.returncode == 0 and f"{node}: OK" in plain.stdout, plain.stdout + plain.stderr
    assert RUN_JOB in plain.stdout  # in "total"


# -- 2. celery events --dump ------------------------------------------------------

def test_celery_events_dump(start_worker, services, celery_app, queue_name, prefix, tmp_path):
    out_path = tmp_path / "events.out"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with open(out_path, "w") as out:
        dumper = subprocess.Popen([*CELERY, "-b", services.state["amqp_url"], "events", "--dump"],
                                  stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 20
        while "starting capture" not in out_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # its queue bound
        start_worker("-n", prefix + "%h", "--heartbeat-interval", "1")
        result = celery_app.send_task(RUN_JOB, args=[job("/bin/sleep 1")], queue=queue_name)
        assert result.get(timeout=30)["status"] == "job-completed"
        time.sleep(3)  # some heartbeats, and the last task events reach the dumper
    finally:
        dumper.terminate()
        try:
            dumper.wait(timeout=10)
        except subprocess.TimeoutExpired:
            dumper.kill()
            dumper.wait()
    text = out_path.read_text()
    ours = [line for line in text.splitlines() if line.startswith(prefix)]
    assert any(" heartbeat" in line for line in ours), text
    assert any("] started" in line for line in ours), text  # worker-online
    for kind in ("received", "started", "succeeded"):
        assert any(f"] task {kind}" in line and result.id in line for line in ours), (kind, text)


# -- 3. celery control terminate (the CLI's revoke --terminate) -------------------

def test_celery_control_terminate_a_running_job(start_worker, services, celery_app, queue_name,
                                                prefix, tmp_path):
    start_worker("-n", prefix + "%h")
    node = node_of(celery_app, prefix)
    result = celery_app.send_task(RUN_JOB, args=[job("/bin/sleep 60")], queue=queue_name)
    wait_state(result, "STARTED")
    time.sleep(0.5)  # the job's command is running

    # celery 5.2.6 has no `control revoke --terminate`: `revoke` takes only ids;
    # its terminate form is `control terminate <signal> <id>...`.
    started = time.monotonic()
    proc = celery_cli(services, "control", "terminate", "-d", node, "--json", "SIGTERM", result.id)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    reply = json_reply(proc)
    assert reply == [{node: {"ok": f"terminate: {result.id}"}}], reply  # control replies: a list
    with pytest.raises(TaskRevokedError):
        result.get(timeout=15)
    assert time.monotonic() - started < 15
    deadline = time.monotonic() + 10
    while not done_dirs(tmp_path / "root") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(done_dirs(tmp_path / "root")) == 1

    # And the plain revoke (no terminate) syntax is accepted.
    proc = celery_cli(services, "control", "revoke", "-d", node, "--json", "some-unknown-id")
    assert json_reply(proc) == [{node: {"ok": "tasks some-unknown-id flagged as revoked"}}]


# -- 4. job statuses through a Redis outage ----------------------------------------

def test_statuses_survive_a_redis_outage(start_worker, celery_app, queue_name, prefix,
                                         tmp_path_factory):
    private = Services(tmp_path_factory.mktemp("status-redis"))
    private.dir.mkdir(parents=True, exist_ok=True)
    private.start_redis()
    try:
        url = private.state["redis_url"]
        key = f"logstash-{uuid.uuid4().hex[:8]}"
        worker = start_worker("-n", prefix + "%h", "--redis-job-status-url", url,
                              "--redis-job-status-key", key,
                              "--redis-job-info-key", key + "-info")
        results = [celery_app.send_task(RUN_JOB, args=[job("/bin/sleep 0.3")], queue=queue_name)
                   for _ in range(50)]
        deadline = time.monotonic() + 60
        while sum(r.ready() for r in results) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        # Down for 10 s; SHUTDOWN SAVE keeps what it already holds for the restart.
        redis.Redis.from_url(url).shutdown(save=True)
        private.wait_redis_stopped()
        down_at = sum(r.ready() for r in results)
        time.sleep(10)
        up_at = sum(r.ready() for r in results)
        private.restart_redis()
        print(f"outage: {down_at}/50 jobs done when Redis stopped, "
              f"{up_at}/50 when it came back")
        assert down_at < 50 and up_at > down_at  # jobs ran, and some were left, during the outage
        for r in results:
            assert r.get(timeout=120)["status"] == "job-completed", worker.log()

        deadline = time.monotonic() + 60
        while len(documents(url, key)) < 100 and time.monotonic() < deadline:
            time.sleep(0.2)
        docs = documents(url, key)
        by_uuid = {}
        for d in docs:
            by_uuid.setdefault(d["uuid"], []).append(d["status"])
        missing = [r.id for r in results if by_uuid.get(r.id) != ["job-started", "job-completed"]]
        assert not missing, (f"{len(docs)} documents; {len(missing)} jobs wrong (done {down_at} "
                             f"before the outage): {[by_uuid.get(m) for m in missing[:5]]}\n"
                             + worker.log()[-4000:])
        assert len(docs) == 100
    finally:
        private.stop_redis()


# -- 5. warm shutdown on SIGTERM ----------------------------------------------------

def test_sigterm_warm_shutdown(start_worker, services, celery_app, queue_name, prefix):
    capture = Capture(celery_app)
    try:
        url = services.state["redis_url"]
        key = f"logstash-{uuid.uuid4().hex[:8]}"
        worker = start_worker("-n", prefix + "%h", "-c", "2", "--redis-job-status-url", url,
                              "--redis-job-status-key", key,
                              "--redis-job-info-key", key + "-info")
        results = [celery_app.send_task(RUN_JOB, args=[job("/bin/sleep 3")], queue=queue_name)
                   for _ in range(2)]
        for r in results:
            wait_state(r, "STARTED")
        began = time.monotonic()
        worker.proc.send_signal(signal.SIGTERM)
        assert worker.proc.wait(timeout=30) == 0, worker.log()
        assert time.monotonic() - began > 1.5  # it waited for the jobs
        for r in results:
            assert r.get(timeout=10)["status"] == "job-completed"
        docs = documents(url, key)
        by_uuid = {}
        for d in docs:
            by_uuid.setdefault(d["uuid"], []).append(d["status"])
        assert by_uuid == {r.id: ["job-started", "job-completed"] for r in results}, docs
        capture.wait_for("worker-offline", prefix)
    finally:
        capture.stop()
    offline = capture.of_type("worker-offline", prefix)
    assert len(offline) == 1
    kinds = [e["type"] for e in capture.events if e["hostname"].startswith(prefix)]
    assert kinds[-1] == "worker-offline", kinds
