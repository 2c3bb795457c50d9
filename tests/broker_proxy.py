"""A TCP proxy in front of RabbitMQ whose connections a test can cut: while
cut, the connections it had are closed and new ones are dropped at once, so
the worker or manager behind it sees the broker go away and come back."""

import socket
import threading


class BrokerProxy:
    def __init__(self, target_port, open=True):
        self.target_port = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.is_open = threading.Event()
        if open:
            self.is_open.set()
        self.sockets = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, broker_url):
        """`broker_url` (amqp://user:pass@127.0.0.1:PORT/vhost) through the proxy."""
        return broker_url.replace(f":{self.target_port}", f":{self.port}", 1)

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.is_open.is_set():
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
        self.is_open.clear()
        with self.lock:
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.sockets = []

    def restore(self):
        self.is_open.set()

    def close(self):
        self.cut()
        self.listener.close()


def amqp_port(url):
    """The port of an amqp:// URL with an explicit port."""
    return int(url.rsplit(":", 1)[1].split("/")[0])
