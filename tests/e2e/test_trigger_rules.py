"""HySDS's trigger rules sent by `verdi worker`: for each product a job
published, a `dataset:<ipath>` job (hysds.orchestrator.submit_job) to the
dataset-processed queue, and once the job ended, its user rules task
(hysds.task_worker.run_task, user_rules_job) to the user-rules queue; both
listed as the run_job result's children. A real Python Celery worker,
configured as HySDS's celeryconfig (msgpack), registers those task names and
records what it receives; the messages are also compared with the ones
Python's Celery itself sends for HySDS's calls."""

import json
import os
import pathlib
import shlex
import subprocess
import sys
import time
import uuid

import msgpack
import pytest

from conftest import make_job

RUN_JOB = "hysds.job_worker.run_job"
MAX_PRIORITY = 10

# HySDS's celeryconfig.py.tmpl, as far as the tasks' messages go.
HYSDS_CONFIG = """
import os
from celery import Celery

app = Celery("hysds")
app.conf.update(
    broker_url=os.environ["AMQP_URL"],
    task_serializer="msgpack", result_serializer="msgpack",
    accept_content=["msgpack", "json"], task_acks_late=True,
    worker_prefetch_multiplier=1, task_queue_max_priority=%d,
    task_send_sent_event=True, broker_connection_retry_on_startup=True)
""" % MAX_PRIORITY

RECORDER = HYSDS_CONFIG + """
import json


def record(request, name, args, kwargs):
    with open(os.environ["RECORD"], "a") as f:
        f.write(json.dumps({
            "name": name, "id": request.id, "args": list(args), "kwargs": kwargs,
            "routing_key": request.delivery_info.get("routing_key"),
            "exchange": request.delivery_info.get("exchange"),
            "parent_id": request.parent_id, "root_id": request.root_id,
            "origin": request.origin}) + "\\n")


@app.task(bind=True, name="hysds.task_worker.run_task")
def run_task(self, payload):
    record(self.request, "hysds.task_worker.run_task", [payload], {})


@app.task(bind=True, name="hysds.orchestrator.submit_job")
def submit_job(self, j):
    record(self.request, "hysds.orchestrator.submit_job", [j], {})
"""


def products_command(*ids):
    steps = [f"mkdir -p {p} && echo '{{\"version\": \"v1.0\", \"label\": \"{p}\"}}' "
             f"> {p}/{p}.dataset.json && echo data-{p} > {p}/data.txt" for p in ids]
    return "sh -c " + shlex.quote(" && ".join(steps))


@pytest.fixture
def queues(queue_name):
    return {"dataset": f"{queue_name}-dataset_processed",
            "rules": f"{queue_name}-user_rules_job"}


@pytest.fixture
def datasets_cfg(tmp_path):
    dest = tmp_path / "published"
    path = tmp_path / "datasets.json"
    path.write_text(json.dumps({"datasets": [{
        "ipath": "hysds::data/trig", "version": "v1", "level": "l2", "type": "trig",
        "match_pattern": r"/(?P<id>T\d)$", "alt_match_pattern": None,
        "publish": {"location": f"file://{dest}/{{id}}", "urls": [f"file://{dest}/{{id}}"]}}]}))
    return path


