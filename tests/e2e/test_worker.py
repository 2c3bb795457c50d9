"""`verdi worker` against a real RabbitMQ and Redis, driven by the stock Python
Celery client (Debian's python3-celery), exactly as a Celery user would."""

import datetime
import json
import pathlib
import signal
import socket
import time
import uuid

import pytest
from celery.exceptions import TimeoutError as CeleryTimeout
from kombu import Connection, Exchange, Queue

from conftest import make_job, wait_until_gone
from services import Services

RUN_JOB = "hysds.job_worker.run_job"


def job(command, name=None, **extra):
    return make_job(command, job_id=name or f"job-{uuid.uuid4().hex[:12]}", **extra)


def publish_raw(amqp_url, queue, body, headers, content_type="application/json"):
    """Publishes bytes as they are, for messages no Celery client would send."""
    with Connection(amqp_url) as conn:
        producer = conn.Producer()
        producer.publish(body, exchange="", routing_key=queue, headers=headers,
                         content_type=content_type, content_encoding="utf-8",
                         declare=[Queue(queue, Exchange(queue, "direct"), routing_key=queue)])


def test_send_task_and_get_returns_hysds_summary(start_worker, celery_app, queue_name, tmp_path):
    worker = start_worker("-n", "verdi-e2e@%h")
    payload = job("/bin/sh -c 'echo hello; echo $1 > out.txt' sh world")
    payload["job_info"]["payload_hash"] = "abc123"
    payload["job_info"]["job_payload"] = {"job_type": "job:job-e2e:test", "payload_task_id": "p-1"}
    result = celery_app.send_task(RUN_JOB, args=[payload], queue=queue_name)
    summary = result.get(timeout=30)
    assert summary["status"] == "job-completed"
    assert summary["uuid"] == result.id
    assert summary["job_id"] == payload["job_id"]
    assert summary["payload_id"] == "p-1"
    assert summary["payload_hash"] == "abc123"
    assert summary["celery_hostname"].startswith("verdi-e2e@")
    assert summary["job_url"].endswith("/" + payload["job_id"])
    assert result.state == "SUCCESS"
    # The job really ran, in its own work dir, with the task id recorded.
    dirs = list((tmp_path / "root").glob(f"jobs/*/*/*/*/*/{payload['job_id']}"))
    assert len(dirs) == 1
    assert (dirs[0] / "out.txt").read_text() == "world\n"
    saved = json.loads((dirs[0] / "_job.json").read_text())
    assert saved["task_id"] == result.id
    assert saved["delivery_info"]["routing_key"] == queue_name
    assert saved["delivery_info"]["redelivered"] is False
    assert "job-completed" in worker.log()


def test_failing_job_makes_get_raise_with_the_message(start_worker, celery_app, queue_name):
    start_worker()
    result = celery_app.send_task(RUN_JOB, args=[job("/bin/sh -c 'exit 3'")], queue=queue_name)
    with pytest.raises(Exception) as raised:
        result.get(timeout=30)
    assert str(raised.value) == "Got non-zero exit code: 3"
    assert type(raised.value).__name__ == "WorkerExecutionError"
    assert result.state == "FAILURE"


def test_started_state_is_stored_while_the_job_runs(start_worker, celery_app, queue_name):
    start_worker()
    result = celery_app.send_task(RUN_JOB, args=[job("/bin/sleep 2")], queue=queue_name)
    deadline = time.monotonic() + 10
    while result.state != "STARTED" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert result.state == "STARTED"
    assert result.info["hostname"].startswith("celery@")
    assert result.info["pid"] > 0
    assert result.get(timeout=30)["status"] == "job-completed"


def test_msgpack_serializer(start_worker, celery_app, queue_name):
    start_worker()
    celery_app.conf.task_serializer = "msgpack"
    result = celery_app.send_task(RUN_JOB, args=[job("/bin/echo packed")], queue=queue_name)
    assert result.get(timeout=30)["status"] == "job-completed"


