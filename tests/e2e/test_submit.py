"""`verdi submit`: job-spec + hysds-io + params -> the run_job job, as HySDS's
resolver and orchestrator build it; published as a Celery task that verdi and
Python workers accept."""

import copy
import hashlib
import json
import os
import subprocess
import uuid

import pytest
from kombu import Connection, Exchange, Queue

from conftest import REPO, VERDI

FIX = REPO / "tests" / "fixtures" / "submit"
HELLO = REPO / "examples" / "hello_world" / "job-spec.json.hello_world"
NOW = "2024-01-02T03:04:05.000007Z"
STAMP = "20240102T030405.7Z"  # HySDS's job id stamp: microseconds not zero-padded
TASK = "00000000-0000-4000-8000-000000000001"
RUN_JOB = "hysds.job_worker.run_job"


def submit(*args, env=None, input=None, timeout=60):
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "HARD_TIME_LIMIT_GAP")}
    full_env["USER"] = "tester"
    full_env.update(env or {})
    return subprocess.run([VERDI, "submit", *map(str, args)], capture_output=True, text=True,
                          env=full_env, input=input, timeout=timeout)


def dry_run(spec, *args, **kwargs):
    """The job `verdi submit --dry-run` prints, at a fixed time and task id."""
    proc = submit("--dry-run", "--now", NOW, "--task-id", TASK, spec, *args, **kwargs)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), proc.stderr


def payload_hash(payload):
    """HySDS's get_payload_hash, in Python."""
    clean = {k: v for k, v in payload.items()
             if k not in ("_disk_usage", "_sciflo_job_num", "_sciflo_wuid")}
    return hashlib.md5(json.dumps(clean, sort_keys=True, ensure_ascii=True).encode()).hexdigest()


def expected_job(spec_path, command, params=None, localize=(), queue="celery", type_=None,
                 soft=None, hard=None, disk=None, tag=None, dedup=True, priority=0, name=None,
                 username="tester"):
    """The whole run_job job the rules give: HySDS's payload and job_info, with
    the params routed as HySDS routes them."""
    spec = json.loads(spec_path.read_text())  # Python's json: repeated keys, the last wins
    type_ = type_ or "job-%s:latest" % spec_path.name.split("job-spec.json.", 1)[1]
    job_id = "%s-%s" % ((name or type_).replace(":", "__"), STAMP)
    payload = {"_command": command, "_disk_usage": disk, "localize_urls": list(localize),
               "job_specification": spec, "container_specification": None}
    for key, value in (params or {}).items():
        payload.setdefault(key, value)
    if tag is not None:
        payload.setdefault("tag", tag)
    job = {
        "job_id": job_id, "name": job_id, "type": type_, "task_id": TASK, "priority": priority,
        "context": {}, "localize_urls": list(localize),
        "container_mappings": spec.get("imported_worker_files", {}),
        "runtime_options": spec.get("runtime_options", {}),
        "params": payload,
        "job_info": {
            "id": job_id, "job_queue": queue, "time_queued": NOW, "index": "job_status-2024.01.02",
            "time_limit": hard, "soft_time_limit": soft, "payload_hash": payload_hash(payload),
            "dedup": dedup,
            "job_payload": {"job_type": "job:" + type_, "payload_task_id": TASK},
        },
    }
    if tag is not None:
        job["tag"] = tag
    if username is not None:
        job["username"] = username
    return job


# -- one rule at a time, with --dry-run ----------------------------------------

def test_positional_values_are_quoted_and_json_encoded():
    spec = FIX / "job-spec.json.positional"
    job, stderr = dry_run(spec, "--params", FIX / "params-positional.json")
    command = (json.loads(spec.read_text())["command"] +
               " 'two words' 'it'\"'\"'s' '3' '{\"k\": [\"\\u00e9\"]}'")
    params = json.loads((FIX / "params-positional.json").read_text())
    assert job == expected_job(spec, command, params, soft=30, hard=330)
    assert stderr == ""


def test_localize_values_are_flattened_into_localize_urls():
    spec = FIX / "job-spec.json.localize"
    job, _ = dry_run(spec, "--params", FIX / "params-localize.json")
    urls = [{"url": "https://example.com/a.txt"},
            {"url": "s3://bucket/b.nc", "local_path": "in/", "cache": False},
            {"url": "file:///data/c.txt"}]
    assert job == expected_job(spec, "/bin/true", localize=urls)