@pytest.fixture
def recorder(services, tmp_path, queues):
    """A Python Celery worker with HySDS's config that runs (records) both tasks."""
    app_dir = tmp_path / "recorder"
    app_dir.mkdir()
    (app_dir / "recorder.py").write_text(RECORDER)
    record = tmp_path / "received.jsonl"
    record.touch()
    env = dict(os.environ, AMQP_URL=services.state["amqp_url"], RECORD=str(record))
    log = open(tmp_path / "recorder.log", "w")
    proc = subprocess.Popen(
        ["/usr/bin/python3", "-m", "celery", "-A", "recorder", "worker", "-P", "solo",
         "-Q", f"{queues['dataset']},{queues['rules']}", "-n", f"recorder-{uuid.uuid4().hex[:6]}@h",
         "--without-mingle", "--without-gossip", "-l", "warning"],
        cwd=app_dir, env=env, stdout=log, stderr=subprocess.STDOUT)

    def received(count, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = [json.loads(l) for l in record.read_text().splitlines()]
            if len(lines) >= count:
                return lines
            assert proc.poll() is None, (tmp_path / "recorder.log").read_text()
            time.sleep(0.1)
        raise AssertionError(f"{len(lines)} of {count} tasks received\n"
                             + (tmp_path / "recorder.log").read_text())
    received.record = record
    yield received
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


@pytest.fixture
def celery_app(celery_app):
    """The client declares the job queue as the worker does (x-max-priority)."""
    celery_app.conf.task_queue_max_priority = MAX_PRIORITY
    return celery_app


def trigger_worker(start_worker, queues, datasets_cfg, *extra):
    return start_worker("--max-priority", str(MAX_PRIORITY),
                        "--datasets-config", str(datasets_cfg),
                        "--user-rules-job-queue", queues["rules"],
                        "--dataset-processed-queue", queues["dataset"], *extra)


def hysds_job(command, job_id, payload_id="payload-1"):
    job = make_job(command, job_id=job_id)
    job["job_info"].update({
        "index": "job_status-2024.01.01", "payload_hash": "h", "dedup": False,
        "job_payload": {"job_type": "job:job-e2e:test", "payload_task_id": payload_id}})
    return job


def test_published_products_and_user_rules_reach_hysds_tasks(
        start_worker, celery_app, queue_name, queues, datasets_cfg, recorder):
    trigger_worker(start_worker, queues, datasets_cfg)
    job = hysds_job(products_command("T1", "T2"), "trig-ok")
    result = celery_app.send_task(RUN_JOB, args=[job], queue=queue_name)
    assert result.get(timeout=30)["status"] == "job-completed"
    got = recorder(3)
    time.sleep(1)
    assert len(recorder(3)) == 3  # no more than that

    datasets = [g for g in got if g["name"] == "hysds.orchestrator.submit_job"]
    rules = [g for g in got if g["name"] == "hysds.task_worker.run_task"]
    assert len(datasets) == 2 and len(rules) == 1
    # dataset_ingest_bulk.queue_dataset: {"job_type": "dataset:<ipath>", "payload": <doc>}.
    for d in datasets:
        assert d["routing_key"] == queues["dataset"] and d["exchange"] == ""
        assert d["kwargs"] == {}
        (submission,) = d["args"]
        assert set(submission) == {"job_type", "payload"}
        assert submission["job_type"] == "dataset:hysds::data/trig"
        assert submission["payload"]["ipath"] == "hysds::data/trig"
    assert sorted(d["args"][0]["payload"]["id"] for d in datasets) == ["T1", "T2"]
    # user_rules_job.queue_finished_job(payload_id, index=job_info.index).
    (rule,) = rules
    assert rule["routing_key"] == queues["rules"] and rule["exchange"] == ""
    assert rule["args"] == [{"type": "user_rules_job",
                             "function": "hysds.user_rules_job.evaluate_user_rules_job",
                             "args": ["payload-1"],
                             "kwargs": {"index": "job_status-2024.01.01"}}]
    assert rule["kwargs"] == {}
    # Sent from inside the run_job task: its children, in the order sent.
    for g in got:
        assert g["parent_id"] == result.id
        assert g["root_id"] == result.id
        assert g["origin"].startswith("gen")
    children = [c.id for c in result.children]
    assert children == [d["id"] for d in datasets] + [rule["id"]]


def test_the_documents_queued_are_the_published_ones(
        start_worker, celery_app, queue_name, queues, datasets_cfg, recorder, tmp_path):
    trigger_worker(start_worker, queues, datasets_cfg)
    result = celery_app.send_task(RUN_JOB, args=[hysds_job(products_command("T3"), "trig-doc")],
                                  queue=queue_name)
    summary = result.get(timeout=30)
    got = recorder(2)
    (dataset,) = [g for g in got if g["name"] == "hysds.orchestrator.submit_job"]
    job_dir = [p.parent for p in (tmp_path / "root").glob("jobs/*/*/*/*/*/trig-doc/.done")][0]
    published = json.loads((job_dir / "_datasets.json").read_text())
    assert dataset["args"][0]["payload"] == published[0]
    assert summary["status"] == "job-completed"


def test_failed_jobs_rules_look_in_job_failed_and_queue_when_finished_false_sends_none(
        start_worker, celery_app, queue_name, queues, datasets_cfg, recorder):
    trigger_worker(start_worker, queues, datasets_cfg)
    failed = celery_app.send_task(RUN_JOB, args=[hysds_job("/bin/sh -c 'exit 3'", "trig-fail",
                                                           payload_id="payload-f")],
                                  queue=queue_name)
    with pytest.raises(Exception):
        failed.get(timeout=30)
    (rule,) = recorder(1)
    assert rule["args"][0]["args"] == ["payload-f"]
    assert rule["args"][0]["kwargs"] == {"index": "job_failed"}
    assert [c.id for c in failed.children] == [rule["id"]]

    # run_job(job, queue_when_finished=False), as HySDS's stand-alone run_job.py calls it;
    # and a job refused before it started: no user rules.
    quiet = celery_app.send_task(RUN_JOB, args=[hysds_job("/bin/true", "trig-quiet"), False],
                                 queue=queue_name)
    assert quiet.get(timeout=30)["status"] == "job-completed"
    refused = hysds_job("/bin/true", "trig-refused")
    refused["params"] = {}
    bad = celery_app.send_task(RUN_JOB, args=[refused], queue=queue_name)
    with pytest.raises(Exception):
        bad.get(timeout=30)
    time.sleep(1.5)
    assert len(recorder(1)) == 1
    assert quiet.children == [] or quiet.children is None


def raw_message(app, queue):
    with app.connection_for_write() as conn:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            m = conn.default_channel.basic_get(queue, no_ack=True)
            if m is not None:
                return m
            time.sleep(0.05)
    raise AssertionError(f"nothing on {queue}")


def test_messages_are_the_ones_python_celery_sends_for_hysds_calls(
        start_worker, celery_app, services, queue_name, queues, datasets_cfg, tmp_path):
    # No consumer on the trigger queues: the raw messages are read back. The
    # worker serializes tasks as HySDS's celeryconfig says (msgpack).
    trigger_worker(start_worker, queues, datasets_cfg, "--task-serializer=msgpack")
    result = celery_app.send_task(RUN_JOB, args=[hysds_job(products_command("T4"), "trig-raw")],
                                  queue=queue_name)
    assert result.get(timeout=30)["status"] == "job-completed"
    sys.path.insert(0, str(tmp_path))
    (tmp_path / "hysds_reference.py").write_text(HYSDS_CONFIG + """

@app.task(name="hysds.task_worker.run_task")
def run_task(payload):
    pass
""")
    os.environ["AMQP_URL"] = services.state["amqp_url"]
    import hysds_reference
    ref_app = hysds_reference.app
    try:
        verdi_rules = raw_message(ref_app, queues["rules"])
        verdi_dataset = raw_message(ref_app, queues["dataset"])
        # What HySDS's own calls put on the wire (queue_finished_job, queue_dataset).
        payload = {"type": "user_rules_job",
                   "function": "hysds.user_rules_job.evaluate_user_rules_job",
                   "args": ["payload-1"], "kwargs": {"index": "job_status-2024.01.01"}}
        ref_queue = f"{queue_name}-reference"
        hysds_reference.run_task.apply_async((payload,), queue=ref_queue)
        python_rules = raw_message(ref_app, ref_queue)
        for verdi_msg in (verdi_rules, verdi_dataset):
            assert verdi_msg.delivery_info["exchange"] == ""
            assert set(verdi_msg.headers) == set(python_rules.headers)
            assert verdi_msg.content_type == python_rules.content_type == "application/x-msgpack"
            assert verdi_msg.content_encoding == python_rules.content_encoding == "binary"
            props = {k for k in verdi_msg.properties if k != "application_headers"}
            assert props == {k for k in python_rules.properties if k != "application_headers"}
            assert verdi_msg.properties["delivery_mode"] == 2
            assert verdi_msg.properties["correlation_id"] == verdi_msg.headers["id"]
            assert verdi_msg.headers["lang"] == "py"
            assert verdi_msg.headers["timelimit"] == [None, None]
            assert verdi_msg.headers["ignore_result"] is False
        assert verdi_rules.delivery_info["routing_key"] == queues["rules"]
        assert verdi_rules.headers["task"] == "hysds.task_worker.run_task"
        assert verdi_dataset.headers["task"] == "hysds.orchestrator.submit_job"
        # The decoded bodies: [args, kwargs, embed], as Python's own.
        assert msgpack.unpackb(verdi_rules.body, raw=False) == \
            msgpack.unpackb(python_rules.body, raw=False)
        assert verdi_rules.headers["argsrepr"] == python_rules.headers["argsrepr"].replace(
            "'type': 'user_rules_job', 'function': 'hysds.user_rules_job.evaluate_user_rules_job'"
            ", 'args': ['payload-1'], 'kwargs': {'index': 'job_status-2024.01.01'}",
            "'args': ['payload-1'], 'function': 'hysds.user_rules_job.evaluate_user_rules_job'"
            ", 'kwargs': {'index': 'job_status-2024.01.01'}, 'type': 'user_rules_job'")
        # The queues are declared as Celery declares them with task_queue_max_priority:
        # declaring them that way again is accepted (another way would be refused).
        with ref_app.connection_for_write() as conn:
            for q in queues.values():
                conn.default_channel.queue_declare(
                    q, durable=True, auto_delete=False,
                    arguments={"x-max-priority": MAX_PRIORITY})
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("hysds_reference", None)
