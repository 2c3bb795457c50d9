"""`verdi run_job JOB.json` end to end: the real binary, real processes, a
real work root in a temp dir."""

import json
import os
import pathlib
import resource
import shlex
import signal
import subprocess
import time

import pytest

from conftest import REPO, SECRET_ENV, VERDI, files_holding, make_job, secret_worker_config

EXAMPLE = REPO / "examples" / "hello_world" / "test_job.json"


def read(path):
    return pathlib.Path(path).read_text()


def pid_alive(pid):
    try:
        stat = read(f"/proc/{pid}/stat")
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_example_job_leaves_every_file_with_correct_contents(verdi):
    run = verdi(EXAMPLE.read_text())
    assert run.returncode == 0, run.stderr
    d = run.job_dir
    assert f"work dir: {d}" in run.stdout
    assert "job-completed" in run.stdout

    # Layout: <root>/jobs/YYYY/MM/DD/HH/mm/<job_id>, .running renamed to .done.
    rel = d.relative_to(run.root).parts
    assert rel[0] == "jobs" and rel[-1] == "hello_world-20240101T000000.0Z"
    assert [len(p) for p in rel[1:6]] == [4, 2, 2, 2, 2]
    assert not (d / ".running").exists()
    assert read(d / ".done").strip().endswith("Z")

    assert read(d / "_stdout.txt") == "Hello, World!\ncontext has 38 lines\n" or \
        read(d / "_stdout.txt").startswith("Hello, World!\ncontext has ")
    assert read(d / "greeting.txt") == "Hello, World!\n"
    assert read(d / "_stderr.txt") == ""
    assert read(d / "_exit_code").strip() == "0"
    assert not (d / ".exit_code_hold").exists()

    job = run.job_json()
    info = job["job_info"]
    assert info["job_dir"] == str(d)
    assert info["status"] == 0
    assert info["job_status"] == "job-completed"
    assert info["pid"] == int(read(d / "_pid"))
    assert info["pid"] > 0
    for key in ("time_start", "cmd_start", "cmd_end", "time_end"):
        assert info[key].endswith("Z") and "T" in info[key], key
    assert info["time_start"] <= info["cmd_start"] <= info["cmd_end"] <= info["time_end"]
    assert 0 <= info["cmd_duration"] <= info["duration"] < 30
    assert info["metrics"]["job_dir_size"] > len(read(d / "_job.json")) // 2
    assert info["metrics"]["inputs_localized"] == []
    assert info["execute_node"]
    assert info["job_url"].endswith("/" + "/".join(rel))
    assert info["job_url"].startswith("http://")
    assert info["context_file"] == str(d / "_context.json")
    # What the payload carried stays as it was.
    assert info["payload_hash"] == "0123456789abcdef0123456789abcdef"
    assert job["command"]["path"] == "/bin/sh"
    assert job["command"]["arguments"][-2:] == ["Hello", "World"]
    assert len(job["task_id"]) == 36  # made up: the payload had none

    ctx = json.loads(read(d / "_context.json"))
    assert ctx["greeting"] == "Hello" and ctx["name"] == "World"
    assert ctx["note"] == "written by examples/hello_world"
    assert "context" not in ctx  # an empty caller context is not wrapped
    assert ctx["_prov"] == {"wasGeneratedBy": "task_id:" + job["task_id"]}
    assert ctx["_force_ingest"] is False
    assert ctx["job_priority"] == 0
    assert ctx["container_image_name"] is None

    # _run.sh repeats exactly the same argv.
    assert os.access(d / "_run.sh", os.X_OK)
    rerun = subprocess.run([str(d / "_run.sh")], cwd=d, capture_output=True, text=True)
    assert rerun.returncode == 0
    assert rerun.stdout == read(d / "_stdout.txt")


def test_run_sh_quotes_every_argument(verdi):
    words = ["it's", "two words", "$HOME/x", "`id`", "*", "", 'say "hi"', "back\\slash"]
    command = shlex.join(["/usr/bin/printf", "[%s]\\n", *words])
    run = verdi(make_job(command))
    assert run.returncode == 0, run.stderr
    expected = "".join(f"[{w}]\n" for w in words)
    assert read(run.job_dir / "_stdout.txt") == expected
    rerun = subprocess.run(["/bin/bash", str(run.job_dir / "_run.sh")], capture_output=True, text=True)
    assert rerun.stdout == expected


