"""Where container images come from (as in HySDS's ensure_image_loaded), with
a real podman (tests/podman_env.py): tarballs over local HTTP through the
localize layer and the image cache, a private Distribution registry (Debian's
docker-registry) for registry pull + tag and plain pulls, dependency images.
Skipped, with the reason, only where podman cannot run at all."""

import hashlib
import http.server as http_server
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import threading
import time

import pytest

from conftest import REPO, VERDI, make_job

sys.path.insert(0, str(REPO / "tests"))
import podman_env  # noqa: E402


class Files(http_server.ThreadingHTTPServer):
    """Serves `files` (path -> bytes) on a loopback port and counts GETs."""
    daemon_threads = True

    def __init__(self):
        self.files, self.gets = {}, []
        files, gets = self.files, self.gets

        class Handler(http_server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                gets.append(self.path)
                body = files.get(self.path)
                self.send_response(200 if body is not None else 404)
                body = body if body is not None else b"not found\n"
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def url(self, path, auth="user:secret@"):
        return f"http://{auth}127.0.0.1:{self.server_address[1]}{path}"


@pytest.fixture(scope="module")
def web():
    server = Files()
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def tarballs(podman, tmp_path_factory):
    """name -> (bytes, sha256) of `podman save` tarballs of the test image."""
    out = tmp_path_factory.mktemp("tarballs")
    made = {}
    for name in ("localhost/verdi-http:good", "localhost/verdi-http:side",
                 "localhost/verdi-http:retry", "localhost/verdi-http:a",
                 "localhost/verdi-http:b", "localhost/verdi-dep:1"):
        data = podman.image_tarball(name, out / (name.replace("/", "_").replace(":", "_") + ".tar")).read_bytes()
        made[name] = (data, hashlib.sha256(data).hexdigest())
    return made


def run_job(podman, root, job, args=(), engine="podman"):
    """`verdi run_job` with the work root `root` (shared by a test's jobs, and
    so their image cache); returns the process and the job's dir."""
    path = root.parent / f"{job['job_id']}.json"
    path.write_text(json.dumps(job))
    proc = subprocess.run([VERDI, "run_job", "--root-work-dir", str(root), "--container-engine",
                           engine, *args, str(path)],
                          capture_output=True, text=True, env=podman.full_env(), timeout=300)
    dirs = list(root.glob(f"jobs/*/*/*/*/*/{job['job_id']}"))
    assert len(dirs) == 1, proc.stderr
    return proc, dirs[0]


def job_info(job_dir):
    return json.loads((job_dir / "_job.json").read_text())["job_info"]


def cjob(job_id, image, command="echo ran", **extra):
    return make_job(command, job_id=f"{job_id}-20240101T000000.0Z",
                    container_image_name=image, **extra)


def has_image(podman, name):
    return podman.podman("image", "exists", name, check=False).returncode == 0


def cached_entries(root):
    images = root / "cache" / "images"
    return sorted(p for p in images.iterdir() if p.is_dir()) if images.exists() else []


def test_http_tarball_sha256_and_the_image_cache(podman, web, tarballs, tmp_path):
    name = "localhost/verdi-http:good"
    data, digest = tarballs[name]
    web.files["/img/good.tar"] = data
    url = web.url("/img/good.tar")
    root = tmp_path / "root"

    proc, d = run_job(podman, root, cjob("bad-sha", name, container_image_url=url,
                                         container_image_sha256="0" * 64))
    info = job_info(d)
    assert proc.returncode != 0 and info["job_status"] == "job-failed"
    assert "sha256 mismatch: expected " + "0" * 64 in info["error"], info["error"]
    assert not has_image(podman, name)
    assert cached_entries(root) == [], "a mismatching download is not kept"

    proc, d = run_job(podman, root, cjob("good-sha", name, container_image_url=url,
                                         container_image_sha256="sha256:" + digest.upper()))
    assert proc.returncode == 0, proc.stderr
    assert (d / "_stdout.txt").read_text() == "ran\n"
    assert job_info(d)["job_status"] == "job-completed"
    image_id = json.loads((d / "_context.json").read_text())["container_image_id"]
    assert image_id
    # Credentials never reach the job's files.
    for f in ("_job.json", "_docker_params.json", "_context.json"):
        assert "secret" not in (d / f).read_text(), f
    assert json.loads((d / "_docker_params.json").read_text())[name]["image_url"] == \
        web.url("/img/good.tar", auth="user:***@")
    assert web.gets.count("/img/good.tar") == 2
    assert len(cached_entries(root)) == 1

    # Build once, run many: the engine lost the image, the cache has it.
    podman.podman("rmi", name)
    proc, d = run_job(podman, root, cjob("from-cache", name, container_image_url=url))
    assert proc.returncode == 0, proc.stderr
    assert f"image {name}: loading {web.url('/img/good.tar', auth='user:***@')} (from the image cache)" \
        in proc.stderr
    assert web.gets.count("/img/good.tar") == 2, "no second download"
    assert json.loads((d / "_context.json").read_text())["container_image_id"] == image_id


def test_sha256_sidecar_and_per_machine_urls(podman, web, tarballs, tmp_path):
    name = "localhost/verdi-http:side"
    data, digest = tarballs[name]
    web.files["/img/side.tar"] = data
    web.files["/img/side.tar.sha256"] = b"f" * 64 + b"  side.tar\n"
    root = tmp_path / "root"
    url = web.url("/img/side.tar")
    # container_image_urls as JSON text, keyed by platform.machine().
    proc, d = run_job(podman, root, cjob("side-bad", name, container_image_urls=json.dumps(
        {platform.machine(): url})))
    error = job_info(d)["error"]
    assert proc.returncode != 0
    assert f"expected {'f' * 64} ({web.url('/img/side.tar', auth='user:***@')}.sha256)" in error, error
    web.files["/img/side.tar.sha256"] = f"{digest}  side.tar\n".encode()
    # ... or as an object; another machine's URL and container_image_url are not used.
    proc, d = run_job(podman, root, cjob(
        "side-good", name, container_image_url=web.url("/img/wrong.tar"),
        container_image_urls={"not-this-machine": web.url("/img/wrong.tar"),
                              platform.machine(): url}))
    assert proc.returncode == 0, proc.stderr
    assert "/img/wrong.tar" not in web.gets


def test_404_fails_the_job_naming_the_redacted_url(podman, web, tmp_path):
    proc, d = run_job(podman, tmp_path / "root",
                      cjob("404", "localhost/verdi-http:missing",
                           container_image_url=web.url("/img/missing.tar")))
    info = job_info(d)
    assert proc.returncode != 0 and info["job_status"] == "job-failed"
    assert info["error"] == ("image localhost/verdi-http:missing: downloading "
                             f"{web.url('/img/missing.tar', auth='user:***@')}: HTTP 404 not found")
    assert "secret" not in proc.stderr and "secret" not in (d / "_job.json").read_text()
    assert not (d / "_exit_code").exists()


def test_failed_load_reports_the_engine_and_the_next_job_tries_again(podman, web, tarballs,
                                                                     tmp_path):
    name = "localhost/verdi-http:retry"
    web.files["/img/retry.tar"] = b"this is not an image archive"
    root = tmp_path / "root"
    url = web.url("/img/retry.tar")
    proc, d = run_job(podman, root, cjob("load-bad", name, container_image_url=url))
    error = job_info(d)["error"]
    assert proc.returncode != 0
    assert error.startswith(f"loading image {name}: podman load failed (exit code 125): "), error
    assert len(error) > len(f"loading image {name}: podman load failed (exit code 125): ")
    assert cached_entries(root) == [], "a tarball the engine refused is not kept"
    web.files["/img/retry.tar"] = tarballs[name][0]
    proc, d = run_job(podman, root, cjob("load-good", name, container_image_url=url))
    assert proc.returncode == 0, proc.stderr
    assert web.gets.count("/img/retry.tar") == 2


def test_image_cache_size_bound_evicts_least_recently_used(podman, web, tarballs, tmp_path):
    root = tmp_path / "root"
    size = len(tarballs["localhost/verdi-http:a"][0])
    bound = f"{(size * 3 // 2) // 1024}KB"  # room for one tarball, not two
    for tag in ("a", "b"):
        web.files[f"/img/{tag}.tar"] = tarballs[f"localhost/verdi-http:{tag}"][0]
        proc, _ = run_job(podman, root, cjob(f"bound-{tag}", f"localhost/verdi-http:{tag}",
                                             container_image_url=web.url(f"/img/{tag}.tar")),
                          args=["--image-cache-size", bound])
        assert proc.returncode == 0, proc.stderr
    entries = cached_entries(root)
    assert len(entries) == 1, entries
    assert (entries[0] / "b.tar").exists(), "the older tarball went first"
    assert "image cache: evicted" in proc.stderr
    # 0: nothing is kept once loaded (HySDS's behaviour).
    podman.podman("rmi", "localhost/verdi-http:b")
    proc, _ = run_job(podman, root, cjob("bound-0", "localhost/verdi-http:b",
                                         container_image_url=web.url("/img/b.tar")),
                      args=["--image-cache-size", "0"])
    assert proc.returncode == 0, proc.stderr
    assert cached_entries(root) == []
    bad = subprocess.run([VERDI, "run_job", "--image-cache-size", "lots", "x.json"],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "--image-cache-size" in bad.stderr


def test_dependency_images_are_loaded_and_described_not_started(podman, web, tarballs,
                                                                 tmp_path):
    dep = "localhost/verdi-dep:1"
    web.files["/img/dep.tar"] = tarballs[dep][0]
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    before = podman.started_images()
    job = cjob("deps", podman.image, dependency_images=[{
        "container_image_name": dep,
        "container_image_url": web.url("/img/dep.tar"),
        "container_image_sha256": tarballs[dep][1],
        "container_mappings": {str(data_dir): "/data"},
        "runtime_options": {"memory": "64m"}}])
    # The engine named by its full path.
    proc, d = run_job(podman, tmp_path / "root", job, engine=shutil.which("podman"))
    assert proc.returncode == 0, proc.stderr
    assert has_image(podman, dep)
    params = json.loads((d / "_docker_params.json").read_text())
    assert set(params) == {podman.image, dep}
    p = params[dep]
    assert p["image_name"] == dep and p["image_url"] == web.url("/img/dep.tar", auth="user:***@")
    assert [str(data_dir), "/data:ro"] in p["volumes"] or [str(data_dir), "/data"] in p["volumes"]
    assert p["runtime_options"] == {"memory": "64m"}
    assert p["working_dir"] == str(d) and p["uid"] == os.getuid()
    started = podman.started_images()[len(before):]
    assert started == [podman.image], started  # the job's container only


# -- a private registry --------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def registry(podman, tmp_path_factory):
    """Debian's docker-registry (the Distribution registry) on a loopback
    port, plain http, trusted by the test's podman; the test image is pushed
    to it as verdi/reg:1."""
    binary = shutil.which("docker-registry")
    assert binary, "docker-registry is not installed (scripts/install-deps installs it)"
    base = tmp_path_factory.mktemp("registry")
    port = free_port()
    (base / "config.yml").write_text(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {base / 'data'}\nhttp:\n  addr: 127.0.0.1:{port}\n"
        "  secret: verdi-test\n")
    log = open(base / "registry.log", "w")
    proc = subprocess.Popen([binary, "serve", str(base / "config.yml")], stdout=log,
                            stderr=subprocess.STDOUT)
    location = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert proc.poll() is None, (base / "registry.log").read_text()
            assert time.monotonic() < deadline, "the registry never listened"
            time.sleep(0.1)
    podman.trust_registry(location)
    podman.podman("push", podman.image, f"{location}/verdi/reg:1")
    yield location
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


def test_registry_pull_and_tag(podman, registry, tmp_path):
    name = "verdi/reg:1"
    assert not has_image(podman, name)
    proc, d = run_job(podman, tmp_path / "root", cjob("registry", name),
                      args=["--container-registry", registry])
    assert proc.returncode == 0, proc.stderr
    assert f"image {name}: pulling {registry}/{name}" in proc.stderr
    assert has_image(podman, name)
    assert json.loads((d / "_context.json").read_text())["container_image_id"]
    podman.podman("rmi", name, f"{registry}/{name}")


def test_plain_pull_when_there_is_no_url(podman, registry, tmp_path):
    name = f"{registry}/verdi/reg:1"
    assert not has_image(podman, name)
    # The name carries its registry: CONTAINER_REGISTRY is not put in front.
    proc, d = run_job(podman, tmp_path / "root", cjob("pull", name),
                      args=["--container-registry", "registry.invalid"])
    assert proc.returncode == 0, proc.stderr
    assert f"image {name}: pulling\n" in proc.stderr
    assert "registry.invalid" not in proc.stderr
    assert (d / "_stdout.txt").read_text() == "ran\n"
    # A name no registry has: the engine's error fails the job.
    proc, d = run_job(podman, tmp_path / "root", cjob("pull-missing", f"{registry}/verdi/none:1"))
    error = job_info(d)["error"]
    assert proc.returncode != 0 and error.startswith(f"pulling image {registry}/verdi/none:1: "
                                                     "podman pull failed"), error
