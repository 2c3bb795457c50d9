#!/usr/bin/python3
"""Private RabbitMQ and Redis servers for the tests, on free loopback ports,
with all their state in one directory. Nothing here touches a system service.

As a command (ctest starts them once for the whole run, see tests/CMakeLists.txt):

    tests/services.py start DIR     # start both, write DIR/services.json, return
    tests/services.py stop DIR      # stop both, remove nothing
    tests/services.py restart-rabbitmq DIR

As a module: `Services(dir).start()`; `services.json` holds
{"amqp_url", "redis_url", "rabbitmq": {...}, "redis": {...}}.
"""

import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time

RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
REDIS_SERVER = "/usr/bin/redis-server"
EPMD = "/usr/bin/epmd"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


class Services:
    def __init__(self, directory):
        self.dir = pathlib.Path(directory).resolve()
        self.state_file = self.dir / "services.json"
        self.state = json.loads(self.state_file.read_text()) if self.state_file.exists() else {}

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

    def start_rabbitmq(self):
        if "rabbitmq" not in self.state:
            self.state["rabbitmq"] = {
                "port": free_port(), "dist_port": free_port(), "epmd_port": free_port(),
                "nodename": f"verditest{os.getpid()}@localhost"}
        r = self.state["rabbitmq"]
        base = self.dir / "rabbitmq"
        base.mkdir(parents=True, exist_ok=True)
        (base / "enabled_plugins").write_text("[].\n")
        (base / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{r['port']}\n"
            "loopback_users = none\n"
            # The tests hold unacked ETA jobs; keep RabbitMQ's ack timeout out of the way.
            "consumer_timeout = 3600000\n")
        log = base / "server.log"
        with open(log, "ab") as out:
            proc = subprocess.Popen([RABBITMQ_SERVER], env=self._rabbit_env(), stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        r["launcher_pid"] = proc.pid
        wait_for_port(r["port"], 60, "RabbitMQ", log)
        self.state["amqp_url"] = f"amqp://guest:guest@127.0.0.1:{r['port']}//"
        self._save()

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
    def start_redis(self):
        port = free_port()
        base = self.dir / "redis"
        base.mkdir(parents=True, exist_ok=True)
        log = base / "server.log"
        proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(base),
             "--save", "", "--appendonly", "no", "--logfile", str(log), "--daemonize", "no"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        self.state["redis"] = {"port": port, "pid": proc.pid}
        wait_for_port(port, 20, "Redis", log)
        self.state["redis_url"] = f"redis://127.0.0.1:{port}/0"
        self._save()

    def stop_redis(self):
        r = self.state.get("redis")
        if r and pid_alive(r["pid"]):
            os.kill(r["pid"], signal.SIGTERM)

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
    if len(argv) != 3 or argv[1] not in ("start", "stop", "restart-rabbitmq"):
        print(__doc__, file=sys.stderr)
        return 2
    services = Services(argv[2])
    if argv[1] == "start":
        services.stop()  # leftovers of an interrupted run in the same directory
        shutil.rmtree(services.dir, ignore_errors=True)
        services = Services(argv[2]).start()
        print(f"services: {services.state['amqp_url']} {services.state['redis_url']}")
    elif argv[1] == "stop":
        services.stop()
    else:
        services.stop_rabbitmq()
        services.start_rabbitmq()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
