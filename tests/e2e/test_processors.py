"""The job-spec's pre- and post-processors, run as HySDS's worker runs them:
the built-ins (localize, mark, checksums; publish) unless
disable_pre_builtins / disable_post_builtins, then the job-spec's `pre` /
`post` in order; triage only when `hysds.triage.triage` is listed; any other
name a Python function `module.func(job, context)` run by python3, with its
result, its exceptions and what it changed reported as HySDS reports them."""

import json
import os
import pathlib
import shlex
import signal
import subprocess
import sys
import time
import uuid

import msgpack
import pytest
import redis

from conftest import REPO, VERDI, make_job

sys.path.insert(0, str(REPO / "tests"))
from nginx_server import NginxServer  # noqa: E402

RUN_JOB = "hysds.job_worker.run_job"

# The processors of these tests, imported by python3 from a directory on
# PYTHONPATH. Each appends what it saw to seen.jsonl in its cwd (the job dir).
PROCS = r'''
import json, os, time

def record(name, job, ctx, **more):
    entry = {"name": name, "cwd": os.getcwd(), "status": job["job_info"].get("status"),
             "ctx_from_pre": ctx.get("_from_pre"), "input_here": os.path.exists("input.txt")}
    entry.update(more)
    with open("seen.jsonl", "a") as f:
        f.write(json.dumps(entry) + "\n")

def pre_a(job, ctx):
    record("pre_a", job, ctx, url=job["localize_urls"][0]["url"] if job["localize_urls"] else None)
    ctx["_from_pre"] = "a"
    return True

def pre_b(job, ctx):
    record("pre_b", job, ctx)
    return 1

def sets_greeting(job, ctx):
    job["params"]["greeting"] = ["hello from", "pre"]
    return True

def shows_url(job, ctx):
    url = job["localize_urls"][0]["url"]
    record("shows_url", job, ctx, has_password=url == "http://user:topsecret@127.0.0.1:9/in.dat")
    print("the input is " + url)
    raise RuntimeError("cannot fetch " + url)

def says_no(job, ctx):
    record("says_no", job, ctx)
    return None

def post_a(job, ctx):
    record("post_a", job, ctx)
    print("post_a prints this")
    job["job_info"]["metrics"]["post_a_metric"] = 7
    ctx["_triage_disabled"] = True
    return "done"

def post_b(job, ctx):
    record("post_b", job, ctx, post_a_metric=job["job_info"]["metrics"].get("post_a_metric"))
    return False

def raises(job, ctx):
    record("raises", job, ctx)
    raise ValueError("the processor found a bad granule in the input")

def sleeps(job, ctx):
    record("sleeps", job, ctx)
    time.sleep(60)
'''


@pytest.fixture
def procs(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "procs.py").write_text(PROCS)
    return {"PYTHONPATH": str(lib)}


@pytest.fixture
def nginx(tmp_path):
    with NginxServer(tmp_path / "nginx") as srv:
        yield srv


def spec(**keys):
    doc = {"command": "x", "params": []}
    doc.update(keys)
    return doc


def job_with(command, job_id, spec_doc=None, **extra):
    job = make_job(command, job_id=job_id, **extra)
    job["job_info"]["job_payload"] = {"payload_task_id": "pay-" + job_id}
    if spec_doc is not None:
        job["params"]["job_specification"] = spec_doc
    return job


def datasets_config(tmp, location):
    path = tmp / "datasets.json"
    entries = [{"ipath": "hysds::data/" + kind, "version": "v1", "level": "l0", "type": kind,
                "match_pattern": pattern, "alt_match_pattern": None,
                "publish": {"location": location + "/{id}", "urls": [location + "/{id}"]}}
               for kind, pattern in (("p", r"/(?P<id>P\d)$"),
                                     ("triaged_job", r"/(?P<id>triaged_job-.+)$"))]
    path.write_text(json.dumps({"datasets": entries}))
    return str(path)


MAKE_P1 = "sh -c " + shlex.quote(
    "mkdir P1 && echo '{\"version\": \"v1\"}' > P1/P1.dataset.json && echo d > P1/d.txt")


def seen(job_dir):
    path = job_dir / "seen.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def grq_posts(nginx):
    log = pathlib.Path(nginx.dir) / "access.log"
    return [line for line in log.read_text().splitlines() if "/grq/ok" in line]


