"""Inputs over dav:// (nginx's WebDAV), gs:// (the S3 test server speaking
as GCS's XML API: SigV4 in the region "auto", HMAC keys) and azure:// /
azures:// (Azurite, with a shared key and with a SAS token), localized by
jobs that a `verdi worker` runs for a Python Celery client: each through the
input cache (the second job fetches nothing), with a checksum sidecar
checked, and secrets that never show in a log, a job file or a status
document."""

import hashlib
import json
import pathlib
import re
import sys
import uuid

import pytest
import redis

from conftest import REPO, make_job

sys.path.insert(0, str(REPO / "tests"))
import azurite_server  # noqa: E402
import s3_server  # noqa: E402
from nginx_server import NginxServer  # noqa: E402

RUN_JOB = "hysds.job_worker.run_job"
DATA = b"granule bytes\n" * 100
MD5 = hashlib.md5(DATA).hexdigest()


@pytest.fixture(scope="module")
def nginx(tmp_path_factory):
    srv = NginxServer(tmp_path_factory.mktemp("nginx")).start()
    (srv.root / "inputs").mkdir()
    (srv.root / "inputs" / "data.bin").write_bytes(DATA)
    (srv.root / "inputs" / "data.bin.md5").write_text(MD5 + "\n")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def gcs(tmp_path_factory):
    srv = s3_server.S3Server(tmp_path_factory.mktemp("gcs"), region="auto").start()
    srv.put("priv", "inputs/data.bin", DATA)
    srv.put("priv", "inputs/data.bin.sha256", (hashlib.sha256(DATA).hexdigest() + "\n").encode())
    srv.put("priv", "granule/a.txt", b"a\n")
    srv.put("priv", "granule/sub/b.txt", b"b\n")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def azurite(tmp_path_factory):
    srv = azurite_server.AzuriteServer(tmp_path_factory.mktemp("azurite")).start()
    srv.put("cont", "inputs/data.bin", DATA)
    srv.put("cont", "inputs/data.bin.md5", (MD5 + "\n").encode())
    srv.put("cont", "granule/a.txt", b"a\n")
    srv.put("cont", "granule/sub/b.txt", b"b\n")
    yield srv
    srv.stop()


def run(celery_app, queue, command, urls, job_id=None):
    """Sends a job localizing `urls` (cached, the default) and waits for it;
    its summary, or the exception get() raised."""
    job = make_job(command, job_id=job_id or f"in-{uuid.uuid4().hex[:10]}",
                   localize_urls=[{"url": u} for u in urls])
    result = celery_app.send_task(RUN_JOB, args=[job], queue=queue)
    try:
        return result.get(timeout=90)
    except Exception as e:  # a failed job: WorkerExecutionError
        return e


def job_dir(root, job_id):
    dirs = list(root.glob(f"jobs/*/*/*/*/*/{job_id}"))
    assert len(dirs) == 1, dirs
    return dirs[0]


def everything_written(root, worker):
    """The worker's log and every file under the work root, as bytes."""
    parts = [worker.log().encode()]
    for p in root.rglob("*"):
        if p.is_file() and not p.is_symlink():
            parts.append(p.read_bytes())
    return b"\n".join(parts)


def twice_through_the_cache(celery_app, queue, root, worker, data_url, sidecar_url):
    """Two jobs localizing the same input and its checksum sidecar: both get
    the bytes, the second from the cache (one download in the log)."""
    for n in (1, 2):
        summary = run(celery_app, queue, "sh -c 'cat data.bin | md5sum'", [data_url, sidecar_url],
                      job_id=f"cache-{n}-{uuid.uuid4().hex[:6]}")
        assert isinstance(summary, dict), f"{summary}\n{worker.log()}"
        assert summary["status"] == "job-completed", summary
        d = job_dir(root, summary["job_id"])
        assert (d / "_stdout.txt").read_text().split()[0] == MD5
        assert (d / "data.bin").is_symlink()
        assert str(root / "cache") in str((d / "data.bin").resolve())
    shown = re.sub(r"sig=[^&]*", "sig=***", data_url)  # as every log line shows it
    assert worker.log().count(f"localize: started {shown}\n") == 1, worker.log()


def test_dav_inputs_through_the_cache_with_a_checksum(start_worker, celery_app, queue_name, tmp_path,
                                                      nginx):
    worker = start_worker()
    base = f"dav://127.0.0.1:{nginx.port}/inputs"
    twice_through_the_cache(celery_app, queue_name, tmp_path / "root", worker,
                            f"{base}/data.bin", f"{base}/data.bin.md5")
    access = (pathlib.Path(nginx.dir) / "access.log").read_text()
    assert access.count("GET /inputs/data.bin HTTP") == 1, access
    # A wrong sidecar fails the job, naming the file.
    (nginx.root / "inputs" / "bad.bin").write_bytes(b"other bytes")
    (nginx.root / "inputs" / "bad.bin.md5").write_text(MD5 + "\n")
    failed = run(celery_app, queue_name, "true", [f"{base}/bad.bin", f"{base}/bad.bin.md5"])
    assert "mismatched checksum" in str(failed) and "bad.bin" in str(failed), failed


