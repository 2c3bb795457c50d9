"""Finished jobs never end as `job-queued`: HySDS's orchestrator logs
job-queued (SETEX hysds-job-status-<task>, then RPUSH of its document) only
once its publish is confirmed, which can be after a fast job's terminal
status. An orchestrator stand-in here writes job-queued late, after each
job's key went terminal, for 1,000 trivial jobs on a `verdi worker -c 2`
(real RabbitMQ and Redis): every key must end terminal, and the last
document for every payload in the status list must be terminal, as
Logstash keeps the last one. The same stand-in against a worker that does
not watch (--late-status-watch 0) leaves jobs as queued: the test can fail."""

import random
import time
import uuid

import msgpack
import redis

from conftest import make_job

RUN_JOB = "hysds.job_worker.run_job"
TERMINAL = {b"job-completed", b"job-failed", b"job-deduped", b"job-offline", b"job-revoked"}


def orchestrated_jobs(count):
    """(task id, payload id, job) as the orchestrator makes them."""
    jobs = []
    for i in range(count):
        task_id, payload_id = str(uuid.uuid4()), str(uuid.uuid4())
        job = make_job("/bin/true", job_id=f"late-{i}-{task_id[:8]}")
        job["job_info"].update({"payload_hash": f"h{i}", "dedup": False,
                                "job_payload": {"job_type": "job:job-e2e:test",
                                                "payload_task_id": payload_id}})
        jobs.append((task_id, payload_id, job))
    return jobs


def queued_doc(task_id, payload_id, job):
    return msgpack.packb({"uuid": task_id, "job_id": job["job_id"], "payload_id": payload_id,
                          "payload_hash": job["job_info"]["payload_hash"], "dedup": False,
                          "status": "job-queued", "job": job, "resource": "job",
                          "type": job["type"], "@version": "1"})


def run_orchestrator(celery_app, client, list_key, jobs, queue, timeout=120):
    """Publishes every job, then writes each one's job-queued only after its
    key went terminal: SETEX, a pause of up to 200 ms, RPUSH."""
    for task_id, _, job in jobs:
        celery_app.send_task(RUN_JOB, args=[job], queue=queue, task_id=task_id)
    pending = {task_id: (payload_id, job) for task_id, payload_id, job in jobs}
    deadline = time.monotonic() + timeout
    while pending:
        assert time.monotonic() < deadline, f"{len(pending)} jobs never ended"
        ids = list(pending)
        values = client.mget([f"hysds-job-status-{t}" for t in ids])
        ended = [t for t, v in zip(ids, values) if v in TERMINAL]
        if not ended:
            time.sleep(0.02)
            continue
        with client.pipeline(transaction=False) as pipe:
            for t in ended:
                pipe.setex(f"hysds-job-status-{t}", 86400, "job-queued")
            pipe.execute()
        time.sleep(random.uniform(0, 0.2))
        with client.pipeline(transaction=False) as pipe:
            for t in ended:
                payload_id, job = pending.pop(t)
                pipe.rpush(list_key, queued_doc(t, payload_id, job))
            pipe.execute()


def ended_as_queued(client, list_key, jobs):
    """The jobs whose key, or whose payload's last document, is not terminal."""
    last = {}
    for raw in client.lrange(list_key, 0, -1):
        doc = msgpack.unpackb(raw, raw=False)
        if doc.get("resource") == "job":
            last[doc["payload_id"]] = doc["status"]
    values = client.mget([f"hysds-job-status-{t}" for t, _, _ in jobs])
    bad = []
    for (task_id, payload_id, _), value in zip(jobs, values):
        if value not in TERMINAL or last.get(payload_id, "").encode() not in TERMINAL:
            bad.append((task_id, value, last.get(payload_id)))
    return bad


def start(start_worker, services, list_key, *extra):
    return start_worker("-c", "2", "--redis-job-status-url", services.state["redis_url"],
                        "--redis-job-status-key", list_key, "--redis-job-info-key",
                        list_key + "-info", "--user-rules-job-queue", "", *extra, backend="")


def test_1000_fast_jobs_none_ends_as_queued(start_worker, celery_app, services, queue_name):
    list_key = f"logstash-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(services.state["redis_url"])
    worker = start(start_worker, services, list_key)
    jobs = orchestrated_jobs(1000)
    started = time.monotonic()
    run_orchestrator(celery_app, client, list_key, jobs, queue_name)
    # The worker sees each late write within its watch and sends the
    # terminal document again (then once more a second later).
    deadline = time.monotonic() + 60
    bad = ended_as_queued(client, list_key, jobs)
    while bad and time.monotonic() < deadline:
        time.sleep(0.5)
        bad = ended_as_queued(client, list_key, jobs)
    assert not bad, f"{len(bad)} jobs end as queued, e.g. {bad[:3]}\n{worker.log()[-3000:]}"
    time.sleep(3)  # and it stays so
    assert ended_as_queued(client, list_key, jobs) == []
    print(f"1000 jobs with late job-queued writes in {time.monotonic() - started:.1f} s")
    client.delete(list_key, list_key + "-info")


def test_without_the_watch_late_writes_leave_jobs_queued(start_worker, celery_app, services,
                                                         queue_name):
    list_key = f"logstash-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(services.state["redis_url"])
    start(start_worker, services, list_key, "--late-status-watch", "0")
    jobs = orchestrated_jobs(100)
    run_orchestrator(celery_app, client, list_key, jobs, queue_name)
    time.sleep(2)
    assert len(ended_as_queued(client, list_key, jobs)) == 100
    client.delete(list_key, list_key + "-info")
