"""`verdi run_job` with localize_urls: inputs over HTTP (tests/http_test_server.py)
and file://, through the input cache or straight into the job dir."""

import hashlib
import json
import pathlib
import subprocess
import sys
import time

import pytest

from conftest import REPO, VERDI, make_job


@pytest.fixture(scope="module")
def http(tmp_path_factory):
    port_file = tmp_path_factory.mktemp("http") / "port"
    proc = subprocess.Popen([sys.executable, str(REPO / "tests" / "http_test_server.py"), str(port_file)])
    for _ in range(200):
        if port_file.exists():
            break
        time.sleep(0.05)
    assert port_file.exists(), "the test HTTP server did not start"
    yield f"127.0.0.1:{port_file.read_text()}"
    proc.terminate()
    proc.wait()


def all_text(run):
    """Everything a run leaves that a person could read: output and job files."""
    parts = [run.stdout, run.stderr]
    for p in run.root.rglob("*"):
        if p.is_file() and not p.is_symlink():
            try:
                parts.append(p.read_text())
            except UnicodeDecodeError:
                pass
    return "\n".join(parts)


def test_http_and_file_inputs_are_localized_before_the_command(verdi, http):
    src = verdi.tmp / "src"
    (src / "tree" / "deep").mkdir(parents=True)
    (src / "tree" / "a.txt").write_text("A")
    (src / "tree" / "deep" / "b.txt").write_text("BB")
    job = make_job("sh -c 'cat in/a.txt cached.txt && ls tree/deep'", localize_urls=[
        {"url": f"http://{http}/files/a.txt", "local_path": "in/", "cache": False},
        {"url": f"http://{http}/files/cached.txt"},
        {"url": f"file://{src}/tree", "cache": False},
    ])
    run = verdi(job)
    assert run.returncode == 0, run.stderr
    d = run.job_dir
    assert (d / "_stdout.txt").read_text() == "content of a.txt\ncontent of cached.txt\nb.txt\n"
    assert (d / "cached.txt").is_symlink()
    assert str(run.root / "cache") in str((d / "cached.txt").resolve())
    assert ((d / "cached.txt").resolve().parent / ".localized").exists()
    info = run.job_json()["job_info"]
    loc = info["metrics"]["inputs_localized"]
    assert [e["path"] for e in loc] == [str(d / "in" / "a.txt"), str(d / "cached.txt"), str(d / "tree")]
    assert loc[0]["disk_usage"] == len("content of a.txt\n")
    assert loc[2]["disk_usage"] == 3
    for e in loc:
        assert set(e) == {"url", "path", "disk_usage", "time_start", "time_end", "duration", "transfer_rate"}
    ctx = json.loads((d / "_context.json").read_text())
    assert ctx["_prov"]["wasDerivedFrom"] == [f"url:{e['url']}" for e in loc]
    assert ctx["_prov"]["wasGeneratedBy"].startswith("task_id:")


def test_404_fails_the_job_naming_the_url_and_the_command_never_runs(verdi, http):
    job = make_job("touch ran", localize_urls=[{"url": f"http://{http}/status/404/missing.h5"}])
    run = verdi(job, timeout=30)
    assert run.returncode != 0
    info = run.job_json()["job_info"]
    assert info["job_status"] == "job-failed"
    assert f"http://{http}/status/404/missing.h5" in info["error"]
    assert "404" in info["error"]
    assert not (run.job_dir / "ran").exists()


def test_traversal_is_rejected(verdi, http):
    for local_path in ("../escape.txt", "/tmp/escape.txt"):
        job = make_job("true", localize_urls=[{"url": f"http://{http}/files/x", "local_path": local_path}])
        run = verdi(job)
        assert run.returncode != 0
        assert "localize_urls[0]" in run.job_json()["job_info"]["error"]
        for p in run.root.glob("jobs/*/*/*/*/*/*"):
            import shutil
            shutil.rmtree(p)
    assert not (verdi.tmp / "escape.txt").exists()


def test_checksum_sidecars_are_checked(verdi):
    src = verdi.tmp / "src"
    src.mkdir()
    (src / "good.dat").write_text("abc")
    (src / "good.dat.md5").write_text(hashlib.md5(b"abc").hexdigest() + "\n")
    (src / "bad.dat").write_text("abd")
    (src / "bad.dat.sha256").write_text(hashlib.sha256(b"abc").hexdigest() + "\n")
    urls = [{"url": str(src / n), "cache": False} for n in ("good.dat", "good.dat.md5")]
    run = verdi(make_job("true", localize_urls=urls))
    assert run.returncode == 0, run.stderr
    import shutil
    shutil.rmtree(run.root / "jobs")
    urls = [{"url": str(src / n), "cache": False} for n in ("bad.dat", "bad.dat.sha256", "good.dat")]
    run = verdi(make_job("true", localize_urls=urls))
    assert run.returncode != 0
    info = run.job_json()["job_info"]
    # HySDS's validate_checksum_files text, job_info.status and pid.
    bad = run.job_dir / "bad.dat"
    assert info["error"] == (
        "Files with mismatched checksum:\n"
        f"{bad}: calculated checksum: {hashlib.sha256(b'abd').hexdigest()}, "
        f"pre-computed checksum: {hashlib.sha256(b'abc').hexdigest()}\n")
    assert info["status"] == 1
    assert info["pid"] is None
    assert "cmd_start" not in info


