"""A task redelivered while the run that holds it is still alive: the worker
that lost the broker goes on running it, and the worker that got it again
waits for that run (its claim on the status Redis) instead of running it a
second time; and runs it when that run is gone. Real RabbitMQ and Redis; the
first worker reaches the broker through a proxy the test can cut."""

import time
import uuid

from broker_proxy import BrokerProxy, amqp_port
from conftest import make_job

RUN_JOB = "hysds.job_worker.run_job"


def wait_for(what, check, timeout=30):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def redelivered_to_a_second_worker(start_worker, celery_app, services, queue_name, marker,
                                   seconds):
    """A job (appending to `marker`, then sleeping `seconds`) started by a
    first worker behind a broker proxy; a second worker started; the proxy
    cut, so the broker gives the task to the second worker, which waits.
    Returns (proxy, first, second, result); the caller closes the proxy."""
    url = services.state["amqp_url"]
    proxy = BrokerProxy(amqp_port(url))
    status = ["--redis-job-status-url", services.state["redis_url"],
              "--redis-job-status-key", f"logstash-{uuid.uuid4().hex[:8]}"]
    first = start_worker("-c", "1", "-n", f"first-{uuid.uuid4().hex[:6]}@test",
                         broker=proxy.url(url), extra_args=status)
    payload = make_job(f"/bin/sh -c 'echo run >> {marker}; sleep {seconds}'")
    result = celery_app.send_task(RUN_JOB, args=[payload], queue=queue_name)
    wait_for("the first run", lambda: marker.exists())
    second = start_worker("-c", "1", "-n", f"second-{uuid.uuid4().hex[:6]}@test",
                          extra_args=status)
    proxy.cut()
    second.wait_for_log("waiting for that run to end", timeout=30)
    return proxy, first, second, result


def test_redelivered_while_its_run_is_alive_is_not_run_twice(start_worker, celery_app, services,
                                                             queue_name, tmp_path):
    marker = tmp_path / "runs.txt"
    proxy, _, second, result = redelivered_to_a_second_worker(
        start_worker, celery_app, services, queue_name, marker, 6)
    try:
        proxy.restore()
        assert result.get(timeout=60)["status"] == "job-completed"
        # The first run ended and stored its result: the second worker acks
        # its copy without running it.
        second.wait_for_log("job-deduped", timeout=30)
        assert marker.read_text() == "run\n", "the task ran twice"
        out = services.rabbitmqctl("list_queues", "--no-table-headers", "name", "messages")
        counts = dict(line.split() for line in out.splitlines() if line.strip())
        assert counts.get(queue_name) == "0", out
    finally:
        proxy.close()


def test_redelivered_task_runs_once_its_holder_is_gone(start_worker, celery_app, services,
                                                       queue_name, tmp_path):
    marker = tmp_path / "runs.txt"
    proxy, first, second, result = redelivered_to_a_second_worker(
        start_worker, celery_app, services, queue_name, marker, 4)
    try:
        first.proc.kill()  # the holder dies with its run
        first.proc.wait()
        assert result.get(timeout=60)["status"] == "job-completed"
        assert marker.read_text() == "run\nrun\n", "run once by each worker, one after the other"
        assert "is gone: claiming it" in second.log()
    finally:
        proxy.close()
