#!/usr/bin/python3
"""Private RabbitMQ and Redis servers for the tests, on free loopback ports,
with all their state in one directory. Nothing here touches a system service.

As a command (ctest starts them once for the whole run, see tests/CMakeLists.txt):

    tests/services.py start DIR     # start both, write DIR/services.json, return
    tests/services.py start --tls DIR   # the same, plus TLS listeners (see below)
    tests/services.py stop DIR      # stop both, remove nothing
    tests/services.py restart-rabbitmq DIR

As a module: `Services(dir).start()`; `services.json` holds
{"amqp_url", "redis_url", "rabbitmq": {...}, "redis": {...}}.

TLS mode, `Services(dir, tls=True)`: a throwaway CA, a server certificate for
localhost and 127.0.0.1 and a client certificate are made with the openssl
CLI in DIR/tls; RabbitMQ gets a TLS listener on another loopback port (next
to the plain one; verify_peer, a client certificate optional, or required
with `require_client_cert=True`) and Redis a --tls-port (next to the plain
port; client certificates optional). services.json then also holds
"amqps_url", "rediss_url" and "tls": {"ca", "client_cert", "client_key", ...}.
"""

import json
import os
import secrets
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time

RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
RABBITMQCTL = "/usr/lib/rabbitmq/bin/rabbitmqctl"
REDIS_SERVER = "/usr/bin/redis-server"
EPMD = "/usr/bin/epmd"


