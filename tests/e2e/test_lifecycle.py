"""`verdi worker`'s lifecycle options against the real RabbitMQ and Redis:
self-exit rules, the work root's size bound, ephemeral work roots, pass-down
termination, task groups and the echo worker."""

import json
import os
import pathlib
import signal
import socket
import subprocess
import time
import uuid

import msgpack
import pytest
import redis
from kombu import Connection

from conftest import SECRET_ENV, VERDI, files_holding, make_job, secret_worker_config
from nginx_server import NginxServer

RUN_JOB = "hysds.job_worker.run_job"


def job(command, **extra):
    return make_job(command, job_id=f"lc-{uuid.uuid4().hex[:10]}", **extra)


def queue_depth(amqp_url, queue):
    """(messages ready, consumers) by a passive declare, as `verdi manager` sees them."""
    with Connection(amqp_url) as conn:
        _, messages, consumers = conn.default_channel.queue_declare(queue=queue, passive=True)
        return messages, consumers


def wait_exit(worker, timeout):
    try:
        return worker.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"worker still running after {timeout} s:\n{worker.log()}")


def tree_size(root):
    """Apparent bytes under root, symlinks not followed (what the bound counts)."""
    total = 0
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def job_dirs(root):
    return sorted(p.parent for p in pathlib.Path(root).glob("jobs/*/*/*/*/*/*/_job.json"))


# -- self-exit ---------------------------------------------------------------


def test_exit_when_idle_after_the_last_job(start_worker, celery_app, queue_name):
    worker = start_worker("--exit-when-idle", "--idle-seconds", "1.5")
    result = celery_app.send_task(RUN_JOB, args=[job("/bin/sleep 1")], queue=queue_name)
    assert result.get(timeout=30)["status"] == "job-completed"
    ended = time.monotonic()
    assert wait_exit(worker, 15) == 0
    # Not before it had been idle for the idle seconds after the job.
    assert time.monotonic() - ended >= 1.0
    assert "--exit-when-idle" in worker.log()
    assert queue_depth(celery_app.conf.broker_url, queue_name) == (0, 0)


def test_exit_after_num_runs_requeues_what_it_did_not_take(start_worker, celery_app, queue_name,
                                                           services):
    # Prefetch 4: the broker hands it all four; it runs two and gives two back.
    worker = start_worker("--exit-after-num-runs", "2", "-c", "2", "--prefetch-multiplier", "2")
    results = [celery_app.send_task(RUN_JOB, args=[job("/bin/sleep 0.5")], queue=queue_name)
               for _ in range(4)]
    assert wait_exit(worker, 30) == 0
    states = sorted(r.state for r in results)
    assert states == ["PENDING", "PENDING", "SUCCESS", "SUCCESS"], worker.log()
    assert queue_depth(services.state["amqp_url"], queue_name) == (2, 0)
    assert "took 2 jobs (--exit-after-num-runs)" in worker.log()


def test_exit_on_exception_when_the_work_root_cannot_be_used(start_worker, celery_app,
                                                             queue_name, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "jobs").write_text("a file where the jobs directory should be")
    worker = start_worker("--exit-on-exception")
    result = celery_app.send_task(RUN_JOB, args=[job("/bin/true")], queue=queue_name)
    with pytest.raises(Exception) as raised:
        result.get(timeout=30)
    assert "create job directory" in str(raised.value)
    assert wait_exit(worker, 15) == 4
    assert "--exit-on-exception: create job directory" in worker.log()


def test_a_failing_job_does_not_stop_an_exit_on_exception_worker(start_worker, celery_app,
                                                                   queue_name):
    worker = start_worker("--exit-on-exception")
    failing = celery_app.send_task(RUN_JOB, args=[job("/bin/sh -c 'exit 3'")], queue=queue_name)
    with pytest.raises(Exception):
        failing.get(timeout=30)
    fine = celery_app.send_task(RUN_JOB, args=[job("/bin/true")], queue=queue_name)
    assert fine.get(timeout=30)["status"] == "job-completed"
    assert worker.proc.poll() is None


def test_without_exit_on_exception_an_unusable_root_fails_only_the_job(start_worker, celery_app,
                                                                       queue_name, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "jobs").write_text("not a directory")
    worker = start_worker()
    broken = celery_app.send_task(RUN_JOB, args=[job("/bin/true")], queue=queue_name)
    with pytest.raises(Exception):
        broken.get(timeout=30)
    time.sleep(0.5)
    assert worker.proc.poll() is None


def test_exit_on_exception_when_the_broker_is_gone(start_worker):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    worker = start_worker("--exit-on-exception", "--reconnect-attempts", "3",
                          broker=f"amqp://guest:guest@127.0.0.1:{port}//", ready=False)
    assert wait_exit(worker, 20) == 4
    assert "the broker is gone: 3 connection attempts in a row failed" in worker.log()


