"""What a job leaves for HySDS's consumers, document by document, against
what HySDS's own code writes: the GRQ documents and their bulk POST
(dataset_ingest_bulk.ingest_to_object_store), browse images,
metrics.product_provenance (publish_files_wrapper), triage products
(triage.triage), job.context in _job.json and the statuses (job_worker's
shared context dict), and the ec2_* facts (job_worker.get_facts and its
instance metadata requests)."""

import datetime
import json
import shlex
import shutil
import sys
import uuid

import msgpack
import redis

from conftest import REPO, make_job

sys.path.insert(0, str(REPO / "tests"))
from loopback_http import LoopbackServer  # noqa: E402

RUN_JOB = "hysds.job_worker.run_job"


def write_config(tmp, entries):
    path = tmp / "datasets.json"
    path.write_text(json.dumps({"datasets": entries}))
    return str(path)


def shell(script):
    return "sh -c " + shlex.quote(script)


def parse_iso8601(text):
    """HySDS's parse_iso8601."""
    try:
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


# -- GRQ documents, browse images, product provenance ---------------------------

def test_documents_browse_and_provenance_as_hysds_publishes_them(verdi, tmp_path):
    dest = tmp_path / "dest"
    entry = {"ipath": "hysds::data/prod", "level": "l2", "type": "thing",
             "match_pattern": r"/(?P<id>P\d)$", "alt_match_pattern": None, "extractor": None,
             "publish": {"location": f"file://{dest}/products/{{id}}",
                         "urls": ["http://dav.example/products/{id}"]},
             "browse": {"location": f"file://{dest}/browse/{{id}}",
                        "urls": ["http://dav.example/browse/{id}"]}}
    cfg = write_config(tmp_path, [entry])
    script = (
        "for p in P1 P2; do mkdir $p && echo '{\"version\": \"v1.0\", \"label\": \"'$p'\"}' "
        "> $p/$p.dataset.json; done; "
        "echo big > P2/P2.browse.png; echo small > P2/P2.browse_small.png; "
        "echo big > P2/P2.unw.browse.png; "
        "echo '{\"acquisition_start_time\": \"2024-01-01T00:00:00Z\", "
        "\"source_production_time\": \"2024-01-01T01:00:00.250000Z\", \"mission\": \"m1\"}' "
        "> P2/P2.prod_prov.json")
    job = make_job(shell(script), job_id="docs-" + uuid.uuid4().hex[:8], task_id="task-docs")
    with LoopbackServer(lambda r: (200, {"success": True})) as grq:
        run = verdi(job, env={"HYSDS_DATASETS_CFG": cfg,
                              "GRQ_UPDATE_URL_BULK": grq.url + "/api/v0.2/grq/dataset/index"})
        assert run.returncode == 0, run.stderr
        posts = grq.seen()

    docs = json.loads((run.job_dir / "_datasets.json").read_text())
    prov = {"wasGeneratedBy": "task_id:task-docs"}
    images = [{"img": "P2.browse.png", "small_img": "P2.browse_small.png", "tooltip": "P2"},
              {"img": "P2.unw.browse.png", "small_img": None, "tooltip": "P2.unw"}]
    expected = []
    for pid, imgs in (("P1", []), ("P2", images)):
        expected.append({
            "id": pid, "objectid": pid, "metadata": {}, "dataset": "prod",
            "ipath": "hysds::data/prod", "system_version": "v1.0", "dataset_level": "l2",
            "dataset_type": "thing", "urls": [f"http://dav.example/products/{pid}"],
            "browse_urls": [f"http://dav.example/browse/{pid}"], "images": imgs, "prov": prov,
            "version": "v1.0", "label": pid, "grq_index_result": {"index": None}})
    assert docs == expected
    # One bulk POST whose JSON body is the list, JSON-encoded as a string.
    assert [(r.method, r.path) for r in posts] == [("POST", "/api/v0.2/grq/dataset/index")]
    assert json.loads(posts[0].json()) == expected
    # Only the small browse image goes to the browse location.
    assert sorted(p.name for p in (dest / "browse/P2").iterdir()) == ["P2.browse_small.png"]
    assert not (dest / "browse/P1").exists()

    info = run.job_json()["job_info"]
    staged = info["metrics"]["products_staged"]
    assert [s["id"] for s in staged] == ["P1", "P2"]
    assert all(s["index"] is None for s in staged)
    # One flat object: the last product's, with its prod_prov.json.
    provenance = info["metrics"]["product_provenance"]
    start, available = parse_iso8601(info["time_start"]), parse_iso8601(staged[1]["time_end"])
    processing = (available - start).total_seconds() / 60.0
    ground = (parse_iso8601("2024-01-01T01:00:00.250000Z") -
              parse_iso8601("2024-01-01T00:00:00Z")).total_seconds() / 60.0
    access = (available - parse_iso8601("2024-01-01T01:00:00.250000Z")).total_seconds() / 60.0
    assert set(provenance) == {"product_type", "processing_start_time", "availability_time",
                               "processing_latency", "total_latency", "acquisition_start_time",
                               "source_production_time", "mission", "ground_system_latency",
                               "access_latency"}
    assert provenance["product_type"] == "hysds::data/prod"
    assert provenance["processing_start_time"] == info["time_start"]
    assert provenance["availability_time"] == staged[1]["time_end"]
    assert abs(provenance["processing_latency"] - processing) < 1e-6
    assert abs(provenance["ground_system_latency"] - ground) < 1e-9
    assert abs(provenance["access_latency"] - access) < 1e-6
    assert abs(provenance["total_latency"] - (processing + ground + access)) < 1e-6
    assert provenance["mission"] == "m1"


