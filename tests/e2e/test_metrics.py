"""`verdi worker --metrics-port`: Prometheus text format on /metrics."""

import datetime
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import pytest

from broker_proxy import BrokerProxy, amqp_port
from conftest import make_job
from services import free_port

# Prometheus's own linter (scripts/install-deps installs it).
PROMTOOL = shutil.which("promtool") or "/usr/local/bin/promtool"

RUN_JOB = "hysds.job_worker.run_job"

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
VALUE = r"(?:[+-]?Inf|NaN|[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
SAMPLE = re.compile(rf"^({NAME})(?:\{{((?:{LABEL})(?:,{LABEL})*)?,?\}})? ({VALUE})(?: -?\d+)?$")
HELP = re.compile(rf"^# HELP ({NAME}) (?:[^\\\n]|\\[\\n])*$")
TYPE = re.compile(rf"^# TYPE ({NAME}) (counter|gauge|histogram|summary|untyped)$")


def parse_exposition(text):
    """A tiny parser of the text format 0.0.4: every line must be well formed;
    returns {(name, ((label, value), ...)): float} and {family: type}."""
    assert text.endswith("\n"), "the last line must end with a newline"
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("#"):
            m = HELP.match(line) or TYPE.match(line)
            assert m, f"bad comment line: {line!r}"
            if line.startswith("# TYPE"):
                assert m.group(1) not in types, f"second TYPE for {m.group(1)}"
                types[m.group(1)] = m.group(2)
            continue
        m = SAMPLE.match(line)
        assert m, f"bad sample line: {line!r}"
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in types or family in types, f"sample before its TYPE: {line!r}"
        pairs = tuple(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', labels))
        key = (name, pairs)
        assert key not in samples, f"duplicate sample: {line!r}"
        samples[key] = float(value.replace("Inf", "inf"))
    for family, kind in types.items():
        if kind == "counter":
            assert family.endswith("_total"), family
        if kind != "histogram":
            continue
        # Buckets are cumulative and end with +Inf == _count.
        series = {}
        for (name, pairs), value in samples.items():
            if name == family + "_bucket":
                rest = tuple(p for p in pairs if p[0] != "le")
                le = dict(pairs)["le"]
                series.setdefault(rest, []).append((float(le.replace("Inf", "inf")), value))
        for rest, buckets in series.items():
            counts = [v for _, v in sorted(buckets)]
            assert counts == sorted(counts), f"{family}{rest}: buckets not cumulative"
            assert sorted(buckets)[-1][0] == float("inf")
            assert counts[-1] == samples[(family + "_count", rest)]
    return samples, types


def get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers["Content-Type"], response.read().decode()


def test_metrics_endpoint(start_worker, celery_app, queue_name, tmp_path):
    port = free_port()
    worker = start_worker("--metrics-port", str(port), "--metrics-bind", "127.0.0.1", "-c", "2")
    worker.wait_for_log(f"metrics on http://127.0.0.1:{port}/metrics")
    base = f"http://127.0.0.1:{port}"

    status, content_type, text = get(base + "/metrics")
    assert status == 200
    assert content_type == "text/plain; version=0.0.4"
    samples, types = parse_exposition(text)
    assert samples[("verdi_slots", ())] == 2
    assert samples[("verdi_active_slots", ())] == 0

    queued = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=3))
    ok = make_job("/bin/echo fine", job_id=f"ok-{uuid.uuid4().hex[:8]}")
    # An input of 1234 bytes, localized: counted in verdi_localized_bytes_total.
    data = tmp_path / "input.bin"
    data.write_bytes(b"x" * 1234)
    ok["localize_urls"] = [{"url": f"file://{data}", "cache": False}]
    ok["job_info"]["time_queued"] = queued.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    bad = make_job("/bin/sh -c 'exit 3'", job_id=f"bad-{uuid.uuid4().hex[:8]}")
    assert celery_app.send_task(RUN_JOB, args=[ok], queue=queue_name).get(
        timeout=30)["status"] == "job-completed"
    with pytest.raises(Exception):
        celery_app.send_task(RUN_JOB, args=[bad], queue=queue_name).get(timeout=30)

    # The counters move right after the result is stored: poll briefly.
    deadline = time.monotonic() + 10
    while True:
        text = get(base + "/metrics")[2]
        samples, types = parse_exposition(text)
        # The slot gauge is refreshed by the worker loop (every 250 ms at most).
        done = (samples.get(("verdi_jobs_total", (("status", "job-failed"), ("type", "job-e2e:test"),
                                                  ("queue", queue_name)))) == 1 and
                samples.get(("verdi_active_slots", ())) == 0)
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    labels = f'type="job-e2e:test",queue="{queue_name}"'
    assert f'verdi_jobs_total{{status="job-completed",{labels}}} 1\n' in text
    assert f'verdi_jobs_total{{status="job-failed",{labels}}} 1\n' in text
    assert types["verdi_jobs_total"] == "counter"
    assert types["verdi_job_duration_seconds"] == "histogram"
    assert samples[("verdi_job_duration_seconds_count", (("type", "job-e2e:test"), ("queue", queue_name)))] == 2
    for phase in ("setup", "command", "closeout"):
        assert samples[("verdi_job_phase_duration_seconds_count", (("phase", phase),))] == 2
    assert types["verdi_active_slots"] == "gauge"
    assert samples[("verdi_active_slots", ())] == 0
    assert samples[("verdi_localized_bytes_total", ())] == 1234
    assert samples[("verdi_published_bytes_total", ())] == 0  # these jobs publish nothing
    assert types["process_cpu_seconds_total"] == "counter"
    assert samples[("process_resident_memory_bytes", ())] > 1e6
    assert samples[("process_open_fds", ())] > 3
    # Only the job with a time_queued has a queue lag (about 3 s).
    assert samples[("verdi_queue_lag_seconds_count", ())] == 1
    assert 2.5 <= samples[("verdi_queue_lag_seconds_sum", ())] < 60

    with pytest.raises(urllib.error.HTTPError) as raised:
        get(base + "/other")
    assert raised.value.code == 404
    assert worker.proc.poll() is None