def test_unknown_task_is_rejected_as_not_registered(start_worker, celery_app, queue_name):
    worker = start_worker()
    result = celery_app.send_task("proj.tasks.add", args=[1, 2], queue=queue_name)
    with pytest.raises(Exception) as raised:
        result.get(timeout=30)
    assert type(raised.value).__name__ == "NotRegistered"
    assert "proj.tasks.add" in str(raised.value)
    assert "unknown task" in worker.log()


def test_noop_task_answers_with_none_stored_in_redis_and_no_work_dir(
        start_worker, celery_app, services, queue_name, tmp_path):
    import redis
    start_worker("-n", "verdi-noop@%h")
    node = f"verdi-noop@{socket.gethostname()}"
    assert "verdi.noop" in celery_app.control.inspect(destination=[node], timeout=5).registered()[node]
    probes = [celery_app.send_task("verdi.noop", queue=queue_name) for _ in range(20)]
    assert [p.get(timeout=30) for p in probes] == [None] * 20
    port = services.state["redis"]["port"]
    stored = json.loads(redis.Redis(port=port).get(f"celery-task-meta-{probes[0].id}"))
    assert stored["status"] == "SUCCESS" and stored["result"] is None
    assert stored["task_id"] == probes[0].id
    assert not list((tmp_path / "root").glob("jobs/*/*/*/*/*/*"))
    # Acked (late, after the result): the queue is empty, and a job still runs.
    with Connection(services.state["amqp_url"]) as conn:
        assert conn.default_channel.queue_declare(queue_name, passive=True).message_count == 0
    result = celery_app.send_task(RUN_JOB, args=[job("/bin/true")], queue=queue_name)
    assert result.get(timeout=30)["status"] == "job-completed"


def test_garbage_is_rejected_and_the_next_job_runs(start_worker, celery_app, services, queue_name):
    worker = start_worker()
    url = services.state["amqp_url"]
    bad_id = str(uuid.uuid4())
    headers = {"task": RUN_JOB, "id": bad_id}
    publish_raw(url, queue_name, b"this is {not json", headers)
    publish_raw(url, queue_name, b'{"a": 1}', dict(headers, id=str(uuid.uuid4())))
    publish_raw(url, queue_name, b'[["not a job"], {}, {}]', dict(headers, id=str(uuid.uuid4())))
    publish_raw(url, queue_name, b"[[" + b"1," * (5 << 20) + b"1], {}, {}]",
                dict(headers, id=str(uuid.uuid4())))
    publish_raw(url, queue_name, b"\x80\x04pickle", {"task": RUN_JOB, "id": str(uuid.uuid4())},
                content_type="application/x-python-serialize")
    result = celery_app.send_task(RUN_JOB, args=[job("/bin/echo fine")], queue=queue_name)
    assert result.get(timeout=30)["status"] == "job-completed"
    log = worker.log()
    assert log.count("rejected message") == 5, log
    assert f"(task {bad_id}): body: invalid JSON" in log
    assert "more than the 8388608 allowed" in log
    assert "pickle" in log
    assert worker.proc.poll() is None
    # The client of a rejected task with a known id is not left waiting.
    with pytest.raises(Exception) as raised:
        celery_app.AsyncResult(bad_id).get(timeout=10)
    assert "invalid JSON" in str(raised.value)


def test_queue_predeclared_with_max_priority_and_priorities_honoured(
        start_worker, celery_app, services, queue_name, tmp_path):
    # Python declared the queue first, with arguments the worker was not given.
    with Connection(services.state["amqp_url"]) as conn:
        Queue(queue_name, Exchange(queue_name, "direct"), routing_key=queue_name,
              queue_arguments={"x-max-priority": 10})(conn.default_channel).declare()
    worker = start_worker("-c", "1")
    assert "PRECONDITION_FAILED" in worker.log(), worker.log()
    celery_app.conf.task_queue_max_priority = 10  # as HySDS's celeryconfig has it

    order = tmp_path / "order.txt"
    blocker = celery_app.send_task(RUN_JOB, args=[job("/bin/sleep 2")], queue=queue_name)
    deadline = time.monotonic() + 10
    while blocker.state != "STARTED" and time.monotonic() < deadline:
        time.sleep(0.05)
    results = []
    for name, priority in (("low1", 0), ("low2", 1), ("high", 9), ("low3", 0)):
        results.append(celery_app.send_task(
            RUN_JOB, args=[job(f"/bin/sh -c 'echo {name} >> {order}'")], queue=queue_name,
            priority=priority))
    for r in [blocker, *results]:
        assert r.get(timeout=60)["status"] == "job-completed"
    assert order.read_text().split()[0] == "high"