def test_non_zero_exit_fails_the_job_with_its_code(verdi):
    run = verdi(make_job("/bin/sh -c 'echo oops >&2; exit 3'"))
    assert run.returncode == 3
    d = run.job_dir
    assert read(d / "_exit_code").strip() == "3"
    assert read(d / "_stderr.txt") == "oops\n"
    info = run.job_json()["job_info"]
    assert info["status"] == 3
    assert info["job_status"] == "job-failed"
    assert info["error"] == "Got non-zero exit code: 3"
    assert "time_end" in info and "duration" in info  # HySDS leaves these out on failure
    assert "job-failed" in run.stdout


def test_killed_by_a_signal_is_a_negative_status(verdi):
    run = verdi(make_job("/bin/sh -c 'kill -KILL $$'"))
    assert run.returncode == 128 + 9
    assert read(run.job_dir / "_exit_code").strip() == "-9"
    info = run.job_json()["job_info"]
    assert info["status"] == -9
    assert info["error"] == "Got non-zero exit code: -9"


def test_soft_time_limit_terms_then_notes_it(verdi):
    job = make_job("/bin/sleep 30", soft_time_limit=1, time_limit=20)
    start = time.monotonic()
    run = verdi(job, args=["--kill-grace", "1"])
    elapsed = time.monotonic() - start
    assert elapsed < 6, elapsed
    assert run.returncode == 128 + 15
    d = run.job_dir
    assert read(d / "_exit_code").strip() == "-15"
    note = "Soft time limit (1s) exceeded for e2e-job-20240101T000000.0Z.\n"
    assert read(d / "_stderr.txt").endswith(note)
    info = run.job_json()["job_info"]
    assert info["job_status"] == "job-failed"
    # HySDS's error: str(SoftTimeLimitExceeded()); verdi's line stays in _stderr.txt.
    assert info["error"] == "SoftTimeLimitExceeded()"


def test_soft_time_limit_kills_a_job_that_ignores_term(verdi):
    job = make_job("/bin/sh -c \"trap '' TERM; sleep 30 & wait; sleep 30\"",
                   soft_time_limit=1, time_limit=20)
    start = time.monotonic()
    run = verdi(job, args=["--kill-grace", "1"])
    assert time.monotonic() - start < 8
    assert read(run.job_dir / "_exit_code").strip() == "-9"
    assert "Soft time limit (1s) exceeded" in read(run.job_dir / "_stderr.txt")


def test_hard_time_limit_kills_and_closes_out(verdi):
    job = make_job("/bin/sh -c \"trap '' TERM; sleep 30\"", time_limit=1)
    start = time.monotonic()
    run = verdi(job)
    assert time.monotonic() - start < 6
    d = run.job_dir
    assert read(d / "_exit_code").strip() == "-9"
    assert read(d / "_stderr.txt").endswith(
        "Hard time limit (1s) exceeded for e2e-job-20240101T000000.0Z.\n")
    info = run.job_json()["job_info"]
    assert info["job_status"] == "job-failed"
    assert info["status"] == -9
    assert (d / ".done").exists()


def test_100_mb_without_newlines_is_kept_with_bounded_memory(verdi):
    size = 100_000_000
    job = make_job(f"/bin/sh -c 'head -c {size} /dev/zero | tr \"\\\\0\" x'")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    run = verdi(job, timeout=120)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert run.returncode == 0, run.stderr
    out = run.job_dir / "_stdout.txt"
    assert out.stat().st_size == size
    with open(out, "rb") as f:
        assert f.read(1 << 20) == b"x" * (1 << 20)
        f.seek(-(1 << 20), os.SEEK_END)
        assert f.read() == b"x" * (1 << 20)
    # verdi (and its children) never held the output in memory.
    assert max(before, peak_kib) < 64 * 1024, peak_kib


def test_binary_output_is_kept_byte_for_byte(verdi):
    data = bytes(range(256)) * 16
    src = verdi.tmp / "blob"
    src.write_bytes(data)
    run = verdi(make_job(f"/bin/cat {src}"))
    assert run.returncode == 0
    assert (run.job_dir / "_stdout.txt").read_bytes() == data


def test_missing_executable_ends_as_hysds_runner_ends_it(verdi):
    # HySDS's runner cannot exec: _exit_code 1, no _pid, job_info.status 1,
    # pid null, "Got non-zero exit code: 1"; verdi's reason is in _stderr.txt.
    run = verdi(make_job("/no/such/program --flag"))
    assert run.returncode == 1
    d = run.job_dir
    assert read(d / "_exit_code").strip() == "1"
    assert not (d / "_pid").exists()
    assert read(d / "_stderr.txt") == \
        "cannot execute /no/such/program: No such file or directory\n"
    info = run.job_json()["job_info"]
    assert info["job_status"] == "job-failed"
    assert info["status"] == 1
    assert info["pid"] is None
    assert info["error"] == "Got non-zero exit code: 1"