def test_index_of_the_entry_is_the_documents_grq_index_result(verdi, tmp_path):
    entry = {"ipath": "hysds::data/prod", "level": "l2", "type": "thing",
             "match_pattern": r"/(?P<id>P\d)$", "index": {"suffix": "custom"},
             "publish": {"location": f"file://{tmp_path}/dest/{{id}}", "urls": []}}
    cfg = write_config(tmp_path, [entry])
    job = make_job(shell("mkdir P1 && echo '{\"version\": \"v1\"}' > P1/P1.dataset.json"),
                   job_id="idx-" + uuid.uuid4().hex[:8])
    run = verdi(job, env={"HYSDS_DATASETS_CFG": cfg})
    assert run.returncode == 0, run.stderr
    doc = json.loads((run.job_dir / "_datasets.json").read_text())[0]
    assert doc["index"] == {"suffix": "custom"}
    assert doc["grq_index_result"] == {"index": {"suffix": "custom"}}
    assert run.job_json()["job_info"]["metrics"]["products_staged"][0]["index"] == {
        "suffix": "custom"}


# -- triage -----------------------------------------------------------------------

def triage_entry(dest):
    return {"ipath": "hysds::data/triaged_job", "level": "NA", "type": "triaged_job",
            "match_pattern": r"/(?P<id>triaged_job-.*)$", "alt_match_pattern": None,
            "extractor": None,
            "publish": {"location": f"file://{dest}/{{version}}/{{id}}", "urls": []}}


def triaged_job(job_id):
    """A failing job whose job-spec lists HySDS's triage among its post-processors."""
    job = make_job("/bin/sh -c 'exit 3'", job_id=job_id, task_id="task-tri")
    job["params"]["job_specification"] = {"command": "x", "params": [],
                                          "post": ["hysds.triage.triage"]}
    return job