def test_expired_task_is_revoked_not_run(start_worker, celery_app, services, queue_name, tmp_path):
    start_worker()
    task_id = str(uuid.uuid4())
    past = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=30))
    message = celery_app.amqp.as_task_v2(task_id, RUN_JOB, args=[job(f"/bin/touch {tmp_path}/ran")],
                                         expires=past.isoformat())
    body = json.dumps(list(message.body)).encode()
    publish_raw(services.state["amqp_url"], queue_name, body, message.headers)
    result = celery_app.AsyncResult(task_id)
    with pytest.raises(Exception) as raised:
        result.get(timeout=30)
    assert type(raised.value).__name__ == "TaskRevokedError"
    assert result.state == "REVOKED"
    assert not (tmp_path / "ran").exists()


def test_eta_two_seconds_ahead_runs_after_it(start_worker, celery_app, queue_name, tmp_path):
    start_worker("-c", "1")
    sent = time.time()
    eta_task = celery_app.send_task(RUN_JOB, args=[job(f"/bin/sh -c 'date +%s.%N > {tmp_path}/eta'")],
                                    queue=queue_name, countdown=2)
    # The held ETA task does not block the slot for others.
    quick = celery_app.send_task(RUN_JOB, args=[job("/bin/true")], queue=queue_name)
    assert quick.get(timeout=10)["status"] == "job-completed"
    assert eta_task.state in ("PENDING", "RECEIVED")
    assert eta_task.get(timeout=30)["status"] == "job-completed"
    ran_at = float((tmp_path / "eta").read_text())
    assert ran_at - sent >= 1.9


def test_kill_9_mid_job_redelivers_and_completes_once(start_worker, celery_app, queue_name, tmp_path):
    first = start_worker("-c", "1")
    marker = tmp_path / "runs.txt"
    pids = tmp_path / "pids.txt"
    # The first run also leaves a daemon in a session of its own.
    payload = job(f"/bin/sh -c 'echo run >> {marker}; setsid sleep 300 & echo $! >> {pids}; "
                  f"echo $$ >> {pids}; sleep 2; echo done'")
    result = celery_app.send_task(RUN_JOB, args=[payload], queue=queue_name)
    deadline = time.monotonic() + 10
    while not (pids.exists() and len(pids.read_text().split()) == 2) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert result.state == "STARTED"
    first.proc.kill()
    first.proc.wait()
    # Nothing of the job runs on without its worker: the command and the
    # daemon are gone at once, not when a later life of the worker recovers.
    for pid in map(int, pids.read_text().split()[:2]):
        assert wait_until_gone(pid, 3), f"process {pid} outlived the worker killed with SIGKILL"
    second = start_worker("-c", "1")
    summary = result.get(timeout=60)
    assert summary["status"] == "job-completed"
    assert "celery@" in summary["celery_hostname"]
    dirs = [p.parent for p in (tmp_path / "root").glob("jobs/*/*/*/*/*/*/_job.json")]
    assert len(dirs) == 2  # the killed run's and the rerun's, never shared
    assert all((d / ".done").exists() for d in dirs), "no job dir is left open"
    jobs = [json.loads((d / "_job.json").read_text()) for d in dirs]
    completed = [j for j in jobs if j["job_info"].get("job_status") == "job-completed"]
    assert len(completed) == 1, "exactly one run completed"
    assert completed[0]["delivery_info"]["redelivered"] is True
    assert "recovery: closed out" in second.log()
    assert marker.read_text() == "run\nrun\n"
    assert "job-completed" in second.log()


