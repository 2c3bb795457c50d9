"""A Python Celery client configured as HySDS configures it (hysds's
celeryconfig.py.tmpl and sdscli's verdi celeryconfig.py: task_serializer and
result_serializer msgpack, accept_content msgpack and json, task_track_started)
reads every state and result of verdi's tasks: STARTED, SUCCESS, FAILURE with
its traceback, REVOKED. The worker reads the same settings file."""

import subprocess
import time
import uuid

import pytest
import redis

from conftest import VERDI, make_job

RUN_JOB = "hysds.job_worker.run_job"

# The lines of HySDS's celeryconfig.py.tmpl that decide how messages and
# results travel (broker and backend URLs come from the test's services).
HYSDS_CELERYCONFIG = '''
task_serializer = "msgpack"
result_serializer = "msgpack"
accept_content = ["msgpack", "json"]

task_acks_late = True
result_expires = 86400
worker_prefetch_multiplier = 1

event_serializer = "msgpack"
worker_send_task_events = True
task_send_sent_event = True
task_track_started = True

task_queue_max_priority = 10

task_reject_on_worker_lost = True
'''


def job(command, **extra):
    return make_job(command, job_id=f"job-{uuid.uuid4().hex[:12]}", **extra)


@pytest.fixture
def hysds_config(tmp_path):
    path = tmp_path / "celeryconfig.py"
    path.write_text(HYSDS_CELERYCONFIG)
    return path


@pytest.fixture
def hysds_worker(start_worker, hysds_config):
    return start_worker("--config", str(hysds_config), "-n", "verdi-hysds@%h")


def hysds_app(services, task_serializer="msgpack"):
    from celery import Celery
    app = Celery("hysds-client", broker=services.state["amqp_url"],
                 backend=services.state["redis_url"])
    app.conf.update(task_serializer=task_serializer, result_serializer="msgpack",
                    accept_content=["msgpack", "json"], event_serializer="msgpack",
                    task_track_started=True, task_queue_max_priority=10,
                    broker_connection_retry_on_startup=True)
    return app


@pytest.fixture
def client(services):
    app = hysds_app(services)
    yield app
    app.close()


def stored_bytes(services, task_id):
    return redis.Redis.from_url(services.state["redis_url"]).get(f"celery-task-meta-{task_id}")


def wait_for_state(result, state, timeout=15):
    deadline = time.monotonic() + timeout
    while result.state != state and time.monotonic() < deadline:
        time.sleep(0.05)
    return result.state