def test_context_params_go_to_params_without_overwriting_reserved_keys():
    spec = FIX / "job-spec.json.context"
    job, stderr = dry_run(spec, "--params", FIX / "params-context.json", "--tag", "from-flag")
    params = {"mode": {"fast": True, "level": 2}, "tag": "from-params"}
    assert job == expected_job(spec, "/bin/true", params, tag="from-flag")
    assert job["params"]["tag"] == "from-params"  # as HySDS: the param wins in params
    assert stderr == (f"verdi submit: note: {spec}: job-spec.params[1]: param '_command': "
                      "not stored in params: the key is reserved\n")


def test_hysds_io_values_defaults_optional_and_lambda():
    spec = FIX / "job-spec.json.defaults"
    io = FIX / "hysds-io.json.defaults"
    job, stderr = dry_run(spec, "--hysds-io", io, "--param", "given=5")
    params = {"fixed": "always", "count": 3.0, "flag": True,
              "region": {"type": "Polygon", "coordinates": []}, "shout": "hi", "given": "5"}
    assert job == expected_job(spec, "/bin/echo 'always' '3.0' 'hi'", params, dedup=False)
    assert "skipped" not in job["params"]  # optional, no default: no argument, no key
    assert stderr == (f"verdi submit: note: {io}: hysds-io.params[4].lambda: param 'shout': "
                      "not run, as in HySDS's REST submission (--as-rule runs it); the value is used "
                      "as it is\n")


def test_param_flags_override_params_and_values_keep_their_types():
    spec = FIX / "job-spec.json.positional"
    params = {"text": "t", "quote": "q", "number": 7.5, "object": [1, None]}
    job, stderr = dry_run(spec, "--params", "-", "--param", "text=from flag",
                          "--param", "number=8", "--param", "unknown=1",
                          input=json.dumps(params))
    command = (json.loads(spec.read_text())["command"] +
               " 'from flag' 'q' '8' '[1, null]'")
    assert job == expected_job(spec, command, dict(params, text="from flag", number="8"),
                               soft=30, hard=330)
    assert stderr == (f"verdi submit: note: --param unknown: not a param of {spec}; ignored\n")


@pytest.mark.parametrize("args,env,soft,hard", [
    ((), {}, 3600, 3900),  # the job-spec's, hard raised to soft + 300
    (("--soft-time-limit", 100, "--time-limit", 1000), {}, 100, 1000),
    (("--soft-time-limit", 100, "--time-limit", 200), {}, 100, 400),
    (("--hard-time-limit-gap", 60), {}, 3600, 3700),
    ((), {"HARD_TIME_LIMIT_GAP": "1000"}, 3600, 4600),
])
def test_time_limits_and_the_hard_limit_gap(args, env, soft, hard):
    spec = FIX / "job-spec.json.limits"
    job, _ = dry_run(spec, *args, env=env)
    assert job == expected_job(spec, "/bin/true", soft=soft, hard=hard, disk="2GB")


def test_spelling_variants_and_repeated_keys():
    spec = FIX / "job-spec.json.variants"
    job, _ = dry_run(spec)
    # recommended_queues (underscore) gives the queue; of the two "command"s the last wins.
    assert job == expected_job(spec, "/bin/true", queue="small-queue")
    assert job["params"]["job_specification"]["command"] == "/bin/true"


def test_container_mappings_runtime_options_and_dependency_images_are_carried_over():
    spec = FIX / "job-spec.json.container"
    job, _ = dry_run(spec)
    assert job == expected_job(spec, "/home/ops/run.sh")
    assert job["container_mappings"] == {"$HOME/.netrc": "/home/ops/.netrc",
                                         "/data/aux": ["/aux", "rw"]}
    assert job["runtime_options"] == {"gpus": "all"}
    assert job["params"]["job_specification"]["dependency_images"] == [
        {"container_image_name": "dep:1", "container_image_url": "s3://bucket/dep-1.tar.gz"}]


