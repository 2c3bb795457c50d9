#!/usr/bin/python3
"""An S3-compatible server for the tests: s3rver (npm, pinned in
tests/s3/package-lock.json) behind tests/s3/server.js, which checks AWS
Signature V4 as S3 does (s3rver 3.7 alone accepts any V4 signature).

Buckets: "pub" takes unsigned reads and writes too, "priv" only signed
requests. Keys: ACCESS_KEY/SECRET is a temporary one (its requests must carry
the session token TOKEN), PLAIN_KEY/PLAIN_SECRET a long-term one (no token).
Region REGION, or another one given (GCS's XML API signs with "auto": the
gs:// tests use this server so).

As a module:
    s3 = S3Server(tmp_dir, tls=False, region=REGION).start()
    s3.endpoint            # "127.0.0.1:PORT"
    s3.put("priv", "dir/a.txt", b"data")     # signed
    s3.get("priv", "dir/a.txt") -> (status, body)
    s3.log_lines()         # "METHOD URL signed|anonymous|denied CODE"
    s3.env()               # AWS_* variables for a client
    s3.stop()
As a command (for the C++ tests):
    s3_server.py PORT_FILE [--tls CA_FILE] [--seed DIR] [--region R]
uploads DIR/<bucket>/<key> files, writes the port to PORT_FILE (and with
--tls the CA certificate to CA_FILE), serves until SIGTERM.

The node modules are installed on first use with `npm ci` into
tests/s3/node_modules (under a lock, so parallel tests install once).
"""

import datetime
import fcntl
import hashlib
import hmac
import http.client
import os
import pathlib
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.parse

HERE = pathlib.Path(__file__).resolve().parent
PKG = HERE / "s3"
ACCESS_KEY = "VERDITESTKEY"
SECRET = "verdi-test-secret-7f3a"
TOKEN = "verdi-test-session-token"
PLAIN_KEY = "VERDIPLAINKEY"
PLAIN_SECRET = "verdi-plain-secret-51c0"
REGION = "us-east-1"
BUCKETS = {"pub": "public", "priv": "private"}


def ensure_modules():
    """`npm ci` into tests/s3/node_modules unless it is there already."""
    if (PKG / "node_modules" / "s3rver" / "package.json").exists():
        return
    npm = shutil.which("npm")
    if not npm or not shutil.which("node"):
        raise RuntimeError("s3 test server: node and npm are needed (scripts/install-deps installs them)")
    with open(PKG / ".npm-ci.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (PKG / "node_modules" / "s3rver" / "package.json").exists():
            return
        proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PKG,
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"s3 test server: npm ci failed:\n{proc.stdout}\n{proc.stderr}")