def test_broker_restart_while_jobs_run_every_job_completes(start_worker, celery_app, tmp_path):
    private = Services(tmp_path / "private-services").start()
    try:
        url = private.state["amqp_url"]
        queue = "restart-test"
        worker = start_worker("-c", "3", broker=url, backend=private.state["redis_url"], queue=queue,
                              extra_args=["--redis-job-status-url", private.state["redis_url"]])
        from celery import Celery
        app = Celery("restart", broker=url, backend=private.state["redis_url"])
        results = [app.send_task(RUN_JOB, args=[job("/bin/sleep 3")], queue=queue) for _ in range(3)]
        deadline = time.monotonic() + 15
        while any(r.state != "STARTED" for r in results) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(r.state == "STARTED" for r in results)
        private.stop_rabbitmq()
        private.start_rabbitmq()
        for r in results:
            assert r.get(timeout=90)["status"] == "job-completed"
        assert "broker connection lost" in worker.log()
        # Reconnected (a second "connected to"), the broker redelivers the
        # finished jobs whose acks were lost: recognised, not run again.
        deadline = time.monotonic() + 60
        while worker.log().count("job-deduped") < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert worker.log().count("connected to") >= 2, worker.log()
        assert worker.log().count("job-deduped") == 3, worker.log()
        done = [p for p in (tmp_path / "root").glob("jobs/*/*/*/*/*/*/.done")]
        assert len(done) == 3, worker.log()
        # Each task has exactly one terminal status, job-completed: the
        # redelivered copies add none (HySDS counts a job by its last one).
        import msgpack
        import redis
        docs = [msgpack.unpackb(d, raw=False) for d in
                redis.Redis.from_url(private.state["redis_url"]).lrange("logstash", 0, -1)]
        assert not [d for d in docs if d.get("status") == "job-deduped"], docs
        assert len([d for d in docs if d.get("status") == "job-completed"]) == 3
        terminal = {}
        for d in docs:
            if d.get("status") not in (None, "job-queued", "job-started"):
                terminal.setdefault(d.get("uuid"), []).append(d.get("status"))
        assert all(v == ["job-completed"] for v in terminal.values()), terminal
        app.close()
    finally:
        private.stop()


def test_warm_shutdown_lets_the_running_job_finish(start_worker, celery_app, queue_name):
    worker = start_worker()
    result = celery_app.send_task(RUN_JOB, args=[job("/bin/sleep 2")], queue=queue_name)
    deadline = time.monotonic() + 10
    while result.state != "STARTED" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert worker.stop(signal.SIGTERM) == 0
    assert result.get(timeout=5)["status"] == "job-completed"
    assert "warm shutdown" in worker.log()


def test_cold_shutdown_stops_the_job_and_requeues_it(start_worker, celery_app, queue_name):
    worker = start_worker()
    result = celery_app.send_task(RUN_JOB, args=[job("/bin/sleep 30")], queue=queue_name)
    deadline = time.monotonic() + 10
    while result.state != "STARTED" and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    start = time.monotonic()
    assert worker.stop(signal.SIGTERM, timeout=15) == 0
    assert time.monotonic() - start < 10
    assert "requeued" in worker.log()
    # Requeued, not failed: a new worker picks it up.
    assert result.state == "STARTED"
    start_worker("--shutdown-timeout", "1")
    with pytest.raises(CeleryTimeout):
        result.get(timeout=1)  # it runs again (30 s), so it is not done yet


