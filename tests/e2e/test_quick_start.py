"""The README's quick start, run as printed: its worker command line and its
Python client, against RabbitMQ and Redis on their default ports (the ones
already there, else private ones started on those ports for this test)."""

import pathlib
import re
import shlex
import socket
import subprocess
import time

from conftest import REPO, VERDI
from services import Services


def quick_start():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Quick start for a Celery user", 1)[1].split("\n## ", 1)[0]
    sh, python = re.findall(r"```(?:sh|python)\n(.*?)```", section, re.S)
    return sh.strip().splitlines(), python


def listening(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_the_quick_start_works_as_printed(tmp_path):
    sh, python = quick_start()
    install, build, worker = sh
    # The packages it names are the ones the tests run against.
    for package in install.split()[4:]:
        status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package],
                                capture_output=True, text=True).stdout
        assert status == "install ok installed", package
    assert build == "./scripts/build"  # done already: the binary under test is its output
    argv = shlex.split(worker)
    assert argv[0] == "build/verdi/verdi" and pathlib.Path(VERDI).resolve() == \
        (REPO / argv[0]).resolve()

    own = Services(tmp_path / "services")
    if not listening(6379):
        own.start_redis(port=6379)
    if not listening(5672):
        own.start_rabbitmq(port=5672)
    work = pathlib.Path(argv[argv.index("--root-work-dir") + 1])
    before = set(work.glob("jobs/*/*/*/*/*/hello-1"))
    log = open(tmp_path / "worker.log", "w")
    proc = subprocess.Popen(argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while "connected to" not in (tmp_path / "worker.log").read_text():
            assert proc.poll() is None and time.monotonic() < deadline, \
                (tmp_path / "worker.log").read_text()
            time.sleep(0.1)
        out = subprocess.run(["/usr/bin/python3", "-c", python], capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0, out.stderr
        assert "'status': 'job-completed'" in out.stdout and "'job_id': 'hello-1'" in out.stdout
        [job_dir] = set(work.glob("jobs/*/*/*/*/*/hello-1")) - before
        assert (job_dir / "_stdout.txt").read_text() == "hello\n"
        assert (job_dir / "_exit_code").read_text() == "0"
        assert (job_dir / "_job.json").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
        if "rabbitmq" in own.state:
            own.stop_rabbitmq()
        if "redis" in own.state:
            own.stop_redis()
