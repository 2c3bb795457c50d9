"""A `verdi worker` running a containerized job, killed with SIGKILL: the
container is removed at once (the job's watchdog), the next life of that
worker closes the job out as failed and then runs the redelivered task once. Real
RabbitMQ, Redis and podman (tests/podman_env.py)."""

import json
import subprocess
import sys
import time
import uuid

import msgpack
import pytest
import redis

from conftest import REPO, make_job

sys.path.insert(0, str(REPO / "tests"))
import podman_env  # noqa: E402

RUN_JOB = "hysds.job_worker.run_job"


def statuses(redis_url, key, task_id):
    client = redis.Redis.from_url(redis_url)
    docs = [msgpack.unpackb(raw, raw=False) for raw in client.lrange(key, 0, -1)]
    return [d for d in docs if d["uuid"] == task_id]


def wait_for(what, check, timeout=60):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_kill_9_orphan_container_removed_at_once(start_worker, celery_app, services,
                                                          queue_name, podman, tmp_path):
    key = f"logstash-{uuid.uuid4().hex[:8]}"
    url = services.state["redis_url"]
    name = f"ckill-{uuid.uuid4().hex[:8]}@test"
    args = ["-c", "1", "--container-engine", "podman", "-n", name,
            "--redis-job-status-url", url, "--redis-job-status-key", key]
    shared = tmp_path / "shared"
    shared.mkdir()
    # The first run waits forever; the rerun finishes.
    script = ("echo run >> /m/runs; if [ -e /m/first ]; then echo second; "
              "else touch /m/first; sleep 600; fi")
    job_id = f"ckill-{uuid.uuid4().hex[:8]}"
    payload = make_job(f"sh -c '{script}'", job_id=job_id, container_image_name=podman.image,
                       container_mappings={str(shared): ["/m", "rw"]})
    label = f"verdi.worker={name}"

    first = start_worker(*args, env=podman.env)
    result = celery_app.send_task(RUN_JOB, args=[payload], queue=queue_name)
    wait_for("the container to start", lambda: (shared / "first").exists())
    [container] = podman.containers(label)
    first.proc.kill()
    first.proc.wait()
    # The container does not run on without its worker: removed at once, not
    # when a later life of the worker comes to recover.
    wait_for("the orphan container to be removed", lambda: podman.containers(label) == [],
             timeout=30)

    second = start_worker(*args, env=podman.env)
    summary = result.get(timeout=120)
    assert summary["status"] == "job-completed"
    assert podman.containers(label) == []
    assert (shared / "runs").read_text() == "run\nrun\n", "killed once, then run once"

    dirs = sorted(p.parent for p in (tmp_path / "root").glob("jobs/*/*/*/*/*/*/_job.json"))
    assert len(dirs) == 2 and all((d / ".done").exists() for d in dirs)
    jobs = {json.loads((d / "_job.json").read_text())["job_info"]["job_status"]: d for d in dirs}
    assert set(jobs) == {"job-failed", "job-completed"}
    reason = f"Worker {name} restarted while this job was running: its processes were killed, job failed."
    failed = json.loads((jobs["job-failed"] / "_job.json").read_text())["job_info"]
    assert failed["error"] == reason
    assert (jobs["job-failed"] / "_stderr.txt").read_text().endswith(reason + "\n")
    assert (jobs["job-completed"] / "_stdout.txt").read_text() == "second\n"

    # The rerun's job-started comes after a terminal status of the same uuid:
    # the HC-639 guard drops it (events/status_sink.h); its final status goes.
    wait_for("three statuses", lambda: len(statuses(url, key, result.id)) >= 3, timeout=20)
    docs = statuses(url, key, result.id)
    assert [d["status"] for d in docs] == ["job-started", "job-failed", "job-completed"]
    assert docs[1]["error"] == reason and docs[1]["job"]["job_id"] == job_id
    assert docs[1]["job"]["job_info"]["job_dir"] == str(jobs["job-failed"])
    assert docs[2]["job"]["job_info"]["job_dir"] == str(jobs["job-completed"])
    assert redis.Redis.from_url(url).get(f"hysds-job-status-{result.id}") == b"job-completed"
