"""`verdi run_job` publishing the datasets a job made (datasets.json rules,
metadata, WebDAV uploads to a private nginx, file:// targets, rollback) and
triaging failed jobs."""

import json
import os
import pathlib
import shlex
import shutil
import sys
import time

import pytest

from conftest import REPO, make_job

sys.path.insert(0, str(REPO / "tests"))
from nginx_server import NginxServer  # noqa: E402


@pytest.fixture
def nginx(tmp_path):
    with NginxServer(tmp_path / "nginx", deny=["/P3/"]) as srv:
        yield srv


def products_command(*ids, version="v1.0"):
    """A shell command that makes products <id>/<id>.dataset.json + data."""
    steps = []
    for pid in ids:
        steps.append(
            f"mkdir -p {pid} && echo '{{\"version\": \"{version}\", \"label\": \"{pid}\"}}' "
            f"> {pid}/{pid}.dataset.json && echo data-{pid} > {pid}/data.txt")
    return "sh -c " + shlex.quote(" && ".join(steps) or "true")


def write_config(tmp, entries):
    path = tmp / "datasets.json"
    path.write_text(json.dumps({"datasets": entries}))
    return str(path)


def entry(ipath, pattern, location, **extra):
    e = {"ipath": ipath, "version": "v1", "level": "l2", "type": "thing",
         "match_pattern": pattern, "alt_match_pattern": None,
         "publish": {"location": location, "urls": [location]}}
    e.update(extra)
    return e


def dir_of(root, job_id):
    """The finished work dir of the job with that id."""
    dirs = [p.parent for p in root.glob(f"jobs/*/*/*/*/*/{job_id}/.done")]
    assert len(dirs) == 1, dirs
    return dirs[0]


def job_json(job_dir):
    return json.loads((job_dir / "_job.json").read_text())


def files_under(path):
    path = pathlib.Path(path)
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())


def job_for(command, job_id, payload, **extra):
    job = make_job(command, job_id=job_id, **extra)
    job["job_info"]["job_payload"] = {"payload_task_id": payload}
    return job


def test_products_published_over_webdav_first_entry_wins_with_templates(verdi, nginx):
    extractor = verdi.tmp / "extract.sh"
    extractor.write_text('#!/bin/sh\necho "{\\"from\\": \\"extractor\\", \\"dir\\": \\"$1\\"}"\n')
    extractor.chmod(0o755)
    cfg = write_config(verdi.tmp, [
        # Named groups, {name} and ${name}, an extractor.
        entry("hysds::data/area", r"/(?P<id>AOI_(?P<site>[a-z]+))$",
              nginx.url + "/area/${version}/{site}/{id}", extractor=str(extractor)),
        # Matches AOI_* as well, but comes second: never used for them.
        entry("hysds::data/other", r"/(?P<id>AOI_.+|OTHER)$",
              nginx.url + "/other/{version}/{id}"),
    ])
    run = verdi(job_for(products_command("AOI_pasadena", "OTHER"), "pub-1", "pay-1"),
                env={"HYSDS_DATASETS_CFG": cfg})
    assert run.returncode == 0, run.stderr
    assert files_under(nginx.root) == [
        "area/v1.0/pasadena/AOI_pasadena/AOI_pasadena.context.json",
        "area/v1.0/pasadena/AOI_pasadena/AOI_pasadena.dataset.json",
        "area/v1.0/pasadena/AOI_pasadena/AOI_pasadena.met.json",
        "area/v1.0/pasadena/AOI_pasadena/_publish.context.json",
        "area/v1.0/pasadena/AOI_pasadena/data.txt",
        "other/v1.0/OTHER/OTHER.context.json",
        "other/v1.0/OTHER/OTHER.dataset.json",
        "other/v1.0/OTHER/_publish.context.json",
        "other/v1.0/OTHER/data.txt",
    ]
    met = json.loads((nginx.root / "area/v1.0/pasadena/AOI_pasadena/AOI_pasadena.met.json").read_text())
    assert met["from"] == "extractor" and met["data_product_name"] == "AOI_pasadena"
    job_dir = run.job_dir
    docs = json.loads((job_dir / "_datasets.json").read_text())
    assert [d["id"] for d in docs] == ["AOI_pasadena", "OTHER"]
    assert [d["dataset"] for d in docs] == ["area", "other"]
    assert docs[0]["urls"] == [nginx.url + "/area/v1.0/pasadena/AOI_pasadena"]
    assert docs[0]["metadata"]["from"] == "extractor"
    info = job_json(job_dir)["job_info"]
    assert [p["id"] for p in info["metrics"]["products_staged"]] == ["AOI_pasadena", "OTHER"]
    assert info["metrics"]["product_provenance"]["product_type"] == "hysds::data/other"