def test_triage_product_as_hysds_makes_it(verdi, tmp_path):
    dest = tmp_path / "triage"
    cfg = write_config(tmp_path, [triage_entry(dest)])
    job_id = "tri-" + uuid.uuid4().hex[:8]
    run = verdi(triaged_job(job_id),
                env={"HYSDS_DATASETS_CFG": cfg})
    assert run.returncode == 3
    info = run.job_json()["job_info"]
    tid = f"triaged_job-{job_id}_task-task-tri"
    dataset = json.loads((dest / "v3.3.2" / tid / f"{tid}.dataset.json").read_text())
    assert dataset == {"version": "v3.3.2", "label": f"triage for job {job_id}",
                       "starttime": info["cmd_start"], "endtime": info["cmd_end"]}
    triaged = json.loads((run.job_dir / "_triaged.json").read_text())
    assert triaged["system_version"] == "v3.3.2"
    assert triaged["grq_index_result"] == {"index": None}
    assert info["metrics"]["product_provenance"]["product_type"] == "hysds::data/triaged_job"


def test_triage_version_and_partition_are_settings(verdi, tmp_path):
    dest = tmp_path / "triage"
    cfg = write_config(tmp_path, [triage_entry(dest)])
    job_id = "tri-" + uuid.uuid4().hex[:8]
    run = verdi(triaged_job(job_id),
                args=["--triage-version", "v5.0.1"],
                env={"HYSDS_DATASETS_CFG": cfg, "TRIAGE_PARTITION_FORMAT": "%Y"})
    assert run.returncode == 3
    tid = f"triaged_job-{job_id}_task-task-tri"
    dataset = json.loads((dest / "v5.0.1" / tid / f"{tid}.dataset.json").read_text())
    year = datetime.datetime.now(datetime.timezone.utc).strftime("%Y")
    assert dataset["version"] == "v5.0.1"
    assert dataset["index"] == {"suffix": f"v5.0.1_{year}_triaged_job"}


# -- job.context ----------------------------------------------------------------------

def statuses(url, key):
    client = redis.Redis.from_url(url)
    return [msgpack.unpackb(raw, raw=False) for raw in client.lrange(key, 0, -1)]


# The command adds a key to _context.json, as jobs pass flags to the worker.
ADD_TO_CONTEXT = ("/usr/bin/python3 -c 'import json; c = json.load(open(\"_context.json\")); "
                  "c[\"from_job\"] = 1; json.dump(c, open(\"_context.json\", \"w\"))'")


def test_job_context_is_the_workers_context_when_it_came_empty(services, verdi, tmp_path):
    key = "logstash-" + uuid.uuid4().hex[:8]
    url = services.state["redis_url"]
    job = make_job(ADD_TO_CONTEXT, job_id="ctx-" + uuid.uuid4().hex[:8], task_id="task-ctx")
    job["params"]["greeting"] = "hi"
    run = verdi(job, env={"REDIS_JOB_STATUS_URL": url, "REDIS_JOB_STATUS_KEY": key,
                          "REDIS_JOB_INFO_KEY": key + "-info"})
    assert run.returncode == 0, run.stderr
    context = json.loads((run.job_dir / "_context.json").read_text())
    assert context["from_job"] == 1 and context["greeting"] == "hi"
    # HySDS's worker fills the job's own empty context dict: _job.json shows it.
    assert run.job_json()["context"] == context
    started, completed = statuses(url, key)
    before = dict(context)
    del before["from_job"]
    assert started["status"] == "job-started" and started["job"]["context"] == before
    assert completed["status"] == "job-completed" and completed["job"]["context"] == context


def test_a_callers_context_is_left_as_it_came(services, verdi, tmp_path):
    key = "logstash-" + uuid.uuid4().hex[:8]
    url = services.state["redis_url"]
    job = make_job(ADD_TO_CONTEXT, job_id="ctx-" + uuid.uuid4().hex[:8], task_id="task-ctx",
                   context={"rule": "r1"})
    run = verdi(job, env={"REDIS_JOB_STATUS_URL": url, "REDIS_JOB_STATUS_KEY": key})
    assert run.returncode == 0, run.stderr
    assert json.loads((run.job_dir / "_context.json").read_text())["context"] == {"rule": "r1"}
    assert run.job_json()["context"] == {"rule": "r1"}
    docs = [d for d in statuses(url, key) if d.get("resource") == "job"]
    assert [d["job"]["context"] for d in docs] == [{"rule": "r1"}] * 2


# -- ec2_* facts ----------------------------------------------------------------------

