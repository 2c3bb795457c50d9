"""verdi dropped into a HySDS node: HySDS's rendered celeryconfig.py, the
worker line of sdscli's supervisord template with `celery` replaced by
`verdi`, jobs published by a Celery client configured from the same file (as
HySDS's orchestrator is), and Celery's worker options with their meaning."""

import importlib.util
import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import time
import uuid

import msgpack
import pytest
import redis

from conftest import REPO, VERDI, WorkerProcess, make_job
from services import Services

RUN_JOB = "hysds.job_worker.run_job"
FIXTURES = REPO / "tests" / "fixtures" / "celeryconfig"


def render(template, path, values):
    """Renders a fixture template as HySDS's Jinja templates are rendered:
    each {{ NAME }} filled in (with "x-NAME" when the test has no value)."""
    text = (FIXTURES / template).read_text()
    text = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: str(values.get(m.group(1), "x-" + m.group(1))),
                  text)
    path.write_text(text)
    return path


def values_for(services, tmp_path, queue):
    amqp = re.match(r"amqp://[^@]*@([^:/]+):(\d+)", services.state["amqp_url"])
    rds = re.match(r"redis://([^:/]+):(\d+)", services.state["redis_url"])
    return {
        "MOZART_RABBIT_USER": "guest", "MOZART_RABBIT_PASSWORD": "guest",
        "MOZART_RABBIT_PVT_IP": amqp.group(1), "MOZART_RABBIT_PORT": amqp.group(2),
        "MOZART_REDIS_PASSWORD": "", "MOZART_REDIS_PVT_IP": rds.group(1),
        "MOZART_REDIS_PORT": rds.group(2), "METRICS_REDIS_PASSWORD": "",
        "METRICS_REDIS_PVT_IP": rds.group(1), "ROOT_WORK_DIR": str(tmp_path / "root"),
        "QUEUE": queue, "CONTAINER_REGISTRY": "",
    }


def supervisord_env(tmp_path, cfg, status_key):
    """The environment sdscli's supervisord template gives the worker."""
    datasets = tmp_path / "datasets.json"
    datasets.write_text('{"datasets": []}')
    env = dict(os.environ)
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CELERY_CONFIG_MODULE",
                 "REDIS_JOB_STATUS_URL", "REDIS_JOB_STATUS_KEY", "REDIS_JOB_INFO_KEY"):
        env.pop(name, None)
    env.update({
        "HYSDS_ROOT_WORK_DIR": str(tmp_path / "root"),
        "HYSDS_CELERY_CFG": str(cfg),
        "HYSDS_DATASETS_CFG": str(datasets),
        "HYSDS_GPU_AVAILABLE": "false",
        "FACTER_ipaddress_eth0": "127.0.0.1",
        "FACTER_fqdn": socket.getfqdn(),
        "HOST_VERDI_HOME": str(tmp_path),
        "HOST_USER": "ops",
        # One status list per test on the shared Redis (the file says "logstash").
        "REDIS_JOB_STATUS_KEY": status_key,
        "REDIS_JOB_INFO_KEY": status_key + "-info",
    })
    return env


def supervisord_line(queue):
    """sdscli's `command=` for a verdi node's queue, `celery` replaced by
    `verdi`; -n is `%(program_name)s.__FQDN__`, the program named after the
    queue."""
    return ["--app=hysds", "worker", "--concurrency=1", "--loglevel=INFO", "-Q", queue,
            "-n", f"{queue}.{socket.getfqdn()}", "-O", "fair", "--without-mingle",
            "--without-gossip", "--heartbeat-interval=60"]


class Node:
    """A `verdi ...` started with a full command line (global options first)."""

    def __init__(self, args, log_path, env):
        self.log_path = log_path
        self.log_file = open(log_path, "w")
        self.proc = subprocess.Popen([VERDI, *args], stdout=self.log_file,
                                     stderr=subprocess.STDOUT, env=env)

    log = WorkerProcess.log
    wait_for_log = WorkerProcess.wait_for_log
    stop = WorkerProcess.stop


@pytest.fixture
def nodes():
    started = []

    def start(args, log_path, env, ready=True):
        node = Node(args, log_path, env)
        started.append(node)
        if ready:
            node.wait_for_log("connected to")
        return node

    yield start
    for node in started:
        node.stop(signal.SIGQUIT)


def celery_from(cfg):
    """A Celery client configured from the celeryconfig.py, as HySDS's apps are."""
    from celery import Celery
    spec = importlib.util.spec_from_file_location(f"celeryconfig_{uuid.uuid4().hex}", cfg)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = Celery("hysds")
    app.config_from_object(module)
    return app


