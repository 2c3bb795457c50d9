"""Jobs written by an attacker, run by `verdi run_job`: what a job leaves in
its work dir after its command (links, FIFOs, hostile JSON, a replaced work
dir) and hostile payloads. Each attack is refused or contained: nothing
outside the work dir is read or written, the job is closed out with one
message saying what was wrong and where, and verdi itself ends normally."""

import json
import os
import shlex
import time

from conftest import wait_until_gone, make_job


HOST = "host file: must stay as it is\n"


def host_file(tmp_path):
    path = tmp_path / "host.txt"
    path.write_text(HOST)
    return path


def sh(script, **extra):
    """A job whose command is a shell script, passed as one argument."""
    return make_job("/bin/sh -c " + shlex.quote(script), **extra)


def ended_normally(run):
    # verdi exits with the job's code; a crash of verdi itself is a signal.
    assert run.returncode >= 0, (run.returncode, run.stderr)
    assert "terminate called" not in run.stderr


def test_out_of_range_number_in_context_fails_the_job_not_verdi(verdi):
    run = verdi(sh("echo '{\"a\":1e999999}' > _context.json"))
    ended_normally(run)
    assert run.returncode == 1
    info = run.job_json()["job_info"]
    assert info["job_status"] == "job-failed"
    assert "_context.json: invalid JSON" in info["error"]


def test_deeply_nested_context_fails_the_job_not_verdi(verdi):
    cmd = "python3 -c \"print('['*100000 + ']'*100000)\" > _context.json"
    run = verdi(sh(cmd))
    ended_normally(run)
    assert "nested deeper than 128 levels" in run.job_json()["job_info"]["error"]


def test_deeply_nested_payload_is_refused_in_one_line(verdi):
    job = make_job("true")
    text = json.dumps(job)[:-1] + ', "deep": ' + "[" * 100000 + "]" * 100000 + "}"
    run = verdi(text)
    assert run.returncode == 2, run.stderr
    assert "nested deeper than 128 levels" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert not list(run.root.glob("jobs/*/*/*/*/*/*"))


def test_context_swapped_for_a_link_is_not_read(verdi, tmp_path):
    host = host_file(tmp_path)
    run = verdi(sh(f"rm _context.json && ln -s {shlex.quote(str(host))} _context.json"))
    ended_normally(run)
    info = run.job_json()["job_info"]
    assert info["job_status"] == "job-failed"
    assert "is or goes through a symlink: refused" in info["error"]
    assert host.read_text() == HOST


def test_context_swapped_for_a_fifo_does_not_hang(verdi):
    start = time.monotonic()
    run = verdi(sh("rm _context.json && mkfifo _context.json"), timeout=30)
    assert time.monotonic() - start < 20
    ended_normally(run)
    assert "not a regular file" in run.job_json()["job_info"]["error"]


def test_soft_limit_note_is_never_written_through_a_link(verdi, tmp_path):
    host = host_file(tmp_path)
    cmd = f"rm _stderr.txt; ln -s {shlex.quote(str(host))} _stderr.txt; sleep 30"
    run = verdi(sh(cmd, soft_time_limit=1, time_limit=20), args=["--kill-grace", "1"])
    ended_normally(run)
    assert host.read_text() == HOST
    assert run.job_json()["job_info"]["error"] == "SoftTimeLimitExceeded()"


def test_a_link_to_the_host_root_is_not_walked_for_the_dir_size(verdi):
    start = time.monotonic()
    run = verdi(sh("ln -s / rootlink && ln -s /usr usrlink"))
    assert run.returncode == 0, run.stderr
    assert time.monotonic() - start < 15
    size = run.job_json()["job_info"]["metrics"]["job_dir_size"]
    assert size < 10 * 1024 * 1024, size


def test_a_replaced_work_dir_is_not_written_through(verdi, tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    cmd = (f"d=$PWD; cd ..; mv \"$d\" \"$d.moved\"; ln -s {shlex.quote(str(target))} \"$d\"")
    run = verdi(sh(cmd))
    ended_normally(run)
    assert list(target.iterdir()) == []  # no _job.json, no .done, nothing
    assert "the job moved (to " in run.stdout
    # The dir verdi made is closed out where the job put it; the link is gone.
    [moved] = list(run.root.glob("jobs/*/*/*/*/*/*"))
    assert moved.name.endswith(".moved") and (moved / ".done").exists()
    assert json.loads((moved / "_job.json").read_text())["job_info"]["job_status"] == "job-failed"


def test_a_nul_in_an_argument_is_refused_before_anything_runs(verdi, tmp_path):
    job = make_job(f"/bin/touch {tmp_path}/ran $arg")
    job["params"]["arg"] = "a\u0000b"
    run = verdi(job)
    assert run.returncode == 2, run.stderr
    assert "contains a NUL byte" in run.stderr
    assert not (tmp_path / "ran").exists()


def test_a_daemon_started_in_another_session_ends_with_the_job(verdi, tmp_path):
    pid_file = tmp_path / "daemon.pid"
    # The daemon starts once the job runs (a process forked in the very
    # first instant, before verdi moves the command into its cgroup, is only
    # reachable through the process group: see the README's Security model).
    script = (f"sleep 0.2; setsid sh -c 'echo $$ > {shlex.quote(str(pid_file))}; "
              "exec sleep 300' </dev/null >/dev/null 2>&1 & sleep 0.7")
    run = verdi(sh(script))
    assert run.returncode == 0, run.stderr
    pid = int(pid_file.read_text())
    alive = not wait_until_gone(pid)
    if alive:
        os.kill(pid, 9)
    assert not alive, "the setsid daemon outlived its job"
