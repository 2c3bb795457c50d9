"""HySDS's guards around a job run in `verdi worker`: the revocation key
checked before a job runs, the task-worker key written when it starts, and
job-drain protection, as HySDS's run_job does them."""

import json
import time
import uuid

import msgpack
import redis

from conftest import make_job

RUN_JOB = "hysds.job_worker.run_job"


def documents(redis_url, key):
    client = redis.Redis.from_url(redis_url)
    return [msgpack.unpackb(raw, raw=False) for raw in client.lrange(key, 0, -1)]


def wait_state(result, states, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result.state in states:
            return result.state
        time.sleep(0.05)
    raise AssertionError(f"task {result.id} still {result.state}, expected one of {states}")


def wait_docs(url, key, count, timeout=10):
    deadline = time.monotonic() + timeout
    while len(documents(url, key)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return documents(url, key)


def queue_depth(celery_app, queue):
    with celery_app.connection_for_write() as conn:
        return conn.default_channel.queue_declare(queue, passive=True).message_count


def test_revoked_key_stops_the_job_and_started_sets_task_worker(start_worker, celery_app,
                                                                 services, queue_name, tmp_path):
    key = f"logstash-{uuid.uuid4().hex[:8]}"
    url = services.state["redis_url"]
    client = redis.Redis.from_url(url)
    worker = start_worker("--redis-job-status-url", url, "--redis-job-status-key", key,
                          "-n", "guards@%h")
    marker = tmp_path / "ran"
    revoked_id = str(uuid.uuid4())
    client.setex(f"hysds-revoked-task-{revoked_id}", 86400, "PENDING")
    revoked = celery_app.send_task(
        RUN_JOB, args=[make_job(f"/bin/touch {marker}", job_id=f"rv-{revoked_id[:8]}")],
        queue=queue_name, task_id=revoked_id)
    assert wait_state(revoked, {"REVOKED", "SUCCESS", "FAILURE"}) == "REVOKED"
    assert not marker.exists()
    docs = wait_docs(url, key, 1)
    assert [d["status"] for d in docs] == ["job-revoked"]
    assert docs[0]["uuid"] == revoked_id
    assert docs[0]["signum"] == 0
    assert docs[0]["error"] == "Job was revoked with signal 0."
    assert client.get(f"hysds-job-status-{revoked_id}") == b"job-revoked"
    assert client.get(f"hysds-task-worker-{revoked_id}") is None

    # A job that runs: its worker is recorded when it starts.
    ran = celery_app.send_task(RUN_JOB, args=[make_job(f"/bin/touch {marker}")], queue=queue_name)
    assert wait_state(ran, {"SUCCESS", "FAILURE"}) == "SUCCESS"
    assert marker.exists()
    hostname = client.get(f"hysds-task-worker-{ran.id}").decode()
    assert hostname.startswith("guards@")
    assert 86400 - 60 < client.ttl(f"hysds-task-worker-{ran.id}") <= 86400
    assert queue_depth(celery_app, queue_name) == 0  # the revoked message was acked
    assert "revoked, not run" in worker.log()


def test_failures_file_counts_failures_and_success_removes_it(start_worker, celery_app,
                                                               queue_name, tmp_path):
    start_worker("-n", "failfile@host1")
    failures = tmp_path / "root" / "workers" / "failfile@host1.failures.json"
    failed = celery_app.send_task(RUN_JOB, args=[make_job("/bin/false")], queue=queue_name)
    assert wait_state(failed, {"SUCCESS", "FAILURE"}) == "FAILURE"
    record = json.loads(failures.read_text())
    assert record["count"] == 1 and record["pid"] > 0 and record["starttime"] > 0
    ok = celery_app.send_task(RUN_JOB, args=[make_job("/bin/true")], queue=queue_name)
    assert wait_state(ok, {"SUCCESS", "FAILURE"}) == "SUCCESS"
    assert not failures.exists()


def test_job_drain_stops_the_worker(start_worker, celery_app, services, queue_name, tmp_path):
    key = f"logstash-{uuid.uuid4().hex[:8]}"
    url = services.state["redis_url"]
    worker = start_worker("--redis-job-status-url", url, "--redis-job-status-key", key,
                          "-n", "drain@host1", "--failure-threshold", "3")
    results = [celery_app.send_task(RUN_JOB, args=[make_job("/bin/false", job_id=f"dr-{i}")],
                                    queue=queue_name) for i in range(5)]
    worker.proc.wait(timeout=60)
    assert worker.proc.returncode == 3, worker.log()
    assert [r.state for r in results] == ["FAILURE"] * 4 + ["PENDING"]
    assert queue_depth(celery_app, queue_name) == 1  # requeued, for another worker
    log = worker.log()
    assert "job drain detected: 4 jobs failed in a row" in log
    assert " ERROR " in next(line for line in log.splitlines() if "job drain detected" in line)
    events = [d for d in documents(url, key) if d.get("resource") == "event"]
    assert len(events) == 1
    event = events[0]
    assert event["type"] == "worker_anomaly" and event["status"] == "job_drain"
    assert event["event"]["celery_hostname"] == "drain@host1"
    assert event["event"]["count"] == 4
    assert event["event"]["pid"] == worker.proc.pid
    assert event["event"]["starttime"] > 0
    statuses = [d["status"] for d in documents(url, key) if d.get("resource") == "job"]
    assert statuses.count("job-failed") == 4
    assert not (tmp_path / "root" / "workers" / "drain@host1.failures.json").exists()
