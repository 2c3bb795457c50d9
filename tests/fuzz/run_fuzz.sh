#!/usr/bin/env bash
# Builds the Celery message (and run_job job parser) fuzz target with clang++ (libFuzzer, ASan, UBSan)
# into BUILD_DIR and runs it for a bounded time on a seed corpus written here.
# Exits non-zero when the build fails or the fuzzer finds a crash, a leak or
# undefined behaviour (the input is left in BUILD_DIR/crash-*).
#
# usage: run_fuzz.sh BUILD_DIR [SECONDS]
set -euo pipefail

build=${1:?usage: run_fuzz.sh BUILD_DIR [SECONDS]}
seconds=${2:-20}
repo=$(cd "$(dirname "$0")/../.." && pwd)
cxx=${CXX_FUZZ:-}
if [[ -z $cxx ]]; then
  for candidate in clang++ clang++-14; do
    if command -v "$candidate" >/dev/null; then cxx=$candidate; break; fi
  done
fi
if [[ -z $cxx ]]; then
  echo "run_fuzz.sh: clang++ is not installed (scripts/install-deps installs it)" >&2
  exit 1
fi

mkdir -p "$build"
build=$(cd "$build" && pwd)
sources=("$repo/tests/fuzz/celery_message_fuzz.cc" "$repo"/verdi/celery/task_message*.cc
         "$repo"/verdi/celery/serializer.cc "$repo"/verdi/celery/result_document.cc
         "$repo"/events/celery_event.cc "$repo"/events/msgpack_writer.cc "$repo"/jobspec/*.cc
         "$repo"/base/*.cc)
mapfile -t sources < <(printf '%s\n' "${sources[@]}" | grep -v '_test\.cc$')
binary=$build/celery_message_fuzz

# Rebuild only when a source or header is newer than the binary.
stale=1
if [[ -x $binary ]]; then
  stale=0
  for f in "${sources[@]}" "$repo"/verdi/celery/*.h "$repo"/events/*.h "$repo"/jobspec/*.h \
           "$repo"/base/*.h "$0"; do
    if [[ $f -nt $binary ]]; then stale=1; break; fi
  done
fi
if (( stale )); then
  echo "run_fuzz.sh: building $binary with $cxx"
  "$cxx" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -DVERDI_VERSION='"fuzz"' -I"$repo" "${sources[@]}" -lfmt -lz -lcrypto -lpcre2-8 -o "$binary.tmp"
  mv "$binary.tmp" "$binary"
fi

# Seeds: flag byte (see celery_message_fuzz.cc), then [headers NUL] body.
seeds=$build/seeds
corpus=$build/corpus
mkdir -p "$seeds" "$corpus"
v2_body='[[2, 2], {"z": 1}, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}]'
headers='{"lang": "py", "task": "proj.tasks.add", "id": "d2e2b4a1-0000-4000-8000-000000000001", "shadow": null, "eta": "2026-11-23T08:04:54.022062+00:00", "expires": "2026-11-23T08:05:44+02:00", "group": "g", "group_index": null, "retries": 1, "timelimit": [30, 20.5], "root_id": "r", "parent_id": null, "origin": "gen1@vm", "ignore_result": false}'
v1_body='{"task": "proj.tasks.add", "id": "id-v1", "args": [3, 4], "kwargs": {}, "group": null, "retries": 2, "eta": "2026-11-23T08:04:44Z", "expires": null, "utc": true, "callbacks": null, "errbacks": null, "timelimit": [30, 20], "taskset": "g-1", "chord": null}'
markers='[[{"__type__": "datetime", "__value__": "2026-11-23T08:04:54"}, {"__type__": "uuid", "__value__": {"hex": "d2e2b4a1000040008000000000000001"}}, {"__type__": "base64", "__value__": "AP9hYg=="}], {"b": {"__type__": "bytes", "__value__": "x"}}, null]'
printf '\x00%s' "$v2_body" >"$seeds/v2_json"
printf '\x08%s\x00%s' "$headers" "$v2_body" >"$seeds/v2_json_headers"
printf '\x04%s' "$v2_body" >"$seeds/v2_json_zlib"
printf '\x00%s' "$markers" >"$seeds/v2_markers"
job_body='[[{"job_id": "j-1", "type": "job-x:1", "params": {"_command": "/bin/echo \x27a b\x27 $files", "files": ["f1", 2], "_disk_usage": "1.5GB", "job_specification": {"command": "c", "params": [{"name": "files", "destination": "positional"}]}}, "localize_urls": [{"url": "file:///x"}], "context": {"k": 1}, "job_info": {"time_limit": 30}}], {}, null]'
printf '\x00%s' "$job_body" >"$seeds/v2_run_job"
printf '\x10%s' "$v1_body" >"$seeds/v1_json"
printf '\x08{"task": "h", "id": "i", "retries": null}\x00%s' "$v1_body" >"$seeds/hybrid"
# msgpack: the Celery 5.2.6 capture, and one with bin/float/map values.
printf '\x01\x93\x92\x02\x02\x81\xa1z\x01\x84\xa9callbacks\xc0\xa8errbacks\xc0\xa5chain\xc0\xa5chord\xc0' >"$seeds/v2_msgpack"
printf '\x09%s\x00\x93\x96\xc4\x04\x00\xffab\xcb?\xf8\x00\x00\x00\x00\x00\x00\xf9\xc3\xc0\x92\x01\x81\xa1k\xa1v\x81\xa3big\xcf\x00\x00\x01\x00\x00\x00\x00\x00\xc0' "$headers" >"$seeds/v2_msgpack_bin"
printf '\x11\x83\xa4task\xa1t\xa2id\xa1i\xa4args\x91\x01' >"$seeds/v1_msgpack"

cd "$build"
"$binary" "$corpus" "$seeds" -max_total_time="$seconds" -rss_limit_mb=1024 -max_len=65536 \
  -timeout=10 -artifact_prefix="$build/" -print_final_stats=1
