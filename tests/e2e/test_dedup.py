"""Worker-side dedup as HySDS's worker does it (job_worker.run_job with
job_info.dedup, utils.query_dedup_job): the payload hash marked on the status
Redis, the job-status index asked HySDS's exact query, and a duplicate that
started or completed ends the job as job-deduped without running it.
Elasticsearch/OpenSearch is not packaged here: tests/job_status_index.py
stands in for it and refuses any other query."""

import json
import os
import subprocess
import sys
import time
import uuid

import msgpack
import redis

from conftest import REPO, VERDI, make_job

sys.path.insert(0, str(REPO / "tests"))
from job_status_index import JobStatusIndex, hysds_dedup_query  # noqa: E402

RUN_JOB = "hysds.job_worker.run_job"
WORKER_STATES = ["job-started", "job-completed"]


def dedup_job(payload_hash, dedup=True, payload_id=None):
    """A job that leaves a file when it runs, as Mozart queues it."""
    job = make_job("/bin/sh -c 'echo ran > ran.txt'",
                   job_id=f"dd-{uuid.uuid4().hex[:8]}-20240101T000000.0Z")
    job["job_info"].update({
        "dedup": dedup, "payload_hash": payload_hash,
        "time_queued": "2024-01-01T00:00:00.000000Z",
        "job_payload": {"job_type": "job:job-e2e:test",
                        "payload_task_id": payload_id or uuid.uuid4().hex}})
    return job


def statuses(url, key):
    client = redis.Redis.from_url(url)
    return [msgpack.unpackb(raw, raw=False) for raw in client.lrange(key, 0, -1)]


def job_dir_of(root, job_id):
    dirs = [p.parent for p in root.glob(f"jobs/*/*/*/*/*/{job_id}/.done")]
    assert len(dirs) == 1, dirs
    return dirs[0]


def test_a_duplicate_that_completed_ends_the_job_as_deduped_unrun(
        start_worker, celery_app, services, queue_name, tmp_path):
    url = services.state["redis_url"]
    key = "logstash-" + uuid.uuid4().hex[:8]
    payload_hash = uuid.uuid4().hex
    with JobStatusIndex() as index:
        index.add("p-first", "task-first", payload_hash, "job-completed")
        index.add("p-failed", "task-failed", payload_hash, "job-failed")  # not a duplicate
        start_worker("--jobs-es-url", index.url, "--redis-job-status-url", url,
                     "--redis-job-status-key", key, "--redis-job-info-key", key + "-info")
        job = dedup_job(payload_hash)
        result = celery_app.send_task(RUN_JOB, args=[job], queue=queue_name)
        summary = result.get(timeout=60)
        searches = index.searches()

    # The task succeeds with HySDS's summary, status job-deduped.
    assert result.state == "SUCCESS"
    assert summary["status"] == "job-deduped" and summary["uuid"] == result.id
    # HySDS's query, exactly, with its search parameters.
    assert len(searches) == 1
    assert searches[0].path.startswith("/job_status-current/_search?")
    assert searches[0].json() == hysds_dedup_query(payload_hash, result.id, WORKER_STATES)
    # The payload hash marked as HySDS marks it.
    client = redis.Redis.from_url(url)
    assert client.get(f"hysds-payload-hash-{payload_hash}") == payload_hash.encode()
    assert 86400 - 60 < client.ttl(f"hysds-payload-hash-{payload_hash}") <= 86400
    # Never run: no job-started, one job-deduped naming the duplicate.
    deadline = time.monotonic() + 10
    while not statuses(url, key) and time.monotonic() < deadline:
        time.sleep(0.05)
    docs = statuses(url, key)
    assert [d["status"] for d in docs] == ["job-deduped"]
    deduped = docs[0]
    assert deduped["dedup_job"] == "p-first"
    assert deduped["dedup_msg"] == "verdi worker found duplicate job p-first with status job-completed"
    assert "error" not in deduped and "short_error" not in deduped
    assert deduped["uuid"] == result.id and deduped["payload_hash"] == payload_hash
    assert client.get(f"hysds-job-status-{result.id}") == b"job-deduped"
    job_dir = job_dir_of(tmp_path / "root", job["job_id"])
    assert not (job_dir / "ran.txt").exists() and not (job_dir / "_stdout.txt").exists()
    assert json.loads((job_dir / "_job.json").read_text())["job_info"]["job_status"] == "job-deduped"
    assert not list(job_dir.glob("triaged_job-*"))


def test_a_started_duplicate_dedups_but_the_task_itself_and_no_dedup_do_not(
        start_worker, celery_app, services, queue_name, tmp_path):
    payload_hash = uuid.uuid4().hex
    with JobStatusIndex() as index:
        index.add("p-running", "task-running", payload_hash, "job-started")
        start_worker("--jobs-es-url", index.url)
        deduped = celery_app.send_task(RUN_JOB, args=[dedup_job(payload_hash)], queue=queue_name)
        assert deduped.get(timeout=60)["status"] == "job-deduped"

        # The index holding only this very task (a redelivery) is no duplicate.
        own_task = str(uuid.uuid4())
        other_hash = uuid.uuid4().hex
        index.add("p-own", own_task, other_hash, "job-started")
        ran = celery_app.send_task(RUN_JOB, args=[dedup_job(other_hash)], queue=queue_name,
                                   task_id=own_task)
        assert ran.get(timeout=60)["status"] == "job-completed"

        # dedup false (a retry, or enable_dedup off): the index is not asked.
        asked = len(index.searches())
        not_checked = dedup_job(payload_hash, dedup=False)
        assert celery_app.send_task(RUN_JOB, args=[not_checked], queue=queue_name).get(
            timeout=60)["status"] == "job-completed"
        assert len(index.searches()) == asked
    assert (job_dir_of(tmp_path / "root", not_checked["job_id"]) / "ran.txt").exists()


def run_job(tmp_path, job, index_url):
    job_file = tmp_path / "job.json"
    job_file.write_text(json.dumps(job))
    return subprocess.run([VERDI, "run_job", "--root-work-dir", str(tmp_path / "root"),
                           "--jobs-es-url", index_url, str(job_file)],
                          capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if k != "REDIS_JOB_STATUS_URL"})


def test_no_index_yet_means_no_duplicate(tmp_path):
    with JobStatusIndex(exists=False) as index:
        job = dedup_job(uuid.uuid4().hex)
        proc = run_job(tmp_path, job, index.url)
        assert len(index.searches()) == 1
    assert proc.returncode == 0, proc.stderr
    assert (job_dir_of(tmp_path / "root", job["job_id"]) / "ran.txt").exists()


def test_an_index_that_cannot_answer_fails_the_job_as_hysds(tmp_path):
    with JobStatusIndex(fail_with=503) as index:
        job = dedup_job(uuid.uuid4().hex)
        proc = run_job(tmp_path, job, index.url)
        assert len(index.searches()) == 3  # tried, with backoff
    assert proc.returncode == 1
    job_dir = job_dir_of(tmp_path / "root", job["job_id"])
    info = json.loads((job_dir / "_job.json").read_text())["job_info"]
    assert info["job_status"] == "job-failed"
    assert info["error"].startswith(
        f"dedup: searching the job-status index: {index.url}/job_status-current: HTTP 503")
    assert not (job_dir / "ran.txt").exists()