def test_worker_reads_the_serializers_from_the_hysds_config(hysds_config):
    proc = subprocess.run([VERDI, "worker", "--config", str(hysds_config), "--print-config"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    # `--print-config` lines: "name = value  (source)".
    settings = {name: value.split("  (", 1)[0] for name, value in
                (line.split(" = ", 1) for line in proc.stdout.splitlines()
                 if not line.startswith("#"))}
    assert settings["result_serializer"] == "msgpack"
    assert settings["task_serializer"] == "msgpack"
    # result_accept_content unset: Celery reads accept_content (HySDS: msgpack, json).
    assert settings["result_accept_content"] == "msgpack,json"


@pytest.mark.parametrize("task_serializer", ["msgpack", "json"])
def test_success_and_started_are_read(hysds_worker, services, queue_name, task_serializer):
    app = hysds_app(services, task_serializer)
    try:
        result = app.send_task(RUN_JOB, args=[job("/bin/sleep 1")], queue=queue_name)
        assert wait_for_state(result, "STARTED") == "STARTED"
        assert result.info["hostname"].startswith("verdi-hysds@")
        assert result.info["pid"] > 0
        summary = result.get(timeout=30)
        assert summary["status"] == "job-completed"
        assert summary["uuid"] == result.id
        assert result.state == "SUCCESS"
        assert result.traceback is None
        assert result.date_done is not None
    finally:
        app.close()
    raw = stored_bytes(services, result.id)
    assert raw[0] & 0xF0 == 0x80, f"not a msgpack map: {raw[:20]!r}"


def test_failure_is_raised_with_its_message(hysds_worker, client, queue_name):
    result = client.send_task(RUN_JOB, args=[job("/bin/sh -c 'exit 3'")], queue=queue_name)
    with pytest.raises(Exception) as raised:
        result.get(timeout=30)
    assert type(raised.value).__name__ == "WorkerExecutionError"
    assert str(raised.value) == "Got non-zero exit code: 3"
    assert result.state == "FAILURE"


def test_failure_carries_the_jobs_alt_error_and_traceback(hysds_worker, client, services,
                                                          queue_name, tmp_path):
    """HySDS's WorkerExecutionError(error): the job's _alt_error.txt as the message,
    its _alt_traceback.txt as the result's traceback (`celery result --traceback`)."""
    script = ("printf 'PGE failed: no granule\\n' > _alt_error.txt; "
              "printf 'Traceback (most recent call last):\\n  File pge.py\\nValueError: x\\n' "
              "> _alt_traceback.txt; exit 1")
    result = client.send_task(RUN_JOB, args=[job(f"/bin/sh -c \"{script}\"")], queue=queue_name)
    with pytest.raises(Exception) as raised:
        result.get(timeout=30)
    assert type(raised.value).__name__ == "WorkerExecutionError"
    assert str(raised.value) == "PGE failed: no granule"
    assert result.traceback == "Traceback (most recent call last):\n  File pge.py\nValueError: x"

    # Celery's own CLI, configured as HySDS's clients are, prints it.
    (tmp_path / "hysds_app.py").write_text(
        "from celery import Celery\n"
        f"app = Celery('hysds', broker={services.state['amqp_url']!r}, "
        f"backend={services.state['redis_url']!r})\n"
        "app.conf.update(result_serializer='msgpack', accept_content=['msgpack', 'json'])\n")
    proc = subprocess.run(["/usr/bin/python3", "-m", "celery", "-A", "hysds_app", "result",
                           "--traceback", result.id], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Traceback (most recent call last):\n  File pge.py\nValueError: x\n"


def test_failure_without_alt_files_has_the_error_as_traceback(hysds_worker, client, queue_name):
    result = client.send_task(RUN_JOB, args=[job("/bin/sh -c 'exit 3'")], queue=queue_name)
    with pytest.raises(Exception):
        result.get(timeout=30)
    assert result.traceback == "Got non-zero exit code: 3"


def test_revoked_task_is_read_as_revoked(hysds_worker, client, queue_name, tmp_path):
    blocker = client.send_task(RUN_JOB, args=[job("/bin/sleep 2")], queue=queue_name)
    queued = client.send_task(RUN_JOB, args=[job(f"/bin/touch {tmp_path}/ran")], queue=queue_name)
    assert wait_for_state(blocker, "STARTED") == "STARTED"
    client.control.revoke(queued.id)
    with pytest.raises(Exception) as raised:
        queued.get(timeout=30)
    assert type(raised.value).__name__ == "TaskRevokedError"
    assert queued.state == "REVOKED"
    assert blocker.get(timeout=30)["status"] == "job-completed"
    assert not (tmp_path / "ran").exists()


def test_rpc_results_in_msgpack(start_worker, hysds_config, services, queue_name):
    from celery import Celery
    start_worker("--config", str(hysds_config), backend="rpc://")
    app = Celery("hysds-rpc", broker=services.state["amqp_url"], backend="rpc://")
    app.conf.update(task_serializer="msgpack", result_serializer="msgpack",
                    accept_content=["msgpack"], task_queue_max_priority=10)
    try:
        ok = app.send_task(RUN_JOB, args=[job("/bin/true")], queue=queue_name)
        assert ok.get(timeout=30)["status"] == "job-completed"
        bad = app.send_task(RUN_JOB, args=[job("/bin/sh -c 'exit 4'")], queue=queue_name)
        with pytest.raises(Exception) as raised:
            bad.get(timeout=30)
        assert str(raised.value) == "Got non-zero exit code: 4"
    finally:
        app.close()


def test_pickle_is_refused_at_start(hysds_config, tmp_path):
    for args, message in (
            (["--result-serializer", "pickle"],
             "verdi worker: --result-serializer: pickle is refused: verdi never pickles or "
             "unpickles (json or msgpack)\n"),
            (["--result-accept-content", "json,pickle"],
             "verdi worker: --result-accept-content: pickle is refused: verdi never pickles or "
             "unpickles (json or msgpack)\n")):
        proc = subprocess.run([VERDI, "worker", *args, "--print-config"],
                              capture_output=True, text=True, timeout=30)
        assert proc.returncode == 2
        assert proc.stderr == message
    config = tmp_path / "pickle.py"
    config.write_text('result_serializer = "pickle"\n')
    proc = subprocess.run([VERDI, "worker", "--config", str(config), "--print-config"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert proc.stderr == ("verdi worker: --result-serializer: pickle is refused: verdi never "
                           "pickles or unpickles (json or msgpack)\n")
