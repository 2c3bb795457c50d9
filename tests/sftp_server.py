#!/usr/bin/python3
"""A real SFTP server for the localize tests: Debian's OpenSSH sshd on a free
loopback port, with its own host key, client key and authorized_keys, all in
a temp dir (no system sshd or ~/.ssh is touched).

Usage: sftp_server.py PORT_FILE
Writes, next to PORT_FILE: ssh/client_key (the key to log in with, as the
current user), ssh/known_hosts (the server's host key for [127.0.0.1]:PORT)
and ssh/sshd.log; then the port to PORT_FILE; serves until SIGTERM.
Files are served by absolute path: sftp://USER@127.0.0.1:PORT/abs/path.
"""
import getpass
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

SSHD = "/usr/sbin/sshd"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path, comment):
    # PEM ECDSA keys: what libcurl's libssh2 (1.10) reads and OpenSSH 9 still takes
    # (it refuses ssh-rsa with SHA-1).
    subprocess.run(["ssh-keygen", "-q", "-t", "ecdsa", "-b", "256", "-m", "PEM", "-N", "", "-C", comment,
                    "-f", str(path)], check=True)


def main():
    port_file = pathlib.Path(sys.argv[1])
    if not os.path.exists(SSHD):
        sys.exit("sftp_server.py: " + SSHD + " is missing (Debian's openssh-server)")
    d = port_file.parent / "ssh"
    d.mkdir(parents=True, exist_ok=True)
    keygen(d / "host_key", "verdi test host")
    keygen(d / "client_key", "verdi test client")
    (d / "authorized_keys").write_text((d / "client_key.pub").read_text())
    port = free_port()
    host_pub = (d / "host_key.pub").read_text().split()
    (d / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")
    config = d / "sshd_config"
    config.write_text(f"""Port {port}
ListenAddress 127.0.0.1
HostKey {d / 'host_key'}
PidFile {d / 'sshd.pid'}
AuthorizedKeysFile {d / 'authorized_keys'}
AllowUsers {getpass.getuser()}
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
LogLevel VERBOSE
""")
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation dir
    log = open(d / "sshd.log", "w")
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=log)
    deadline = time.time() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                sys.exit("sshd did not start: " + (d / "sshd.log").read_text())
            time.sleep(0.05)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    tmp = port_file.with_suffix(".tmp")
    tmp.write_text(str(port))
    os.rename(tmp, port_file)
    while not stopping and proc.poll() is None:
        time.sleep(0.1)
    proc.terminate()
    proc.wait(timeout=10)


if __name__ == "__main__":
    main()
