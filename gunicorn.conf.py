"""gunicorn settings for `make run` and the benchmarks (bench/speed.py, bench/burst.py).

Chosen by measurement (bench/README.md, "Workers and threads"): two sync workers, one per core.
gthread workers that kept connections alive were faster per request but a lottery under load: a
client's kept-alive connections all stay with the worker that accepted them, and one worker
often accepted nearly all of them while the other idled (seen with wrk: 5.2 s of CPU against
0.3 s in one 5-second run, half the throughput; with 4 workers all 16 connections on one). A
sync worker takes a new connection only when it is free, so the two share the load evenly, and
the quiz's writes measured faster too. Sync workers should sit behind a proxy that buffers slow
clients, as docs/operations.md sets up with nginx; a server that faces slow phones directly can
switch with LMS_WORKER_CLASS=gthread and LMS_THREADS=4. LMS_WORKERS sets the number of processes.

Unless LMS_WORKERS says otherwise: 2 on SQLite (one per core of the 2-core machine measured; more
only queue for SQLite's one write lock), and one more than the CPUs on PostgreSQL, where a sync
worker also waits for the database server's answers (measured on 2 cores shared with PostgreSQL,
bench/speed.py --db postgres: 3 workers against 2 gave 0.29-0.31x against 0.27-0.28x of the bare
app per quiz-cycle request and 0.39-0.44x against 0.36x for autosaves; 4 gave 0.30x and 0.43x)."""

import os


def _default_workers() -> int:
    if (os.environ.get("LMS_DATABASE_URL") or "").startswith("postgresql"):
        return len(os.sched_getaffinity(0)) + 1
    return 2


workers = int(os.environ.get("LMS_WORKERS") or _default_workers())
worker_class = os.environ.get("LMS_WORKER_CLASS") or "sync"
threads = int(os.environ.get("LMS_THREADS") or 1)
keepalive = 5  # used by gthread only: sync workers close each connection after its answer
timeout = 60
graceful_timeout = 10