def test_job_options():
    spec = FIX / "job-spec.json.limits"
    job, _ = dry_run(spec, "--type", "job-limits:v2", "--name", "nightly:run", "--queue", "q9",
                     "--priority", 5, "--tag", "t", "--username", "ops", "--no-dedup",
                     "--disk-usage", "5MB", "--container-image", "limits:v2",
                     "--container-image-url", "s3://b/limits-v2.tar")
    expected = expected_job(spec, "/bin/true", queue="q9", type_="job-limits:v2", soft=3600,
                            hard=3900, disk="5MB", tag="t", dedup=False, priority=5,
                            name="nightly:run", username="ops")
    container = {"id": "limits:v2", "url": "s3://b/limits-v2.tar"}
    expected["params"]["container_specification"] = container
    expected["job_info"]["payload_hash"] = payload_hash(expected["params"])
    expected.update(container_image_name="limits:v2", container_image_url="s3://b/limits-v2.tar")
    assert job == expected
    assert job["job_id"] == "nightly__run-" + STAMP


def test_without_now_and_task_id_the_stamp_and_id_are_fresh():
    proc = submit("--dry-run", FIX / "job-spec.json.limits")
    assert proc.returncode == 0, proc.stderr
    job = json.loads(proc.stdout)
    assert job["task_id"] != TASK and len(job["task_id"]) == 36
    assert job["job_info"]["job_payload"]["payload_task_id"] == job["task_id"]
    assert job["job_id"].startswith("job-limits__latest-")
    assert job["job_id"].endswith("Z")


@pytest.mark.parametrize("args,message", [
    (("job-spec.json.positional",),
     "{fix}/job-spec.json.positional: job-spec.params[0]: param 'text': params must specify "
     "'text': give --param text=VALUE or a --params file with it, or a --hysds-io with a default"),
    (("job-spec.json.count", "--hysds-io", "{fix}/hysds-io.json.defaults", "--params",
      "{fix}/params-list.json"),
     "{fix}/params-list.json: expected a JSON object of param values, got a list"),
    (("job-spec.json.count", "--hysds-io", "{fix}/hysds-io.json.bad_number"),
     "{fix}/hysds-io.json.bad_number: hysds-io.params[0].default: param 'count': type number: "
     "expected a number, got \"three\""),
    (("job-spec.json.localize", "--params", "{fix}/params-bad-localize.json"),
     "{fix}/params-bad-localize.json: params.inputs[1]: param 'inputs': cannot be localized: "
     "expected a URL, an object with a \"url\" or a list of them, got 42"),
    (("job-spec.json.broken",),
     "{fix}/job-spec.json.broken: job-spec.command: is missing, expected a string"),
    (("job-spec.json.limits", "--param", "novalue"), "--param novalue: expected NAME=VALUE"),
    (("job-spec.json.limits", "--disk-usage", "lots"),
     "--disk-usage: expected a size such as \"10GB\" (a number then KB, MB, GB or TB), got "
     "\"lots\": unknown unit"),
    (("job-spec.json.limits", "--name", "a/b"), None),
    (("params-list.json",),
     "--type: required: {fix}/params-list.json is not named job-spec.json.NAME, so no default "
     "type"),
    (("job-spec.json.missing",), "{fix}/job-spec.json.missing: No such file or directory"),
    (("job-spec.json.limits", "--now", "yesterday"),
     "--now: expected an ISO-8601 time such as 2024-01-01T00:00:00Z, got \"yesterday\""),
])
def test_a_submission_that_cannot_be_resolved_exits_2_with_one_message(args, message):
    args = [a.format(fix=FIX) for a in args]
    proc = submit("--dry-run", FIX / args[0], *args[1:])
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    if message is None:
        assert lines[0].startswith("verdi submit: --name: "), proc.stderr
    else:
        assert lines[0] == "verdi submit: " + message.format(fix=FIX)


def test_wait_needs_a_result_backend():
    proc = submit(FIX / "job-spec.json.limits", "--wait", "1")
    assert proc.returncode == 2
    assert proc.stderr == "verdi submit: --wait needs --result-backend (or CELERY_RESULT_BACKEND)\n"