def write(path, doc):
    path.write_text(json.dumps(doc))
    return path


def run_job(tmp_path, job, env=None):
    """`verdi run_job` on `job` under tmp_path/root; its result and job dir."""
    root = tmp_path / "root"
    job_file = write(tmp_path / f"{job['job_id']}.json", job)
    proc = subprocess.run([VERDI, "run_job", "--root-work-dir", str(root), "--kill-grace", "1",
                           str(job_file)], capture_output=True, text=True,
                          env=dict(os.environ, **(env or {})), timeout=60)
    dirs = list(root.glob(f"jobs/*/*/*/*/*/{job['job_id']}"))
    assert len(dirs) == 1, (dirs, proc.stderr)
    return proc, dirs[0]


def job_info(job_dir):
    return json.loads((job_dir / "_job.json").read_text())["job_info"]


def test_publish_and_index_by_default_and_neither_when_post_builtins_are_disabled(
        nginx, tmp_path):
    env = {"HYSDS_DATASETS_CFG": datasets_config(tmp_path, nginx.url + "/data"),
           "GRQ_UPDATE_URL_BULK": nginx.url + "/grq/ok"}
    run, job_dir = run_job(tmp_path, job_with(MAKE_P1, "pp-default", spec()), env)
    assert run.returncode == 0, run.stderr
    assert (nginx.root / "data/P1/d.txt").exists()
    for _ in range(100):  # nginx logs the request after answering it
        if grq_posts(nginx):
            break
        time.sleep(0.05)
    assert len(grq_posts(nginx)) == 1
    assert json.loads((job_dir / "_datasets.json").read_text())[0]["id"] == "P1"

    (nginx.root / "data").rename(nginx.root / "first")
    run, job_dir = run_job(
        tmp_path, job_with(MAKE_P1, "pp-disabled", spec(disable_post_builtins=True)), env)
    assert run.returncode == 0, run.stderr
    assert (job_dir / "P1/d.txt").exists()
    assert not (nginx.root / "data").exists()
    assert not (job_dir / "_datasets.json").exists()
    time.sleep(0.3)
    assert len(grq_posts(nginx)) == 1  # still only the first job's
    info = job_info(job_dir)
    assert info["job_status"] == "job-completed"
    assert info["metrics"]["products_staged"] == []


def test_a_failed_job_is_triaged_only_when_triage_is_listed_in_post(tmp_path):
    dest = tmp_path / "dest"
    env = {"HYSDS_DATASETS_CFG": datasets_config(tmp_path, "file://" + str(dest))}
    fail = "sh -c 'echo failing >&2; exit 4'"
    run, job_dir = run_job(tmp_path, job_with(fail, "pp-no-triage", spec()), env)
    assert run.returncode == 4
    assert not dest.exists()
    assert not (job_dir / "_triaged.json").exists()
    assert job_info(job_dir)["error"] == "Got non-zero exit code: 4"

    # Listed: exactly one triage product (publish_datasets, the built-in
    # before it, publishes nothing for a failed job).
    run, job_dir = run_job(
        tmp_path, job_with(fail, "pp-triage", spec(post=["hysds.triage.triage"])), env)
    assert run.returncode == 4, run.stderr
    products = sorted(p.name for p in dest.iterdir())
    assert len(products) == 1 and products[0].startswith("triaged_job-pp-triage_task-"), products
    assert json.loads((job_dir / "_triaged.json").read_text())["id"] == products[0]
    assert job_info(job_dir)["error"] == "Got non-zero exit code: 4"  # the job's own error


