"""gunicorn settings for `make run` and the benchmarks (bench/speed.py, bench/burst.py).

Chosen by measurement (bench/README.md, "Workers and threads"): gthread workers keep HTTP
connections alive, which sync workers cannot, so a browser or app reuses its connection instead
of paying a TCP handshake and a fresh accept per request; two processes use both cores, and a
few threads each overlap the waits on the database. More threads than that only add GIL
contention. LMS_WORKERS and LMS_THREADS override the defaults on a bigger machine."""

import os

workers = int(os.environ.get("LMS_WORKERS") or 2)
worker_class = "gthread"
threads = int(os.environ.get("LMS_THREADS") or 4)
keepalive = 5
timeout = 60
graceful_timeout = 10
