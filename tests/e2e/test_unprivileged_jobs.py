"""Jobs that take their work dir away from verdi, with verdi running as a
user that is not root (`nobody`, through setpriv), as it does in production:
root passes every permission check, so only a worker that is not root meets
the problem. A job runs with the worker's uid, so it can `chmod 000` its dir,
its subdirs and verdi's files, take every write bit away, replace verdi's
files with directories, bury directories without any access deep in its
tree, remove its own dir or move it away. verdi owns the dir it made and
gives its access back once no process of the job is left: the job is closed
out with the status its command earned, its dir is archived and removed by
the size bound, and the worker serves the next job."""

import json
import os
import pathlib
import shlex
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
import uuid

import pytest

from conftest import VERDI, WorkerProcess, make_job

RUN_JOB = "hysds.job_worker.run_job"
NOBODY = 65534
AS_NOBODY = ["setpriv", "--reuid", str(NOBODY), "--regid", str(NOBODY), "--clear-groups", "--"]

# A tree 300 directories deep, each without any access, with a file nobody
# can read at the bottom: more than a naive remove or archive can take.
DEEP = ("python3 -c \"import os; [(os.mkdir('d'), os.chdir('d')) for i in range(300)]; "
        "open('f', 'w').write('x'); os.chmod('f', 0); "
        "[(os.chdir('..'), os.chmod('d', 0)) for i in range(300)]\"")


class NobodyWorker(WorkerProcess):
    """`verdi worker` run as nobody, its log kept in a file."""

    def __init__(self, args, log_path):
        self.log_path = log_path
        self.log_file = open(log_path, "w")
        self.proc = subprocess.Popen([*AS_NOBODY, VERDI, "worker", *args],
                                     stdout=self.log_file, stderr=subprocess.STDOUT)


def sh(script, **extra):
    return make_job("/bin/sh -c " + shlex.quote(script),
                    job_id=f"np-{uuid.uuid4().hex[:10]}", **extra)


@pytest.fixture
def nobody_dir():
    """A directory the unprivileged worker owns (pytest's tmp_path is root's)."""
    path = pathlib.Path(tempfile.mkdtemp(prefix="verdi-nobody-", dir="/tmp"))
    os.chmod(path, 0o755)
    os.chown(path, NOBODY, NOBODY)
    yield path
    # Whatever is left (a failed test): made removable by root first.
    subprocess.run(["chmod", "-R", "u+rwx", str(path)], capture_output=True)
    shutil.rmtree(path, ignore_errors=True)