def test_python_processors_run_in_order_see_and_change_the_job_and_context(procs, tmp_path):
    src = tmp_path / "input.txt"
    src.write_text("input data\n")
    dest = tmp_path / "dest"
    env = dict(procs, HYSDS_DATASETS_CFG=datasets_config(tmp_path, "file://" + str(dest)))
    job = job_with("sh -c 'test -f input.txt && exit 3'", "pp-order", spec(
        pre=["procs.pre_a", "procs.pre_b"],
        post=["procs.post_a", "hysds.triage.triage", "procs.post_b"]))
    job["localize_urls"] = [{"url": f"file://{src}"}]
    run, job_dir = run_job(tmp_path, job, env)
    assert run.returncode == 3, run.stderr
    entries = seen(job_dir)
    assert [e["name"] for e in entries] == ["pre_a", "pre_b", "post_a", "post_b"]
    for e in entries:
        assert e["cwd"] == str(job_dir)
        assert e["input_here"]  # the built-in localize ran before them
    assert entries[0]["url"] == f"file://{src}"
    # A change to the context is seen by the processors after it ...
    assert entries[0]["ctx_from_pre"] is None
    assert [e["ctx_from_pre"] for e in entries[1:]] == ["a", "a", "a"]
    # ... pre-processors see no exit code yet, post-processors the command's.
    assert [e["status"] for e in entries] == [None, None, 3, 3]
    # post_a set _triage_disabled in the context: triage, listed after it, made nothing.
    assert not dest.exists()
    assert not (job_dir / "_triaged.json").exists()
    # post_a's change to the job is kept to the end.
    assert entries[3]["post_a_metric"] == 7
    info = job_info(job_dir)
    assert info["metrics"]["post_a_metric"] == 7
    assert info["job_status"] == "job-failed" and info["error"] == "Got non-zero exit code: 3"
    # Results are logged as HySDS logs them; what a processor printed too.
    assert "running pre-processor hysds.localize.localize_urls" in run.stderr
    assert "post-processor procs.post_a returned 'done'" in run.stderr
    assert "post-processor procs.post_a: post_a prints this" in run.stderr
    assert "post-processing steps that didn't signal continuation: procs.post_b" in run.stderr
    assert not list(job_dir.glob(".processor-*"))


def test_a_processor_gets_the_credentials_nothing_verdi_writes_holds_them(procs, tmp_path):
    job = job_with("touch ran", "pp-secret", spec(disable_pre_builtins=True,
                                                  pre=["procs.shows_url"]))
    job["localize_urls"] = [{"url": "http://user:topsecret@127.0.0.1:9/in.dat"}]
    run, job_dir = run_job(tmp_path, job, procs)
    assert run.returncode == 1, run.stderr
    assert seen(job_dir)[0]["has_password"]  # as HySDS hands the job over
    assert "the input is http://user:***@127.0.0.1:9/in.dat" in run.stderr
    assert "topsecret" not in run.stderr
    info = job_info(job_dir)
    assert info["error"] == "cannot fetch http://user:***@127.0.0.1:9/in.dat"
    root = tmp_path / "root"
    assert [p for p in root.rglob("*") if p.is_file() and b"topsecret" in p.read_bytes()] == []


def test_the_command_line_is_built_after_the_pre_processors(procs, tmp_path):
    worker_config = write(tmp_path / "worker.json", {"configs": [{
        "type": "job-e2e:test",
        "command": {"path": "/bin/echo", "options": [], "arguments": ["$greeting", "!"],
                    "env": []}}]})
    job = job_with("unused", "pp-argv", spec(pre=["procs.sets_greeting"]))
    job["params"]["greeting"] = "hello from the payload"
    run, job_dir = run_job(tmp_path, job, dict(procs, HYSDS_WORKER_CFG=str(worker_config)))
    assert run.returncode == 0, run.stderr
    assert (job_dir / "_stdout.txt").read_text() == "hello from pre !\n"
    assert "'hello from' pre '!'" in (job_dir / "_run.sh").read_text()


def test_a_pre_processor_returning_false_skips_the_command(procs, tmp_path, nginx):
    env = dict(procs, HYSDS_DATASETS_CFG=datasets_config(tmp_path, nginx.url + "/data"))
    job = job_with(MAKE_P1 + " && touch ran", "pp-no", spec(pre=["procs.says_no", "procs.pre_b"]))
    run, job_dir = run_job(tmp_path, job, env)
    assert run.returncode == 0, run.stderr
    # Every pre-processor runs, then the command does not.
    assert [e["name"] for e in seen(job_dir)] == ["says_no", "pre_b"]
    assert not (job_dir / "ran").exists() and not (job_dir / "P1").exists()
    assert not (job_dir / "_stdout.txt").exists()
    info = job_info(job_dir)
    assert info["job_status"] == "job-completed"
    assert info["status"] == 0 and info["pid"] == 0
    assert "pre-processing steps that didn't signal continuation: procs.says_no" in run.stderr
    # pid 0: the built-in publish passes the job over, as HySDS's does.
    assert "job command never ran: bypassing dataset publishing" in run.stderr
    assert not (job_dir / "_datasets.json").exists()


