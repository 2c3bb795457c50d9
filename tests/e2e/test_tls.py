"""`verdi worker` over TLS: amqps:// to RabbitMQ and rediss:// to Redis, with
throwaway certificates (tests/services.py in TLS mode), driven by the stock
Python Celery client. These tests start their own TLS services."""

import os
import signal
import ssl
import subprocess
import time
import uuid

import pytest
from celery import Celery

from conftest import WorkerProcess, make_job
from services import Services, free_port, make_ca, make_cert, wait_for_port

RUN_JOB = "hysds.job_worker.run_job"
USER, PASSWORD = "verdi-tls", "Tls-s3cret-pw"  # a password to look for in logs


def job(command, **extra):
    return make_job(command, job_id=f"job-{uuid.uuid4().hex[:12]}", **extra)


def add_user(services, user, password):
    services.rabbitmqctl("add_user", user, password)
    services.rabbitmqctl("set_permissions", "-p", "/", user, ".*", ".*", ".*")


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """RabbitMQ with a TLS listener (client certificate optional) and Redis
    with a TLS port, for this module only."""
    services = Services(tmp_path_factory.mktemp("tls-services"), tls=True)
    try:
        services.start()
        add_user(services, USER, PASSWORD)
        yield services
    finally:
        services.stop()


@pytest.fixture(scope="module")
def strict(tmp_path_factory):
    """The same, but both servers insist on a client certificate
    (fail_if_no_peer_cert = true, --tls-auth-clients yes)."""
    services = Services(tmp_path_factory.mktemp("tls-strict"), tls=True, require_client_cert=True)
    try:
        services.start()
        yield services
    finally:
        services.stop()


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory):
    """A second throwaway CA that signed nothing the servers present."""
    cert, _ = make_ca(tmp_path_factory.mktemp("other-ca"), "ca", "another verdi test CA")
    return str(cert)


def amqps(services, user=USER, password=PASSWORD, host="localhost"):
    return f"amqps://{user}:{password}@{host}:{services.state['rabbitmq']['tls_port']}//"


def rediss(services, query=""):
    return services.state["rediss_url"] + (f"?{query}" if query else "")


@pytest.fixture
def worker(tmp_path, queue_name):
    """Starts `verdi worker --broker BROKER ARGS...` on the test's queue."""
    workers = []

    def start(broker, *extra, backend="", ready=True):
        args = ["--broker", broker, "--result-backend", backend, "-Q", queue_name,
                "--root-work-dir", str(tmp_path / "root"), "--kill-grace", "1", *extra]
        w = WorkerProcess(args, tmp_path / f"worker{len(workers)}.log", dict(os.environ))
        workers.append(w)
        if ready:
            w.wait_for_log("connected to")
        return w

    yield start
    for w in workers:
        w.stop(signal.SIGQUIT)


@pytest.fixture
def client():
    """Python Celery clients on amqps:// and rediss://, closed at the end."""
    apps = []

    def make(services, cert=False):
        t = services.state["tls"]
        broker_ssl = {"ca_certs": t["ca"], "cert_reqs": ssl.CERT_REQUIRED}
        backend_ssl = {"ssl_ca_certs": t["ca"], "ssl_cert_reqs": ssl.CERT_REQUIRED}
        if cert:
            broker_ssl.update(certfile=t["client_cert"], keyfile=t["client_key"])
            backend_ssl.update(ssl_certfile=t["client_cert"], ssl_keyfile=t["client_key"])
        app = Celery("verdi-tls", broker=amqps(services, "guest", "guest"),
                     backend=services.state["rediss_url"])
        app.conf.update(task_serializer="json", accept_content=["json"], result_serializer="json",
                        broker_use_ssl=broker_ssl, redis_backend_use_ssl=backend_ssl,
                        broker_connection_retry_on_startup=True)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


def assert_verdi_connections(services, expected, timeout=10):
    """The workers connected to RabbitMQ are `expected`, a list of (user, ssl,
    peer certificate subject); waits for those of earlier tests to go away."""
    deadline = time.monotonic() + timeout
    while True:
        out = services.rabbitmqctl("list_connections", "--no-table-headers", "user", "ssl",
                                   "peer_cert_subject", "client_properties")
        rows = [line.split("\t") for line in out.splitlines() if '{"product","verdi"}' in line]
        found = [(user, ssl_on, subject) for user, ssl_on, subject, _ in rows]
        if found == expected or time.monotonic() > deadline:
            assert found == expected
            return
        time.sleep(0.2)


