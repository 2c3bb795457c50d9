"""`verdi worker` against hostile input on a real RabbitMQ and Redis: a
control broadcast with a malformed method, a job that poisons its own files
with JSON that used to abort the worker, a burst of payloads refused before
any work dir exists, and a payload nested so deep that indenting it would
take a gigabyte. Each costs at most one failed job; the worker goes on and
runs the next job."""

import json
import uuid

from kombu import Connection, Exchange

from conftest import make_job

RUN_JOB = "hysds.job_worker.run_job"


def job(command, **extra):
    return make_job(command, job_id=f"job-{uuid.uuid4().hex[:12]}", **extra)


def next_job_completes(celery_app, queue_name):
    result = celery_app.send_task(RUN_JOB, args=[job("/bin/true")], queue=queue_name)
    assert result.get(timeout=30)["status"] == "job-completed"


def test_broadcast_with_a_non_string_method_stops_no_worker(start_worker, celery_app, services,
                                                             queue_name):
    name = f"hostile-{uuid.uuid4().hex[:6]}@e2e"
    worker = start_worker("-n", name)
    for method in (5, None, ["ping"], {"m": 1}):
        body = {"method": method, "arguments": {}, "destination": None,
                "pattern": None, "matcher": None}
        with Connection(services.state["amqp_url"]) as conn:
            conn.Producer().publish(json.dumps(body), exchange=Exchange("celery.pidbox", "fanout"),
                                    routing_key="", content_type="application/json",
                                    content_encoding="utf-8")
    # Still answering remote control, and still running jobs.
    replies = celery_app.control.ping(timeout=3)
    assert any(name in r for r in replies), replies
    next_job_completes(celery_app, queue_name)
    assert worker.proc.poll() is None


def test_a_job_poisoning_its_context_fails_alone(start_worker, celery_app, queue_name):
    worker = start_worker()
    for poison in ('{"a":1e999999}', "[" * 100000):
        cmd = "/bin/sh -c " + json.dumps(f"printf '%s' '{poison}' > _context.json")
        result = celery_app.send_task(RUN_JOB, args=[job(cmd)], queue=queue_name)
        try:
            result.get(timeout=30)
            raise AssertionError("the poisoned job should fail")
        except Exception as e:  # WorkerExecutionError, made by Celery from the stored FAILURE
            assert "_context.json: invalid JSON" in str(e), e
    next_job_completes(celery_app, queue_name)
    assert worker.proc.poll() is None


def test_payloads_refused_before_a_work_dir_do_not_drain_the_worker(start_worker, celery_app,
                                                                    queue_name):
    worker = start_worker("--failure-threshold", "3", "--failure-window", "60")
    bad = []
    for _ in range(8):
        payload = job("/bin/true")
        payload["params"] = {"_command": 42}  # refused: not a string
        bad.append(celery_app.send_task(RUN_JOB, args=[payload], queue=queue_name))
    for result in bad:
        try:
            result.get(timeout=30)
            raise AssertionError("a refused payload should fail")
        except Exception as e:
            assert "_command" in str(e), e
    next_job_completes(celery_app, queue_name)
    assert worker.proc.poll() is None
    assert "job drain" not in worker.log()


def test_a_deeply_nested_7_mb_payload_does_not_blow_up_the_work_dir(start_worker, celery_app,
                                                                     queue_name, tmp_path):
    # 7 MB of lists 120 deep: indented as HySDS indents its files, each
    # 240-byte chunk would take about 29 KB, 1.7 GB over the job's files.
    chunk = "[" * 120 + "]" * 120
    deep = json.loads("[" + ",".join([chunk] * (7_000_000 // (len(chunk) + 1))) + "]")
    worker = start_worker()
    payload = job("/bin/true")
    payload["params"]["deep"] = deep
    result = celery_app.send_task(RUN_JOB, args=[payload], queue=queue_name)
    assert result.get(timeout=120)["status"] == "job-completed"
    [job_dir] = [p.parent for p in (tmp_path / "root").glob("jobs/*/*/*/*/*/*/_job.json")]
    size = sum(f.stat().st_size for f in job_dir.rglob("*") if f.is_file())
    # Three copies of the payload, compact: _context.json, and _job.json's
    # params and context (HySDS's job.context is the job's context).
    assert size < 30_000_000, size
    assert json.loads((job_dir / "_job.json").read_text())["params"]["deep"] == deep
    assert json.loads((job_dir / "_context.json").read_text())["deep"] == deep
    # A small document is still indented as HySDS writes it.
    next_job_completes(celery_app, queue_name)
    [small] = [p for p in (tmp_path / "root").glob("jobs/*/*/*/*/*/*/_job.json")
               if p.parent != job_dir]
    assert small.read_text().startswith('{\n  "')
    assert worker.proc.poll() is None
