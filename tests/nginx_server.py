"""A private nginx with WebDAV (PUT, DELETE, MKCOL, COPY, MOVE) for the
publish tests: Debian's nginx, its config, pid, logs and temp files in a
temporary directory, on a free loopback port, as the current user.

As a script (for the C++ tests):
  nginx_server.py DIR [--deny REGEX]...
Serves DIR/root, writes the port to DIR/port once nginx answers, runs until
SIGTERM (then stops nginx). A URL path matching a --deny regex gets 403.

From pytest:
  with NginxServer(tmp_path, deny=["_denied"]) as srv:
      srv.url  # http://127.0.0.1:<port>
      srv.root # the served directory

Besides the served files:
  /grq/ok    any method: 200 {}        (a GRQ bulk index that accepts)
  /grq/fail  any method: 500           (one that never does)
"""
import os
import pathlib
import pwd
import grp
import signal
import socket
import subprocess
import sys
import time

NGINX = "/usr/sbin/nginx"

CONFIG = """
{user}
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
daemon off;
events {{ worker_connections 64; }}
http {{
  access_log {dir}/access.log;
  client_body_temp_path {dir}/tmp/body;
  proxy_temp_path {dir}/tmp/proxy;
  fastcgi_temp_path {dir}/tmp/fastcgi;
  uwsgi_temp_path {dir}/tmp/uwsgi;
  scgi_temp_path {dir}/tmp/scgi;
  client_max_body_size 0;
  server {{
    listen 127.0.0.1:{port};
    root {dir}/root;
    location = /grq/ok {{ default_type application/json; return 200 "{{}}"; }}
    location = /grq/fail {{ return 500; }}
{deny}
    location / {{
      dav_methods PUT DELETE MKCOL COPY MOVE;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
    }}
  }}
}}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class NginxServer:
    def __init__(self, directory, deny=()):
        self.dir = os.path.abspath(str(directory))
        self.root = pathlib.Path(self.dir) / "root"
        self.deny = list(deny)
        self.proc = None
        self.port = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def _config(self, port):
        user = ""
        if os.geteuid() == 0:  # workers would otherwise run as nobody
            user = "user %s %s;" % (pwd.getpwuid(os.getuid()).pw_name,
                                    grp.getgrgid(os.getgid()).gr_name)
        deny = "".join('    location ~ "%s" { deny all; }\n' % r for r in self.deny)
        return CONFIG.format(user=user, dir=self.dir, port=port, deny=deny)

    def start(self):
        if not os.path.exists(NGINX):
            raise RuntimeError("nginx is not installed (%s): run scripts/install-deps" % NGINX)
        os.makedirs(os.path.join(self.dir, "tmp"), exist_ok=True)
        os.makedirs(self.root, exist_ok=True)
        conf = os.path.join(self.dir, "nginx.conf")
        # Another process may take the free port first: try a few.
        for _ in range(5):
            port = free_port()
            with open(conf, "w") as f:
                f.write(self._config(port))
            self.proc = subprocess.Popen(
                [NGINX, "-p", self.dir, "-e", os.path.join(self.dir, "error.log"), "-c", conf],
                stdin=subprocess.DEVNULL)
            deadline = time.time() + 10
            while time.time() < deadline and self.proc.poll() is None:
                if answers(port):
                    self.port = port
                    return self
                time.sleep(0.05)
            self.stop()
        with open(os.path.join(self.dir, "error.log")) as f:
            raise RuntimeError("nginx did not start:\n" + f.read())

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main():
    args = sys.argv[1:]
    directory, deny = args[0], []
    for i, a in enumerate(args[1:]):
        if a == "--deny":
            deny.append(args[i + 2])
    server = NginxServer(directory, deny).start()
    # Only signal nginx here; the main thread reaps it (no wait in a handler).
    signal.signal(signal.SIGTERM, lambda *a: server.proc.terminate())
    tmp = os.path.join(server.dir, "port.tmp")
    with open(tmp, "w") as f:
        f.write(str(server.port))
    os.rename(tmp, os.path.join(server.dir, "port"))
    server.proc.wait()


if __name__ == "__main__":
    main()