def wait_for_retries(w, text, count=2, timeout=20):
    """The worker logged `text` on `count` failed attempts and is still alive."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [l for l in w.log().splitlines() if text in l and "next attempt in" in l]
        if len(lines) >= count:
            assert w.proc.poll() is None, w.log()
            return lines
        assert w.proc.poll() is None, f"worker exited:\n{w.log()}"
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} retries logged with {text!r}:\n{w.log()}")


# -- the happy path --------------------------------------------------------------


def test_amqps_and_rediss_with_the_ca(tls, worker, client, queue_name, tmp_path):
    ca = tls.state["tls"]["ca"]
    w = worker(amqps(tls), "--broker-ca", ca, backend=rediss(tls, f"ssl_ca_certs={ca}"))
    app = client(tls)
    # A message of many TLS records (at most 16 KiB each) and frames.
    payload = job("/bin/sh -c 'echo over tls > out.txt'", context={"blob": "x" * 300_000})
    result = app.send_task(RUN_JOB, args=[payload], queue=queue_name)
    summary = result.get(timeout=30)
    assert summary["status"] == "job-completed"
    assert summary["uuid"] == result.id
    assert summary["job_id"] == payload["job_id"]
    assert result.state == "SUCCESS"
    out = list((tmp_path / "root").glob(f"jobs/*/*/*/*/*/{payload['job_id']}/out.txt"))
    assert len(out) == 1 and out[0].read_text() == "over tls\n"
    log = w.log()
    assert f"connected to amqps://{USER}:***@localhost:" in log
    assert PASSWORD not in log
    assert_verdi_connections(tls, [(USER, "true", "")])  # TLS, no client certificate


def test_rediss_with_ssl_cert_reqs_none_needs_no_ca(tls, worker, client, queue_name):
    ca = tls.state["tls"]["ca"]
    worker(amqps(tls), "--broker-ca", ca, backend=rediss(tls, "ssl_cert_reqs=none"))
    result = client(tls).send_task(RUN_JOB, args=[job("/bin/true")], queue=queue_name)
    assert result.get(timeout=30)["status"] == "job-completed"


def test_ip_address_host_is_checked_against_the_ip_san(tls, worker, client, queue_name):
    # The server certificate names localhost and 127.0.0.1; librabbitmq alone
    # checks DNS names only and refused amqps://...@127.0.0.1.
    w = worker(amqps(tls, host="127.0.0.1"), "--broker-ca", tls.state["tls"]["ca"])
    assert "connected to amqps://" in w.log()


# -- certificate errors ----------------------------------------------------------


def test_wrong_ca_is_a_clear_error_retried_and_no_verify_connects(
        tls, other_ca, worker, client, queue_name):
    bad = worker(amqps(tls), "--broker-ca", other_ca, ready=False)
    lines = wait_for_retries(bad, "SSL peer cert verification failed")
    assert "(self-signed certificate in certificate chain)" in lines[0], lines[0]
    assert f"amqps://{USER}:***@localhost:{tls.state['rabbitmq']['tls_port']}//" in lines[0]
    assert PASSWORD not in bad.log()
    assert "connected to" not in bad.log()
    assert bad.stop(signal.SIGTERM) == 0  # a clean stop, not a crash

    good = worker(amqps(tls), "--broker-ca", other_ca, "--broker-no-verify",
                  backend=rediss(tls, f"ssl_ca_certs={tls.state['tls']['ca']}"))
    result = client(tls).send_task(RUN_JOB, args=[job("/bin/true")], queue=queue_name)
    assert result.get(timeout=30)["status"] == "job-completed"
    assert PASSWORD not in good.log()


def test_rediss_with_the_wrong_ca_is_a_clear_error(tls, other_ca, worker, client, queue_name):
    w = worker(amqps(tls), "--broker-ca", tls.state["tls"]["ca"],
               backend=rediss(tls, f"ssl_ca_certs={other_ca}"))
    client(tls).send_task(RUN_JOB, args=[job("/bin/true")], queue=queue_name)
    w.wait_for_log("certificate verify failed", timeout=30)
    assert w.proc.poll() is None
    line = next(l for l in w.log().splitlines() if "certificate verify failed" in l)
    assert "TLS handshake failed" in line and "(self-signed certificate in certificate chain)" in line
    w.proc.kill()  # it would retry storing the result for 20 s before it stops


def test_amqps_to_a_plain_amqp_port_is_a_clear_error(tls, worker):
    plain = tls.state["rabbitmq"]["port"]
    w = worker(f"amqps://{USER}:{PASSWORD}@localhost:{plain}//", "--broker-ca",
               tls.state["tls"]["ca"], ready=False)
    lines = wait_for_retries(w, "SSL handshake failed")
    assert "wrong version number" in lines[0] or "record layer failure" in lines[0], lines[0]
    assert PASSWORD not in w.log()


def test_system_cas_do_not_trust_a_private_ca(tls, worker):
    w = worker(amqps(tls), ready=False)  # no --broker-ca: the system bundle
    wait_for_retries(w, "SSL peer cert verification failed")


def test_hostname_and_ip_mismatches_are_refused(tls, worker, tmp_path):
    t = tls.state["tls"]
    cert, key = make_cert(tmp_path / "certs", "elsewhere", t["ca"], t["ca_key"], "elsewhere",
                          "server", san="DNS:elsewhere.invalid,IP:10.9.9.9")
    port = free_port()
    server = subprocess.Popen(
        ["openssl", "s_server", "-quiet", "-accept", f"127.0.0.1:{port}", "-cert", str(cert),
         "-key", str(key)], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, 10, "openssl s_server", "/dev/null")
        by_name = worker(f"amqps://u:p@localhost:{port}//", "--broker-ca", t["ca"], ready=False)
        by_ip = worker(f"amqps://u:p@127.0.0.1:{port}//", "--broker-ca", t["ca"], ready=False)
        wait_for_retries(by_name, "SSL hostname verification failed")
        wait_for_retries(by_ip, "SSL peer cert verification failed (IP address mismatch)")
    finally:
        server.kill()
        server.wait()


# -- client certificates ---------------------------------------------------------


def test_client_certificate_is_presented(tls, worker):
    t = tls.state["tls"]
    worker(amqps(tls), "--broker-ca", t["ca"], "--broker-cert", t["client_cert"],
           "--broker-key", t["client_key"])
    assert_verdi_connections(tls, [(USER, "true", t["client_subject"])])


def test_broker_cert_without_key_is_refused(tls, worker):
    t = tls.state["tls"]
    w = worker(amqps(tls), "--broker-ca", t["ca"], "--broker-cert", t["client_cert"], ready=False)
    wait_for_retries(w, "give both the certificate and the key file")


def test_required_client_certificate(strict, worker, client, queue_name):
    t = strict.state["tls"]
    without = worker(amqps(strict, "guest", "guest"), "--broker-ca", t["ca"], ready=False)
    # TLS 1.3: the client learns it at its first read, after the handshake;
    # whether OpenSSL's reason ("tlsv13 alert certificate required") is still
    # queued by then varies from run to run, so only the failure is asserted.
    wait_for_retries(without, "login: a SSL error occurred")
    assert "connected to" not in without.log()
    assert without.stop(signal.SIGTERM) == 0

    backend = rediss(strict, f"ssl_ca_certs={t['ca']}&ssl_certfile={t['client_cert']}"
                             f"&ssl_keyfile={t['client_key']}")
    worker(amqps(strict, "guest", "guest"), "--broker-ca", t["ca"],
           "--broker-cert", t["client_cert"], "--broker-key", t["client_key"], backend=backend)
    result = client(strict, cert=True).send_task(RUN_JOB, args=[job("/bin/true")], queue=queue_name)
    assert result.get(timeout=30)["status"] == "job-completed"
    assert_verdi_connections(strict, [("guest", "true", t["client_subject"])])


def test_rediss_without_the_required_client_certificate_fails(strict, worker, client, queue_name):
    t = strict.state["tls"]
    w = worker(amqps(strict, "guest", "guest"), "--broker-ca", t["ca"],
               "--broker-cert", t["client_cert"], "--broker-key", t["client_key"],
               backend=rediss(strict, f"ssl_ca_certs={t['ca']}"))
    client(strict, cert=True).send_task(RUN_JOB, args=[job("/bin/true")], queue=queue_name)
    # TLS 1.3: the refusal comes after the handshake, as an alert or as a reset
    # connection, depending on timing; either way the store fails.
    w.wait_for_log("attempt 1/10 failed", timeout=30)
    assert "certificate required" in w.log() or "Connection reset by peer" in w.log()
    assert w.proc.poll() is None
    w.proc.kill()  # it would retry storing the result for 20 s before it stops