def run_job_as_nobody(nobody_dir, job, timeout=60):
    job_file = nobody_dir / f"{job['job_id']}.json"
    job_file.write_text(json.dumps(job))
    root = nobody_dir / "root"
    proc = subprocess.run([*AS_NOBODY, VERDI, "run_job", "--root-work-dir", str(root),
                           str(job_file)], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode >= 0, proc.stderr  # verdi itself was not killed
    assert "terminate called" not in proc.stderr
    return proc


def refused(log):
    """verdi's lines that say it was refused something (a worker that is not
    root has no cgroup of its own here: that warning aside)."""
    return [line for line in log.splitlines()
            if "Permission denied" in line and "without a cgroup" not in line]


def job_dirs(root):
    return [p for p in pathlib.Path(root).glob("jobs/*/*/*/*/*/*") if p.is_dir()]


def closed_out(job_dir):
    info = json.loads((job_dir / "_job.json").read_text())["job_info"]
    assert (job_dir / ".done").is_file() and not (job_dir / ".running").exists()
    return info


@pytest.mark.parametrize("script", [
    "chmod 000 .",
    "mkdir -p sub/deeper && echo x > sub/deeper/f && "
    "chmod 000 sub/deeper/f sub/deeper sub _stdout.txt _context.json && chmod 500 .",
    "echo out; chmod -R a-w .",
    # The way to its dir too: the minute, hour and day dirs (shared with
    # every other job dir of that minute).
    "chmod 000 ../../.. ../.. .. .",
    "rm -f _job.json .exit_code_hold .running && "
    "mkdir -p _job.json/x .exit_code_hold _exit_code/y .done/z .running/w && "
    "chmod 000 .done _exit_code .running .",
    DEEP + " && chmod 000 .",
])
def test_a_job_that_takes_its_dir_away_is_closed_out_as_its_command_ended(nobody_dir, script):
    run = run_job_as_nobody(nobody_dir, sh(script))
    assert run.returncode == 0, run.stderr
    [job_dir] = job_dirs(nobody_dir / "root")
    # verdi (root here) reads what the unprivileged worker closed out.
    info = closed_out(job_dir)
    assert info["job_status"] == "job-completed", info
    assert (job_dir / "_exit_code").read_text() == "0"
    assert refused(run.stderr) == [], run.stderr
    # The dir is its owner's again, all of it: nobody can remove it.
    rm = subprocess.run([*AS_NOBODY, "rm", "-rf", str(job_dir)], capture_output=True, text=True)
    assert rm.returncode == 0, rm.stderr


def test_a_failing_job_that_takes_its_dir_away_still_fails(nobody_dir):
    run = run_job_as_nobody(nobody_dir, sh("chmod 000 _stderr.txt .; exit 3"))
    assert run.returncode == 3, run.stderr
    info = closed_out(job_dirs(nobody_dir / "root")[0])
    assert info["job_status"] == "job-failed"
    assert info["error"] == "Got non-zero exit code: 3"


def test_a_job_that_removes_its_own_dir_fails_with_one_message(nobody_dir):
    run = run_job_as_nobody(nobody_dir, sh('rm -rf "$PWD"'))
    assert run.returncode == 1, run.stderr
    assert "the job removed its work dir" in run.stdout, run.stdout + run.stderr
    assert job_dirs(nobody_dir / "root") == []


def test_a_job_that_moves_its_dir_away_has_it_closed_out_where_it_went(nobody_dir):
    target = nobody_dir / "elsewhere"
    target.mkdir()
    os.chown(target, NOBODY, NOBODY)
    run = run_job_as_nobody(nobody_dir, sh(
        f'd=$PWD; cd ..; mv "$d" "$d.moved"; chmod 000 "$d.moved"; '
        f'ln -s {shlex.quote(str(target))} "$d"'))
    assert run.returncode == 1, run.stderr
    assert "the job moved (to " in run.stdout, run.stdout + run.stderr
    assert list(target.iterdir()) == []  # nothing written through the link
    [moved] = job_dirs(nobody_dir / "root")
    assert moved.name.endswith(".moved")
    info = closed_out(moved)  # no longer left open: it can be scrubbed
    assert info["job_status"] == "job-failed"
    assert "moved (to " in info["error"]


def test_an_unprivileged_worker_archives_and_removes_what_such_jobs_left(
        services, celery_app, queue_name, nobody_dir):
    archives = nobody_dir / "archives"
    root = nobody_dir / "root"
    args = ["--broker", services.state["amqp_url"], "--result-backend", services.state["redis_url"],
            "-Q", queue_name, "--root-work-dir", str(root), "--kill-grace", "1",
            "--archive-work-dir", f"file://{archives}/", "--archive-on", "always",
            "--max-work-dir-size", "1"]
    worker = NobodyWorker(args, nobody_dir / "worker.log")
    try:
        worker.wait_for_log("connected to")
        hostile = sh(DEEP + " && rm _job.json && mkdir _job.json && chmod 000 _stdout.txt .")
        r = celery_app.send_task(RUN_JOB, args=[hostile], queue=queue_name)
        assert r.get(timeout=60)["status"] == "job-completed"
        name = f"{hostile['job_id']}-{r.id}.tar.gz"
        deadline = time.monotonic() + 10
        while not (archives / name).exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        with tarfile.open(archives / name) as tar:
            names = tar.getnames()
            base = hostile["job_id"]
            assert f"{base}/_stdout.txt" in names and f"{base}/.done" in names
            assert f"{base}/" + "/".join(["d"] * 300) + "/f" in names
            saved = json.loads(tar.extractfile(f"{base}/_job.json").read())
            assert saved["job_info"]["job_status"] == "job-completed"
        # The bound (1 byte) removed the finished dir, tree and all.
        deadline = time.monotonic() + 10
        while job_dirs(root) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert job_dirs(root) == [], worker.log()
        # And the worker serves the next job.
        nxt = celery_app.send_task(RUN_JOB, args=[sh("true")], queue=queue_name)
        assert nxt.get(timeout=30)["status"] == "job-completed"
        assert worker.proc.poll() is None
        assert refused(worker.log()) == [], worker.log()
    finally:
        worker.stop(signal.SIGQUIT)


def test_a_hidden_dir_left_by_a_killed_unprivileged_worker_is_closed_out_at_restart(
        services, celery_app, queue_name, nobody_dir):
    root = nobody_dir / "root"
    marker = nobody_dir / "first-run"
    args = ["--broker", services.state["amqp_url"], "--result-backend", services.state["redis_url"],
            "-Q", queue_name, "--root-work-dir", str(root), "--kill-grace", "1",
            "-n", f"np-{uuid.uuid4().hex[:6]}@e2e"]
    first = NobodyWorker(args, nobody_dir / "worker1.log")
    try:
        first.wait_for_log("connected to")
        # The first run hides its dir and hangs; the rerun just succeeds.
        script = f"if [ ! -e {marker} ]; then touch {marker}; chmod 000 .; sleep 300; fi"
        r = celery_app.send_task(RUN_JOB, args=[sh(script)], queue=queue_name)
        deadline = time.monotonic() + 20
        while not (job_dirs(root) and (job_dirs(root)[0].stat().st_mode & 0o777) == 0):
            assert time.monotonic() < deadline, first.log()
            time.sleep(0.05)
        [hidden] = job_dirs(root)
        first.proc.kill()  # SIGKILL: no close-out; the job's sleep goes on
        first.proc.wait()
    finally:
        first.stop()
    second = NobodyWorker(args, nobody_dir / "worker2.log")
    try:
        second.wait_for_log("connected to")
        assert "recovery: closed out " + str(hidden) in second.log(), second.log()
        info = closed_out(hidden)
        assert info["job_status"] == "job-failed" and "restarted" in info["error"]
        assert r.get(timeout=60)["status"] == "job-completed"  # redelivered, run again
        assert refused(second.log()) == [], second.log()
    finally:
        second.stop(signal.SIGQUIT)