def test_credentials_never_appear_in_logs_or_job_files(verdi, http):
    job = make_job("cat a.txt", localize_urls=[
        {"url": f"http://user:secret@{http}/auth/a.txt", "cache": False},
        {"url": f"http://user:secret@{http}/auth/b.txt"},
    ])
    run = verdi(job)
    assert run.returncode == 0, run.stderr
    assert (run.job_dir / "_stdout.txt").read_text() == "secret content\n"
    assert "user:secret" not in all_text(run)
    assert f"http://user:***@{http}/auth/a.txt" in json.dumps(run.job_json())

    job = make_job("true", localize_urls=[{"url": f"http://user:wrongpw@{http}/auth/c.txt"}])
    run2 = verdi(job)
    assert run2.returncode != 0
    text = all_text(run2)
    assert "wrongpw" not in text
    assert "401" in text


# -- S3 (tests/s3_server.py: s3rver behind a SigV4 check) ----------------------

sys.path.insert(0, str(REPO / "tests"))
import s3_server  # noqa: E402


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    server = s3_server.S3Server(tmp_path_factory.mktemp("s3")).start()
    server.put("priv", "granule/a.txt", b"object a\n")
    server.put("priv", "granule/sub/b.txt", b"object b\n")
    server.put("priv", "single.txt", b"single\n")
    yield server
    server.stop()


def test_s3_objects_and_prefixes_are_signed_and_fetched(verdi, s3):
    job = make_job("sh -c 'cat single.txt granule/a.txt granule/sub/b.txt'", localize_urls=[
        {"url": s3.url("priv", "single.txt")},
        {"url": s3.url("priv", "granule/"), "cache": False},
    ])
    run = verdi(job, env=s3.env())
    assert run.returncode == 0, run.stderr
    assert (run.job_dir / "_stdout.txt").read_text() == "single\nobject a\nobject b\n"
    loc = run.job_json()["job_info"]["metrics"]["inputs_localized"]
    assert [e["disk_usage"] for e in loc] == [7, 18]
    assert any(line.startswith("GET /priv/single.txt signed") for line in s3.log_lines())
    # One line per file started and finished, with its size and rate.
    assert f"finished {s3.url('priv', 'granule/sub/b.txt')}: 9 B in " in run.stderr + run.stdout
    text = all_text(run)
    assert s3_server.SECRET not in text and s3_server.TOKEN not in text


def test_s3_wrong_secret_fails_the_job_and_is_never_printed(verdi, s3):
    env = s3.env()
    env["AWS_SECRET_ACCESS_KEY"] = "wrong-secret-123"
    run = verdi(make_job("touch ran", localize_urls=[{"url": s3.url("priv", "single.txt")}]), env=env)
    assert run.returncode != 0
    error = run.job_json()["job_info"]["error"]
    assert "403" in error and s3.url("priv", "single.txt") in error
    assert not (run.job_dir / "ran").exists()
    assert "wrong-secret-123" not in all_text(run)


def test_bad_bucket_profiles_are_refused(verdi):
    run = verdi(make_job("true"), args=["--bucket-profiles", '[{"profile": "p", "bucket_patterns": ["("]}]'])
    assert run.returncode != 0
    assert "BUCKET_PROFILES" in run.stderr


