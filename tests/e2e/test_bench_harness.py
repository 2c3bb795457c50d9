"""bench/run end to end at toy sizes: the harness itself must keep working
(services, both workers, every workload, the table and results.json). Speed
is never asserted here; the figures only have to be there and make sense."""

import json
import os
import pathlib
import subprocess

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ["VERDI_BIN"]).resolve().parents[1]
WORKLOADS = ["1 throughput", "2 latency", "3 memory", "4 scale", "5 statuses", "6 syscalls",
             "7 message path", "8 containers", "9 uploads"]


def test_every_workload_reports_figures(tmp_path):
    out = tmp_path / "bench"
    proc = subprocess.run(
        ["/usr/bin/python3", str(REPO / "bench" / "run"), "--no-build", "--build-dir", str(BUILD),
         "--out", str(out), "--work-root", str(tmp_path / "work"), "--runs", "1", "--jobs", "300",
         "--latency-seconds", "3", "--mem-jobs", "300", "--scale-jobs", "3000",
         "--statuses", "2000", "--tmpfs-root", f"/dev/shm/verdi-bench-test-{os.getpid()}",
         "--strace-jobs", "50", "--noop-tasks", "300", "--container-jobs", "1",
         "--upload-mib", "8", "--upload-files", "20"],
        capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "| workload" in proc.stdout

    results = json.loads((out / "results.json").read_text())
    rows = results["rows"]
    assert sorted({r["workload"] for r in rows}) == WORKLOADS
    for r in rows:
        if r["workload"] == "4 scale" and "last tenth" in r["metric"]:
            continue  # needs a drain of many seconds, not there at this size
        if r["workload"] == "8 containers" and "beyond" in r["metric"]:
            assert isinstance(r["verdi"], (int, float)), r  # a difference: may be below 0
            continue
        if r["workload"] == "6 syscalls" and "all" not in r["metric"]:
            assert isinstance(r["verdi"], (int, float)) and r["verdi"] >= 0, r  # may be none
            continue
        assert isinstance(r["verdi"], (int, float)) and r["verdi"] > 0, r
        if r["reference_name"]:
            assert isinstance(r["reference"], (int, float)) and r["reference"] > 0, r
            assert r["ratio"] == r["verdi"] / r["reference"], r

    figures = results["figures"]
    cpu = figures["throughput"]["cpu_ms"]
    assert all(cpu["verdi"][0][k] > 0 for k in ("worker", "commands", "broker", "redis")), cpu
    assert cpu["celery"][0]["commands"] == 0  # a no-op spawns nothing
    # Every variant and reference of workload 1 drained, floors measured.
    assert set(figures["throughput"]["rates"]) == {"verdi", "celery", "celery_hysds", "verdi_c8",
                                                   "verdi_tmpfs"}
    assert figures["throughput"]["floors"]["fs_disk"][0] > 0
    assert any(f.startswith("_job.json:") for f in figures["throughput"]["job_files"])
    # strace saw the job's files made: a dir and creates per job.
    per_job = figures["syscalls"]["per_job"]["worker"]
    assert per_job["mkdir"] >= 1 and per_job["openat"] >= 8, per_job
    assert set(figures["message_path"]["rates"]) == {"verdi", "verdi_unbounded", "celery_node",
                                                     "celery"}
    assert figures["uploads"]["webdav"]["verdi_small_s"] > 0
    assert figures["memory"]["verdi"]["idle_processes"] == 1
    assert figures["memory"]["celery"]["idle_processes"] == 9  # prefork -c 8 and its parent
    # Redis's CPU for the toy number of status documents can stay below one
    # /proc tick (10 ms): measured, never negative, not necessarily above 0.
    redis_cpu = figures["statuses"]["redis_cpu_us"]["status"]
    assert redis_cpu and all(isinstance(v, (int, float)) and v >= 0 for v in redis_cpu), redis_cpu
    # The harness removes the work roots it filled.
    assert not (tmp_path / "work").exists()
    assert not pathlib.Path(f"/dev/shm/verdi-bench-test-{os.getpid()}").exists()
