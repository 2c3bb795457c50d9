"""`verdi monitor`: the workers, their tasks and failures from Celery events,
and the HySDS status counts from the hysds-job-status-* keys (read only)."""

import json
import signal
import subprocess
import time
import uuid

import redis

from conftest import VERDI, make_job

RUN_JOB = "hysds.job_worker.run_job"


def wait_stable_llen(client, key, at_least, timeout=20):
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        n = client.llen(key)
        if n >= at_least and n == last:
            return n
        last = n
        time.sleep(0.5)
    raise AssertionError(f"{key} has {client.llen(key)} documents, expected {at_least}")


def test_monitor_once_json_shows_worker_tasks_and_failures(services, start_worker, celery_app,
                                                          queue_name):
    amqp, url = services.state["amqp_url"], services.state["redis_url"]
    key = f"monitor-status-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(url)
    start_worker("-n", "mon-test@%h", "--redis-job-status-url", url,
                 "--redis-job-status-key", key, "--redis-job-info-key", key + "-info")
    # Only events sent after it starts reach a monitor: start it first.
    monitor = subprocess.Popen([VERDI, "monitor", "--once", "--json", "--listen", "12",
                                "--broker", amqp, "--redis-job-status-url", url],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)
        ok = celery_app.send_task(RUN_JOB, args=[make_job("/bin/true",
                                                          job_id=f"mon-{uuid.uuid4().hex[:8]}")],
                                  queue=queue_name)
        bad = celery_app.send_task(RUN_JOB, args=[make_job("/bin/sh -c 'exit 3'",
                                                           job_id=f"mon-{uuid.uuid4().hex[:8]}")],
                                   queue=queue_name)
        ok.get(timeout=30)
        try:
            bad.get(timeout=30)
        except Exception:
            pass
        out, err = monitor.communicate(timeout=30)
    finally:
        if monitor.poll() is None:
            monitor.kill()
            monitor.wait()
    assert monitor.returncode == 0, err
    view = json.loads(out)

    workers = [w for w in view["workers"] if w["hostname"].startswith("mon-test@")]
    assert len(workers) == 1, view["workers"]
    worker = workers[0]
    assert worker["alive"] is True
    assert worker["processed"] >= 2 and worker["failed"] >= 1 and worker["succeeded"] >= 1
    assert worker["freq"] == 2.0

    tasks = {t["uuid"]: t for t in view["tasks"]}
    assert tasks[ok.id]["state"] == "SUCCESS" and tasks[ok.id]["name"] == RUN_JOB
    assert tasks[ok.id]["job_id"].startswith("mon-")
    assert tasks[bad.id]["state"] == "FAILURE"
    failure = [f for f in view["failures"] if f["uuid"] == bad.id][0]
    assert failure["short_error"] == "Got non-zero exit code: 3"
    assert failure["hostname"].startswith("mon-test@")
    assert view["job_statuses"].get("job-completed", 0) >= 1
    assert view["job_statuses"].get("job-failed", 0) >= 1

    # The status list belongs to the indexer: the monitor never pops it.
    before = wait_stable_llen(client, key, 4)
    again = subprocess.run([VERDI, "monitor", "--once", "--json", "--listen", "0.5",
                            "--broker", amqp, "--redis-job-status-url", url],
                           capture_output=True, text=True, timeout=30)
    assert again.returncode == 0, again.stderr
    assert client.llen(key) == before
    assert json.loads(again.stdout)["job_statuses"].get("job-completed", 0) >= 1


def test_monitor_text_view_and_bad_broker(services):
    run = subprocess.run([VERDI, "monitor", "--once", "--listen", "0.5",
                          "--broker", services.state["amqp_url"]],
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    assert "WORKER" in run.stdout and "LAST FAILURES" in run.stdout
    assert "\033[2J" not in run.stdout
    live = subprocess.Popen([VERDI, "monitor", "--interval", "0.2",
                             "--broker", services.state["amqp_url"]],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    live.send_signal(signal.SIGTERM)
    out, err = live.communicate(timeout=10)
    assert live.returncode == 0, err
    assert out.count("\033[H\033[2J") >= 2 and "WORKER" in out
    bad = subprocess.run([VERDI, "monitor", "--once", "--broker", "amqp://guest:guest@127.0.0.1:1//"],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 1 and "verdi monitor:" in bad.stderr