# -- the work root -----------------------------------------------------------


def test_max_work_dir_size_keeps_the_root_under_the_bound(start_worker, celery_app, queue_name,
                                                          tmp_path):
    root = tmp_path / "root"
    bound = 40000
    start_worker("--max-work-dir-size", str(bound))
    ids = []
    for i in range(5):
        payload = job("/bin/sh -c 'head -c 15000 /dev/zero > blob'")
        ids.append(payload["job_id"])
        r = celery_app.send_task(RUN_JOB, args=[payload], queue=queue_name)
        assert r.get(timeout=30)["status"] == "job-completed"
        time.sleep(0.2)  # the bound runs right after the result is stored
        assert tree_size(root) <= bound, (i, tree_size(root))
    left = [d.name for d in job_dirs(root)]
    assert ids[-1] in left and ids[0] not in left  # oldest first
    assert 1 <= len(left) <= 2


def test_keep_failed_work_dirs_removes_successful_ones_first(start_worker, celery_app, queue_name,
                                                             tmp_path):
    root = tmp_path / "root"
    start_worker("--max-work-dir-size", "40000", "--keep-failed-work-dirs")
    failed = job("/bin/sh -c 'head -c 15000 /dev/zero > blob; exit 1'")
    r = celery_app.send_task(RUN_JOB, args=[failed], queue=queue_name)
    with pytest.raises(Exception):
        r.get(timeout=30)
    ok_ids = []
    for _ in range(3):
        payload = job("/bin/sh -c 'head -c 15000 /dev/zero > blob'")
        ok_ids.append(payload["job_id"])
        assert celery_app.send_task(RUN_JOB, args=[payload], queue=queue_name).get(
            timeout=30)["status"] == "job-completed"
    time.sleep(0.2)
    left = [d.name for d in job_dirs(root)]
    assert failed["job_id"] in left  # the oldest, but failed: kept
    assert ok_ids[0] not in left and ok_ids[-1] in left
    assert tree_size(root) <= 40000


def test_delete_work_dir_on_exit(start_worker, celery_app, queue_name, tmp_path):
    root = tmp_path / "root"
    worker = start_worker("--delete-work-dir-on-exit", "--exit-after-num-runs", "1")
    r = celery_app.send_task(RUN_JOB, args=[job("/bin/sh -c 'echo x > out'")], queue=queue_name)
    assert r.get(timeout=30)["status"] == "job-completed"
    assert wait_exit(worker, 15) == 0
    assert not root.exists(), list(root.rglob("*"))
    assert "deleted (--delete-work-dir-on-exit)" in worker.log()


# -- termination, groups, echo ------------------------------------------------


def test_pass_down_termination_requeues_running_jobs_at_once(start_worker, celery_app,
                                                             queue_name, services, tmp_path):
    marker = tmp_path / "ran-once"
    # The first run waits; the second (after the requeue) ends at once.
    command = f"/bin/sh -c 'test -e {marker} && exit 0; touch {marker}; sleep 60'"
    worker = start_worker("--pass-down-termination", "-n", "passdown@%h")
    result = celery_app.send_task(RUN_JOB, args=[job(command)], queue=queue_name)
    deadline = time.monotonic() + 20
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists()
    stopped = time.monotonic()
    worker.proc.send_signal(signal.SIGTERM)
    wait_exit(worker, 15)
    assert time.monotonic() - stopped < 8  # not drained: the 60 s job was stopped
    assert queue_depth(services.state["amqp_url"], queue_name) == (1, 0)  # requeued, unacked
    dirs = job_dirs(tmp_path / "root")
    assert json.loads((dirs[0] / "_job.json").read_text())["job_info"]["job_status"] == \
        "job-terminated"
    # Another worker takes the requeued task and completes it.
    start_worker("-n", "second@%h")
    assert result.get(timeout=30)["status"] == "job-completed"