def test_metrics_port_in_use_is_a_startup_error(start_worker):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        worker = start_worker("--metrics-port", str(port), "--metrics-bind", "127.0.0.1",
                              ready=False)
        assert worker.proc.wait(timeout=20) == 2
        assert f"metrics: listen on 127.0.0.1:{port}" in worker.log()


def test_status_buffer_depth_with_a_status_redis(start_worker, services):
    port = free_port()
    worker = start_worker("--metrics-port", str(port), "--metrics-bind", "127.0.0.1",
                          "--redis-job-status-url", services.state["redis_url"],
                          "--redis-job-status-key", f"logstash-{uuid.uuid4().hex[:8]}")
    worker.wait_for_log("metrics on")
    samples, types = parse_exposition(get(f"http://127.0.0.1:{port}/metrics")[2])
    assert types["verdi_status_buffer_depth"] == "gauge"
    assert samples[("verdi_status_buffer_depth", ())] == 0


def probe(url):
    """(status, body) of a GET, 503 included."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_health_and_readiness_follow_the_broker(start_worker, services):
    proxy = BrokerProxy(amqp_port(services.state["amqp_url"]))
    try:
        port = free_port()
        worker = start_worker("--metrics-port", str(port), "--metrics-bind", "127.0.0.1",
                              broker=proxy.url(services.state["amqp_url"]))
        base = f"http://127.0.0.1:{port}"
        assert probe(base + "/healthz") == (200, "ok\n")
        assert probe(base + "/readyz") == (200, "ok\n")
        proxy.cut()  # the broker goes away
        deadline = time.monotonic() + 20
        while probe(base + "/readyz")[0] != 503 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert probe(base + "/readyz") == (503, "not connected to the broker\n")
        assert probe(base + "/healthz") == (200, "ok\n")  # alive all the same
        proxy.restore()
        deadline = time.monotonic() + 30
        while probe(base + "/readyz")[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert probe(base + "/readyz") == (200, "ok\n"), worker.log()
    finally:
        proxy.close()


def test_revoked_jobs_are_counted_as_the_histogram_counts_them(start_worker, celery_app,
                                                                queue_name):
    port = free_port()
    worker = start_worker("--metrics-port", str(port), "--metrics-bind", "127.0.0.1")
    base = f"http://127.0.0.1:{port}"
    result = celery_app.send_task(RUN_JOB, args=[make_job("/bin/sleep 30")], queue=queue_name)
    deadline = time.monotonic() + 20
    while result.state != "STARTED" and time.monotonic() < deadline:
        time.sleep(0.05)
    celery_app.control.revoke(result.id, terminate=True)
    deadline = time.monotonic() + 30
    while True:
        samples, _ = parse_exposition(get(base + "/metrics")[2])
        jobs = sum(v for (name, _), v in samples.items() if name == "verdi_jobs_total")
        durations = sum(v for (name, _), v in samples.items()
                        if name == "verdi_job_duration_seconds_count")
        if durations == 1 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert durations == 1, worker.log()
    assert jobs == durations, samples


def test_promtool_finds_nothing_to_lint(start_worker, celery_app, queue_name):
    port = free_port()
    start_worker("--metrics-port", str(port), "--metrics-bind", "127.0.0.1")
    assert celery_app.send_task(RUN_JOB, args=[make_job("/bin/true")], queue=queue_name).get(
        timeout=30)["status"] == "job-completed"
    text = get(f"http://127.0.0.1:{port}/metrics")[2]
    lint = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                          text=True, timeout=30)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert lint.stdout + lint.stderr == "", lint.stdout + lint.stderr
