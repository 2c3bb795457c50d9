"""The final statuses of `verdi worker` jobs as HySDS's job_worker names them:
job-revoked for a revoked job (running or not), HySDS's soft time limit error,
HySDS's job_info.status, pid and error when the command cannot be executed or
an input's checksum is wrong, and exactly one terminal status per task, also
when the broker redelivers it after it ended. Real RabbitMQ, Redis, Python
Celery client."""

import hashlib
import time
import uuid

import msgpack
import pytest
import redis
from celery.exceptions import TaskRevokedError

from conftest import make_job

RUN_JOB = "hysds.job_worker.run_job"


def documents(redis_url, key):
    client = redis.Redis.from_url(redis_url)
    return [msgpack.unpackb(raw, raw=False) for raw in client.lrange(key, 0, -1)]


def wait_docs(redis_url, key, predicate, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        docs = documents(redis_url, key)
        if predicate(docs):
            return docs
        time.sleep(0.05)
    raise AssertionError(f"documents never matched: {[d['status'] for d in docs]}")


def wait_state(result, states, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result.state in states:
            return result.state
        time.sleep(0.05)
    raise AssertionError(f"task {result.id} still {result.state}, expected one of {states}")


def statuses_of(docs, task_id):
    return [d["status"] for d in docs if d.get("uuid") == task_id and d.get("resource") == "job"]


@pytest.fixture
def status(services, start_worker):
    """A worker with a status list of this test's own; returns (url, key, worker)."""
    key = f"logstash-{uuid.uuid4().hex[:8]}"
    url = services.state["redis_url"]

    def start(*extra, **kwargs):
        worker = start_worker("--redis-job-status-url", url, "--redis-job-status-key", key,
                              "--redis-job-info-key", key + "-info", *extra, **kwargs)
        return url, key, worker
    return start


def test_a_revoked_running_job_is_job_revoked_with_hysds_error(status, celery_app, queue_name):
    node = f"revoke-{uuid.uuid4().hex[:6]}@verdi"
    url, key, _ = status("-n", node)
    payload = make_job("/bin/sleep 60", job_id=f"rv-{uuid.uuid4().hex[:8]}")
    result = celery_app.send_task(RUN_JOB, args=[payload], queue=queue_name)
    wait_docs(url, key, lambda docs: "job-started" in statuses_of(docs, result.id))
    celery_app.control.revoke(result.id, terminate=True, destination=[node])
    assert wait_state(result, {"REVOKED", "SUCCESS", "FAILURE"}) == "REVOKED"
    docs = wait_docs(url, key, lambda docs: len(statuses_of(docs, result.id)) >= 2)
    time.sleep(0.5)  # nothing comes after it
    docs = [d for d in documents(url, key) if d.get("uuid") == result.id]
    # Not job-terminated, which HySDS's is_job_finalized does not count as final.
    assert [d["status"] for d in docs] == ["job-started", "job-revoked"]
    final = docs[-1]
    assert final["signum"] == 15
    assert final["error"] == "Job was revoked with signal 15."
    assert final["short_error"] == "Job was revoked with signal 15."
    assert final["traceback"] == "Job was revoked with signal 15."
    assert final["job"]["job_info"]["job_status"] == "job-revoked"
    assert redis.Redis.from_url(url).get(f"hysds-job-status-{result.id}") == b"job-revoked"
    with pytest.raises(TaskRevokedError):
        result.get(timeout=5)


def test_a_revoked_queued_job_is_job_revoked_with_signal_0(status, celery_app, queue_name,
                                                           tmp_path):
    node = f"revokeq-{uuid.uuid4().hex[:6]}@verdi"
    url, key, _ = status("-n", node)
    first = celery_app.send_task(RUN_JOB, args=[make_job("/bin/sleep 2")], queue=queue_name)
    wait_state(first, {"STARTED"})
    marker = tmp_path / "ran"
    second = celery_app.send_task(
        RUN_JOB, args=[make_job(f"/usr/bin/touch {marker}", job_id="queued-job", tag="q")],
        queue=queue_name)
    celery_app.control.revoke(second.id, destination=[node], reply=True, timeout=2)
    assert wait_state(second, {"REVOKED", "SUCCESS", "FAILURE"}) == "REVOKED"
    docs = wait_docs(url, key, lambda docs: statuses_of(docs, second.id))
    assert statuses_of(docs, second.id) == ["job-revoked"]
    doc = [d for d in docs if d.get("uuid") == second.id][0]
    assert (doc["signum"], doc["error"]) == (0, "Job was revoked with signal 0.")
    assert doc["job"]["job_id"] == "queued-job"
    assert doc["tags"] == ["q"]
    assert not marker.exists()
    first.get(timeout=30)


def test_soft_time_limit_error_is_hysds(status, celery_app, queue_name, tmp_path):
    url, key, _ = status()
    payload = make_job("/bin/sleep 30", job_id=f"soft-{uuid.uuid4().hex[:8]}",
                       soft_time_limit=1, time_limit=30)
    result = celery_app.send_task(RUN_JOB, args=[payload], queue=queue_name)
    with pytest.raises(Exception) as raised:
        result.get(timeout=30)
    assert str(raised.value) == "SoftTimeLimitExceeded()"
    docs = wait_docs(url, key, lambda docs: "job-failed" in statuses_of(docs, result.id))
    final = [d for d in docs if d.get("uuid") == result.id][-1]
    assert final["error"] == "SoftTimeLimitExceeded()"
    assert final["short_error"] == "SoftTimeLimitExceeded()"
    assert final["job"]["job_info"]["status"] == -15
    job_dir = final["job"]["job_info"]["job_dir"]
    with open(f"{job_dir}/_stderr.txt") as f:
        assert f.read().endswith(f"Soft time limit (1s) exceeded for {payload['job_id']}.\n")


def test_command_not_found_and_bad_checksum_carry_hysds_fields(status, celery_app, queue_name,
                                                               tmp_path):
    url, key, _ = status()
    missing = celery_app.send_task(RUN_JOB, args=[make_job("/no/such/program x")],
                                   queue=queue_name)
    src = tmp_path / "src"
    src.mkdir()
    (src / "in.dat").write_text("abd")
    (src / "in.dat.md5").write_text(hashlib.md5(b"abc").hexdigest() + "\n")
    urls = [{"url": f"file://{src / n}", "cache": False} for n in ("in.dat", "in.dat.md5")]
    checksum = celery_app.send_task(
        RUN_JOB, args=[make_job("/bin/true", job_id="cks-job", localize_urls=urls)],
        queue=queue_name)
    for result in (missing, checksum):
        with pytest.raises(Exception):
            result.get(timeout=30)
    docs = wait_docs(url, key, lambda docs: "job-failed" in statuses_of(docs, missing.id) and
                     "job-failed" in statuses_of(docs, checksum.id))

    final = [d for d in docs if d.get("uuid") == missing.id][-1]
    info = final["job"]["job_info"]
    assert (info["status"], info["pid"]) == (1, None)
    assert final["error"] == "Got non-zero exit code: 1"
    assert final["short_error"] == "Got non-zero exit code: 1"

    final = [d for d in docs if d.get("uuid") == checksum.id][-1]
    info = final["job"]["job_info"]
    assert (info["status"], info["pid"]) == (1, None)
    bad = f"{info['job_dir']}/in.dat"
    error = ("Files with mismatched checksum:\n"
             f"{bad}: calculated checksum: {hashlib.md5(b'abd').hexdigest()}, "
             f"pre-computed checksum: {hashlib.md5(b'abc').hexdigest()}\n")
    assert final["error"] == error
    assert final["short_error"] == error[:20] + "....." + error[-10:]


def redeliver(celery_app, task_id, payload, queue):
    """Puts a copy of task `task_id` on `queue` as the broker redelivers it:
    taken by a consumer that ends without acking it (redelivered flag set)."""
    celery_app.send_task(RUN_JOB, args=[payload], queue=queue, task_id=task_id)
    with celery_app.connection_for_write() as conn:
        channel = conn.channel()
        deadline = time.monotonic() + 10
        message = None
        while message is None and time.monotonic() < deadline:
            message = channel.basic_get(queue, no_ack=False)
            time.sleep(0.05)
        assert message is not None
        assert message.delivery_info["redelivered"] is False
        channel.close()  # unacked: back to the queue, redelivered
    with celery_app.connection_for_write() as conn:
        q = conn.default_channel.queue_declare(queue, passive=True)
        assert q.message_count == 1


@pytest.mark.parametrize("backend", ["", "redis"])
def test_a_task_redelivered_after_it_ended_gets_no_second_terminal_status(
        status, celery_app, queue_name, services, tmp_path, backend):
    # Without a result backend only the status key says the task ended.
    node = f"redeliver-{uuid.uuid4().hex[:6]}@verdi"
    url, key, worker = status("-n", node, backend=services.state["redis_url"] if backend else "")
    counter = tmp_path / "runs"
    payload = make_job(f"/bin/sh -c 'echo run >> {counter}'", job_id="redelivered-job")
    payload["job_info"]["job_payload"] = {"job_type": "job:job-e2e:test", "payload_task_id": "p"}
    task_id = str(uuid.uuid4())
    celery_app.send_task(RUN_JOB, args=[payload], queue=queue_name, task_id=task_id)
    wait_docs(url, key, lambda docs: "job-completed" in statuses_of(docs, task_id))

    other = f"{queue_name}-again"
    redeliver(celery_app, task_id, payload, other)
    celery_app.control.add_consumer(other, destination=[node], reply=True, timeout=2)
    worker.wait_for_log(f"task {task_id}: job-deduped: redelivered")
    time.sleep(1)
    assert counter.read_text() == "run\n"  # never run again
    assert statuses_of(documents(url, key), task_id) == ["job-started", "job-completed"]
    assert redis.Redis.from_url(url).get(f"hysds-job-status-{task_id}") == b"job-completed"
    with celery_app.connection_for_write() as conn:
        assert conn.default_channel.queue_declare(other, passive=True).message_count == 0