def test_print_config_redacts_secrets(services):
    import subprocess
    from conftest import VERDI
    out = subprocess.run([VERDI, "worker", "--print-config", "--broker",
                          "amqp://user:s3cret@host:5672/vh", "-Q", "a,b", "--max-priority", "10"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "s3cret" not in out.stdout
    assert "queues = a,b" in out.stdout
    assert '"x-max-priority":10' in out.stdout
    assert "task_acks_late = true" in out.stdout


def test_timelimit_header_and_job_limits_the_stricter_wins(start_worker, celery_app, queue_name):
    start_worker()
    # The job allows 60 s; the Celery time_limit of 2 s is stricter.
    payload = job("/bin/sh -c \"trap '' TERM; sleep 30\"", time_limit=60)
    start = time.monotonic()
    result = celery_app.send_task(RUN_JOB, args=[payload], queue=queue_name, time_limit=2)
    with pytest.raises(Exception) as raised:
        result.get(timeout=30)
    assert time.monotonic() - start < 15
    assert str(raised.value) == f"Hard time limit (2s) exceeded for {payload['job_id']}."
    # And the job's own soft limit applies when the header has none.
    soft = job("/bin/sleep 30", soft_time_limit=1)
    result = celery_app.send_task(RUN_JOB, args=[soft], queue=queue_name)
    with pytest.raises(Exception) as raised:
        result.get(timeout=30)
    # HySDS's error (str of Celery's exception); the clearer line is in _stderr.txt.
    assert str(raised.value) == "SoftTimeLimitExceeded()"


def test_rpc_backend_replies_to_the_client(start_worker, services, queue_name):
    from celery import Celery
    start_worker(backend="rpc://")
    app = Celery("rpc-client", broker=services.state["amqp_url"], backend="rpc://")
    try:
        ok = app.send_task(RUN_JOB, args=[job("/bin/true")], queue=queue_name)
        assert ok.get(timeout=30)["status"] == "job-completed"
        bad = app.send_task(RUN_JOB, args=[job("/bin/sh -c 'exit 4'")], queue=queue_name)
        with pytest.raises(Exception) as raised:
            bad.get(timeout=30)
        assert str(raised.value) == "Got non-zero exit code: 4"
    finally:
        app.close()


def test_acks_early_acks_before_the_job_runs(start_worker, celery_app, services, queue_name):
    worker = start_worker("--acks-early")
    result = celery_app.send_task(RUN_JOB, args=[job("/bin/sleep 3")], queue=queue_name)
    deadline = time.monotonic() + 10
    while result.state != "STARTED" and time.monotonic() < deadline:
        time.sleep(0.05)
    # Killed mid-job: with late acks the broker would put the message back in
    # the queue; acked early, it is gone (that is the trade of --acks-early).
    worker.proc.kill()
    worker.proc.wait()
    time.sleep(1)
    with Connection(services.state["amqp_url"]) as conn:
        declared = conn.default_channel.queue_declare(queue_name, passive=True)
    assert declared.message_count == 0


def test_config_file_flag_env_precedence(tmp_path):
    import os
    import subprocess
    from conftest import VERDI
    cfg = tmp_path / "celeryconfig.py"
    cfg.write_text('broker_url = "amqp://u:pw@from-file:5672//"\n'
                   'result_backend = "redis://from-file:6379/0"\n'
                   "task_acks_late = False\n"
                   "worker_prefetch_multiplier = 3\n"
                   'ROOT_WORK_DIR = "/from/file"\n')
    env = dict(os.environ, CELERY_RESULT_BACKEND="redis://from-env:6379/1")
    env.pop("CELERY_BROKER_URL", None)
    env.pop("HYSDS_ROOT_WORK_DIR", None)
    out = subprocess.run([VERDI, "worker", "--print-config", "--config", str(cfg),
                          "--prefetch-multiplier", "5"], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    lines = {}
    for line in out.stdout.splitlines():
        if " = " in line and not line.startswith("#"):
            name, rest = line.split(" = ", 1)
            value, _, source = rest.rpartition("  (")
            lines[name] = (value, source.rstrip(")"))
    assert lines["broker_url"] == ("amqp://u:***@from-file:5672//",
                                   f"file {cfg}:1:14: broker_url")
    assert lines["result_backend"] == ("redis://from-env:6379/1",         # env beats file
                                       "environment CELERY_RESULT_BACKEND")
    assert lines["worker_prefetch_multiplier"] == ("5", "flag")           # flag beats file
    assert lines["task_acks_late"] == ("false", f"file {cfg}:3:18: task_acks_late")
    assert lines["ROOT_WORK_DIR"] == ("/from/file", f"file {cfg}:5:17: ROOT_WORK_DIR")
    assert lines["shutdown_timeout"] == ("600", "default")
    # HySDS names the file with HYSDS_CELERY_CFG; a bad value is one clear error.
    cfg.write_text("broker_url = get_broker()\n")
    out = subprocess.run([VERDI, "worker", "--print-config"], capture_output=True, text=True,
                         env=dict(env, HYSDS_CELERY_CFG=str(cfg)))
    assert out.returncode == 2
    assert out.stderr.strip() == (f"verdi worker: {cfg}:1:14: broker_url: "
                                  "name `get_broker` is not defined")


def test_ignore_result_stores_nothing(start_worker, celery_app, services, queue_name, tmp_path):
    import redis
    start_worker()
    result = celery_app.send_task(RUN_JOB, args=[job(f"/bin/touch {tmp_path}/ran")],
                                  queue=queue_name, ignore_result=True)
    deadline = time.monotonic() + 20
    while not (tmp_path / "ran").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (tmp_path / "ran").exists()
    time.sleep(0.5)
    client = redis.Redis.from_url(services.state["redis_url"])
    assert client.get(f"celery-task-meta-{result.id}") is None


def test_broker_restart_mid_job_runs_each_job_once(start_worker, tmp_path):
    # The broker comes back while the jobs still run: it redelivers them at
    # once; the worker must not start them a second time, and must ack them.
    private = Services(tmp_path / "private-services").start()
    try:
        url = private.state["amqp_url"]
        queue = "restart-mid-job"
        worker = start_worker("-c", "2", broker=url, backend=private.state["redis_url"], queue=queue)
        from celery import Celery
        app = Celery("restart2", broker=url, backend=private.state["redis_url"])
        results = [app.send_task(RUN_JOB, args=[job("/bin/sleep 15")], queue=queue) for _ in range(2)]
        deadline = time.monotonic() + 15
        while any(r.state != "STARTED" for r in results) and time.monotonic() < deadline:
            time.sleep(0.05)
        private.stop_rabbitmq()
        private.start_rabbitmq()
        deadline = time.monotonic() + 30
        while worker.log().count("redelivered while it runs here") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert worker.log().count("redelivered while it runs here") == 2, worker.log()
        for r in results:
            assert r.get(timeout=60)["status"] == "job-completed"
        dirs = list((tmp_path / "root").glob("jobs/*/*/*/*/*/*"))
        assert len(dirs) == 2, dirs  # one run each
        time.sleep(1)
        assert worker.stop(signal.SIGTERM) == 0
        with Connection(url) as conn:
            assert conn.default_channel.queue_declare(queue, passive=True).message_count == 0
        app.close()
    finally:
        private.stop()


def test_log_format_json_gives_each_line_its_task_and_job(start_worker, celery_app, queue_name,
                                                          tmp_path):
    import re
    # From the settings file; -l debug lets every level through.
    cfg = tmp_path / "celeryconfig.py"
    cfg.write_text('verdi_log_format = "json"\n')
    worker = start_worker("--config", str(cfg), "-l", "debug")
    payload = job("/bin/sh -c 'echo hello'")
    result = celery_app.send_task(RUN_JOB, args=[payload], queue=queue_name)
    assert result.get(timeout=30)["status"] == "job-completed"
    # A task id with a line break and a terminal escape stays inside its line.
    odd_id = f"odd\n{uuid.uuid4().hex}\x1b[2J"
    odd = celery_app.send_task(RUN_JOB, args=[job("/bin/true")], queue=queue_name, task_id=odd_id)
    assert odd.get(timeout=30)["status"] == "job-completed"
    assert worker.stop(signal.SIGTERM) == 0

    records = [json.loads(line) for line in worker.log().splitlines()]  # every line is JSON
    for r in records:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["time"]), r
        assert r["level"] in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), r
        assert isinstance(r["message"], str)
    # The job's lines, from intake, its job slot and its pipeline, carry both ids.
    mine = [r for r in records if r.get("task_id") == result.id]
    assert all(r["job_id"] == payload["job_id"] for r in mine), mine
    assert any(r["message"].endswith(" job-completed") for r in mine), mine
    assert any("work dir" in r["message"] for r in mine), mine
    assert any(r.get("task_id") == odd_id for r in records)
    assert "\x1b" not in worker.log() and "\\u001b[2J" in worker.log()
    # Lines about the worker itself have neither.
    connected = [r for r in records if r["message"].startswith("connected to")]
    assert connected and "task_id" not in connected[0] and "job_id" not in connected[0]
    assert any("warm shutdown" in r["message"] and r["level"] == "WARNING" for r in records)
