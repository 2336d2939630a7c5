"""Background work on a real queue (RQ + Redis). Jobs are named by dotted path so this layer
imports nothing above it; with no Redis configured, callers run the same function inline. A job
that must see a transaction's rows is queued by the caller after the commit
(``lms.services.unit_of_work.after_commit``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

__all__ = ["QUEUE", "enqueue", "enqueue_in", "run_in_thread", "run_worker"]

QUEUE = "lms"


def enqueue(redis_url: str, func_path: str, *args: Any) -> str:
    from redis import Redis
    from rq import Queue

    job = Queue(QUEUE, connection=Redis.from_url(redis_url)).enqueue(func_path, *args, job_timeout=300,
                                                                     result_ttl=3600, failure_ttl=7 * 86400)
    return str(job.id)


def enqueue_in(redis_url: str, delay: timedelta, func_path: str, *args: Any) -> str:
    """Run the job after ``delay`` (a retry that backs off); needs the worker's scheduler."""
    from redis import Redis
    from rq import Queue

    job = Queue(QUEUE, connection=Redis.from_url(redis_url)).enqueue_in(delay, func_path, *args, job_timeout=600,
                                                                        result_ttl=3600, failure_ttl=7 * 86400)
    return str(job.id)


def run_worker(redis_url: str, *, burst: bool = False) -> None:
    from redis import Redis
    from rq import Queue, Worker

    connection = Redis.from_url(redis_url)
    # the scheduler runs jobs queued for later (enqueue_in: the xAPI sender's retries)
    Worker([Queue(QUEUE, connection=connection)], connection=connection).work(burst=burst, with_scheduler=True)


def run_in_thread(func: Callable[..., Any], *args: Any, **kwargs: Any) -> threading.Thread:
    """The embedded default's queue: run the job beside the web process, so the request returns
    at once and the job page can show progress. A daemon thread dies with the process; the job
    is then left "running" without a heartbeat and is resumed on the next start."""

    def _run() -> None:
        try:
            func(*args, **kwargs)
        except Exception:  # the job records its own failure; this only keeps the thread quiet
            logging.getLogger("lms.jobs").exception("background job failed")

    thread = threading.Thread(target=_run, name="lms-job", daemon=True)
    thread.start()
    return thread