def documents(redis_url, key):
    client = redis.Redis.from_url(redis_url)
    return [msgpack.unpackb(raw, raw=False) for raw in client.lrange(key, 0, -1)]


def short_error(e):
    """HySDS's get_short_error."""
    return e if len(e) <= 35 else e[:20] + "....." + e[-10:]


def test_an_exception_fails_the_job_as_hysds_reports_it(services, procs, tmp_path):
    key = f"logstash-{uuid.uuid4().hex[:8]}"
    url = services.state["redis_url"]
    dest = tmp_path / "dest"
    env = dict(procs, HYSDS_DATASETS_CFG=datasets_config(tmp_path, "file://" + str(dest)),
               REDIS_JOB_STATUS_URL=url, REDIS_JOB_STATUS_KEY=key, REDIS_JOB_INFO_KEY=key + "-i")
    error = "the processor found a bad granule in the input"
    # A post-processor raising after a command that succeeded: the built-in
    # publish (before it) published, the job fails with str(e).
    job = job_with(MAKE_P1, "pp-raise-post", spec(post=["procs.raises", "procs.post_a"]))
    run, job_dir = run_job(tmp_path, job, env)
    assert run.returncode == 1, run.stderr
    docs = documents(url, key)
    assert [d["status"] for d in docs] == ["job-started", "job-failed"]
    failed = docs[-1]
    assert failed["error"] == error
    assert failed["short_error"] == short_error(error)
    assert failed["traceback"].startswith("Traceback (most recent call last):")
    assert failed["traceback"].rstrip().endswith("ValueError: " + error)
    assert (dest / "P1").exists()
    # The processors after it are not run.
    assert [e["name"] for e in seen(job_dir)] == ["raises"]
    assert "post-processor procs.raises raised ValueError: " + error in run.stderr

    # A pre-processor raising: the command does not run, the job fails with
    # str(e), and the post-processors run (triage, as listed).
    redis.Redis.from_url(url).delete(key)
    job = job_with("touch ran", "pp-raise-pre", spec(pre=["procs.raises"],
                                                     post=["hysds.triage.triage"]))
    run, job_dir = run_job(tmp_path, job, env)
    assert run.returncode == 1, run.stderr
    failed = documents(url, key)[-1]
    assert failed["status"] == "job-failed"
    assert failed["error"] == error
    assert ("ValueError: " + error) in failed["traceback"]
    assert failed["job"]["job_info"]["status"] == 1
    assert not (job_dir / "ran").exists()
    assert [p.name for p in dest.iterdir() if p.name.startswith("triaged_job-pp-raise-pre")]


def test_a_missing_module_or_python_fails_the_job_naming_the_processor(procs, tmp_path):
    run, job_dir = run_job(
        tmp_path, job_with("touch ran", "pp-nomod", spec(post=["no_such_pkg.mod.func"])), procs)
    assert run.returncode == 1, run.stderr
    info = job_info(job_dir)
    assert info["job_status"] == "job-failed"
    assert info["error"] == ("post-processor no_such_pkg.mod.func could not be imported: "
                             "ModuleNotFoundError: No module named 'no_such_pkg'")
    assert (job_dir / "ran").exists()  # a post-processor: the command ran

    run, job_dir = run_job(
        tmp_path, job_with("touch ran", "pp-nopython", spec(pre=["procs.pre_a"])),
        dict(procs, VERDI_PROCESSOR_PYTHON="python3-not-installed"))
    assert run.returncode == 1, run.stderr
    info = job_info(job_dir)
    assert info["error"].startswith("pre-processor procs.pre_a: cannot execute "
                                    "python3-not-installed: No such file or directory"), info
    assert not (job_dir / "ran").exists()


def test_triage_listed_before_the_command_fails_the_job_naming_it(tmp_path):
    run, job_dir = run_job(tmp_path, job_with("touch ran", "pp-early-triage",
                                              spec(pre=["hysds.triage.triage"])))
    assert run.returncode == 1, run.stderr
    assert job_info(job_dir)["error"] == (
        "hysds.triage.triage reads job_info.status, which the job has only after its command: "
        "it is a post-processor")
    assert not (job_dir / "ran").exists()