def test_non_executable_file_ends_as_hysds_runner_ends_it(verdi):
    script = verdi.tmp / "not-executable.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    run = verdi(make_job(str(script)))
    assert run.returncode == 1
    assert "Permission denied" in read(run.job_dir / "_stderr.txt")
    info = run.job_json()["job_info"]
    assert (info["status"], info["pid"], info["error"]) == (1, None, "Got non-zero exit code: 1")


@pytest.mark.parametrize("text,what", [
    ('{"job_id": "x", "type": ', "invalid JSON"),          # truncated
    ('{"job_id": "x" "type": "t"}', "invalid JSON"),        # malformed
    ('[1, 2]', "job: expected an object, got a list"),
    ('{"type": "t", "params": {"_command": "true"}}', "job.job_id: is missing"),
    ('{"job_id": 7, "type": "t"}', "job.job_id: expected a string, got 7"),
    ('{"job_id": "a", "type": "t", "params": {"_command": "true", "_disk_usage": "5G"}}',
     "job.params._disk_usage: expected a size"),
    ('{"job_id": "a", "type": "t", "params": {"job_specification": {"command": 42, "params": []}}}',
     "job.params.job_specification.command: expected a string, got 42"),
    ('{"job_id": "a", "type": "t", "params": {}}', "job.params._command: is missing"),
    ('{"job_id": "a", "type": "t", "params": {"_command": "echo \'unclosed"}}',
     "job.params._command: no closing quote"),
])
def test_invalid_input_exits_2_with_one_message_and_creates_nothing(verdi, text, what):
    run = verdi(text)
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert what in lines[0]
    assert "job.json" in lines[0]  # names the file
    assert not run.root.exists()


def test_job_id_that_escapes_the_root_is_rejected(verdi):
    outside = verdi.tmp / "escaped"
    run = verdi(make_job("/bin/touch pwned", job_id="../../../../../../../escaped"))
    assert run.returncode == 2
    assert "job.job_id: contains '/'" in run.stderr
    assert not run.root.exists()
    assert not outside.exists()
    assert sorted(p.name for p in verdi.tmp.iterdir()) == ["job.json"]


def test_worker_config_splices_list_params(verdi):
    cfg = verdi.tmp / "worker.json"
    cfg.write_text(json.dumps({"configs": [{
        "type": "job-e2e:test",
        "command": {"path": "/usr/bin/printf", "options": ["[%s]\\n"],
                    "arguments": ["$files", "$count", "literal$x"],
                    "env": [{"key": "E2E_VAR", "value": "v"}]}}]}))
    job = make_job("ignored: the worker config wins")
    job["params"].update({"files": ["a b", "c"], "count": 2})
    run = verdi(job, env={"HYSDS_WORKER_CFG": str(cfg)})
    assert run.returncode == 0, run.stderr
    assert read(run.job_dir / "_stdout.txt") == "[a b]\n[c]\n[2]\n[literal$x]\n"
    assert run.job_json()["command"]["env"] == [{"key": "E2E_VAR", "value": "v"}]
    assert "export E2E_VAR=v\n" in read(run.job_dir / "_run.sh")


def test_no_secret_reaches_the_work_dir_yet_the_command_has_them(verdi):
    cfg = secret_worker_config(verdi.tmp / "worker.json")
    run = verdi(make_job("ignored"), env={"HYSDS_WORKER_CFG": str(cfg), **SECRET_ENV})
    assert run.returncode == 0, run.stderr  # the command found every value it needed
    d = run.job_dir
    assert read(d / "_stdout.txt") == "all there\n"
    assert files_holding(run.root) == []
    assert "topsecret" not in run.stdout + run.stderr
    env = {e["key"]: e["value"] for e in run.job_json()["command"]["env"]}
    assert env == {"MY_API_TOKEN": "***", "RESULTS": "redis://:***@h:6379/0",
                   "BROKER": "amqp://u:***@h//", "PLAIN": "visible"}
    script = read(d / "_run.sh")
    assert "# MY_API_TOKEN: secret value removed; export it before running\n" in script
    assert "# RESULTS: credentials removed; export it before running\n" in script
    assert "#MY_BROKER_URL=amqp://u:***@h//\n" in script
    assert "#AWS_SECRET_ACCESS_KEY=***\n" in script
    assert "export PLAIN=visible\n" in script
    # Whoever has the secrets re-runs the job; without them it fails.
    secrets = {"MY_API_TOKEN": "topsecret", "RESULTS": "redis://:topsecret@h:6379/0",
               "BROKER": "amqp://u:topsecret@h//", **SECRET_ENV}
    rerun = subprocess.run([str(d / "_run.sh")], cwd=d, capture_output=True, text=True,
                           env={**os.environ, **secrets})
    assert (rerun.returncode, rerun.stdout) == (0, "all there\n"), rerun.stderr
    rerun = subprocess.run([str(d / "_run.sh")], cwd=d, capture_output=True, text=True,
                           env={"PATH": os.environ["PATH"]})
    assert rerun.returncode != 0


