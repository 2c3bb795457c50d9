"""A task redelivered while the run that holds it is still alive: the worker
that lost the broker goes on running it, and the worker that got it again
waits for that run (its claim on the status Redis) instead of running it a
second time; and runs it when that run is gone. Real RabbitMQ and Redis; the
first worker reaches the broker through a proxy the test can cut."""

import socket
import threading
import time
import uuid

from conftest import make_job

RUN_JOB = "hysds.job_worker.run_job"


class CuttableProxy:
    """A TCP proxy to the broker whose connections the test can cut, and
    which refuses new ones while it is cut."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.open = threading.Event()
        self.open.set()
        self.sockets = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open.is_set():
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        self.open.clear()
        with self.lock:
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.sockets = []

    def restore(self):
        self.open.set()

    def close(self):
        self.cut()
        self.listener.close()


def broker_port(url):
    return int(url.rsplit(":", 1)[1].split("/")[0])


def wait_for(what, check, timeout=30):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def two_workers(start_worker, services):
    url = services.state["amqp_url"]
    proxy = CuttableProxy(broker_port(url))
    proxied = url.replace(f":{broker_port(url)}", f":{proxy.port}")
    status = ["--redis-job-status-url", services.state["redis_url"],
              "--redis-job-status-key", f"logstash-{uuid.uuid4().hex[:8]}"]
    first = start_worker("-c", "1", "-n", f"first-{uuid.uuid4().hex[:6]}@test",
                         broker=proxied, extra_args=status)
    return proxy, first, status


def test_redelivered_while_its_run_is_alive_is_not_run_twice(start_worker, celery_app, services,
                                                             queue_name, tmp_path):
    proxy, first, status = two_workers(start_worker, services)
    try:
        marker = tmp_path / "runs.txt"
        payload = make_job(f"/bin/sh -c 'echo run >> {marker}; sleep 6'")
        result = celery_app.send_task(RUN_JOB, args=[payload], queue=queue_name)
        wait_for("the first run", lambda: marker.exists())
        second = start_worker("-c", "1", "-n", f"second-{uuid.uuid4().hex[:6]}@test",
                              extra_args=status)
        # The first worker loses the broker, which gives the task to the second.
        proxy.cut()
        second.wait_for_log("waiting for that run to end", timeout=30)
        proxy.restore()
        assert result.get(timeout=60)["status"] == "job-completed"
        # The first run ended and stored its result: the second worker acks
        # its copy without running it.
        second.wait_for_log("job-deduped", timeout=30)
        assert marker.read_text() == "run\n", "the task ran twice"
        out = services.rabbitmqctl("list_queues", "--no-table-headers", "name", "messages")
        counts = dict(line.split() for line in out.splitlines() if line.strip())
        assert counts.get(queue_name) == "0", out
    finally:
        proxy.close()


def test_redelivered_task_runs_once_its_holder_is_gone(start_worker, celery_app, services,
                                                       queue_name, tmp_path):
    proxy, first, status = two_workers(start_worker, services)
    try:
        marker = tmp_path / "runs.txt"
        payload = make_job(f"/bin/sh -c 'echo run >> {marker}; sleep 4'")
        result = celery_app.send_task(RUN_JOB, args=[payload], queue=queue_name)
        wait_for("the first run", lambda: marker.exists())
        second = start_worker("-c", "1", "-n", f"second-{uuid.uuid4().hex[:6]}@test",
                              extra_args=status)
        proxy.cut()
        second.wait_for_log("waiting for that run to end", timeout=30)
        first.proc.kill()  # the holder dies with its run
        first.proc.wait()
        assert result.get(timeout=60)["status"] == "job-completed"
        assert marker.read_text() == "run\nrun\n", "run once by each worker, one after the other"
        assert "is gone: claiming it" in second.log()
    finally:
        proxy.close()
