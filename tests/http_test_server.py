"""A tiny HTTP server for the localize tests.

Usage: http_test_server.py PORT_FILE
Binds a free loopback port, writes it to PORT_FILE, serves until killed.

  /files/<name>            200, body "content of <name>\n"
  /size/<n>/<name>         200, n bytes
  /status/<code>/<name>    that status
  /flaky/<n>/<key>/<name>  503 for the first n requests of <key>, then 200
  /stall/<name>            sends a few bytes, then hangs for 60 s
  /auth/<name>             200 with Basic user:secret, else 401
  /log                     the request lines seen so far (with Authorization)
"""
import base64
import http.server
import os
import sys
import threading
import time

counts = {}
seen = []
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, body=b""):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with lock:
            seen.append(self.path + " " + str(self.headers.get("Authorization")))
        parts = self.path.split("/")[1:]
        kind = parts[0] if parts else ""
        if kind == "files":
            return self.send(200, ("content of %s\n" % parts[-1]).encode())
        if kind == "size":
            return self.send(200, b"x" * int(parts[1]))
        if kind == "status":
            return self.send(int(parts[1]), b"error page\n")
        if kind == "flaky":
            n, key = int(parts[1]), parts[2]
            with lock:
                counts[key] = counts.get(key, 0) + 1
                c = counts[key]
            if c <= n:
                return self.send(503, b"busy\n")
            return self.send(200, ("content of %s\n" % parts[-1]).encode())
        if kind == "stall":
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            self.wfile.write(b"abc")
            self.wfile.flush()
            time.sleep(60)
            return
        if kind == "auth":
            want = "Basic " + base64.b64encode(b"user:secret").decode()
            if self.headers.get("Authorization") != want:
                return self.send(401, b"no\n")
            return self.send(200, b"secret content\n")
        if kind == "log":
            with lock:
                return self.send(200, "\n".join(seen).encode())
        return self.send(404, b"not found\n")


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.handle_error = lambda request, address: None
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, sys.argv[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