def test_unreachable_broker_exits_4():
    proc = submit(FIX / "job-spec.json.limits", "--broker", "amqp://guest:guest@127.0.0.1:1//")
    assert proc.returncode == 4, proc.stderr
    assert proc.stdout == ""
    assert "127.0.0.1:1" in proc.stderr


# -- as a trigger rule or a Tosca/Figaro submission (--as-rule, --dataset) ------
# Files shaped as real projects' (tests/fixtures/projects), resolved by verdi
# and by a restatement of what hysds_commons does for a rule or a web
# submission: get_params_for_submission (get_inputs, process_xpath,
# run_type_conversion, run_lambda with its builtins), then resolve_hysds_job
# (route_outputs, fill_localize, get_command_line).

PROJECTS = REPO / "tests" / "fixtures" / "projects"


def hysds_lambda_namespace():
    import functools

    def get_best_url(urls, best_prefix=None):
        best = None
        for url in urls:
            if best_prefix is not None and url.startswith(best_prefix):
                return url
            if best is None or (not url.startswith("http") and best.startswith("http")):
                best = url
        return best

    def get_partial_products(ident, base_url, product_relative_paths):
        return [{"url": os.path.join(base_url, rel), "local_path": os.path.join(ident, rel)}
                for rel in product_relative_paths]

    def region_to_bbox(region):
        box = [90, -90, 360, -360]
        for shape in region.get("coordinates"):
            for lon, lat in shape:
                box = [min(box[0], lat), max(box[1], lat), min(box[2], lon), max(box[3], lon)]
        return box

    return {"functools": functools, "get_best_url": get_best_url,
            "get_partial_products": get_partial_products, "region_to_bbox": region_to_bbox}


def hysds_xpath(path, doc):
    ret = doc
    for part in path.replace("xpath.", "").split("."):
        if ret is None or part == "":
            return ret
        try:
            part = int(part)
            ret = None if len(ret) <= part else ret[part]
            continue
        except Exception:
            pass
        ret = ret.get(part, None)
    return ret


def hysds_rule_value(wire, kwargs, rule, product):
    if "value" in wire:
        val = wire["value"]
    else:
        source, val = wire.get("from", "unknown"), wire.get("default", None)
        if source == "submitter":
            val = kwargs.get(wire["name"], val)
        elif source == "passthrough":
            val = rule.get(wire["name"], None)
        elif source.startswith("dataset_jpath:") and product is not None:
            val = hysds_xpath(source.split(":")[1], product)
        if wire.get("optional", False) and val is None:
            val = ""
    kind = wire.get("type", "text")
    if wire.get("optional", False) and val.strip() == "":
        val = val.strip()
    elif kind == "number":
        val = float(val)
    elif kind == "boolean":
        val = val.lower() == "true"
    elif kind == "region":
        val = json.loads(val)
    if "lambda" in wire:
        val = eval(wire["lambda"], hysds_lambda_namespace(), {})(val)
    return val


def hysds_rule_resolution(spec, io, kwargs, product):
    """(command, params routed to the context, localize_urls)."""
    params = {}
    for wire in io["params"]:
        if isinstance(product, list) and wire["from"].startswith("dataset_jpath:"):
            params.setdefault(wire["name"], []).extend(
                [hysds_rule_value(wire, kwargs, kwargs, one) for one in product])
        elif wire["name"] not in params:
            params[wire["name"]] = hysds_rule_value(wire, kwargs, kwargs, product)
    context, positional, localize = {}, [], []

    def fill_localize(value):
        if isinstance(value, str):
            localize.append({"url": value})
        elif isinstance(value, dict):
            localize.append(value)
        else:
            for item in value:
                fill_localize(item)

    for param in spec["params"]:
        value = params[param["name"]]
        if param["destination"] == "positional":
            context[param["name"]] = value
            positional.append(value)
        elif param["destination"] == "localize":
            fill_localize(value)
        else:
            context[param["name"]] = value
    words = [spec["command"]]
    for value in positional:
        text = value if isinstance(value, str) else json.dumps(value)
        words.append("'%s'" % text.replace("'", "'\"'\"'"))
    return " ".join(words), context, localize


