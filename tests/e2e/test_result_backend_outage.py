"""A result backend that will not take a job's result (its Redis stopped, or
refusing writes) beyond verdi's retries, on the real RabbitMQ and a private
Redis: the task's message is not acked but stays with the broker; once Redis
takes writes again the result reaches it, as Python Celery reads it, and only
then the message is acked. The job runs once, even when the next life of the
worker gets the message again, and the worker goes on serving."""

import json
import time
import uuid

import pytest
import redis
from celery import Celery

from conftest import make_job
from services import Services

RUN_JOB = "hysds.job_worker.run_job"


def job(command):
    return make_job(command, job_id=f"outage-{uuid.uuid4().hex[:10]}")


def counts(services, queue):
    """(messages ready, messages unacknowledged) of `queue`, as RabbitMQ has them."""
    out = services.rabbitmqctl("list_queues", "--no-table-headers", "name", "messages_ready",
                               "messages_unacknowledged")
    for line in out.splitlines():
        fields = line.rsplit(None, 2)
        if len(fields) == 3 and fields[0] == queue:
            return int(fields[1]), int(fields[2])
    raise AssertionError(f"no queue {queue} in:\n{out}")


def wait_counts(services, queue, expected, timeout=30):
    deadline = time.monotonic() + timeout
    while counts(services, queue) != expected and time.monotonic() < deadline:
        time.sleep(0.2)
    assert counts(services, queue) == expected


def send(services, queue, payload):
    sender = Celery("outage-sender", broker=services.state["amqp_url"])
    try:
        return sender.send_task(RUN_JOB, args=[payload], queue=queue)
    finally:
        sender.close()


def next_job_completes(app, services, queue):
    r = send(services, queue, job("/bin/true"))
    wait_state(app, r.id, "SUCCESS", 30)
    assert app.AsyncResult(r.id).result["status"] == "job-completed"


def wait_state(app, task_id, state, timeout):
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        try:
            seen = app.AsyncResult(task_id).state
        except Exception as e:  # Redis is away: the client cannot tell yet
            seen = repr(e)
        if seen == state:
            return
        time.sleep(0.2)
    raise AssertionError(f"task {task_id} never reached {state}; last seen {seen}")


@pytest.fixture
def result_redis(tmp_path):
    """A Redis of this test's own for the results: it is stopped and started."""
    private = Services(tmp_path / "result-redis")
    private.start_redis()
    yield private
    private.stop_redis()


def break_redis(result_redis, how):
    if how == "stopped":
        result_redis.stop_redis()
        result_redis.wait_redis_stopped()
    else:  # refusing-writes: up, answering reads, refusing every write (OOM)
        redis.Redis.from_url(result_redis.state["redis_url"]).config_set("maxmemory", 1)


def mend_redis(result_redis, how):
    if how == "stopped":
        result_redis.restart_redis()
    else:
        redis.Redis.from_url(result_redis.state["redis_url"]).config_set("maxmemory", 0)


def run_until_unstored(start_worker, services, result_redis, queue_name, tmp_path, how):
    """A job whose result Redis will not take: returns the worker, the client
    app, the task id and the file each run of the job appends to."""
    backend = result_redis.state["redis_url"]
    worker = start_worker(backend=backend)
    # Sent by a client without a backend, read by one with it: no result
    # subscription lives through the outage (only polled reads).
    app = Celery("outage", broker=services.state["amqp_url"], backend=backend)
    runs = tmp_path / "runs.txt"
    r = send(services, queue_name, job(f"/bin/sh -c 'echo run >> {runs}; sleep 2'"))
    wait_state(app, r.id, "STARTED", 20)
    break_redis(result_redis, how)
    # The job ends; storing its SUCCESS fails after the retries (about 20 s).
    worker.wait_for_log(f"task {r.id}: result SUCCESS not stored; its message stays unacked",
                        timeout=90)
    assert counts(services, queue_name) == (0, 1)  # with the broker, unacked
    return worker, app, r.id, runs


@pytest.mark.parametrize("how", ["stopped", "refusing-writes"])
def test_the_message_stays_unacked_until_the_result_is_stored(start_worker, services,
                                                              result_redis, queue_name, tmp_path,
                                                              how):
    worker, app, task_id, runs = run_until_unstored(start_worker, services, result_redis,
                                                    queue_name, tmp_path, how)
    time.sleep(3)  # retried meanwhile, still refused: still unacked
    assert counts(services, queue_name) == (0, 1)
    assert (tmp_path / "root" / "results" / f"{task_id}.json").exists()
    mend_redis(result_redis, how)
    wait_state(app, task_id, "SUCCESS", 60)
    assert app.AsyncResult(task_id).result["status"] == "job-completed"
    wait_counts(services, queue_name, (0, 0))  # acked now
    assert runs.read_text() == "run\n"  # the job ran once
    assert not (tmp_path / "root" / "results").exists()
    next_job_completes(app, services, queue_name)  # the worker goes on serving
    assert worker.proc.poll() is None
    app.close()


def test_the_next_worker_on_the_node_stores_the_kept_result_and_does_not_run_the_job_again(
        start_worker, services, result_redis, queue_name, tmp_path):
    worker, app, task_id, runs = run_until_unstored(start_worker, services, result_redis,
                                                    queue_name, tmp_path, "stopped")
    assert worker.stop() == 0
    # The connection closed: the broker has the message again, ready.
    wait_counts(services, queue_name, (1, 0))
    kept = json.loads((tmp_path / "root" / "results" / f"{task_id}.json").read_text())
    assert kept["state"] == "SUCCESS" and kept["result"]["status"] == "job-completed"
    result_redis.restart_redis()
    second = start_worker(backend=result_redis.state["redis_url"])
    wait_state(app, task_id, "SUCCESS", 60)
    assert app.AsyncResult(task_id).result["status"] == "job-completed"
    wait_counts(services, queue_name, (0, 0))
    assert runs.read_text() == "run\n"  # not run by the second worker
    assert "kept on disk by an earlier worker" in second.log()
    assert len(list((tmp_path / "root").glob("jobs/*/*/*/*/*/*"))) == 1
    next_job_completes(app, services, queue_name)
    app.close()
