"""Remote control (Celery's pidbox) of `verdi worker`, driven by the stock
Python Celery client and CLI."""

import subprocess
import time
import uuid

import pytest
from celery.exceptions import TaskRevokedError

from conftest import make_job

RUN_JOB = "hysds.job_worker.run_job"


def job(command):
    return make_job(command, job_id=f"job-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def node():
    return f"ctl-{uuid.uuid4().hex[:8]}@e2e"


def wait_state(result, state, timeout=15):
    deadline = time.monotonic() + timeout
    while result.state != state and time.monotonic() < deadline:
        time.sleep(0.05)
    assert result.state == state


def test_ping_and_inspect(start_worker, celery_app, queue_name, node):
    start_worker("-n", node)
    assert celery_app.control.ping(destination=[node], timeout=2) == [{node: {"ok": "pong"}}]
    # A command for another node gets no reply from verdi.
    assert celery_app.control.ping(destination=["nobody@nowhere"], timeout=1) == []

    inspect = celery_app.control.inspect(destination=[node], timeout=2)
    stats = inspect.stats()[node]
    assert stats["pool"]["implementation"] == "verdi"
    assert stats["pool"]["max-concurrency"] == 1
    assert isinstance(stats["pid"], int) and isinstance(stats["clock"], str)
    assert stats["broker"]["transport"] == "amqp"
    assert "password" not in stats["broker"]
    assert "utime" in stats["rusage"]
    assert inspect.registered()[node] == [RUN_JOB, "verdi.noop"]
    assert inspect.revoked()[node] == []
    queues = inspect.active_queues()[node]
    assert [q["name"] for q in queues] == [queue_name]
    assert queues[0]["durable"] is True and queues[0]["exclusive"] is False

    result = celery_app.send_task(RUN_JOB, args=[job("/bin/sleep 3")], queue=queue_name)
    wait_state(result, "STARTED")
    active = inspect.active()[node]
    assert [a["id"] for a in active] == [result.id]
    assert active[0]["name"] == RUN_JOB
    assert active[0]["delivery_info"]["routing_key"] == queue_name
    assert isinstance(active[0]["time_start"], float)
    assert inspect.query_task(result.id)[node][result.id][0] == "active"
    assert result.get(timeout=30)["status"] == "job-completed"
    assert celery_app.control.inspect(destination=[node], timeout=2).stats()[node]["total"] == {
        RUN_JOB: 1}


def test_celery_status_lists_the_worker(start_worker, services, node):
    start_worker("-n", node)
    out = subprocess.run(["/usr/bin/python3", "-m", "celery", "-b", services.state["amqp_url"],
                          "status"], capture_output=True, text=True, timeout=60)
    assert f"{node}: OK" in out.stdout, out.stdout + out.stderr
    # Other tests' workers may share the broker: count at least this one.
    assert " node online" in out.stdout or " nodes online" in out.stdout


def test_revoke_a_queued_task(start_worker, celery_app, queue_name, node, tmp_path):
    start_worker("-n", node)
    first = celery_app.send_task(RUN_JOB, args=[job("/bin/sleep 2")], queue=queue_name)
    wait_state(first, "STARTED")
    marker = tmp_path / "ran"
    second = celery_app.send_task(RUN_JOB, args=[job(f"/usr/bin/touch {marker}")],
                                  queue=queue_name)
    reply = celery_app.control.revoke(second.id, destination=[node], reply=True, timeout=2)
    assert reply == [{node: {"ok": f"tasks {second.id} flagged as revoked"}}]
    assert first.get(timeout=30)["status"] == "job-completed"
    wait_state(second, "REVOKED")
    with pytest.raises(TaskRevokedError):
        second.get(timeout=5)
    assert not marker.exists()
    assert second.id in celery_app.control.inspect(destination=[node], timeout=2).revoked()[node]


def test_revoke_a_scheduled_task(start_worker, celery_app, queue_name, node):
    start_worker("-n", node)
    result = celery_app.send_task(RUN_JOB, args=[job("/bin/true")], queue=queue_name,
                                  countdown=60)
    inspect = celery_app.control.inspect(destination=[node], timeout=2)
    deadline = time.monotonic() + 10
    while not inspect.scheduled()[node] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert inspect.scheduled()[node][0]["request"]["id"] == result.id
    celery_app.control.revoke(result.id, destination=[node])
    wait_state(result, "REVOKED")
    assert inspect.scheduled()[node] == []


def test_revoke_terminate_stops_the_running_job(start_worker, celery_app, queue_name, node,
                                                tmp_path):
    worker = start_worker("-n", node)
    payload = job("/bin/sleep 60")
    result = celery_app.send_task(RUN_JOB, args=[payload], queue=queue_name)
    wait_state(result, "STARTED")
    time.sleep(0.5)
    started = time.monotonic()
    reply = celery_app.control.revoke(result.id, terminate=True, destination=[node], reply=True,
                                      timeout=2)
    assert reply == [{node: {"ok": f"terminate: {result.id}"}}]
    wait_state(result, "REVOKED", timeout=20)
    assert time.monotonic() - started < 15
    with pytest.raises(TaskRevokedError):
        result.get(timeout=5)
    dirs = list((tmp_path / "root").glob(f"jobs/*/*/*/*/*/{payload['job_id']}"))
    assert len(dirs) == 1
    assert (dirs[0] / ".done").exists(), worker.log()
    # The worker goes on taking jobs.
    again = celery_app.send_task(RUN_JOB, args=[job("/bin/true")], queue=queue_name)
    assert again.get(timeout=30)["status"] == "job-completed"


def test_unknown_command_and_events_toggle(start_worker, celery_app, node):
    start_worker("-n", node)
    reply = celery_app.control.broadcast("no_such_command", destination=[node], reply=True,
                                         timeout=2)
    assert reply == [{node: {"error": "KeyError('no_such_command')"}}]
    assert celery_app.control.disable_events(destination=[node], reply=True, timeout=2) == [
        {node: {"ok": "task events disabled"}}]
    assert celery_app.control.enable_events(destination=[node], reply=True, timeout=2) == [
        {node: {"ok": "task events enabled"}}]


def test_shutdown_is_warm_and_exits_zero(start_worker, celery_app, queue_name, node):
    worker = start_worker("-n", node)
    result = celery_app.send_task(RUN_JOB, args=[job("/bin/sleep 2")], queue=queue_name)
    wait_state(result, "STARTED")
    celery_app.control.shutdown(destination=[node])
    assert worker.proc.wait(timeout=30) == 0
    assert result.state == "SUCCESS"
    assert "warm shutdown" in worker.log()