@pytest.mark.parametrize("name,dataset,kwargs", [
    ("stack_time_series", "grq-hit.json",
     {"project": "aria", "subswath": "2", "ref_point": "34.1, -118.2"}),
    ("stack_time_series", "grq-hits.json",  # a list of datasets aggregates
     {"project": "grfn", "subswath": "1", "ref_point": "[1.5 2]",
      "region_of_interest": '{"type": "Polygon", "coordinates": [[[-118, 34], [-117, 35]]]}'}),
    ("track_stitcher", "grq-hit.json", {}),
    ("job_retry", "grq-hit.json", {"job_priority_increment": "+1"}),
    ("purge_datasets", None, {"query": '{"query": {"match_all": {}}}'}),
    ("sciflo_l3", None, {}),
])
def test_project_files_resolve_as_hysds_resolves_a_rule(name, dataset, kwargs):
    spec_path = PROJECTS / ("job-spec.json." + name)
    io_path = PROJECTS / ("hysds-io.json." + name)
    args = ["--hysds-io", io_path, "--as-rule"]
    product = None
    if dataset is not None:
        args += ["--dataset", PROJECTS / dataset]
        product = json.loads((PROJECTS / dataset).read_text())
    for key, value in kwargs.items():
        args += ["--param", "%s=%s" % (key, value)]
    job, stderr = dry_run(spec_path, *args)
    assert stderr == ""

    spec, io = json.loads(spec_path.read_text()), json.loads(io_path.read_text())
    command, context, localize = hysds_rule_resolution(spec, io, kwargs, product)
    queues = spec.get("recommended-queues") or spec.get("required_queues")
    soft, hard = spec["soft_time_limit"], spec["time_limit"]
    assert job == expected_job(spec_path, command, context, localize=localize, queue=queues[0],
                               soft=soft, hard=max(hard, soft + 300), disk=spec["disk_usage"],
                               dedup=io.get("enable_dedup", True))


def test_a_lambda_that_raises_fails_the_submission_as_hysds():
    proc = submit("--dry-run", PROJECTS / "job-spec.json.stack_time_series", "--hysds-io",
                  PROJECTS / "hysds-io.json.stack_time_series", "--dataset",
                  PROJECTS / "grq-hit.json", "--param", "project=aria", "--param",
                  "subswath=two", "--param", "ref_point=1 2")
    assert proc.returncode == 2
    assert proc.stderr == (
        "verdi submit: --param subswath: param 'subswath': type number: expected a number, got "
        "\"two\"\n")
    proc = submit("--dry-run", PROJECTS / "job-spec.json.stack_time_series", "--hysds-io",
                  PROJECTS / "hysds-io.json.stack_time_series", "--dataset",
                  PROJECTS / "grq-hit.json", "--param", "project=aria", "--param",
                  "subswath=2", "--param", "ref_point=1 x")
    assert proc.returncode == 2
    assert proc.stderr == (
        "verdi submit: %s: hysds-io.params[3].lambda: param 'ref_point': failed to run lambda "
        "function to fill ref_point. <class 'ValueError'>:could not convert string to float: "
        "'x'\n" % (PROJECTS / "hysds-io.json.stack_time_series"))


def test_a_dataset_without_the_path_fails_as_hysds():
    proc = submit("--dry-run", PROJECTS / "job-spec.json.job_retry", "--hysds-io",
                  PROJECTS / "hysds-io.json.job_retry", "--dataset", PROJECTS / "grq-hits.json")
    assert proc.returncode == 2
    assert proc.stderr == (
        "verdi submit: %s[0]: param 'retry_job_id': Failed to find 'retry_job_id' input from "
        "'dataset_jpath:_source.job.job_info.id'\n" % (PROJECTS / "grq-hits.json"))


# -- the resolved job runs -------------------------------------------------------

def run_job(tmp_path, job):
    job_file = tmp_path / "job.json"
    job_file.write_text(json.dumps(job))
    root = tmp_path / "root"
    proc = subprocess.run([VERDI, "run_job", "--root-work-dir", root, job_file],
                          capture_output=True, text=True, timeout=60)
    dirs = [p.parent for p in root.glob("jobs/*/*/*/*/*/*/.done")]
    assert len(dirs) == 1, proc.stdout + proc.stderr
    return proc, dirs[0]


