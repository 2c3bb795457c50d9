"""The Python reference of the benchmarks: stock Celery (Debian's
python3-celery) with a no-op task registered under the name verdi runs,
`hysds.job_worker.run_job`, so both workers drain the same messages, and one
under the name of verdi's built-in no-op, `verdi.noop`.

BENCH_PROFILE picks the settings:
  default  Celery's defaults (no task events, STARTED not tracked), with acks
           late and prefetch multiplier 1 as verdi: the headline reference.
  hysds    HySDS's Celery configuration and verdi's defaults: acks late,
           prefetch multiplier 1, STARTED tracked; the worker is started with
           task events on (-E).
Both: results in Redis, JSON only. The run_job no-op returns the POSIX time
at which it started (the latency workload's submit→task-start).

    BENCH_PROFILE=default BENCH_BROKER=amqp://... BENCH_BACKEND=redis://... \
      /usr/bin/python3 -m celery -A celery_noop worker -P prefork -c 2 -Q QUEUE
"""

import os
import time

from celery import Celery

app = Celery("verdi-bench", broker=os.environ["BENCH_BROKER"], backend=os.environ["BENCH_BACKEND"])
app.conf.update(
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    task_track_started=os.environ.get("BENCH_PROFILE", "hysds") == "hysds",
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=True,
)


@app.task(name="hysds.job_worker.run_job")
def run_job(job, *args, **kwargs):
    return time.time()


@app.task(name="verdi.noop")
def noop():
    return None
