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


def stats_of(celery_app, node):
    return celery_app.control.inspect(destination=[node], timeout=2).stats()[node]


def test_flowers_pool_buttons_change_the_slots_while_jobs_run(start_worker, celery_app, queue_name,
                                                              node, tmp_path):
    """Flower's pool grow and shrink buttons send what these calls send."""
    worker = start_worker("-n", node, "-c", "1")
    assert stats_of(celery_app, node)["pool"]["max-concurrency"] == 1
    first, second = (celery_app.send_task(RUN_JOB, args=[job("/bin/sleep 30")], queue=queue_name)
                     for _ in range(2))
    wait_state(first, "STARTED")
    time.sleep(1)
    assert second.state == "PENDING"  # one slot: it waits at the broker (prefetch 1)

    assert celery_app.control.pool_grow(n=1, reply=True, destination=[node], timeout=2) == [
        {node: {"ok": "pool will grow"}}]
    wait_state(second, "STARTED")  # the broker's window grew with the pool
    stats = stats_of(celery_app, node)
    assert stats["pool"]["max-concurrency"] == 2
    assert stats["prefetch_count"] == 2
    assert len(celery_app.control.inspect(destination=[node], timeout=2).active()[node]) == 2

    # Shrinking stops no running job; the next one waits until only one runs.
    assert celery_app.control.pool_shrink(n=1, reply=True, destination=[node], timeout=2) == [
        {node: {"ok": "pool will shrink"}}]
    stats = stats_of(celery_app, node)
    assert stats["pool"]["max-concurrency"] == 1
    assert stats["prefetch_count"] == 1
    marker = tmp_path / "third-ran"
    third = celery_app.send_task(RUN_JOB, args=[job(f"/usr/bin/touch {marker}")],
                                 queue=queue_name)
    celery_app.control.revoke(first.id, terminate=True, destination=[node], reply=True, timeout=2)
    wait_state(first, "REVOKED", timeout=20)
    assert second.state == "STARTED"
    time.sleep(1)
    assert third.state == "PENDING" and not marker.exists()  # second still holds the one slot
    celery_app.control.revoke(second.id, terminate=True, destination=[node], reply=True,
                              timeout=2)
    assert third.get(timeout=30)["status"] == "job-completed"
    assert "pool of 1 -> 2 job slots" in worker.log()

    assert celery_app.control.pool_shrink(n=1, reply=True, destination=[node], timeout=2) == [
        {node: {"error": "pool_shrink: the pool has 1 job slot(s) and keeps at least 1 "
                         "(shut the worker down instead)"}}]
    # A worker without --autoscale refuses autoscale as Celery's does.
    assert celery_app.control.autoscale(4, 1, reply=True, destination=[node], timeout=2) == [
        {node: {"error": "ValueError('Autoscale not enabled')"}}]


def test_autoscale_moves_the_range(start_worker, celery_app, queue_name, node):
    start_worker("-n", node, "--autoscale", "2,1")
    stats = stats_of(celery_app, node)
    assert stats["pool"]["max-concurrency"] == 2
    assert stats["autoscaler"] == {"max": 2, "min": 1, "current": 1, "qty": 0}
    assert stats["prefetch_count"] == 2
    assert celery_app.control.autoscale(3, 3, reply=True, destination=[node], timeout=2) == [
        {node: {"ok": "autoscale now max=3 min=3"}}]
    stats = stats_of(celery_app, node)
    assert stats["autoscaler"] == {"max": 3, "min": 3, "current": 3, "qty": 0}
    assert stats["pool"]["max-concurrency"] == 3 and stats["prefetch_count"] == 3
    results = [celery_app.send_task(RUN_JOB, args=[job("/bin/sleep 20")], queue=queue_name)
               for _ in range(3)]
    for r in results:
        wait_state(r, "STARTED")  # three at once
    for r in results:
        celery_app.control.revoke(r.id, terminate=True, destination=[node])
    assert celery_app.control.pool_grow(n=1, reply=True, destination=[node], timeout=2) == [
        {node: {"error": "pool_grow is not supported with autoscale. "
                         "Adjust autoscale range instead."}}]


def test_heartbeat_and_the_commands_verdi_does_not_carry_out(start_worker, celery_app, node):
    start_worker("-n", node)
    # Python's heartbeat returns None: a caller who asks for replies gets it.
    assert celery_app.control.broadcast("heartbeat", destination=[node], reply=True,
                                        timeout=2) == [{node: None}]
    for method in ("memsample", "memdump", "objgraph", "pool_restart", "election"):
        reply = celery_app.control.broadcast(method, destination=[node], reply=True, timeout=2)
        error = reply[0][node]["error"]
        assert error.startswith(f"{method} is not supported by verdi: "), reply
    assert "rusage.maxrss" in celery_app.control.broadcast(
        "memsample", destination=[node], reply=True, timeout=2)[0][node]["error"]
    # Flower's pool restart button.
    reply = celery_app.control.broadcast("pool_restart", arguments={"reload": False},
                                         destination=[node], reply=True, timeout=2)
    assert "nothing to reload" in reply[0][node]["error"]
    # Celery's older names of the inspect commands.
    assert celery_app.control.broadcast("dump_tasks", destination=[node], reply=True,
                                        timeout=2) == [{node: [RUN_JOB, "verdi.noop"]}]