def test_group_routing_and_status(start_worker, celery_app, queue_name, services, tmp_path):
    groups = tmp_path / "groups.json"
    groups.write_text(json.dumps({"gpu": [queue_name + "-gpu"], "cpu": queue_name + "-cpu"}))
    key = f"logstash-{uuid.uuid4().hex[:8]}"
    url = services.state["redis_url"]
    start_worker("--group", "gpu", "--task-groups", str(groups),
                 "--redis-job-status-url", url, "--redis-job-status-key", key,
                 extra_args=(), queue=None)
    gpu = celery_app.send_task(RUN_JOB, args=[job("/bin/true")], queue=queue_name + "-gpu")
    cpu = celery_app.send_task(RUN_JOB, args=[job("/bin/true")], queue=queue_name + "-cpu")
    assert gpu.get(timeout=30)["status"] == "job-completed"
    time.sleep(0.5)
    assert cpu.state == "PENDING"
    assert queue_depth(services.state["amqp_url"], queue_name + "-cpu") == (1, 0)
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while client.llen(key) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    docs = [msgpack.unpackb(raw, raw=False) for raw in client.lrange(key, 0, -1)]
    assert [d["status"] for d in docs] == ["job-started", "job-completed"]
    assert all(d["job"]["job_info"]["worker_group"] == "gpu" for d in docs)
    # The worker also consumes -Q when it is given, and refuses an unknown group.
    bad = subprocess.run([VERDI, "worker", "--group", "tpu", "--task-groups", str(groups)],
                         capture_output=True, text=True, timeout=10)
    assert bad.returncode == 2
    assert f"--group tpu: no such group in {groups} (it has: cpu, gpu)" in bad.stderr


def test_echo_logs_and_acks_without_running(start_worker, celery_app, queue_name, services,
                                            tmp_path):
    worker = start_worker("--echo")
    payload = job("/bin/sh -c 'echo should not run > out'")
    result = celery_app.send_task(RUN_JOB, args=[payload], queue=queue_name)
    worker.wait_for_log("echo: ")
    with Connection(services.state["amqp_url"]) as conn:  # not JSON: shown raw, acked too
        conn.Producer().publish(b"\xff not json", exchange="", routing_key=queue_name,
                                content_type="application/json", content_encoding="utf-8")
    deadline = time.monotonic() + 10
    while worker.log().count("echo: ") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [l.split("echo: ", 1)[1] for l in worker.log().splitlines() if "echo: " in l]
    assert len(lines) == 2, worker.log()
    first, second = (json.loads(l) for l in lines)
    assert first["headers"]["task"] == RUN_JOB and first["headers"]["id"] == result.id
    assert first["body"][0][0]["job_id"] == payload["job_id"]
    assert first["delivery"]["routing_key"] == queue_name
    assert first["properties"]["content_type"] == "application/json"
    assert "body_error" in second and second["body_raw"].endswith("not json")
    time.sleep(0.3)
    assert queue_depth(services.state["amqp_url"], queue_name) == (0, 1)  # acked, still consuming
    assert result.state == "PENDING"  # nothing stored
    assert job_dirs(tmp_path / "root") == []


# -- archives ------------------------------------------------------------------


def final_statuses(url, key, count):
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while client.llen(key) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    docs = [msgpack.unpackb(raw, raw=False) for raw in client.lrange(key, 0, -1)]
    return {d["job_id"]: d for d in docs if d["status"] != "job-started"}


def test_archive_work_dir_of_failed_jobs_to_file(start_worker, celery_app, queue_name, services,
                                                 tmp_path):
    import tarfile
    archives = tmp_path / "archives"
    key = f"logstash-{uuid.uuid4().hex[:8]}"
    url = services.state["redis_url"]
    start_worker("--archive-work-dir", f"file://{archives}/", "--redis-job-status-url", url,
                 "--redis-job-status-key", key)
    failed = job("/bin/sh -c 'echo debug me > notes.txt; mkdir -p sub; echo x > sub/y; exit 2'")
    ok = job("/bin/true")
    r_failed = celery_app.send_task(RUN_JOB, args=[failed], queue=queue_name)
    with pytest.raises(Exception):
        r_failed.get(timeout=30)
    r_ok = celery_app.send_task(RUN_JOB, args=[ok], queue=queue_name)
    assert r_ok.get(timeout=30)["status"] == "job-completed"
    statuses = final_statuses(url, key, 4)
    name = f"{failed['job_id']}-{r_failed.id}.tar.gz"
    info = statuses[failed["job_id"]]["job"]["job_info"]
    assert info["work_dir_archive_url"] == f"file://{archives}/{name}"
    assert "work_dir_archive_url" not in statuses[ok["job_id"]]["job"]["job_info"]
    assert sorted(p.name for p in archives.iterdir()) == [name]  # the successful job: none
    with tarfile.open(archives / name) as tar:
        names = tar.getnames()
        base = failed["job_id"]
        for member in ("_job.json", "_stdout.txt", "_stderr.txt", ".done", "notes.txt", "sub/y"):
            assert f"{base}/{member}" in names, names
        assert tar.extractfile(f"{base}/notes.txt").read() == b"debug me\n"
        saved = json.loads(tar.extractfile(f"{base}/_job.json").read())
        assert saved["job_info"]["job_status"] == "job-failed"
    # Staging leaves nothing behind in the work root.
    assert list((tmp_path / "root" / "archives").iterdir()) == []


