"""Shared helpers for the end-to-end tests: they run the real `verdi` binary."""

import json
import os
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
VERDI = os.environ.get("VERDI_BIN", str(REPO / "build" / "verdi" / "verdi"))


def make_job(command, job_id="e2e-job-20240101T000000.0Z", **extra):
    """A minimal run_job payload that runs `command` (a shell-quoted string)."""
    job = {
        "job_id": job_id,
        "type": "job-e2e:test",
        "context": {},
        "localize_urls": [],
        "params": {"_command": command},
        "job_info": {"id": job_id},
    }
    for key, value in extra.items():
        if key in ("soft_time_limit", "time_limit"):
            job["job_info"][key] = value
        else:
            job[key] = value
    return job


class Run:
    def __init__(self, proc, root):
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.root = root

    @property
    def job_dir(self):
        dirs = [p.parent for p in self.root.glob("jobs/*/*/*/*/*/*/.done")]
        assert len(dirs) == 1, f"expected one finished job dir, found {dirs}\n{self.stderr}"
        return dirs[0]

    def job_json(self):
        return json.loads((self.job_dir / "_job.json").read_text())


@pytest.fixture
def verdi(tmp_path):
    """Runs `verdi run_job` on a job dict (or raw text) with a private root."""
    root = tmp_path / "root"

    def run(job, args=(), env=None, timeout=60):
        job_file = tmp_path / "job.json"
        job_file.write_text(job if isinstance(job, str) else json.dumps(job))
        full_env = dict(os.environ)
        full_env.update(env or {})
        proc = subprocess.run(
            [VERDI, "run_job", "--root-work-dir", str(root), *args, str(job_file)],
            capture_output=True, text=True, env=full_env, timeout=timeout)
        return Run(proc, root)

    run.root = root
    run.tmp = tmp_path
    return run