def test_unknown_type_in_worker_config_is_invalid(verdi):
    cfg = verdi.tmp / "worker.json"
    cfg.write_text(json.dumps({"configs": [{"type": "other", "command": {"path": "/bin/true"}}]}))
    run = verdi(make_job("/bin/true"), env={"HYSDS_WORKER_CFG": str(cfg)})
    assert run.returncode == 2
    assert "no work configuration for type 'job-e2e:test'" in run.stderr
    assert not run.root.exists()


def test_a_context_the_job_breaks_fails_the_job(verdi):
    run = verdi(make_job("/bin/sh -c 'echo {broken > _context.json'"))
    assert run.returncode == 1
    info = run.job_json()["job_info"]
    assert info["job_status"] == "job-failed"
    assert "_context.json" in info["error"]
    assert info["status"] == 1


def test_not_enough_disk_fails_before_the_job_dir_with_figures(verdi):
    # Even removing every finished job could not make room for 1000TB: the
    # finished job from before is kept, not scrubbed for nothing.
    old = verdi.root / "jobs" / "2000" / "01" / "01" / "00" / "00" / "old-job"
    old.mkdir(parents=True)
    for name, text in ((".done", "2000-01-01T00:00:00Z\n"), ("_exit_code", "0"),
                       ("_job.json", "{}"), ("_context.json", "{}")):
        (old / name).write_text(text)
    running = verdi.root / "jobs" / "2000" / "01" / "01" / "00" / "00" / "running-job"
    running.mkdir(parents=True)
    (running / ".running").write_text("2000-01-01T00:00:00Z\nsomeone\n")

    job = make_job("/bin/touch ran")
    job["params"]["_disk_usage"] = "1000TB"
    run = verdi(job)
    assert run.returncode == 1
    assert "not enough free disk space" in run.stderr
    assert "% free" in run.stderr and "needs" in run.stderr
    assert "none was removed" in run.stderr
    assert old.exists()              # finished, but removing it would not help
    assert running.exists()          # running: never touched
    assert not list(verdi.root.glob("jobs/*/*/*/*/*/e2e-job-*"))


@pytest.mark.parametrize("sig,status", [
    (signal.SIGTERM, "job-terminated"),
    (signal.SIGINT, "job-interrupted"),
    (signal.SIGHUP, "job-hangup"),
    (signal.SIGQUIT, "job-quit"),
    (signal.SIGABRT, "job-aborted"),
])
def test_signal_to_verdi_is_forwarded_and_the_job_closed_out(verdi, sig, status):
    root = verdi.root
    job_file = verdi.tmp / "job.json"
    job_file.write_text(json.dumps(make_job("/bin/sleep 60")))
    proc = subprocess.Popen([VERDI, "run_job", "--root-work-dir", str(root), "--kill-grace", "2",
                             str(job_file)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 10
    pid_files = []
    while time.monotonic() < deadline and not pid_files:
        pid_files = list(root.glob("jobs/*/*/*/*/*/*/_pid"))
        time.sleep(0.05)
    assert pid_files, "the job never started"
    child = int(read(pid_files[0]))
    assert pid_alive(child)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=15)
    d = pid_files[0].parent
    assert (d / ".done").exists() and not (d / ".running").exists()
    assert not pid_alive(child)
    info = json.loads(read(d / "_job.json"))["job_info"]
    assert info["job_status"] == status
    assert info["signum"] == sig
    assert info["error"] == f"caught signal {int(sig)}"
    assert info["status"] == -int(sig)  # sleep dies of the forwarded signal
    assert proc.returncode == 128 + int(sig)
    assert status in out


def test_help_and_version():
    out = subprocess.run([VERDI, "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("verdi ")
    out = subprocess.run([VERDI, "run_job", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for flag in ("--root-work-dir", "--worker-config", "--kill-grace", "JOB.json"):
        assert flag in out.stdout