def test_upload_failing_on_the_third_of_five_leaves_nothing_and_fails_the_job(verdi, nginx):
    cfg = write_config(verdi.tmp, [entry("hysds::data/p", r"/(?P<id>P\d)$",
                                         nginx.url + "/data/{id}")])
    run = verdi(job_for(products_command("P1", "P2", "P3", "P4", "P5"), "pub-2", "pay-2"),
                env={"HYSDS_DATASETS_CFG": cfg})
    assert run.returncode != 0
    assert files_under(nginx.root) == []
    info = job_json(run.job_dir)["job_info"]
    assert info["job_status"] == "job-failed"
    assert "publishing" in info["error"] and "P3" in info["error"] and "403" in info["error"], info["error"]
    assert not (run.job_dir / "_datasets.json").exists()


def test_existing_product_retry_and_force_ingest(verdi, tmp_path):
    dest = tmp_path / "dest"
    cfg = write_config(verdi.tmp, [entry("hysds::data/p", r"/(?P<id>P\d)$",
                                         "file://" + str(dest) + "/{id}")])
    env = {"HYSDS_DATASETS_CFG": cfg}
    assert verdi(job_for(products_command("P1"), "pub-a", "pay-a"), env=env).returncode == 0
    # Another payload making the same product fails, naming product and place.
    run = verdi(job_for(products_command("P1", version="v2"), "pub-b", "pay-b"), env=env)
    assert run.returncode != 0
    error = job_json(dir_of(verdi.root, "pub-b"))["job_info"]["error"]
    assert f"product P1 already exists at file://{dest}/P1" in error, error
    assert "pay-a" in error
    assert json.loads((dest / "P1/P1.dataset.json").read_text())["version"] == "v1.0"
    # A retry of the same payload replaces it.
    run = verdi(job_for(products_command("P1", version="v3"), "pub-a2", "pay-a"), env=env)
    assert run.returncode == 0, run.stderr
    assert json.loads((dest / "P1/P1.dataset.json").read_text())["version"] == "v3"
    # _force_ingest replaces whoever published it.
    # (publish_overwrite_ok becomes the context's _force_ingest.)
    forced = job_for(products_command("P1", version="v4"), "pub-c", "pay-c",
                     publish_overwrite_ok=True)
    run = verdi(forced, env=env)
    assert run.returncode == 0, run.stderr
    assert json.loads((dest / "P1/P1.dataset.json").read_text())["version"] == "v4"
    assert json.loads((dest / "P1/_publish.context.json").read_text())["payload_id"] == "pay-c"


def test_extractor_failure_and_garbage_fail_the_job(verdi, tmp_path):
    for body, expected in (("echo broken >&2; exit 4", "exit code 4; stderr: broken"),
                           ("echo not-json", "not a JSON object: not-json")):
        extractor = tmp_path / "x.sh"
        extractor.write_text("#!/bin/sh\n" + body + "\n")
        extractor.chmod(0o755)
        cfg = write_config(verdi.tmp, [entry("hysds::data/p", r"/(?P<id>P\d)$",
                                             "file://" + str(tmp_path / "dest") + "/{id}",
                                             extractor=str(extractor))])
        run = verdi(job_for(products_command("P1"), "pub-x", "pay-x"),
                    env={"HYSDS_DATASETS_CFG": cfg})
        assert run.returncode != 0
        error = job_json(dir_of(verdi.root, "pub-x"))["job_info"]["error"]
        assert "product P1: extractor" in error and expected in error, error
        assert not (tmp_path / "dest").exists()
        shutil.rmtree(dir_of(verdi.root, "pub-x"))


def test_product_linked_from_outside_the_job_dir_is_refused(verdi, tmp_path):
    outside = tmp_path / "outside"
    (outside / "P9").mkdir(parents=True)
    (outside / "P9" / "P9.dataset.json").write_text('{"version": "v1"}')
    cfg = write_config(verdi.tmp, [entry("hysds::data/p", r"/(?P<id>P\d)$",
                                         "file://" + str(tmp_path / "dest") + "/{id}")])
    run = verdi(job_for(f"ln -s {outside / 'P9'} P9", "pub-l", "pay-l"),
                env={"HYSDS_DATASETS_CFG": cfg})
    assert run.returncode != 0
    error = job_json(run.job_dir)["job_info"]["error"]
    assert "outside the job dir: refused" in error, error
    assert not (tmp_path / "dest").exists()


