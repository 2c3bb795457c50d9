#!/usr/bin/python3
"""Localize benchmark: verdi's input downloads against the curl CLI,
side by side in one run, on a loopback nginx (Python's http.server when nginx
is missing).

  (a) one 1 GiB file: verdi's rate vs `curl -o` (goal: >= 0.95x)
  (b) 1,000 files of 10 KiB: verdi's parallel localize vs a sequential loop of
      curl calls, the way HySDS fetches them one by one (goal: >= 5x faster)
  (c) a cache hit for the same 1,000 files (goal: under 0.5 s), next to the
      file system's floor: the time of 1,000 bare symlink calls in one dir

verdi runs `verdi run_job` on a job whose localize_urls are the files and
whose command is /bin/true; its times come from the job's
metrics.inputs_localized (first time_start to last time_end). Each figure is
the median of --runs runs (default 3). Not a test: it prints figures and
never fails on speed.

usage: bench/localize.py [--verdi build/verdi/verdi] [--runs 3] [--big-mib 1024]
                         [--small 1000] [--json OUT]
"""

import argparse
import datetime
import json
import os
import pathlib
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(root, tmp):
    port = free_port()
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if nginx:
        conf = tmp / "nginx.conf"
        conf.write_text(f"""
worker_processes 2;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx.err;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  server {{
    listen 127.0.0.1:{port};
    root {root};
  }}
}}
""")
        proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(tmp)], stderr=subprocess.DEVNULL)
        kind = "nginx"
    else:
        proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                                 "--directory", str(root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        kind = "python http.server"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}", kind
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the benchmark HTTP server did not start")


def parse_time(t):
    return datetime.datetime.strptime(t.rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f")


def run_verdi(verdi, root, urls, cache, tmp):
    """Runs a job localizing `urls`; returns (seconds, bytes) of its localization."""
    job_id = "bench-localize-" + str(time.time_ns())
    job = {"job_id": job_id, "type": "job-bench:localize", "context": {},
           "localize_urls": [{"url": u, "cache": cache} for u in urls],
           "params": {"_command": "/bin/true"}, "job_info": {"id": job_id}}
    job_file = tmp / "job.json"
    job_file.write_text(json.dumps(job))
    env = dict(os.environ, VERDI_LOCALIZE_PROGRESS_INTERVAL="0")
    proc = subprocess.run([verdi, "run_job", "--root-work-dir", str(root), str(job_file)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"verdi run_job failed:\n{proc.stderr[-3000:]}")
    job_json = next(root.glob(f"jobs/*/*/*/*/*/{job_id}/_job.json"))
    loc = json.loads(job_json.read_text())["job_info"]["metrics"]["inputs_localized"]
    start = min(parse_time(e["time_start"]) for e in loc)
    end = max(parse_time(e["time_end"]) for e in loc)
    shutil.rmtree(job_json.parent)
    return (end - start).total_seconds(), sum(e["disk_usage"] for e in loc)


def curl_one(url, out):
    """curl's own rate for one download (bytes/s)."""
    proc = subprocess.run(["curl", "-sS", "--fail", "-o", str(out), "-w", "%{speed_download} %{size_download}", url],
                          capture_output=True, text=True, check=True)
    speed, size = proc.stdout.split()
    return float(speed), int(size)


def symlink_floor(where, n):
    """What n symlinks cost on this file system alone: a cache hit's floor."""
    d = where / "symlink_floor"
    d.mkdir()
    t0 = time.perf_counter()
    for i in range(n):
        os.symlink(f"/nonexistent/f{i}", d / f"l{i}")
    secs = time.perf_counter() - t0
    shutil.rmtree(d)
    return secs


def curl_loop(urls, out_dir):
    """A sequential loop of curl calls, one process per file (HySDS's way)."""
    t0 = time.perf_counter()
    for i, u in enumerate(urls):
        subprocess.run(["curl", "-sS", "--fail", "-o", str(out_dir / f"f{i}"), u], check=True)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--verdi", default=os.environ.get("VERDI_BIN", str(REPO / "build" / "verdi" / "verdi")))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--big-mib", type=int, default=1024)
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    if not shutil.which("curl"):
        sys.exit("bench/localize.py: the curl CLI is needed")
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="verdi_bench_localize_"))
    tmp.chmod(0o755)  # nginx's workers run as another user
    try:
        data = tmp / "data"
        (data / "small").mkdir(parents=True)
        with open(data / "big.bin", "wb") as f:
            chunk = os.urandom(1 << 20)
            for _ in range(args.big_mib):
                f.write(chunk)
        for i in range(args.small):
            (data / "small" / f"f{i:04d}.dat").write_bytes(os.urandom(10 * 1024))
        server, base, kind = start_server(data, tmp)
        try:
            big_url = f"{base}/big.bin"
            small_urls = [f"{base}/small/f{i:04d}.dat" for i in range(args.small)]
            rows = {"big_verdi": [], "big_curl": [], "small_verdi": [], "small_curl": [], "hit_verdi": [],
                    "hit_floor": []}
            for run in range(args.runs):
                root = tmp / f"root{run}"
                speed, size = curl_one(big_url, tmp / "curl_big.bin")
                (tmp / "curl_big.bin").unlink()
                rows["big_curl"].append(speed)
                secs, nbytes = run_verdi(args.verdi, root, [big_url], False, tmp)
                rows["big_verdi"].append(nbytes / secs)
                out = tmp / "curl_small"
                out.mkdir()
                rows["small_curl"].append(curl_loop(small_urls, out))
                shutil.rmtree(out)
                secs, _ = run_verdi(args.verdi, root, small_urls, False, tmp)
                rows["small_verdi"].append(secs)
                run_verdi(args.verdi, root, small_urls, True, tmp)  # fills the cache
                secs, _ = run_verdi(args.verdi, root, small_urls, True, tmp)
                rows["hit_verdi"].append(secs)
                rows["hit_floor"].append(symlink_floor(tmp, args.small))
                shutil.rmtree(root)
        finally:
            server.terminate()
            server.wait()
        med = {k: statistics.median(v) for k, v in rows.items()}
        mib = 1 << 20
        print(f"localize benchmark: loopback {kind}, median of {args.runs} runs")
        print(f"| case | verdi | curl CLI | ratio | goal |")
        print(f"|---|---|---|---|---|")
        print(f"| (a) one {args.big_mib} MiB file | {med['big_verdi'] / mib:.0f} MiB/s | "
              f"{med['big_curl'] / mib:.0f} MiB/s | {med['big_verdi'] / med['big_curl']:.2f}x | >= 0.95x |")
        print(f"| (b) {args.small} files of 10 KiB | {med['small_verdi']:.2f} s | "
              f"{med['small_curl']:.2f} s (sequential) | {med['small_curl'] / med['small_verdi']:.1f}x faster | >= 5x |")
        print(f"| (c) cache hit, {args.small} files | {med['hit_verdi']:.3f} s | "
              f"{med['hit_floor']:.3f} s (just {args.small} os.symlink calls here) | "
              f"{med['hit_verdi'] / med['hit_floor']:.2f}x the floor | < 0.5 s |")
        if args.json:
            pathlib.Path(args.json).write_text(json.dumps({"runs": rows, "median": med, "server": kind}, indent=2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