def test_hello_world_example_resolves_and_runs(tmp_path):
    job, _ = dry_run(HELLO, "--param", "greeting=Hello", "--param", "name=World",
                     "--param", "note=from verdi submit")
    proc, job_dir = run_job(tmp_path, job)
    assert proc.returncode == 0, proc.stderr
    assert (job_dir / "greeting.txt").read_text() == "Hello, World!\n"
    assert (job_dir / "_stdout.txt").read_text().startswith("Hello, World!\ncontext has ")
    context = json.loads((job_dir / "_context.json").read_text())
    assert context["note"] == "from verdi submit"
    assert context["greeting"] == "Hello" and context["name"] == "World"
    saved = json.loads((job_dir / "_job.json").read_text())
    assert saved["job_info"]["soft_time_limit"] == 60
    assert saved["job_info"]["time_limit"] == 360
    assert saved["job_info"]["payload_hash"] == payload_hash(job["params"])


def test_positional_arguments_reach_the_command_unchanged(tmp_path):
    job, _ = dry_run(FIX / "job-spec.json.positional", "--params", FIX / "params-positional.json")
    proc, job_dir = run_job(tmp_path, job)
    assert proc.returncode == 0, proc.stderr
    assert (job_dir / "_stdout.txt").read_text() == (
        "[two words]\n[it's]\n[3]\n[{\"k\": [\"\\u00e9\"]}]\n")
    context = json.loads((job_dir / "_context.json").read_text())
    assert context["object"] == {"k": ["é"]} and context["number"] == 3
    assert json.loads((job_dir / "_job.json").read_text())["job_info"]["time_limit"] == 330


# -- published to a real broker ------------------------------------------------

def broker_args(services, queue):
    return ["--broker", services.state["amqp_url"], "--queue", queue]


def test_wait_returns_the_workers_result(start_worker, services, queue_name):
    start_worker()
    task = str(uuid.uuid4())
    proc = submit(HELLO, *broker_args(services, queue_name), "--param", "greeting=Hi",
                  "--param", "name=there", "--param", "note=n", "--task-id", task,
                  "--result-backend", services.state["redis_url"], "--wait", "60", timeout=90)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["status"] == "job-completed"
    assert result["uuid"] == task
    assert result["payload_id"] == task
    assert result["job_id"].startswith("job-hello_world__latest-")


def test_wait_reports_a_failed_job(start_worker, services, queue_name):
    start_worker()
    task = str(uuid.uuid4())
    proc = submit(FIX / "job-spec.json.fail", *broker_args(services, queue_name),
                  "--task-id", task, "--wait", "60",
                  env={"CELERY_RESULT_BACKEND": services.state["redis_url"]}, timeout=90)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.endswith(
        f"verdi submit: task {task} FAILURE: WorkerExecutionError: Got non-zero exit code: 3\n")
    assert json.loads(proc.stdout)["exc_type"] == "WorkerExecutionError"


def test_msgpack_task_and_results(start_worker, services, queue_name):
    """--task-serializer msgpack sends the task as a HySDS client does; --wait reads
    a worker's msgpack results, unless --result-accept-content refuses them."""
    start_worker("--result-serializer", "msgpack")
    params = ["--param", "greeting=Hi", "--param", "name=there", "--param", "note=n"]
    task = str(uuid.uuid4())
    proc = submit(HELLO, *broker_args(services, queue_name), *params, "--task-id", task,
                  "--task-serializer", "msgpack", "--result-backend", services.state["redis_url"],
                  "--wait", "60", timeout=90)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["uuid"] == task
    task = str(uuid.uuid4())
    proc = submit(HELLO, *broker_args(services, queue_name), *params, "--task-id", task,
                  "--result-backend", services.state["redis_url"],
                  "--result-accept-content", "json", "--wait", "60", timeout=90)
    assert proc.returncode == 4, proc.stderr
    assert proc.stderr == (f"verdi submit: task {task}: the stored result is msgpack, which "
                           "result_accept_content (json) does not accept\n")


