"""`verdi validate`: every problem of job-specs, hysds-ios, datasets.json,
jobs and worker configs, one line each; exit 0 (no errors), 1 (errors) or 2
(bad usage)."""

import json
import subprocess

from conftest import REPO, VERDI

FIX = REPO / "tests" / "fixtures" / "validate"
HELLO = REPO / "examples" / "hello_world"


def validate(*args, cwd=FIX):
    return subprocess.run([VERDI, "validate", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=30)


def test_examples_are_clean():
    r = validate("job-spec.json.hello_world", "hysds-io.json.hello_world", "test_job.json",
                 cwd=HELLO)
    assert (r.returncode, r.stdout) == (0, "")
    assert r.stderr == "0 errors, 0 warnings in 3 files\n"


def test_good_datasets_and_worker_config():
    r = validate("datasets.json.good", "worker-config.json.good")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "0 errors, 0 warnings in 2 files\n")


def test_warnings_only_exit_0():
    r = validate("hysds-io.json.warn")
    assert r.returncode == 0
    assert r.stdout.splitlines() == [
        "warning: hysds-io.json.warn: hysds-io.label: repeated key `label` (the last one wins, "
        "as in Python)",
    ]
    assert r.stderr == "0 errors, 1 warning in 1 file\n"


def test_job_spec_and_hysds_io_together():
    r = validate("job-spec.json.bad", "hysds-io.json.bad")
    assert r.returncode == 1
    assert r.stdout.splitlines() == [
        "warning: job-spec.json.bad: job-spec.post: repeated key `post` (the last one wins, as in "
        "Python)",
        "error: job-spec.json.bad: job-spec.command: got 42 (expected a string)",
        "error: job-spec.json.bad: job-spec.params[0].destination: got \"positionl\" (expected "
        "\"positional\", \"localize\" or \"context\")",
        "warning: job-spec.json.bad: job-spec.params[2].name: repeated param `count` (expected "
        "each name once)",
        "error: job-spec.json.bad: job-spec.disk_usage: expected a size such as \"10GB\" (a number "
        "then KB, MB, GB or TB), got \"10 GB\"",
        "warning: job-spec.json.bad: job-spec.time_limit: 3600 leaves 0 s after soft_time_limit "
        "3600, no room for the 5 s gap between SIGTERM and SIGKILL (expected 3605 or more)",
        "warning: job-spec.json.bad: job-spec.recommended_queues: unknown key `recommended_queues` "
        "(did you mean `recommended-queues`?)",
        "error: hysds-io.json.bad: hysds-io.params[1].from: got \"dataset_jpath\" (expected "
        "\"value\", \"submitter\", \"passthrough\" or \"dataset_jpath:<path>\", the path possibly "
        "empty)",
        "warning: hysds-io.json.bad: hysds-io.params[1].placeholdr: unknown key `placeholdr` (did "
        "you mean `placeholder`?)",
        "error: hysds-io.json.bad: hysds-io.params[2].version_regex: regex does not compile: "
        "missing closing parenthesis at offset 5 (expected a Python regular expression)",
        "error: hysds-io.json.bad: hysds-io.params[1].name: `extra` is not a param of "
        "job-spec.json.bad (expected a job-spec param)",
        "error: hysds-io.json.bad: hysds-io.params[2].name: `version` is not a param of "
        "job-spec.json.bad (expected a job-spec param)",
        "error: job-spec.json.bad: job-spec.params[1].name: `count` is not a param of "
        "hysds-io.json.bad (expected a hysds-io param)",
        "error: job-spec.json.bad: job-spec.params[2].name: `count` is not a param of "
        "hysds-io.json.bad (expected a hysds-io param)",
    ]
    assert r.stderr == "9 errors, 5 warnings in 2 files\n"


def test_datasets_regex_and_templates():
    r = validate("datasets.json.bad")
    assert r.returncode == 1
    assert r.stdout.splitlines() == [
        "error: datasets.json.bad: datasets.datasets[0].match_pattern: regex does not compile: "
        "missing closing parenthesis at offset 18 (expected a Python regular expression)",
        "warning: datasets.json.bad: datasets.datasets[0].publish.location: `${version}` leaves a "
        "stray `$` under str.format (expected `{version}`)",
        "error: datasets.json.bad: datasets.datasets[1].publish.location: `{yaer}` names a field "
        "that can never exist (expected a named group of match_pattern or alt_match_pattern, or "
        "version, level, type, hostname, dataset[...], met[...])",
        "warning: datasets.json.bad: datasets.datasets[1].publish.s3-profile: unknown key "
        "`s3-profile` (did you mean `s3-profile-name`?)",
    ]
    assert r.stderr == "2 errors, 2 warnings in 1 file\n"