def _sign(method, host, path, query, headers, payload_hash, access_key, secret, region, token):
    """Adds SigV4 headers (x-amz-date, x-amz-content-sha256, token, Authorization)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    headers = dict(headers)
    headers["host"] = host
    headers["x-amz-date"] = amz_date
    headers["x-amz-content-sha256"] = payload_hash
    if token:
        headers["x-amz-security-token"] = token
    names = sorted(k.lower() for k in headers)
    lower = {k.lower(): str(v).strip() for k, v in headers.items()}
    pairs = sorted(urllib.parse.parse_qsl(query, keep_blank_values=True))
    canonical_query = "&".join(urllib.parse.quote(k, safe="-_.~") + "=" + urllib.parse.quote(v, safe="-_.~")
                               for k, v in pairs)
    canonical = "\n".join([method, path, canonical_query,
                           "".join(f"{n}:{lower[n]}\n" for n in names), ";".join(names), payload_hash])
    scope = f"{date}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (date, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
                                f"SignedHeaders={';'.join(names)}, Signature={sig}")
    del headers["host"]
    return headers


class S3Server:
    def __init__(self, directory, tls=False, region=REGION):
        self.dir = pathlib.Path(directory)
        self.tls = tls
        self.region = region
        self.proc = None
        self.port = None
        self.ca = None

    @property
    def endpoint(self):
        return f"127.0.0.1:{self.port}"

    def url(self, bucket, key="", scheme=None):
        scheme = scheme or ("s3s" if self.tls else "s3")
        return f"{scheme}://{self.endpoint}/{bucket}/{key}"

    def env(self, token=True):
        env = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_REGION": self.region}
        if token:
            env["AWS_SESSION_TOKEN"] = TOKEN
        return env

    def start(self):
        ensure_modules()
        self.dir.mkdir(parents=True, exist_ok=True)
        port_file = self.dir / "port"
        # s3rver's continuation tokens use DES: OpenSSL 3's legacy provider.
        args = ["node", "--openssl-legacy-provider", str(PKG / "server.js"), "--dir", str(self.dir / "data"),
                "--port-file", str(port_file), "--key", f"{ACCESS_KEY}:{SECRET}:{TOKEN}",
                "--key", f"{PLAIN_KEY}:{PLAIN_SECRET}", "--region", self.region,
                "--log", str(self.dir / "requests.log")]
        for name, kind in BUCKETS.items():
            args += ["--" + kind, name]
        if self.tls:
            sys.path.insert(0, str(HERE))
            from services import make_ca, make_cert
            ca, ca_key = make_ca(self.dir / "tls", cn="verdi s3 test CA")
            cert, key = make_cert(self.dir / "tls", "server", ca, ca_key, "localhost", "server")
            self.ca = ca
            args += ["--tls-key", str(key), "--tls-cert", str(cert)]
        self.stderr = open(self.dir / "server.err", "w")
        self.proc = subprocess.Popen(args, stdout=self.stderr, stderr=self.stderr)
        deadline = time.time() + 30
        while not port_file.exists():
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("s3 test server did not start: " + (self.dir / "server.err").read_text())
            time.sleep(0.05)
        self.port = int(port_file.read_text())
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def request(self, method, bucket, key="", body=b"", query="", signed=True, secret=SECRET, token=TOKEN):
        path = "/" + urllib.parse.quote(bucket) + "/" + urllib.parse.quote(key, safe="/-_.~")
        headers = {"Content-Length": str(len(body))}
        if signed:
            headers = _sign(method, self.endpoint, path, query, headers, hashlib.sha256(body).hexdigest(),
                            ACCESS_KEY, secret, self.region, token)
        if self.tls:
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30,
                                               context=ssl.create_default_context(cafile=str(self.ca)))
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request(method, path + ("?" + query if query else ""), body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, data

    def put(self, bucket, key, data):
        status, body = self.request("PUT", bucket, key, body=data)
        if status != 200:
            raise RuntimeError(f"PUT {bucket}/{key}: {status} {body!r}")

    def get(self, bucket, key, **kw):
        return self.request("GET", bucket, key, **kw)

    def log_lines(self):
        log = self.dir / "requests.log"
        return log.read_text().splitlines() if log.exists() else []


def main(argv):
    port_file = pathlib.Path(argv[0])
    tls_ca = argv[argv.index("--tls") + 1] if "--tls" in argv else None
    seed = pathlib.Path(argv[argv.index("--seed") + 1]) if "--seed" in argv else None
    region = argv[argv.index("--region") + 1] if "--region" in argv else REGION
    server = S3Server(port_file.parent / "s3server", tls=tls_ca is not None, region=region).start()
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    if seed:
        for f in sorted(seed.rglob("*")):
            if f.is_file():
                bucket, key = f.relative_to(seed).as_posix().split("/", 1)
                server.put(bucket, key, f.read_bytes())
    if tls_ca:
        shutil.copy(server.ca, tls_ca)
    tmp = port_file.with_suffix(".tmp")
    tmp.write_text(str(server.port))
    os.rename(tmp, port_file)
    while not stopping and server.proc.poll() is None:
        time.sleep(0.1)
    server.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
