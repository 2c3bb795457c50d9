"""Celery events from `verdi worker`, read by the stock Python event receiver
and state machine (what `celery events`, Flower and HySDS's process_events use)."""

import signal
import threading
import time
import uuid

from conftest import make_job

RUN_JOB = "hysds.job_worker.run_job"


class Capture:
    """A Python celery event receiver running in a thread."""

    def __init__(self, app):
        self.events = []
        self.app = app
        self.conn = app.connection_for_read()
        self.receiver = app.events.Receiver(self.conn, handlers={"*": self.events.append})
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.receiver.consumer_ready = self.ready  # not used by celery; see wait below
        time.sleep(1.0)  # let it declare and bind its queue before the worker starts

    def _run(self):
        self.receiver.capture(limit=None, timeout=None, wakeup=False)

    def of_type(self, kind, host=None):
        return [e for e in self.events
                if e["type"] == kind and (host is None or e["hostname"].startswith(host))]

    def wait_for(self, kind, host, count=1, timeout=20):
        """Waits for `count` events of `kind` from nodes named `host`... (other
        workers may share the broker)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.of_type(kind, host)) < count:
            time.sleep(0.05)
        assert len(self.of_type(kind, host)) >= count, [e["type"] for e in self.events]

    def stop(self):
        self.receiver.should_stop = True
        self.thread.join(timeout=10)
        self.conn.release()


def test_worker_and_task_events_as_python_expects(start_worker, celery_app, queue_name):
    capture = Capture(celery_app)
    try:
        worker = start_worker("-n", "events-test@%h")
        ok = celery_app.send_task(RUN_JOB, args=[make_job("/bin/true", job_id=f"ev-{uuid.uuid4().hex[:8]}")],
                                  queue=queue_name)
        bad = celery_app.send_task(RUN_JOB, args=[make_job("/bin/sh -c 'exit 3'",
                                                           job_id=f"ev-{uuid.uuid4().hex[:8]}")],
                                   queue=queue_name)
        ok.get(timeout=30)
        try:
            bad.get(timeout=30)
        except Exception:
            pass
        capture.wait_for("task-succeeded", "events-test@")
        capture.wait_for("task-failed", "events-test@")
        capture.wait_for("worker-heartbeat", "events-test@", count=2, timeout=10)
        worker.stop(signal.SIGTERM)
        capture.wait_for("worker-offline", "events-test@")
    finally:
        capture.stop()

    events = [e for e in capture.events if e["hostname"].startswith("events-test@")]
    kinds = [e["type"] for e in events]
    for kind in ("worker-online", "worker-heartbeat", "task-received", "task-started",
                 "task-succeeded", "task-failed", "worker-offline"):
        assert kind in kinds, kinds
    assert kinds[0] == "worker-online" and kinds[-1] == "worker-offline"
    clocks = [e["clock"] for e in events]
    assert clocks == sorted(clocks) and len(set(clocks)) == len(clocks)
    for e in events:
        assert isinstance(e["timestamp"], float) and abs(e["timestamp"] - time.time()) < 120
        assert isinstance(e["utcoffset"], int) and isinstance(e["pid"], int)

    heartbeat = capture.of_type("worker-heartbeat", "events-test@")[0]
    assert heartbeat["freq"] == 2.0 and len(heartbeat["loadavg"]) == 3
    received = [e for e in events if e["type"] == "task-received" and e["uuid"] == ok.id][0]
    assert received["name"] == RUN_JOB
    assert received["args"].startswith("[{") and "'job_id': 'ev-" in received["args"]
    succeeded = [e for e in events if e["type"] == "task-succeeded"][0]
    assert succeeded["uuid"] == ok.id and "'job-completed'" in succeeded["result"]
    assert succeeded["runtime"] > 0
    failed = [e for e in events if e["type"] == "task-failed"][0]
    assert failed["uuid"] == bad.id
    assert failed["exception"] == "WorkerExecutionError('Got non-zero exit code: 3')"

    # Python's own state machine reads them as a Celery worker's.
    state = celery_app.events.State()
    for e in capture.events:
        state.event(dict(e))
    assert state.tasks[ok.id].state == "SUCCESS"
    assert state.tasks[bad.id].state == "FAILURE"
    assert state.tasks[ok.id].name == RUN_JOB
    worker_state = [w for name, w in state.workers.items() if name.startswith("events-test@")][0]
    assert worker_state.alive is False  # it said worker-offline


def test_heartbeats_keep_a_worker_alive_for_python_monitors(start_worker, celery_app):
    capture = Capture(celery_app)
    try:
        start_worker("-n", "alive-test@%h", "--heartbeat-interval", "1")
        capture.wait_for("worker-heartbeat", "alive-test@", count=3, timeout=10)
    finally:
        capture.stop()
    state = celery_app.events.State()
    for e in capture.events:
        state.event(dict(e))
    worker_state = [w for name, w in state.workers.items() if name.startswith("alive-test@")][0]
    assert worker_state.alive
    assert worker_state.freq == 1.0
    beats = [e["timestamp"] for e in capture.of_type("worker-heartbeat")
             if e["hostname"].startswith("alive-test@")]
    gaps = [b - a for a, b in zip(beats, beats[1:])]
    assert all(0.8 < g < 1.5 for g in gaps), gaps


def test_without_heartbeat_sends_no_worker_heartbeats(start_worker, celery_app):
    # Celery's --without-heartbeat: worker-online and worker-offline, nothing between.
    capture = Capture(celery_app)
    try:
        worker = start_worker("-n", "no-beat@%h", "--heartbeat-interval", "0.5",
                              "--without-heartbeat")
        capture.wait_for("worker-online", "no-beat@")
        time.sleep(2.5)
        worker.stop(signal.SIGTERM)
        capture.wait_for("worker-offline", "no-beat@")
    finally:
        capture.stop()
    assert capture.of_type("worker-heartbeat", "no-beat@") == []
