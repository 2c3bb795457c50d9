"""A loopback HTTP server in the test's own process, for the services HySDS
talks to that are not packaged here (the EC2 instance metadata service,
GRQ's index API, the Elasticsearch/OpenSearch job-status index): it records
every request and answers each with what a function of the test returns."""

import http.server
import json
import threading


class Request:
    def __init__(self, method, path, headers, body):
        self.method, self.path, self.headers, self.body = method, path, headers, body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"{self.method} {self.path} {self.body[:200]!r}"


class LoopbackServer:
    """`answer(request)` returns (status, body); a dict or list body is sent
    as JSON. Use as a context manager; `url` is http://127.0.0.1:PORT."""

    def __init__(self, answer):
        self.requests = []
        self._lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(self.command, self.path, dict(self.headers), body)
                with outer._lock:
                    outer.requests.append(request)
                status, content = answer(request)
                if isinstance(content, (dict, list)):
                    content = json.dumps(content)
                if isinstance(content, str):
                    content = content.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def seen(self):
        with self._lock:
            return list(self.requests)

    def close(self):
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