def test_msgpack_message_is_what_python_reads(services, queue_name):
    proc = submit(FIX / "job-spec.json.limits", *broker_args(services, queue_name),
                  "--task-id", TASK, "--now", NOW, "--task-serializer", "msgpack")
    assert proc.returncode == 0, proc.stderr
    job, _ = dry_run(FIX / "job-spec.json.limits", "--queue", queue_name)
    with Connection(services.state["amqp_url"]) as conn:
        message = Queue(queue_name)(conn.default_channel).get(no_ack=True, accept=["msgpack"])
    assert message.content_type == "application/x-msgpack"
    assert message.content_encoding == "binary"
    args, kwargs, embed = message.decode()
    assert args == [job]
    assert kwargs == {}
    assert embed == {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
    proc = submit(FIX / "job-spec.json.limits", *broker_args(services, queue_name),
                  "--task-serializer", "pickle")
    assert proc.returncode == 2
    assert proc.stderr == ("verdi submit: --task-serializer: pickle is refused: verdi never "
                           "pickles or unpickles (json or msgpack)\n")


def test_wait_times_out_with_exit_3(services, queue_name):
    task = str(uuid.uuid4())  # a fresh id: the backend keeps results of other tests
    proc = submit(FIX / "job-spec.json.limits", *broker_args(services, queue_name),
                  "--task-id", task, "--result-backend", services.state["redis_url"],
                  "--wait", "0.5")
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr == f"verdi submit: task {task}: no result after 0.5 s (state PENDING)\n"


def test_message_is_what_a_python_celery_worker_accepts(services, queue_name):
    """Without --wait: the task id on stdout; the message, consumed with kombu and
    read by Celery's own worker Request, carries the job, the limits and the priority."""
    from celery import Celery
    from celery.worker.request import Request

    spec = FIX / "job-spec.json.limits"
    proc = submit(spec, *broker_args(services, queue_name), "--task-id", TASK, "--now", NOW,
                  "--priority", 4, "--max-priority", 9, "--soft-time-limit", 100)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == TASK + "\n"
    job, _ = dry_run(spec, "--queue", queue_name, "--priority", 4, "--soft-time-limit", 100)

    with Connection(services.state["amqp_url"]) as conn:
        # The queue was declared as a Python client with task_queue_max_priority=9 does:
        # declaring it again with those arguments is accepted.
        Queue(queue_name, Exchange(queue_name, "direct"), routing_key=queue_name,
              queue_arguments={"x-max-priority": 9})(conn.default_channel).declare()
        message = Queue(queue_name)(conn.default_channel).get(no_ack=True)
    assert message is not None
    assert message.content_type == "application/json"
    assert message.properties["priority"] == 4
    assert message.properties["correlation_id"] == TASK
    assert message.delivery_info["routing_key"] == queue_name
    assert message.delivery_info["exchange"] == ""
    headers = message.headers
    assert headers["task"] == RUN_JOB
    assert headers["id"] == TASK
    assert headers["timelimit"] == [3700, 100]
    assert headers["lang"] == "py"
    args, kwargs, embed = message.decode()
    assert args == [job]
    assert kwargs == {}
    assert embed == {"callbacks": None, "errbacks": None, "chain": None, "chord": None}

    app = Celery("verdi-e2e-decode", broker=services.state["amqp_url"])

    @app.task(name=RUN_JOB)
    def run_job(job):  # what Celery needs to know the task's name
        return job

    request = Request(message, app=app)
    assert request.id == TASK
    assert request.name == RUN_JOB
    assert request.time_limits == [3700, 100]
    assert request.args == [job] and request.kwargs == {}
    assert request.correlation_id == TASK
    app.close()


def test_published_job_equals_the_dry_run(services, queue_name):
    """The job in the message is exactly what --dry-run prints, key for key."""
    args = [FIX / "job-spec.json.defaults", "--hysds-io", FIX / "hysds-io.json.defaults",
            "--param", "given=1", "--task-id", TASK, "--now", NOW]
    proc = submit(*args, *broker_args(services, queue_name))
    assert proc.returncode == 0, proc.stderr
    job, _ = dry_run(*args[:-4], "--queue", queue_name)
    with Connection(services.state["amqp_url"]) as conn:
        message = Queue(queue_name)(conn.default_channel).get(no_ack=True)
    assert message.decode()[0] == [copy.deepcopy(job)]
    assert message.headers["timelimit"] == [None, None]
