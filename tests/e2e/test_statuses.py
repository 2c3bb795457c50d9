"""HySDS job statuses and metrics in Redis, as Logstash and Figaro read them:
msgpack documents on a list, plus the hysds-job-status-<uuid> key."""

import json
import os
import subprocess
import time
import uuid

import msgpack
import redis

from conftest import VERDI, make_job

RUN_JOB = "hysds.job_worker.run_job"


def documents(redis_url, key):
    client = redis.Redis.from_url(redis_url)
    return [msgpack.unpackb(raw, raw=False) for raw in client.lrange(key, 0, -1)]


def test_worker_sends_started_and_final_status_and_job_info(start_worker, celery_app, services,
                                                             queue_name, tmp_path):
    key = f"logstash-{uuid.uuid4().hex[:8]}"
    url = services.state["redis_url"]
    start_worker("--redis-job-status-url", url, "--redis-job-status-key", key,
                 "--redis-job-info-key", key + "-info", "-n", "status-test@%h")
    payload = make_job("/bin/sh -c 'echo tell them > _alt_msg.txt; exit 5'",
                       job_id=f"st-{uuid.uuid4().hex[:8]}", time_limit=3600, tag="t1")
    payload["job_info"]["payload_hash"] = "h1"
    payload["job_info"]["job_payload"] = {"job_type": "job:job-e2e:test", "payload_task_id": "p9"}
    result = celery_app.send_task(RUN_JOB, args=[payload], queue=queue_name)
    try:
        result.get(timeout=30)
    except Exception:
        pass
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while len(documents(url, key)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    docs = documents(url, key)
    assert [d["status"] for d in docs] == ["job-started", "job-failed"]
    started, failed = docs
    for d in docs:
        assert d["uuid"] == result.id and d["job_id"] == payload["job_id"]
        assert d["payload_id"] == "p9" and d["payload_hash"] == "h1"
        assert d["resource"] == "job" and d["type"] == "job-e2e:test" and d["@version"] == "1"
        assert d["celery_hostname"].startswith("status-test@")
        assert d["@timestamp"].endswith("Z")
        assert "context" not in d
        assert d["tags"] == ["t1"]
    assert started["job"]["job_info"]["job_dir"].endswith(payload["job_id"])
    assert failed["error"] == "Got non-zero exit code: 5"
    assert failed["short_error"] == "Got non-zero exit code: 5"
    assert failed["msg"] == ["tell them"]
    assert failed["job"]["job_info"]["status"] == 5
    assert client.get(f"hysds-job-status-{result.id}") == b"job-failed"
    ttl = client.ttl(f"hysds-job-status-{result.id}")
    assert 86400 - 60 < ttl <= 86400  # max(86400, 3600 + 600)
    info = documents(url, key + "-info")
    assert len(info) == 1
    assert info[0]["type"] == "job_info" and info[0]["job_type"] == "job-e2e:test"
    assert info[0]["job"]["job_id"] == payload["job_id"]
    assert info[0]["job"]["job_info"]["metrics"]["job_dir_size"] > 0


def test_run_job_standalone_reports_when_asked(services, tmp_path):
    key = f"logstash-{uuid.uuid4().hex[:8]}"
    url = services.state["redis_url"]
    job = make_job("/bin/true", job_id=f"sa-{uuid.uuid4().hex[:8]}")
    job_file = tmp_path / "job.json"
    job_file.write_text(json.dumps(job))
    env = dict(os.environ, REDIS_JOB_STATUS_URL=url, REDIS_JOB_STATUS_KEY=key, REDIS_JOB_INFO_KEY=key)
    out = subprocess.run([VERDI, "run_job", "--root-work-dir", str(tmp_path / "root"), str(job_file)],
                         capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    docs = documents(url, key)
    # job_info goes through the status connection when no info URL is set.
    assert [d.get("status", d.get("type")) for d in docs] == ["job-started", "job-completed", "job_info"]


def test_redis_down_never_blocks_the_job(tmp_path):
    # Nothing listens there: the job still runs and closes out; verdi says the
    # statuses were lost instead of hanging.
    job = make_job("/bin/true", job_id=f"down-{uuid.uuid4().hex[:8]}")
    job_file = tmp_path / "job.json"
    job_file.write_text(json.dumps(job))
    env = dict(os.environ, REDIS_JOB_STATUS_URL="redis://127.0.0.1:1/0")
    out = subprocess.run([VERDI, "run_job", "--root-work-dir", str(tmp_path / "root"), str(job_file)],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0
    assert list((tmp_path / "root").glob("jobs/*/*/*/*/*/*/.done"))
    assert "statuses not delivered to Redis within 10 s" in out.stderr