def test_gs_inputs_signed_with_hmac_keys(start_worker, celery_app, queue_name, tmp_path, gcs):
    env = {"GS_ACCESS_KEY_ID": s3_server.PLAIN_KEY, "GS_SECRET_ACCESS_KEY": s3_server.PLAIN_SECRET,
           "VERDI_GS_ENDPOINT": f"http://{gcs.endpoint}"}
    worker = start_worker(env=env)
    root = tmp_path / "root"
    twice_through_the_cache(celery_app, queue_name, root, worker,
                            "gs://priv/inputs/data.bin", "gs://priv/inputs/data.bin.sha256")
    gets = [line for line in gcs.log_lines() if line.startswith("GET /priv/inputs/data.bin ")]
    assert gets == ["GET /priv/inputs/data.bin signed"], gcs.log_lines()
    # A prefix is a directory.
    summary = run(celery_app, queue_name, "cat granule/a.txt granule/sub/b.txt", ["gs://priv/granule/"])
    assert summary["status"] == "job-completed", summary
    assert (job_dir(root, summary["job_id"]) / "_stdout.txt").read_text() == "a\nb\n"
    assert s3_server.PLAIN_SECRET.encode() not in everything_written(root, worker)


def test_azure_shared_key_from_a_connection_string(start_worker, celery_app, queue_name, tmp_path,
                                                   azurite):
    # A production URL, sent to the emulator by the connection string's
    # BlobEndpoint, as Azure's own tools do.
    conn = (f"DefaultEndpointsProtocol=http;AccountName={azurite_server.ACCOUNT};"
            f"AccountKey={azurite_server.KEY};BlobEndpoint={azurite.blob_endpoint};")
    worker = start_worker(env={"AZURE_STORAGE_CONNECTION_STRING": conn})
    root = tmp_path / "root"
    base = f"azures://{azurite_server.ACCOUNT}.blob.core.windows.net/cont"
    twice_through_the_cache(celery_app, queue_name, root, worker,
                            f"{base}/inputs/data.bin", f"{base}/inputs/data.bin.md5")
    summary = run(celery_app, queue_name, "cat granule/a.txt granule/sub/b.txt", [f"{base}/granule"])
    assert summary["status"] == "job-completed", summary
    assert (job_dir(root, summary["job_id"]) / "_stdout.txt").read_text() == "a\nb\n"
    # _run.sh lists the worker's environment: the connection string shows as ***.
    assert azurite_server.KEY.encode() not in everything_written(root, worker)


def test_azure_sas_token_is_used_and_never_shown(start_worker, celery_app, queue_name, tmp_path,
                                                 services, azurite):
    status_key = f"logstash-{uuid.uuid4().hex[:8]}"
    worker = start_worker("--redis-job-status-url", services.state["redis_url"],
                          "--redis-job-status-key", status_key)
    root = tmp_path / "root"
    sas = azurite.sas()
    sig = sas.split("sig=")[1]
    base = f"azure://{azurite.endpoint}/{azurite_server.ACCOUNT}/cont/inputs"
    twice_through_the_cache(celery_app, queue_name, root, worker,
                            f"{base}/data.bin?{sas}", f"{base}/data.bin.md5?{sas}")
    saved = json.loads(next(root.glob("jobs/*/*/*/*/*/cache-1-*/_job.json")).read_text())
    assert saved["localize_urls"][0]["url"].endswith("&sig=***"), saved["localize_urls"]
    statuses = redis.Redis.from_url(services.state["redis_url"]).lrange(status_key, 0, -1)
    assert statuses, "no status documents"
    for secret in (sig, sig.replace("%2F", "/").replace("%2B", "+").replace("%3D", "=")):
        assert secret.encode() not in everything_written(root, worker)
        assert not [s for s in statuses if secret.encode() in s]


def test_a_wrong_key_fails_the_job_with_one_clear_error(start_worker, celery_app, queue_name, tmp_path,
                                                       azurite):
    wrong = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ=="
    worker = start_worker(env={"AZURE_STORAGE_ACCOUNT": azurite_server.ACCOUNT,
                               "AZURE_STORAGE_KEY": wrong})
    url = f"azure://{azurite.endpoint}/{azurite_server.ACCOUNT}/cont/inputs/data.bin"
    failed = run(celery_app, queue_name, "touch ran", [url], job_id="wrong-key")
    assert type(failed).__name__ == "WorkerExecutionError", failed
    d = job_dir(tmp_path / "root", "wrong-key")
    error = json.loads((d / "_job.json").read_text())["job_info"]["error"]
    assert error == (f"localizing the inputs: downloading {url}: HTTP 403 forbidden "
                     "(signed with the key of AZURE_STORAGE_KEY)"), error
    assert str(failed) == error
    assert not (d / "ran").exists()
    assert wrong.encode() not in everything_written(tmp_path / "root", worker)
    # A SAS token with a wrong signature: the URL in the error hides it.
    sas = azurite.sas().split("sig=")[0] + "sig=AAAAnotTheSignature%3D"
    failed = run(celery_app, queue_name, "true", [f"{url}?{sas}"])
    assert "HTTP 403 forbidden (with the SAS token of the URL)" in str(failed), failed
    assert "sig=***" in str(failed) and "notTheSignature" not in str(failed), failed
    assert b"notTheSignature" not in everything_written(tmp_path / "root", worker)