def statuses(redis_url, key):
    client = redis.Redis.from_url(redis_url)
    return [msgpack.unpackb(raw, raw=False) for raw in client.lrange(key, 0, -1)]


def wait_for_status(redis_url, key, job_id, status, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for doc in statuses(redis_url, key):
            if doc.get("job_id") == job_id and doc.get("status") == status:
                return doc
        time.sleep(0.1)
    raise AssertionError(f"no {status} for {job_id}: {statuses(redis_url, key)}")


def stored_state(redis_url, task_id):
    raw = redis.Redis.from_url(redis_url).get(f"celery-task-meta-{task_id}")
    if raw is None:
        return None
    try:
        return json.loads(raw)["status"]
    except ValueError:
        return msgpack.unpackb(raw, raw=False)["status"]


@pytest.mark.parametrize("template", ["sdscli_verdi_celeryconfig.py.tmpl",
                                      "hysds_celeryconfig_old_names.py.tmpl"])
def test_the_supervisord_line_with_hysds_celeryconfig_runs_a_job(services, tmp_path, nodes,
                                                                  queue_name, template):
    cfg = render(template, tmp_path / "celeryconfig.py",
                 values_for(services, tmp_path, queue_name))
    key = f"logstash-{uuid.uuid4().hex[:8]}"
    env = supervisord_env(tmp_path, cfg, key)
    node = nodes(supervisord_line(queue_name), tmp_path / "worker.log", env)
    log = node.log()
    # Nothing of the file is passed over in silence; the result backend and
    # the broker are the file's, not guest@localhost's defaults.
    assert f"{cfg}:" in log and "ADMINS: not used by verdi" in log
    assert f"settings from {cfg}" in log
    assert "-A hysds: accepted" in log
    assert f"celery@{queue_name}.{socket.getfqdn()} ready: 1 job slots, queues {queue_name}" in log

    app = celery_from(cfg)
    try:
        job = make_job("/bin/sh -c 'echo hello from HySDS > out.txt'",
                       job_id=f"hysds-node-{uuid.uuid4().hex[:8]}")
        result = app.send_task(RUN_JOB, args=[job], queue=queue_name, priority=5,
                               soft_time_limit=600, time_limit=900)
        done = wait_for_status(services.state["redis_url"], key, job["job_id"], "job-completed")
        assert done["celery_hostname"] == f"celery@{queue_name}.{socket.getfqdn()}"
        job_dir = pathlib.Path(done["job"]["job_info"]["job_dir"])
        assert job_dir.is_relative_to(tmp_path / "root")  # HYSDS_ROOT_WORK_DIR
        assert (job_dir / "out.txt").read_text() == "hello from HySDS\n"
        deadline = time.monotonic() + 10
        while stored_state(services.state["redis_url"], result.id) != "SUCCESS":
            assert time.monotonic() < deadline, "no SUCCESS stored in the file's result backend"
            time.sleep(0.1)
    finally:
        app.close()
    # The queue was declared as the file says: x-max-priority 10.
    from kombu import Connection, Queue
    with Connection(services.state["amqp_url"]) as conn:
        Queue(queue_name, queue_arguments={"x-max-priority": 10}).bind(conn.default_channel) \
            .declare()  # the same arguments: no PRECONDITION_FAILED
    assert node.stop() == 0


@pytest.fixture(scope="module")
def tls_services(tmp_path_factory):
    """RabbitMQ and Redis with TLS listeners, for HySDS's own template (amqps://
    with broker_use_ssl, rediss://)."""
    services = Services(tmp_path_factory.mktemp("hysds-tls-services"), tls=True)
    try:
        yield services.start()
    finally:
        services.stop()


def test_hysds_template_over_tls_runs_a_job(tls_services, tmp_path, nodes, queue_name):
    # HySDS's configs/celery/celeryconfig.py.tmpl: amqps:// with broker_use_ssl
    # {'ca_certs': ..., 'cert_reqs': ssl.CERT_NONE, 'ciphers': ...}, rediss://
    # results and statuses with ssl_cert_reqs=none.
    amqps = re.match(r"amqps://[^@]*@([^:/]+):(\d+)", tls_services.state["amqps_url"])
    rediss = re.match(r"rediss://([^:/]+):(\d+)", tls_services.state["rediss_url"])
    values = {
        "MOZART_RABBIT_USER": "guest", "MOZART_RABBIT_PASSWORD": "guest",
        "MOZART_RABBIT_PVT_IP": amqps.group(1), "MOZART_RABBIT_PORT": amqps.group(2),
        "CA_BUNDLE_CERT": tls_services.state["tls"]["ca"], "CIPHERS": "HIGH:!aNULL",
        "MOZART_REDIS_PASSWORD": "", "MOZART_REDIS_PVT_IP": rediss.group(1),
        "MOZART_REDIS_PORT": rediss.group(2), "METRICS_REDIS_PASSWORD": "",
        "METRICS_REDIS_PVT_IP": rediss.group(1), "ROOT_WORK_DIR": str(tmp_path / "root"),
        "CONTAINER_REGISTRY": "",
    }
    cfg = render("hysds_celeryconfig.py.tmpl", tmp_path / "celeryconfig.py", values)
    key = f"logstash-{uuid.uuid4().hex[:8]}"
    node = nodes(supervisord_line(queue_name), tmp_path / "worker.log",
                 supervisord_env(tmp_path, cfg, key))
    log = node.log()
    assert "broker_use_ssl['ciphers']: not used by verdi" in log
    assert f"connected to amqps://guest:***@{amqps.group(1)}:{amqps.group(2)}/" in log
    app = celery_from(cfg)
    try:
        job = make_job("/bin/true", job_id=f"hysds-tls-{uuid.uuid4().hex[:8]}")
        result = app.send_task(RUN_JOB, args=[job], queue=queue_name, priority=3)
        status_url = f"rediss://{rediss.group(1)}:{rediss.group(2)}/0?ssl_cert_reqs=none"
        wait_for_status(status_url, key, job["job_id"], "job-completed")
        deadline = time.monotonic() + 10
        while stored_state(status_url, result.id) != "SUCCESS":
            assert time.monotonic() < deadline, "no SUCCESS stored in the file's rediss:// backend"
            time.sleep(0.1)
    finally:
        app.close()
    assert node.stop() == 0


def print_config(args, env=None, cwd=None):
    out = subprocess.run([VERDI, *args], capture_output=True, text=True, env=env, cwd=cwd)
    assert out.returncode == 0, out.stderr
    settings = {}
    for line in out.stdout.splitlines():
        if " = " in line and not line.startswith("#"):
            name, rest = line.split(" = ", 1)
            value, _, source = rest.rpartition("  (")
            settings[name] = (value, source.rstrip(")"))
    return settings, out.stderr


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CELERY_", "HYSDS_", "REDIS_JOB_"))}
    env.update(extra)
    return env


def test_every_construct_of_the_templates_is_read_and_shown_with_its_source(tmp_path):
    values = {"MOZART_RABBIT_USER": "ops", "MOZART_RABBIT_PASSWORD": "s3cret",
              "MOZART_RABBIT_PVT_IP": "mozart", "MOZART_RABBIT_PORT": "5671",
              "MOZART_REDIS_PVT_IP": "redis", "MOZART_REDIS_PORT": "6379", "QUEUE": "jobs-q"}
    cfg = render("constructs.py.tmpl", tmp_path / "celeryconfig.py", values)
    env = clean_env(VERDI_FIXTURE_ENGINE="podman")
    settings, stderr = print_config(["worker", "--config", str(cfg), "--print-config"], env)
    src = f"file {cfg}"
    assert settings["broker_url"][0].startswith("amqps://ops:***@mozart:5671//")  # broker_use_ssl
    assert settings["broker_use_ssl.ca_certs"] == ("/etc/ssl/certs/ca-certificates.crt",
                                                    f"{src}:18:18: broker_use_ssl")
    assert settings["broker_use_ssl.certfile"][0] == "/etc/verdi/client.pem"
    assert settings["broker_use_ssl.cert_reqs"][0] == "CERT_REQUIRED"
    assert settings["broker_heartbeat"] == ("60", f"{src}:31:20: broker_heartbeat")
    assert settings["result_backend"][0] == "redis://redis:6379/0"
    assert settings["result_expires"][0] == "43200"                    # timedelta(hours=12)
    assert settings["WORKER_CONTIGUOUS_FAILURE_TIME"][0] == "5"        # 5.
    assert settings["CONTAINER_ENGINE"] == ("podman", f"{src}:15:20: CONTAINER_ENGINE")
    assert settings["CACHE_READ_ONLY"][0] == "false"
    assert settings["WORKER_MOUNT_BLACKLIST"][0] == "/dev /etc /lib /proc /usr /var"
    assert json.loads(settings["BUCKET_PROFILES"][0])[1]["profile"] == "archive"
    assert settings["ROOT_WORK_DIR"][0] == "/data/work"                # os.environ.get default
    assert settings["task_soft_time_limit"][0] == "1800"              # 1e3 + 800
    assert settings["task_time_limit"][0] == "7200"                   # 60 * 60 * 2
    assert settings["HARD_TIME_LIMIT_GAP"][0] == "500"                # .5e3
    assert settings["--webdav-port"][0] == "8085"                     # int("80" "85")
    assert settings["queues"][0] == "jobs-q,system-jobs-queue"        # all of task_queues
    assert settings["queue[jobs-q]"] == (
        'exchange jobs-q (direct), routing key jobs-q, arguments {"x-max-priority":10}',
        f"{src}:50:15: task_queues")
    assert settings["queue[system-jobs-queue]"][0].endswith('arguments {"x-max-priority":10}')
    # Keys verdi does not use: one warning each, naming file, line and key.
    assert f"{cfg}:46:15: RAW_PATTERN: not used by verdi" in stderr
    assert f"{cfg}:63:17: ALLOWED_TYPES: not used by verdi" in stderr
    # -Q picks among task_queues; -X leaves one out.
    settings, _ = print_config(["worker", "--config", str(cfg), "--print-config", "-X", "jobs-q"],
                               env)
    assert settings["queues"] == ("system-jobs-queue", "flag")


def test_a_used_key_the_reader_cannot_evaluate_is_an_error_naming_it(tmp_path):
    cfg = tmp_path / "celeryconfig.py"
    cfg.write_text("import os\n\nbroker_url = get_broker_url(os.environ['HOME'])\n"
                   "beat_schedule = {'x': crontab()}\n")
    out = subprocess.run([VERDI, "worker", "--config", str(cfg), "--print-config"],
                         capture_output=True, text=True, env=clean_env())
    assert out.returncode == 2
    assert out.stderr.strip().endswith(
        f"verdi worker: {cfg}:3:14: broker_url: name `get_broker_url` is not defined")
    # Not a key verdi uses: a warning, and the worker starts.
    cfg.write_text("import os\nROOT_WORK_DIR = os.environ.get('NOPE', '/from/default')\n"
                   "beat_schedule = {'x': crontab()}\nWORKER_CONTIGUOUS_FAILURE_TIME = 5.\n")
    settings, stderr = print_config(["worker", "--config", str(cfg), "--print-config"],
                                    clean_env())
    assert settings["ROOT_WORK_DIR"][0] == "/from/default"
    assert f"{cfg}:3:23: beat_schedule: not used by verdi" in stderr


def test_celerys_global_options_before_the_subcommand(tmp_path):
    # `celery -A hysds -b URL --result-backend URL --config MODULE worker ...`
    (tmp_path / "hysdsconfig.py").write_text("worker_prefetch_multiplier = 4\n")
    settings, _ = print_config(
        ["-A", "hysds", "-b", "amqp://u:pw@global-host:5672//", "--result-backend",
         "redis://global-redis:6379/2", "--config", "hysdsconfig", "--workdir", str(tmp_path),
         "-q", "-C", "worker", "--print-config", "-c", "0"], clean_env())
    assert settings["broker_url"] == ("amqp://u:***@global-host:5672//",
                                      "environment CELERY_BROKER_URL")
    assert settings["result_backend"] == ("redis://global-redis:6379/2",
                                          "environment CELERY_RESULT_BACKEND")
    assert settings["worker_prefetch_multiplier"][0] == "4"
    assert settings["worker_prefetch_multiplier"][1].startswith("file hysdsconfig.py:1:30")
    assert settings["concurrency"][0] == str(len(os.sched_getaffinity(0)))   # -c 0
    # -A alone finds the app's celeryconfig.py, as HySDS's `--app=hysds` does.
    (tmp_path / "celeryconfig.py").write_text("worker_prefetch_multiplier = 7\n")
    settings, _ = print_config(["--app=hysds", "worker", "--print-config"], clean_env(),
                               cwd=tmp_path)
    assert settings["worker_prefetch_multiplier"][0] == "7"


def test_help_groups_the_options_as_celery_does():
    out = subprocess.run([VERDI, "worker", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    groups = [line.rstrip(":") for line in out.stdout.splitlines()
              if line.endswith(":") and not line.startswith(" ")]
    celery = ["Worker Options", "Pool Options", "Queue Options", "Features",
              "Daemonization Options"]
    assert [g for g in groups if g in celery] == celery
    assert groups.index("Daemonization Options") < groups.index("Broker Options")


def test_loglevel_logfile_reopened_on_sighup_and_pidfile(services, tmp_path, nodes, queue_name):
    log = tmp_path / "worker.log"
    pidfile = tmp_path / "worker.pid"
    args = ["worker", "-b", services.state["amqp_url"], "--result-backend",
            services.state["redis_url"], "-Q", queue_name, "--root-work-dir",
            str(tmp_path / "root"), "--loglevel", "warning", "-f", str(log), "--pidfile",
            str(pidfile)]
    node = nodes(args, tmp_path / "stdout.log", clean_env(), ready=False)
    deadline = time.monotonic() + 20
    while not pidfile.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pidfile.read_text().strip() == str(node.proc.pid)
    time.sleep(1)
    assert " INFO " not in log.read_text()  # --loglevel warning
    # A second worker with the same pid file refuses to start.
    second = subprocess.run([VERDI, *args], capture_output=True, text=True, env=clean_env(),
                            timeout=30)
    assert second.returncode == 2
    assert f"process {node.proc.pid} named in it still runs" in log.read_text() + second.stderr
    # logrotate: the file is moved away, SIGHUP, a new file; the worker goes on.
    log.rename(tmp_path / "worker.log.1")
    node.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while not log.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert log.exists()
    time.sleep(0.5)
    assert node.proc.poll() is None
    node.proc.send_signal(signal.SIGTERM)
    assert node.proc.wait(timeout=30) == 0
    assert "warm shutdown" in log.read_text()
    assert not pidfile.exists()


def test_detach_leaves_a_daemon_with_its_pidfile(services, tmp_path, queue_name):
    log, pidfile = tmp_path / "worker.log", tmp_path / "worker.pid"
    out = subprocess.run([VERDI, "worker", "--detach", "-b", services.state["amqp_url"],
                          "-Q", queue_name, "--root-work-dir", str(tmp_path / "root"),
                          "-f", str(log), "--pidfile", str(pidfile)],
                         capture_output=True, text=True, env=clean_env(), timeout=30)
    assert out.returncode == 0, out.stderr
    deadline = time.monotonic() + 20
    while not (pidfile.exists() and "connected to" in log.read_text()):
        assert time.monotonic() < deadline, log.read_text() if log.exists() else "no log"
        time.sleep(0.05)
    pid = int(pidfile.read_text())
    try:
        assert os.getsid(pid) != os.getsid(0)  # a session of its own
    finally:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while pidfile.exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_pool_limits_and_max_tasks_per_child(start_worker, celery_app, queue_name, tmp_path):
    worker = start_worker("-P", "solo", "-c", "4", "--soft-time-limit", "1",
                          "--max-tasks-per-child", "2", "--without-heartbeat")
    assert "-P solo: one job slot, not 4" in worker.log()
    # A job that sets no limit gets the worker's.
    slow = make_job("/bin/sleep 30", job_id="no-limit-of-its-own")
    result = celery_app.send_task(RUN_JOB, args=[slow], queue=queue_name)
    with pytest.raises(Exception) as raised:
        result.get(timeout=30)
    # HySDS's error text; verdi's clearer line is in the job's _stderr.txt.
    assert str(raised.value) == "SoftTimeLimitExceeded()"
    ok = celery_app.send_task(RUN_JOB, args=[make_job("/bin/true")], queue=queue_name)
    assert ok.get(timeout=30)["status"] == "job-completed"
    # Two jobs taken: the worker exits by itself, code 0.
    assert worker.proc.wait(timeout=30) == 0
    assert "took 2 jobs" in worker.log()


def test_autoscale_follows_the_load(start_worker, celery_app, queue_name):
    worker = start_worker("--autoscale", "3,1", env={"AUTOSCALE_KEEPALIVE": "1"})
    assert "1 to 3 (autoscale) job slots" in worker.log()
    results = [celery_app.send_task(RUN_JOB, args=[make_job("/bin/sleep 2", job_id=f"as-{i}")],
                                    queue=queue_name) for i in range(3)]
    start = time.monotonic()
    for r in results:
        assert r.get(timeout=60)["status"] == "job-completed"
    assert time.monotonic() - start < 5.5  # three at once, not one after another
    worker.wait_for_log("autoscale: 1 -> ")
    worker.wait_for_log("-> 1 job slots", timeout=15)