def test_failed_job_is_triaged_with_its_files(verdi, tmp_path):
    dest = tmp_path / "triage"
    cfg = write_config(verdi.tmp, [entry("hysds::data/triaged_job", r"/(?P<id>triaged_job-.+)$",
                                         "file://" + str(dest) + "/{id}")])
    command = "sh -c " + shlex.quote("echo oops >&2; echo log > run.log; mkdir extra; "
                                     "echo n > extra/notes.txt; echo x > other.dat; exit 3")
    job = job_for(command, "pub-t", "pay-t")
    job["params"]["_triage_additional_globs"] = ["extra/*.txt"]  # params are the context's keys
    # HySDS triages only when the job-spec lists triage among its post-processors.
    job["params"]["job_specification"] = {"command": "x", "params": [],
                                          "post": ["hysds.triage.triage"]}
    run = verdi(job, env={"HYSDS_DATASETS_CFG": cfg})
    assert run.returncode == 3
    job_dir = run.job_dir
    task_id = job_json(job_dir)["task_id"]
    tid = f"triaged_job-pub-t_task-{task_id}"
    files = files_under(dest / tid)
    for name in ("_stderr.txt", "_stdout.txt", "_job.json", "_context.json", "run.log",
                 "notes.txt", f"{tid}.dataset.json", f"{tid}.met.json"):
        assert name in files, files
    assert "other.dat" not in files
    assert "oops" in (dest / tid / "_stderr.txt").read_text()
    assert json.loads((job_dir / "_triaged.json").read_text())["id"] == tid
    info = job_json(job_dir)["job_info"]
    assert info["error"] == "Got non-zero exit code: 3"


def test_products_published_to_s3_and_replaced_on_a_retry(verdi, tmp_path):
    from s3_server import S3Server
    s3 = S3Server(tmp_path / "s3").start()
    try:
        location = f"s3://{s3.endpoint}/priv/products/{{id}}"
        cfg = write_config(verdi.tmp, [entry("hysds::data/p", r"/(?P<id>P\d)$", location)])
        env = dict(s3.env(), HYSDS_DATASETS_CFG=cfg)
        run = verdi(job_for(products_command("P1", "P2"), "pub-s3", "pay-s3"), env=env)
        assert run.returncode == 0, run.stderr
        assert s3.get("priv", "products/P2/data.txt") == (200, b"data-P2\n")
        status, body = s3.get("priv", "products/P1/_publish.context.json")
        assert status == 200 and json.loads(body)["payload_id"] == "pay-s3"
        # A retry of the same payload replaces every object of the product.
        run = verdi(job_for(products_command("P1", version="v9"), "pub-s3b", "pay-s3"), env=env)
        assert run.returncode == 0, run.stderr
        status, body = s3.get("priv", "products/P1/P1.dataset.json")
        assert status == 200 and json.loads(body)["version"] == "v9"
        assert "PUT /priv/products/P1/data.txt signed" in "\n".join(s3.log_lines())
    finally:
        s3.stop()


# -- a job that attacks publishing ---------------------------------------------

HOST_SECRET = '{"version": "v1", "label": "HOST-SECRET", "secret": "HOST-SECRET"}'


def everything_under(path):
    """Every file under `path` with its content, as one string."""
    path = pathlib.Path(path)
    if not path.exists():
        return ""
    return "\n".join(f"{p}={p.read_text(errors='replace')}" for p in sorted(path.rglob("*"))
                     if p.is_file())