def test_a_stop_request_ends_a_stalled_download_at_once(verdi, http):
    """SIGTERM to `verdi run_job` while an input hangs: the download stops
    within about a second, the command never runs, the job is closed out as
    terminated, and no cache entry is left that looks complete."""
    import signal
    job_file = verdi.tmp / "job.json"
    job_file.write_text(json.dumps(make_job("touch ran", localize_urls=[
        {"url": f"http://{http}/stall/hang.bin"}])))
    proc = subprocess.Popen([str(VERDI), "run_job", "--root-work-dir", str(verdi.root),
                             "--localize-progress-interval", "0.2", str(job_file)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not list(verdi.root.glob("cache/*/*/*/*/*.tmp.*/hang.bin.part")):
        time.sleep(0.05)
    time.sleep(0.5)  # progress lines while it hangs
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=15)
    assert time.monotonic() - t0 < 1.5, err
    d = next(verdi.root.glob("jobs/*/*/*/*/*/*/.done")).parent
    info = json.loads((d / "_job.json").read_text())["job_info"]
    assert info["job_status"] == "job-terminated"
    assert not (d / "ran").exists()
    assert "3 B of 1.0 MB" in err + out
    assert not list(verdi.root.glob("cache/**/.localized"))
    assert not list(verdi.root.glob("cache/*/*/*/*/*.tmp.*"))


# -- a job that would rewrite the shared input cache ---------------------------

def test_local_path_onto_a_worker_file_is_refused_before_the_command(verdi, http):
    url = f"http://{http}/files/cached.txt"
    job = make_job("sh -c 'touch ran; echo poison'",
                   localize_urls=[{"url": url, "local_path": "_stdout.txt"}])
    run = verdi(job)
    assert run.returncode != 0
    info = run.job_json()["job_info"]
    assert info["error"] == ("localize_urls[0]: '_stdout.txt' (local_path "
                             "_stdout.txt) is a file the worker writes in the job dir: refused"), \
        info["error"]
    assert not (run.job_dir / "ran").exists()
    assert not (run.job_dir / "_stdout.txt").is_symlink()
    entry = cache_entry(run.root, url)
    assert not entry.exists() or (entry / "cached.txt").read_text() == "content of cached.txt\n"


def test_local_path_below_another_inputs_cache_link_is_refused_before_the_command(verdi, http):
    src = verdi.tmp / "src" / "tree"
    src.mkdir(parents=True)
    (src / "a.txt").write_text("A")
    job = make_job("sh -c 'touch ran'", localize_urls=[
        {"url": f"file://{src}", "local_path": "data"},
        {"url": f"http://{http}/files/a.txt", "local_path": "data/sub/file", "cache": False},
    ])
    run = verdi(job)
    assert run.returncode != 0
    error = run.job_json()["job_info"]["error"]
    d = run.job_dir
    assert error == (f"localizing the inputs: localize_urls[1]: lands at {d}/data/sub/file, "
                     f"inside {d}/data, which links to the input cache entry of "
                     "localize_urls[0]: refused (it would write into the cache)"), error
    assert not (d / "ran").exists()
    assert not (d / "data").exists()
    assert not cache_entry(run.root, f"file://{src}").exists()


def cache_entry(root, url):
    h = hashlib.md5(url.encode()).hexdigest()
    return root / "cache" / h[0] / h[1] / h[2] / h[3] / h


def test_cache_entries_are_read_only_to_jobs_and_stay_pristine(tmp_path, http):
    """The worker and its jobs as one non-root user (nobody, when the test runs
    as root): a job's writes to its cached input are refused, and the next job
    gets the content as it was downloaded."""
    import os
    import shutil
    import stat
    import tempfile
    base = pathlib.Path(tempfile.mkdtemp(prefix="verdi-ro-cache-"))
    try:
        as_user = []
        if os.geteuid() == 0:
            shutil.chown(base, "nobody", "nogroup")
            as_user = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        root = base / "root"
        url = f"http://{http}/files/cached.txt"

        def run_job(command, job_id):
            job_file = base / f"{job_id}.json"
            job_file.write_text(json.dumps(make_job(command, job_id=job_id,
                                                    localize_urls=[{"url": url}])))
            proc = subprocess.run([*as_user, VERDI, "run_job", "--root-work-dir", str(root),
                                   str(job_file)], capture_output=True, text=True, timeout=60)
            dirs = list(root.glob(f"jobs/*/*/*/*/*/{job_id}"))
            assert len(dirs) == 1, proc.stderr
            return proc, dirs[0]

        poison = ("echo poison > cached.txt; echo poison > \"$(readlink cached.txt)\"; "
                  "rm -f \"$(readlink cached.txt)\"; touch \"$(dirname $(readlink cached.txt))/x\"; "
                  "cat cached.txt")
        proc, d = run_job("sh -c " + json.dumps(poison), "ro-1")
        assert proc.returncode == 0, proc.stderr
        assert (d / "_stderr.txt").read_text().count("Permission denied") == 4, \
            (d / "_stderr.txt").read_text()
        entry = cache_entry(root, url)
        assert stat.S_IMODE((entry / "cached.txt").stat().st_mode) == 0o444
        assert stat.S_IMODE(entry.stat().st_mode) == 0o555
        assert (entry / "cached.txt").read_text() == "content of cached.txt\n"
        assert not (entry / "x").exists()

        proc, d = run_job("cat cached.txt", "ro-2")
        assert proc.returncode == 0, proc.stderr
        assert (d / "_stdout.txt").read_text() == "content of cached.txt\n"
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(base)])
        shutil.rmtree(base)
