"""bench/run end to end at toy sizes: the harness itself must keep working
(services, both workers, every workload, the table and results.json). Speed
is never asserted here; the figures only have to be there and make sense."""

import json
import os
import pathlib
import subprocess

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ["VERDI_BIN"]).resolve().parents[1]
WORKLOADS = ["1 throughput", "2 latency", "3 memory", "4 scale", "5 statuses"]


def test_every_workload_reports_figures(tmp_path):
    out = tmp_path / "bench"
    proc = subprocess.run(
        ["/usr/bin/python3", str(REPO / "bench" / "run"), "--no-build", "--build-dir", str(BUILD),
         "--out", str(out), "--work-root", str(tmp_path / "work"), "--runs", "1", "--jobs", "300",
         "--latency-seconds", "3", "--mem-jobs", "300", "--scale-jobs", "3000",
         "--statuses", "2000"],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "| workload" in proc.stdout

    results = json.loads((out / "results.json").read_text())
    rows = results["rows"]
    assert sorted({r["workload"] for r in rows}) == WORKLOADS
    for r in rows:
        if r["workload"] == "4 scale" and "last tenth" in r["metric"]:
            continue  # needs a drain of many seconds, not there at this size
        assert isinstance(r["verdi"], (int, float)) and r["verdi"] > 0, r
        if r["reference_name"]:
            assert isinstance(r["reference"], (int, float)) and r["reference"] > 0, r
            assert r["ratio"] == r["verdi"] / r["reference"], r

    figures = results["figures"]
    cpu = figures["throughput"]["verdi_cpu_ms"][0]
    assert all(cpu[k] > 0 for k in ("worker", "commands", "broker", "redis")), cpu
    assert figures["throughput"]["celery_cpu_ms"][0]["commands"] == 0  # a no-op spawns nothing
    assert figures["memory"]["verdi"]["idle_processes"] == 1
    assert figures["memory"]["celery"]["idle_processes"] == 9  # prefork -c 8 and its parent
    # Redis's CPU for the toy number of status documents can stay below one
    # /proc tick (10 ms): measured, never negative, not necessarily above 0.
    redis_cpu = figures["statuses"]["redis_cpu_us"]["status"]
    assert redis_cpu and all(isinstance(v, (int, float)) and v >= 0 for v in redis_cpu), redis_cpu
    # The harness removes the work root it filled.
    assert not (tmp_path / "work").exists()