METADATA = {"instance-id": "i-0123456789abcdef0", "instance-type": "m5.large",
            "placement/availability-zone": "us-west-2a", "public-ipv4": "54.1.2.3"}


def metadata_service(tokens=True):
    """The instance metadata service: IMDSv2 (a token asked with PUT, then
    sent) or, with tokens=False, IMDSv1 only. No public hostname: 404."""
    def answer(request):
        if request.method == "PUT" and request.path == "/latest/api/token":
            if not tokens:
                return 403, ""
            assert request.headers["X-aws-ec2-metadata-token-ttl-seconds"] == "21600"
            return 200, "tok-1"
        if tokens and request.headers.get("X-aws-ec2-metadata-token") != "tok-1":
            return 401, ""
        name = request.path.removeprefix("/latest/meta-data/")
        return (200, METADATA[name]) if name in METADATA else (404, "")
    return LoopbackServer(answer)


EC2_FACTS = {"ec2_instance_id": "i-0123456789abcdef0", "ec2_instance_type": "m5.large",
             "ec2_placement_availability_zone": "us-west-2a", "ec2_public_ipv4": "54.1.2.3"}


def test_ec2_facts_from_instance_metadata(verdi):
    for tokens in (True, False):
        with metadata_service(tokens) as imds:
            run = verdi(make_job("/bin/true", job_id="ec2-" + uuid.uuid4().hex[:8]),
                        env={"AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url})
            seen = imds.seen()
        assert run.returncode == 0, run.stderr
        info = run.job_json()["job_info"]
        assert {k: v for k, v in info["facts"].items() if k.startswith("ec2_")} == EC2_FACTS
        # As HySDS's get_facts: the public IPv4 is the node (no public host name) and its IP.
        assert info["facts"]["hysds_execute_node"] == "54.1.2.3" == info["execute_node"]
        assert info["facts"]["hysds_public_ip"] == "54.1.2.3" == info["public_ip"]
        assert info["job_url"].startswith("http://54.1.2.3:8085/")
        assert [(r.method, r.path) for r in seen] == [
            ("PUT", "/latest/api/token"),
            ("GET", "/latest/meta-data/instance-id"),
            ("GET", "/latest/meta-data/instance-type"),
            ("GET", "/latest/meta-data/placement/availability-zone"),
            ("GET", "/latest/meta-data/public-hostname"),
            ("GET", "/latest/meta-data/public-ipv4")]
        shutil.rmtree(run.root)


def test_no_metadata_service_or_turned_off_no_ec2_facts(verdi):
    # Nothing listens on that port: the job runs at once, without ec2_* facts.
    run = verdi(make_job("/bin/true", job_id="ec2-none"),
                env={"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1"})
    assert run.returncode == 0, run.stderr
    assert not [k for k in run.job_json()["job_info"]["facts"] if k.startswith("ec2_")]
    with metadata_service() as imds:
        run = verdi(make_job("/bin/true", job_id="ec2-off"),
                    env={"AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url,
                         "AWS_EC2_METADATA_DISABLED": "True"})
        assert imds.seen() == []


def test_a_worker_asks_the_metadata_service_once(start_worker, celery_app, queue_name, tmp_path):
    with metadata_service() as imds:
        start_worker(env={"AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url})
        asked = len(imds.seen())
        assert asked == 6  # at start, before any job
        for i in range(3):
            job = make_job("/bin/true", job_id=f"ec2w-{i}-{uuid.uuid4().hex[:6]}")
            result = celery_app.send_task(RUN_JOB, args=[job], queue=queue_name)
            assert result.get(timeout=60)["status"] == "job-completed"
        assert len(imds.seen()) == asked
    done = sorted((tmp_path / "root").glob("jobs/*/*/*/*/*/*/_job.json"))
    assert len(done) == 3
    for path in done:
        facts = json.loads(path.read_text())["job_info"]["facts"]
        assert {k: v for k, v in facts.items() if k.startswith("ec2_")} == EC2_FACTS