@pytest.mark.parametrize("name", ["P1.context.json", "P1.met.json", "P1.dataset.json"])
def test_product_json_linked_to_a_host_file_is_never_read_or_written(verdi, tmp_path, name):
    host = tmp_path / "host" / "secret.json"
    host.parent.mkdir()
    host.write_text(HOST_SECRET)
    dest = tmp_path / "dest"
    cfg = write_config(verdi.tmp, [entry("hysds::data/p", r"/(?P<id>P\d)$",
                                         "file://" + str(dest) + "/{id}")])
    command = products_command("P1")[len("sh -c "):]
    command = "sh -c " + shlex.quote(shlex.split(command)[0] +
                                     f" && echo '{{}}' > P1/P1.met.json && rm -f P1/{name}"
                                     f" && ln -s {host} P1/{name}")
    run = verdi(job_for(command, "pub-ln", "pay-ln"), env={"HYSDS_DATASETS_CFG": cfg})
    assert host.read_text() == HOST_SECRET  # never written through
    assert "HOST-SECRET" not in everything_under(dest)
    info = job_json(run.job_dir)["job_info"]
    if name == "P1.context.json":
        # verdi writes the product's context.json itself: the link is replaced.
        assert run.returncode == 0, info.get("error")
        assert not (dest / "P1" / name).is_symlink()
        assert "_command" in json.loads((dest / "P1" / name).read_text())
    else:
        assert run.returncode != 0
        assert f"product P1: {run.job_dir / 'P1' / name}: is or goes through a symlink: " \
               "refused" in info["error"], info["error"]
        assert not dest.exists()


def test_fifo_met_json_fails_the_job_in_bounded_time(verdi, tmp_path):
    dest = tmp_path / "dest"
    cfg = write_config(verdi.tmp, [entry("hysds::data/p", r"/(?P<id>P\d)$",
                                         "file://" + str(dest) + "/{id}")])
    command = "sh -c " + shlex.quote(shlex.split(products_command("P1")[len("sh -c "):])[0] +
                                     " && mkfifo P1/P1.met.json")
    started = time.monotonic()
    run = verdi(job_for(command, "pub-fifo", "pay-fifo"), env={"HYSDS_DATASETS_CFG": cfg},
                timeout=60)
    assert time.monotonic() - started < 30
    assert run.returncode != 0
    error = job_json(run.job_dir)["job_info"]["error"]
    assert "product P1: " in error and "P1.met.json: is a FIFO, not a regular file: refused" \
        in error, error
    assert not dest.exists()


def test_version_that_climbs_out_of_the_publish_root_fails_the_job(verdi, tmp_path):
    # The example config, publishing under tmp_path instead of /tmp.
    example = (REPO / "examples" / "publish" / "datasets.json").read_text()
    pub = tmp_path / "pub"
    cfg = verdi.tmp / "datasets.json"
    cfg.write_text(example.replace("file:///tmp/verdi-example", "file://" + str(pub / "root")))
    pid = "AOI_lima_1"
    command = "sh -c " + shlex.quote(
        f"mkdir {pid} && echo '{{\"version\": \"../../../../x\"}}' > {pid}/{pid}.dataset.json"
        f" && echo data > {pid}/data.txt")
    run = verdi(job_for(command, "pub-up", "pay-up"), env={"HYSDS_DATASETS_CFG": str(cfg)})
    assert run.returncode != 0
    error = job_json(run.job_dir)["job_info"]["error"]
    assert f"product {pid}: " in error and ".publish.location: field `{version}` is " \
        '"../../../../x": `..` would climb out of the destination; refused' in error, error
    assert not pub.exists()  # neither under the root nor four levels above it
    assert not (tmp_path / "x").exists()


def test_fifo_or_link_in_place_of_the_jobs_context_json_fails_the_job_in_bounded_time(
        verdi, tmp_path):
    host = tmp_path / "host.json"
    host.write_text(HOST_SECRET)
    dest = tmp_path / "dest"
    cfg = write_config(verdi.tmp, [entry("hysds::data/p", r"/(?P<id>P\d)$",
                                         "file://" + str(dest) + "/{id}")])
    for job_id, swap, expected in (
            ("ctx-fifo", "rm _context.json && mkfifo _context.json",
             "_context.json: is a FIFO, not a regular file: refused"),
            ("ctx-link", f"rm _context.json && ln -s {host} _context.json",
             "_context.json: is or goes through a symlink: refused")):
        command = "sh -c " + shlex.quote(
            shlex.split(products_command("P1")[len("sh -c "):])[0] + " && " + swap)
        started = time.monotonic()
        run = verdi(job_for(command, job_id, "pay-" + job_id), env={"HYSDS_DATASETS_CFG": cfg})
        assert time.monotonic() - started < 30
        assert run.returncode != 0
        error = job_json(dir_of(verdi.root, job_id))["job_info"]["error"]
        assert error.startswith("the job left an unreadable _context.json: ") and expected in error, \
            error
        assert "HOST-SECRET" not in everything_under(dest)
        assert host.read_text() == HOST_SECRET