def test_no_secret_in_the_archive_the_statuses_or_the_work_dir(start_worker, celery_app,
                                                               queue_name, services, tmp_path):
    import tarfile
    archives = tmp_path / "archives"
    key = f"logstash-{uuid.uuid4().hex[:8]}"
    url = services.state["redis_url"]
    cfg = secret_worker_config(tmp_path / "worker.json")
    worker = start_worker("--archive-work-dir", f"file://{archives}", "--archive-on", "always",
                          "--redis-job-status-url", url, "--redis-job-status-key", key,
                          env={"HYSDS_WORKER_CFG": str(cfg), **SECRET_ENV})
    ok = job("ignored: the worker config wins")
    r = celery_app.send_task(RUN_JOB, args=[ok], queue=queue_name)
    result = r.get(timeout=30)
    assert result["status"] == "job-completed", worker.log()  # the command had every value
    statuses = redis.Redis.from_url(url).lrange(key, 0, -1)
    deadline = time.monotonic() + 10
    while len(statuses) < 2 and time.monotonic() < deadline:  # job-started, job-completed
        time.sleep(0.05)
        statuses = redis.Redis.from_url(url).lrange(key, 0, -1)
    docs = [msgpack.unpackb(raw, raw=False) for raw in statuses]
    assert [d["status"] for d in docs] == ["job-started", "job-completed"]
    assert [e["value"] for e in docs[0]["job"]["command"]["env"]][:3] == [
        "***", "redis://:***@h:6379/0", "amqp://u:***@h//"]
    for raw in statuses:
        assert b"topsecret" not in raw
    assert "topsecret" not in json.dumps(result)
    deadline = time.monotonic() + 5
    while not list(archives.glob("*.tar.gz")) and time.monotonic() < deadline:
        time.sleep(0.05)
    [archive] = archives.glob("*.tar.gz")
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        assert any(m.name.endswith("/_run.sh") for m in members), tar.getnames()
        for m in members:
            assert b"topsecret" not in tar.extractfile(m).read(), m.name
    assert files_holding(tmp_path / "root") == []
    assert "topsecret" not in worker.log()


def test_archive_on_always(start_worker, celery_app, queue_name, tmp_path):
    archives = tmp_path / "archives"
    start_worker("--archive-work-dir", f"file://{archives}", "--archive-on", "always")
    ok = job("/bin/true")
    r = celery_app.send_task(RUN_JOB, args=[ok], queue=queue_name)
    assert r.get(timeout=30)["status"] == "job-completed"
    deadline = time.monotonic() + 5
    while not list(archives.glob("*.tar.gz")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p.name for p in archives.glob("*.tar.gz")] == [f"{ok['job_id']}-{r.id}.tar.gz"]


def test_archive_to_webdav_through_the_uploader(start_worker, celery_app, queue_name, tmp_path):
    import tarfile
    with NginxServer(tmp_path / "nginx") as dav:
        start_worker("--archive-work-dir", f"{dav.url}/archives/run-1")
        failed = job("/bin/sh -c 'echo boom >&2; exit 5'")
        r = celery_app.send_task(RUN_JOB, args=[failed], queue=queue_name)
        with pytest.raises(Exception):
            r.get(timeout=30)
        stored = pathlib.Path(dav.root) / "archives" / "run-1" / f"{failed['job_id']}-{r.id}.tar.gz"
        assert stored.exists(), list(pathlib.Path(dav.root).rglob("*"))
        with tarfile.open(stored) as tar:
            assert tar.extractfile(f"{failed['job_id']}/_stderr.txt").read() == b"boom\n"


def test_archive_to_s3_signed(start_worker, celery_app, queue_name, tmp_path):
    import io
    import tarfile
    from s3_server import S3Server
    s3 = S3Server(tmp_path / "s3").start()
    try:
        start_worker("--archive-work-dir", f"s3://{s3.endpoint}/priv/archives", env=s3.env())
        failed = job("/bin/sh -c 'echo to s3 > out.txt; exit 4'")
        r = celery_app.send_task(RUN_JOB, args=[failed], queue=queue_name)
        with pytest.raises(Exception):
            r.get(timeout=30)
        key = f"archives/{failed['job_id']}-{r.id}.tar.gz"
        status, body = s3.get("priv", key)
        assert status == 200, s3.log_lines()
        with tarfile.open(fileobj=io.BytesIO(body)) as tar:
            assert tar.extractfile(f"{failed['job_id']}/out.txt").read() == b"to s3\n"
        assert f"PUT /priv/{key} signed" in "\n".join(s3.log_lines())
    finally:
        s3.stop()
