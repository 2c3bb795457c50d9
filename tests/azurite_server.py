#!/usr/bin/python3
"""Azurite, Azure Storage's emulator (npm, pinned in
tests/azurite/package-lock.json), for the azure:// tests: its Blob service
on a free loopback port, its state in a temporary directory.

Its well-known development account is ACCOUNT with the key KEY. Requests
name the account in their path (http://127.0.0.1:PORT/ACCOUNT/container/
blob); containers are private: a request needs a Shared Key signature or a
SAS token.

As a module:
    az = AzuriteServer(tmp_dir).start()
    az.endpoint          # "127.0.0.1:PORT"
    az.blob_endpoint     # "http://127.0.0.1:PORT/devstoreaccount1"
    az.put("cont", "dir/a.txt", b"data")   # Shared Key signed; makes the container
    az.get("cont", "dir/a.txt") -> (status, body)
    az.sas()             # an account SAS token (read, list) for blobs
    az.stop()
As a command (for the C++ tests):
    azurite_server.py PORT_FILE [--seed DIR]
uploads DIR/<container>/<blob> files, writes a SAS token to PORT_FILE.sas,
then the port to PORT_FILE, serves until SIGTERM.

The node modules are installed on first use with `npm ci` into
tests/azurite/node_modules (under a lock, so parallel tests install once).
"""

import base64
import datetime
import email.utils
import fcntl
import hashlib
import hmac
import http.client
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse

HERE = pathlib.Path(__file__).resolve().parent
PKG = HERE / "azurite"
MAIN = PKG / "node_modules" / "azurite" / "dist" / "src" / "blob" / "main.js"
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
VERSION = "2021-08-06"


def ensure_modules():
    """`npm ci` into tests/azurite/node_modules unless it is there already."""
    if MAIN.exists():
        return
    npm = shutil.which("npm")
    if not npm or not shutil.which("node"):
        raise RuntimeError("azurite: node and npm are needed (scripts/install-deps installs them)")
    with open(PKG / ".npm-ci.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if MAIN.exists():
            return
        proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PKG,
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"azurite: npm ci failed:\n{proc.stdout}\n{proc.stderr}")


def _hmac(key, text):
    return base64.b64encode(hmac.new(base64.b64decode(key), text.encode(), hashlib.sha256).digest()).decode()


def shared_key(method, path, query, headers, key=KEY):
    """The Authorization header of a request (Shared Key, Blob service)."""
    lower = {k.lower(): str(v) for k, v in headers.items()}
    length = lower.get("content-length", "")
    standard = [lower.get(n, "") for n in ("content-encoding", "content-language")]
    standard += ["" if length == "0" else length]
    standard += [lower.get(n, "") for n in ("content-md5", "content-type", "date", "if-modified-since",
                                            "if-match", "if-none-match", "if-unmodified-since", "range")]
    canonical_headers = "".join(f"{n}:{lower[n]}\n" for n in sorted(lower) if n.startswith("x-ms-"))
    resource = f"/{ACCOUNT}{path}"
    params = {}
    for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True):
        params.setdefault(k.lower(), []).append(v)
    for k in sorted(params):
        resource += f"\n{k}:{','.join(sorted(params[k]))}"
    to_sign = method + "\n" + "\n".join(standard) + "\n" + canonical_headers + resource
    return f"SharedKey {ACCOUNT}:{_hmac(key, to_sign)}"


def account_sas(permissions="rl", version=VERSION, key=KEY):
    """An account SAS token for the Blob service (services b, resource types
    service, container and object), valid until 2099."""
    expiry = "2099-01-01T00:00:00Z"
    # Versions 2020-12-06 and later sign an (empty) encryption scope too.
    to_sign = "\n".join([ACCOUNT, permissions, "b", "sco", "", expiry, "", "", version, "", ""])
    sig = _hmac(key, to_sign)
    return urllib.parse.urlencode({"sv": version, "ss": "b", "srt": "sco", "sp": permissions,
                                   "se": expiry, "sig": sig})


class AzuriteServer:
    def __init__(self, directory):
        self.dir = pathlib.Path(directory)
        self.proc = None
        self.port = None
        self.containers = set()

    @property
    def endpoint(self):
        return f"127.0.0.1:{self.port}"

    @property
    def blob_endpoint(self):
        return f"http://{self.endpoint}/{ACCOUNT}"

    def sas(self, permissions="rl"):
        return account_sas(permissions)

    def start(self):
        ensure_modules()
        self.dir.mkdir(parents=True, exist_ok=True)
        out = self.dir / "azurite.out"
        self.log = open(out, "w")
        self.proc = subprocess.Popen(
            ["node", str(MAIN), "--blobHost", "127.0.0.1", "--blobPort", "0", "--location",
             str(self.dir / "data"), "--loose"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while self.port is None:
            for line in out.read_text().splitlines():
                if "successfully listens on http://" in line:
                    self.port = int(line.rsplit(":", 1)[1].strip().rstrip("/"))
            if self.port is None and (self.proc.poll() is not None or time.time() > deadline):
                raise RuntimeError("azurite did not start: " + out.read_text())
            time.sleep(0.05)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.log.close()

    def request(self, method, path, query="", body=b"", headers=None, key=KEY):
        """A Shared Key signed request; path starts with "/<container>"."""
        full = f"/{ACCOUNT}{path}"
        h = {"x-ms-date": email.utils.formatdate(usegmt=True), "x-ms-version": VERSION,
             "Content-Length": str(len(body))}
        h.update(headers or {})
        h["Authorization"] = shared_key(method, full, query, h, key)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request(method, full + ("?" + query if query else ""), body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, data

    def put(self, container, blob, data):
        if container not in self.containers:
            status, body = self.request("PUT", f"/{container}", "restype=container")
            if status not in (201, 409):
                raise RuntimeError(f"creating container {container}: {status} {body!r}")
            self.containers.add(container)
        status, body = self.request("PUT", f"/{container}/{urllib.parse.quote(blob)}", body=data,
                                    headers={"x-ms-blob-type": "BlockBlob"})
        if status != 201:
            raise RuntimeError(f"PUT {container}/{blob}: {status} {body!r}")

    def get(self, container, blob, **kw):
        return self.request("GET", f"/{container}/{urllib.parse.quote(blob)}", **kw)


def main(argv):
    port_file = pathlib.Path(argv[0])
    seed = pathlib.Path(argv[argv.index("--seed") + 1]) if "--seed" in argv else None
    server = AzuriteServer(port_file.parent / "azurite").start()
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    if seed:
        for f in sorted(seed.rglob("*")):
            if f.is_file():
                container, blob = f.relative_to(seed).as_posix().split("/", 1)
                server.put(container, blob, f.read_bytes())
    pathlib.Path(str(port_file) + ".sas").write_text(server.sas())
    tmp = port_file.with_suffix(".tmp")
    tmp.write_text(str(server.port))
    os.rename(tmp, port_file)
    while not stopping and server.proc.poll() is None:
        time.sleep(0.1)
    server.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