def test_processor_modules_limit_what_a_job_may_name(procs, tmp_path):
    env = dict(procs, VERDI_PROCESSOR_MODULES="other.pkg procs")
    run, job_dir = run_job(tmp_path, job_with("touch ran", "pp-allowed",
                                              spec(pre=["procs.pre_a"])), env)
    assert run.returncode == 0, run.stderr
    assert [e["name"] for e in seen(job_dir)] == ["pre_a"]

    env["VERDI_PROCESSOR_MODULES"] = "other.pkg,proc"
    run, job_dir = run_job(tmp_path, job_with("touch ran", "pp-refused",
                                              spec(pre=["procs.pre_a"])), env)
    assert run.returncode == 1, run.stderr
    assert job_info(job_dir)["error"] == (
        "pre-processor procs.pre_a: not a function of the modules processors may come from "
        "(--processor-modules: other.pkg proc)")
    assert seen(job_dir) == [] and not (job_dir / "ran").exists()
    # Built-ins are verdi's own: never limited.
    run, job_dir = run_job(tmp_path, job_with("touch ran", "pp-builtin-only",
                                              spec(post=["hysds.triage.triage"])), env)
    assert run.returncode == 0, run.stderr


def test_disabled_pre_builtins_leave_the_inputs_unless_listed_again(tmp_path):
    src = tmp_path / "input.txt"
    src.write_text("input data\n")
    job = job_with("sh -c 'test -f input.txt'", "pp-nopre", spec(disable_pre_builtins=True))
    job["localize_urls"] = [{"url": f"file://{src}"}]
    run, job_dir = run_job(tmp_path, job)
    assert run.returncode == 1  # test -f fails: nothing was localized
    assert job_info(job_dir)["metrics"]["inputs_localized"] == []

    job["job_id"] = "pp-nopre-listed"
    job["params"]["job_specification"]["pre"] = ["hysds.localize.localize_urls"]
    run, job_dir = run_job(tmp_path, job)
    assert run.returncode == 0, run.stderr
    assert [i["url"] for i in job_info(job_dir)["metrics"]["inputs_localized"]] == [
        f"file://{src}"]


def test_a_stop_request_ends_a_running_processor(tmp_path, procs):
    root = tmp_path / "root"
    job_file = write(tmp_path / "job.json",
                     job_with("touch ran", "pp-stop", spec(pre=["procs.sleeps"])))
    proc = subprocess.Popen([VERDI, "run_job", "--root-work-dir", str(root), "--kill-grace", "1",
                             str(job_file)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ, **procs))
    deadline = time.monotonic() + 20
    while not list(root.glob("jobs/*/*/*/*/*/pp-stop/seen.jsonl")):
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    start = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=20)
    assert time.monotonic() - start < 10
    job_dir = next(root.glob("jobs/*/*/*/*/*/pp-stop"))
    info = job_info(job_dir)
    assert info["job_status"] == "job-terminated", stderr
    assert not (job_dir / "ran").exists()
    assert (job_dir / ".done").exists()
    assert not list(job_dir.glob(".processor-*"))


def test_the_soft_time_limit_stops_a_processor_as_it_stops_a_command(tmp_path, procs):
    job = job_with("touch ran", "pp-soft", spec(pre=["procs.sleeps"]), soft_time_limit=1)
    start = time.monotonic()
    run, job_dir = run_job(tmp_path, job, procs)
    assert time.monotonic() - start < 15
    assert run.returncode != 0
    info = job_info(job_dir)
    assert info["job_status"] == "job-failed"
    assert "Soft time limit (1s) exceeded for pp-soft." in (job_dir / "_stderr.txt").read_text()
    assert not (job_dir / "ran").exists()


def test_the_worker_runs_the_processors(start_worker, celery_app, queue_name, procs, tmp_path):
    worker = start_worker(env=procs)
    job = job_with("sh -c 'exit 0'", f"pp-worker-{uuid.uuid4().hex[:6]}",
                   spec(pre=["procs.pre_a"], post=["procs.raises"]))
    result = celery_app.send_task(RUN_JOB, args=[job], queue=queue_name)
    with pytest.raises(Exception) as failure:
        result.get(timeout=30)
    assert "the processor found a bad granule" in str(failure.value)
    job_dir = next((tmp_path / "root").glob(f"jobs/*/*/*/*/*/{job['job_id']}"))
    assert [e["name"] for e in seen(job_dir)] == ["pre_a", "raises"]
    assert "post-processor procs.raises raised ValueError" in worker.log()