def free_ports(count):
    """`count` distinct free loopback ports: all bound at once before any is
    let go, so no two of them can be the same port."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def free_port():
    return free_ports(1)[0]


def wait_for_port(port, timeout, what, log):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    tail = pathlib.Path(log).read_text(errors="replace")[-3000:] if os.path.exists(log) else ""
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout}s\n{tail}")


# -- throwaway certificates ---------------------------------------------------

_OPENSSL_CNF = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def _openssl(*args, cwd):
    proc = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: exit {proc.returncode}\n{proc.stderr}")


def make_ca(directory, name="ca", cn="verdi test CA"):
    """A self-signed CA: DIRECTORY/NAME.pem and NAME.key; returns their paths."""
    d = pathlib.Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    cnf = d / f"{name}.cnf"
    cnf.write_text(_OPENSSL_CNF)
    _openssl("req", "-x509", "-config", str(cnf), "-extensions", "ca_ext", "-newkey", "rsa:2048",
             "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "7",
             "-subj", f"/CN={cn} {secrets.token_hex(4)}", cwd=d)
    cnf.unlink()
    return d / f"{name}.pem", d / f"{name}.key"


def make_cert(directory, name, ca_cert, ca_key, cn, kind, san="DNS:localhost,IP:127.0.0.1"):
    """A certificate signed by the CA, `kind` "server" (for the names `san`)
    or "client": DIRECTORY/NAME.pem and NAME.key; returns their paths."""
    d = pathlib.Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    cnf = d / f"{name}.cnf"
    cnf.write_text(_OPENSSL_CNF.replace("DNS:localhost,IP:127.0.0.1", san))
    _openssl("req", "-new", "-config", str(cnf), "-newkey", "rsa:2048", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}", cwd=d)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", str(ca_cert), "-CAkey", str(ca_key),
             "-set_serial", "0x" + secrets.token_hex(8), "-days", "7", "-extfile", str(cnf),
             "-extensions", f"{kind}_ext", "-out", f"{name}.pem", cwd=d)
    (d / f"{name}.csr").unlink()
    cnf.unlink()
    return d / f"{name}.pem", d / f"{name}.key"


def pid_alive(pid):
    try:
        # A child of this process (a module user's, not the CLI's) that has
        # exited is a zombie until reaped: reap it, or it looks alive.
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass  # not our child
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


class Services:
    def __init__(self, directory, tls=False, require_client_cert=False):
        self.dir = pathlib.Path(directory).resolve()
        self.state_file = self.dir / "services.json"
        self.state = json.loads(self.state_file.read_text()) if self.state_file.exists() else {}
        # A directory started in TLS mode stays so (stop, restart-rabbitmq).
        saved = self.state.get("tls", {})
        self.tls = tls or bool(saved)
        self.require_client_cert = require_client_cert or saved.get("require_client_cert", False)

    # -- TLS ----------------------------------------------------------------
    def _ensure_certs(self):
        if "tls" in self.state:
            return self.state["tls"]
        d = self.dir / "tls"
        ca, ca_key = make_ca(d, "ca", "verdi test CA")
        server, server_key = make_cert(d, "server", ca, ca_key, "localhost", "server")
        client, client_key = make_cert(d, "client", ca, ca_key, "verdi-test-client", "client")
        self.state["tls"] = {
            "dir": str(d), "ca": str(ca), "ca_key": str(ca_key),
            "server_cert": str(server), "server_key": str(server_key),
            "client_cert": str(client), "client_key": str(client_key),
            "client_subject": "CN=verdi-test-client",
            "require_client_cert": self.require_client_cert}
        self._save()
        return self.state["tls"]

    # -- RabbitMQ ---------------------------------------------------------
    def _rabbit_env(self):
        r = self.state["rabbitmq"]
        base = self.dir / "rabbitmq"
        env = dict(os.environ)
        env.update({
            "HOME": str(base),  # the Erlang cookie lives here
            "RABBITMQ_NODENAME": r["nodename"],
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(r["port"]),
            "RABBITMQ_DIST_PORT": str(r["dist_port"]),
            "ERL_EPMD_PORT": str(r["epmd_port"]),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_LOGS": "-",
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(base / "advanced.config"),
            "RABBITMQ_PID_FILE": str(base / "pid"),
            "RABBITMQ_CONF_ENV_FILE": "/dev/null",
        })
        return env

    def start_rabbitmq(self, port=None):
        """Starts RabbitMQ on `port` (default: a free one)."""
        if "rabbitmq" not in self.state:
            free, dist_port, epmd_port, tls_port = free_ports(4)
            port = port or free
            self.state["rabbitmq"] = {
                "port": port, "dist_port": dist_port, "epmd_port": epmd_port,
                "nodename": f"verditest{os.getpid()}@localhost"}
            if self.tls:
                # Unique, should one process start TLS and plain nodes side by side.
                self.state["rabbitmq"]["nodename"] = (
                    f"verditest{os.getpid()}tls{secrets.token_hex(3)}@localhost")
                self.state["rabbitmq"]["tls_port"] = tls_port
        r = self.state["rabbitmq"]
        base = self.dir / "rabbitmq"
        base.mkdir(parents=True, exist_ok=True)
        (base / "enabled_plugins").write_text("[].\n")
        conf = (
            f"listeners.tcp.default = 127.0.0.1:{r['port']}\n"
            "loopback_users = none\n"
            # The tests hold unacked ETA jobs; keep RabbitMQ's ack timeout out of the way.
            "consumer_timeout = 3600000\n")
        if self.tls:
            t = self._ensure_certs()
            conf += (
                f"listeners.ssl.default = 127.0.0.1:{r['tls_port']}\n"
                f"ssl_options.cacertfile = {t['ca']}\n"
                f"ssl_options.certfile = {t['server_cert']}\n"
                f"ssl_options.keyfile = {t['server_key']}\n"
                "ssl_options.verify = verify_peer\n"
                "ssl_options.fail_if_no_peer_cert = "
                f"{'true' if self.require_client_cert else 'false'}\n")
        (base / "rabbitmq.conf").write_text(conf)
        log = base / "server.log"
        log_start = log.stat().st_size if log.exists() else 0
        with open(log, "ab") as out:
            proc = subprocess.Popen([RABBITMQ_SERVER], env=self._rabbit_env(), stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        r["launcher_pid"] = proc.pid
        wait_for_port(r["port"], 60, "RabbitMQ", log)
        self.state["amqp_url"] = f"amqp://guest:guest@127.0.0.1:{r['port']}//"
        if self.tls:
            # The TLS listener starts after the plain one; a bad ssl_options
            # setting only shows in the log.
            wait_for_port(r["tls_port"], 30, "RabbitMQ (TLS)", log)
            self._wait_for_log(log, log_start, f"started TLS (SSL) listener on 127.0.0.1:{r['tls_port']}")
            self.state["amqps_url"] = f"amqps://guest:guest@localhost:{r['tls_port']}//"
        self._save()

    @staticmethod
    def _wait_for_log(log, start, text, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            with open(log, "rb") as f:
                f.seek(start)
                seen = f.read().decode(errors="replace")
            if text in seen:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{log} never said {text!r}:\n{seen[-3000:]}")
            time.sleep(0.1)

    def rabbitmqctl(self, *args, timeout=60):
        """Runs `rabbitmqctl -q ARGS` against this node; returns its output."""
        proc = subprocess.run([RABBITMQCTL, "-q", *args], env=self._rabbit_env(),
                              capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)}: exit {proc.returncode}\n"
                               f"{proc.stdout}{proc.stderr}")
        return proc.stdout

    def stop_rabbitmq(self):
        r = self.state.get("rabbitmq")
        if not r:
            return
        pid_file = self.dir / "rabbitmq" / "pid"
        pids = [r.get("launcher_pid")]
        if pid_file.exists() and pid_file.read_text().strip().isdigit():
            pids.append(int(pid_file.read_text().strip()))
        for pid in pids:
            if pid and pid_alive(pid):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(p and pid_alive(p) for p in pids):
            time.sleep(0.1)
        for pid in pids:
            if pid and pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        subprocess.run([EPMD, "-port", str(r["epmd_port"]), "-kill"], capture_output=True,
                       env=self._rabbit_env())
        if pid_file.exists():
            pid_file.unlink()

    # -- Redis --------------------------------------------------------------
    def start_redis(self, port=None):
        """Starts Redis on `port` (default: a free one)."""
        free, tls_port = free_ports(2)
        port = port or free
        base = self.dir / "redis"
        base.mkdir(parents=True, exist_ok=True)
        log = base / "server.log"
        args = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(base),
                "--save", "", "--appendonly", "no", "--logfile", str(log), "--daemonize", "no"]
        if self.tls:
            t = self._ensure_certs()
            args += ["--tls-port", str(tls_port), "--tls-cert-file", t["server_cert"],
                     "--tls-key-file", t["server_key"], "--tls-ca-cert-file", t["ca"],
                     "--tls-auth-clients", "yes" if self.require_client_cert else "optional"]
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        self.state["redis"] = {"port": port, "pid": proc.pid}
        wait_for_port(port, 20, "Redis", log)
        self.state["redis_url"] = f"redis://127.0.0.1:{port}/0"
        if self.tls:
            self.state["redis"]["tls_port"] = tls_port
            wait_for_port(tls_port, 20, "Redis (TLS)", log)
            self.state["rediss_url"] = f"rediss://127.0.0.1:{tls_port}/0"
        self._save()

    def stop_redis(self):
        r = self.state.get("redis")
        if r and pid_alive(r["pid"]):
            os.kill(r["pid"], signal.SIGTERM)

    def wait_redis_stopped(self, timeout=20):
        """Waits until the Redis process of this directory has exited."""
        r = self.state.get("redis")
        deadline = time.monotonic() + timeout
        while r and pid_alive(r["pid"]):
            if time.monotonic() > deadline:
                raise RuntimeError(f"Redis (pid {r['pid']}) did not exit within {timeout}s")
            time.sleep(0.05)

    def restart_redis(self):
        """Stops Redis (if it runs) and starts it again on the SAME port(s), in
        the same --dir: a dump.rdb there (e.g. from `SHUTDOWN SAVE`) is loaded."""
        r = self.state["redis"]
        self.stop_redis()
        self.wait_redis_stopped()
        port = r["port"]
        base = self.dir / "redis"
        log = base / "server.log"
        args = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(base),
                "--save", "", "--appendonly", "no", "--logfile", str(log), "--daemonize", "no"]
        if self.tls:
            t = self._ensure_certs()
            args += ["--tls-port", str(r["tls_port"]), "--tls-cert-file", t["server_cert"],
                     "--tls-key-file", t["server_key"], "--tls-ca-cert-file", t["ca"],
                     "--tls-auth-clients", "yes" if self.require_client_cert else "optional"]
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        r["pid"] = proc.pid
        wait_for_port(port, 20, "Redis", log)
        if self.tls:
            wait_for_port(r["tls_port"], 20, "Redis (TLS)", log)
        self._save()

    # -- both ---------------------------------------------------------------
    def start(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        self.start_redis()
        self.start_rabbitmq()
        return self

    def stop(self):
        self.stop_rabbitmq()
        self.stop_redis()

    def _save(self):
        self.state_file.write_text(json.dumps(self.state, indent=2))


def main(argv):
    tls = len(argv) == 4 and argv[1] == "start" and argv[2] == "--tls"
    if tls:
        argv = argv[:2] + argv[3:]
    if len(argv) != 3 or argv[1] not in ("start", "stop", "restart-rabbitmq"):
        print(__doc__, file=sys.stderr)
        return 2
    services = Services(argv[2])
    if argv[1] == "start":
        services.stop()  # leftovers of an interrupted run in the same directory
        shutil.rmtree(services.dir, ignore_errors=True)
        services = Services(argv[2], tls=tls).start()
        print(f"services: {services.state['amqp_url']} {services.state['redis_url']}")
        if tls:
            print(f"services: {services.state['amqps_url']} {services.state['rediss_url']} "
                  f"CA {services.state['tls']['ca']}")
    elif argv[1] == "stop":
        services.stop()
    else:
        services.stop_rabbitmq()
        services.start_rabbitmq()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
