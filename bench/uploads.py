#!/usr/bin/python3
"""Upload benchmark: verdi publishing a product against the curl CLI, side by
side in one run, to WebDAV (a loopback nginx, tests/nginx_server.py) and to S3
(the test S3 server, tests/s3_server.py, which checks SigV4).

  (a) one large file (default 1 GiB): verdi's rate vs `curl -T` of the same
      file to the same server (goal: >= 0.95x)
  (b) a product of 1,000 files of 10 KiB: verdi vs a sequential loop of
      `curl -T` calls, one file each (goal: >= 5x faster); also one
      `curl --parallel` putting them 8 at once: what the server takes

verdi runs `verdi run_job` on a job whose command copies the prepared files
into its work dir as one product, with a datasets.json rule that publishes it
to the server; its time is the product's entry in the job's
metrics.products_staged (time_start to time_end: every file of the product,
its metadata files included). Each figure is the median of --runs runs.
Not a test: it prints figures and never fails on speed.

usage: bench/uploads.py [--verdi build/verdi/verdi] [--runs 3] [--big-mib 1024]
                        [--small 1000] [--json OUT]
bench/run runs it as its workload 9.
"""

import argparse
import datetime
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
SMALL_KIB = 10


def log(msg):
    print(f"[uploads {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def seconds_between(a, b):
    def parse(t):
        return datetime.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()
    return parse(b) - parse(a)


def make_sources(base, big_mib, small):
    """base/big/data.bin (big_mib MiB) and base/small/f0000.dat... (10 KiB each)."""
    big = base / "big"
    big.mkdir(parents=True)
    chunk = os.urandom(1 << 20)
    with open(big / "data.bin", "wb") as f:
        for _ in range(big_mib):
            f.write(chunk)
    many = base / "small"
    many.mkdir()
    for i in range(small):
        (many / f"f{i:04d}.dat").write_bytes(os.urandom(SMALL_KIB << 10))
    return big, many


def verdi_publish(verdi, work, source, product_id, location, env):
    """Seconds verdi spent publishing `source`'s files as product `product_id`."""
    cfg = work / "datasets.json"
    cfg.write_text(json.dumps({"datasets": [{
        "ipath": "hysds::data/bench", "version": "v1", "level": "l0", "type": "bench",
        "match_pattern": r"/(?P<id>BENCH_\w+)$", "alt_match_pattern": None,
        "publish": {"location": location, "urls": [location]}}]}))
    dataset = work / "dataset.json"
    dataset.write_text('{"version": "v1"}')
    command = (f"sh -c 'mkdir {product_id} && cp {source}/* {product_id}/ && "
               f"cp {dataset} {product_id}/{product_id}.dataset.json'")
    job = {"job_id": product_id, "type": "job-bench:latest", "context": {}, "localize_urls": [],
           "params": {"_command": command}, "job_info": {"id": product_id}}
    path = work / f"{product_id}.json"
    path.write_text(json.dumps(job))
    root = work / "root"
    proc = subprocess.run([str(verdi), "run_job", "--root-work-dir", str(root), str(path)],
                          env=dict(os.environ, HYSDS_DATASETS_CFG=str(cfg), **env),
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"verdi run_job {product_id}: {proc.stderr[-2000:]}")
    done = next(root.glob(f"jobs/*/*/*/*/*/{product_id}/_job.json"))
    staged = json.loads(done.read_text())["job_info"]["metrics"]["products_staged"]
    shutil.rmtree(done.parent)
    return seconds_between(staged[0]["time_start"], staged[0]["time_end"])


def curl_put(args, path, url):
    subprocess.run(["curl", "-sS", "-f", "-o", "/dev/null", *args, "-T", str(path), url],
                   check=True)


def curl_parallel(args, files, url_of, config):
    """One curl process putting every file, 8 at once (--parallel): what the
    server takes when the client is not what limits it."""
    with open(config, "w") as f:
        for path in files:
            f.write(f'upload-file = "{path}"\nurl = "{url_of(path.name)}"\noutput = "/dev/null"\n')
    subprocess.run(["curl", "-sS", "--no-progress-meter", "-f", "--parallel", "--parallel-max", "8",
                    *args, "--config",
                    str(config)], check=True)


def run(verdi, out, runs=3, big_mib=1024, small=1000):
    """Figures of both targets (medians of `runs`), as a dict."""
    from nginx_server import NginxServer
    from s3_server import S3Server, PLAIN_KEY, PLAIN_SECRET, REGION
    out = pathlib.Path(out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    big, many = make_sources(out / "src", big_mib, small)
    nginx = NginxServer(out / "nginx").__enter__()
    s3 = S3Server(out / "s3").start()
    figures = {"big_mib": big_mib, "small": small, "small_kib": SMALL_KIB}
    try:
        targets = {
            "webdav": (lambda key: f"{nginx.url}/{key}", [], {},
                       lambda: shutil.rmtree(nginx.root, ignore_errors=True)),
            "s3": (lambda key: f"s3://{s3.endpoint}/priv/{key}",
                   ["--aws-sigv4", f"aws:amz:{REGION}:s3", "--user", f"{PLAIN_KEY}:{PLAIN_SECRET}",
                    "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"],
                   {"AWS_ACCESS_KEY_ID": PLAIN_KEY, "AWS_SECRET_ACCESS_KEY": PLAIN_SECRET,
                    "AWS_REGION": REGION}, None)}
        for name, (location, curl_args, env, clear) in targets.items():
            raw = {"verdi_big": [], "curl_big": [], "verdi_small": [], "curl_small": [],
                   "curl_parallel_small": []}
            http = (lambda key: f"http://{s3.endpoint}/priv/{key}") if name == "s3" else location
            for r in range(runs):
                work = out / f"work-{name}-{r}"
                work.mkdir()
                t0 = time.monotonic()
                curl_put(curl_args, big / "data.bin", http(f"curl/{r}/big/data.bin"))
                raw["curl_big"].append(time.monotonic() - t0)
                raw["verdi_big"].append(verdi_publish(verdi, work, big, f"BENCH_big{r}",
                                                      location("verdi/{id}"), env))
                t0 = time.monotonic()
                for f in sorted(many.iterdir()):
                    curl_put(curl_args, f, http(f"curl/{r}/small/{f.name}"))
                raw["curl_small"].append(time.monotonic() - t0)
                t0 = time.monotonic()
                curl_parallel(curl_args, sorted(many.iterdir()),
                              lambda n: http(f"curl/{r}/parallel/{n}"), out / "curl.cfg")
                raw["curl_parallel_small"].append(time.monotonic() - t0)
                raw["verdi_small"].append(verdi_publish(verdi, work, many, f"BENCH_small{r}",
                                                        location("verdi/{id}"), env))
                shutil.rmtree(work)
                if clear:
                    clear()
                log(f"{name} run {r + 1}: big curl {raw['curl_big'][-1]:.2f} s, verdi "
                    f"{raw['verdi_big'][-1]:.2f} s; {small} small: curl loop "
                    f"{raw['curl_small'][-1]:.2f} s, curl --parallel {raw['curl_parallel_small'][-1]:.2f} s, "
                    f"verdi {raw['verdi_small'][-1]:.2f} s")
            med = {k: statistics.median(v) for k, v in raw.items()}
            figures[name] = {"runs": raw,
                             "verdi_big_mib_s": big_mib / med["verdi_big"],
                             "curl_big_mib_s": big_mib / med["curl_big"],
                             "verdi_small_s": med["verdi_small"],
                             "curl_small_s": med["curl_small"],
                             "curl_parallel_small_s": med["curl_parallel_small"]}
    finally:
        s3.stop()
        nginx.__exit__(None, None, None)
        shutil.rmtree(out / "src", ignore_errors=True)
    return figures


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--verdi", default=str(REPO / "build" / "verdi" / "verdi"))
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--big-mib", type=int, default=1024)
    p.add_argument("--small", type=int, default=1000)
    p.add_argument("--out", default=str(REPO / "build" / "bench" / "uploads"))
    p.add_argument("--json", help="write the figures here too")
    args = p.parse_args()
    figures = run(pathlib.Path(args.verdi).resolve(), args.out, args.runs, args.big_mib,
                  args.small)
    text = json.dumps(figures, indent=1)
    print(text)
    if args.json:
        pathlib.Path(args.json).write_text(text)


if __name__ == "__main__":
    main()