def test_kind_from_content_and_flag():
    r = validate("job.json", "worker-config.json")
    assert r.returncode == 1
    assert "error: job.json: job.priority: got \"high\" (expected an integer)" in r.stdout
    assert ("error: worker-config.json: worker-config.configs[0].command.arguments[1]: got 3 "
            "(expected a string)") in r.stdout
    r = validate("--kind", "worker-config", "worker-config.json.good")
    assert (r.returncode, r.stdout) == (0, "")
    # --kind wins over the name: a job-spec read as a job.
    r = validate("--kind", "job", HELLO / "job-spec.json.hello_world")
    assert r.returncode == 1
    assert "job.job_id: is missing (expected a string)" in r.stdout


def test_files_shaped_as_real_projects_are_clean():
    """job-specs, hysds-ios and a datasets.json written after real HySDS
    projects' (ARIA time series and stitchers, lightweight jobs, an
    OPERA-style SCIFLO job with processors, sdscli-style templates):
    `dataset_jpath:` with an empty path, passthrough, object values as text."""
    projects = REPO / "tests" / "fixtures" / "projects"
    files = sorted(p.name for p in projects.iterdir()
                   if p.name.startswith(("job-spec.json.", "hysds-io.json.", "datasets.json")))
    assert len(files) == 11
    r = validate(*files, cwd=projects)
    assert r.returncode == 0
    assert r.stdout.splitlines() == [
        "warning: hysds-io.json.track_stitcher: hysds-io.params[2].name: repeated param "
        "`localize_products`: the first one is used (expected each name once)"]
    assert r.stderr == "0 errors, 1 warning in 11 files\n"


def test_every_from_hysds_resolves_and_what_its_schema_lets_through(tmp_path):
    io = {"params": [
        {"name": "whole", "from": "dataset_jpath:"},
        {"name": "part", "from": "dataset_jpath:_source.urls.0:extra"},
        {"name": "rule", "from": "passthrough"},
        {"name": "form", "from": "submitter"},
        {"name": "fixed", "from": "value", "value": "v"},
        {"name": "odd", "from": "submitter_form", "default": "d"},
        {"name": "obj", "from": "submitter", "type": "object", "default": "{}"},
        {"name": "bad", "from": "submit"}]}
    (tmp_path / "hysds-io.json.forms").write_text(json.dumps(io))
    r = validate("hysds-io.json.forms", cwd=tmp_path)
    assert r.returncode == 1
    assert r.stdout.splitlines() == [
        "warning: hysds-io.json.forms: hysds-io.params[5].from: \"submitter_form\" is no source "
        "HySDS's resolver knows: the param only ever gets its value or default (expected "
        "\"value\", \"submitter\", \"passthrough\" or \"dataset_jpath:<path>\", the path possibly "
        "empty)",
        "error: hysds-io.json.forms: hysds-io.params[6].default: got \"{}\" (expected a list or an "
        "object, since type is object)",
        "error: hysds-io.json.forms: hysds-io.params[7].from: got \"submit\" (expected \"value\", "
        "\"submitter\", \"passthrough\" or \"dataset_jpath:<path>\", the path possibly empty)"]


def test_bad_usage_exit_2():
    r = validate("unknown.json")
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr.startswith("verdi validate: unknown.json: cannot tell the kind")
    r = validate("--kind", "jobspec", "job.json")
    assert (r.returncode, r.stdout) == (2, "")
    assert "--kind: got \"jobspec\"" in r.stderr
    r = validate("missing.json")
    assert r.returncode == 2
    assert r.stderr == "verdi validate: missing.json: No such file or directory\n"
    r = validate()
    assert r.returncode == 2


def test_invalid_json_is_an_error():
    r = validate("--kind", "job", "/dev/null")
    assert r.returncode == 1
    assert r.stdout.startswith("error: /dev/null: job: invalid JSON: ")
