"""How evenly gunicorn's workers share wrk's load: each worker's CPU seconds (from /proc) during
5-second wrk runs against a few endpoints, with the throughput. Shows why `gunicorn.conf.py`
uses sync workers (bench/README.md, "Workers and threads").

Run: .venv/bin/python bench/worker_balance.py [CONFIG]   (default: gunicorn.conf.py; LMS_WORKERS,
LMS_THREADS and LMS_WORKER_CLASS pass through to it)
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.burst import _free_port, _lms, child_pids, fresh_database, lms_environment  # noqa: E402
from bench.speed import _serve, _stop, cpu_seconds, wrk  # noqa: E402

PATHS = ["/api/v1/lessons/an-toan-so-01", "/healthz", "/", "/api/v1/lessons/an-toan-so-01", "/healthz"]


def main() -> None:
    config = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "gunicorn.conf.py")
    with tempfile.TemporaryDirectory() as tmp_name, fresh_database("sqlite", Path(tmp_name)) as url:
        tmp = Path(tmp_name)
        env = lms_environment(url, tmp)
        for knob in ("LMS_WORKERS", "LMS_THREADS", "LMS_WORKER_CLASS"):
            if os.environ.get(knob):
                env[knob] = os.environ[knob]
        _lms(env, "db", "upgrade")
        _lms(env, "content", "sync")
        port = _free_port()
        server = _serve(["-c", config, "--pythonpath", str(ROOT), "lms.wsgi:app"], env=env, cwd=ROOT, port=port,
                        ready="/healthz", log=tmp / "lms.log")
        try:
            for path in PATHS:
                pids = child_pids(server.pid)
                before = [cpu_seconds(pid) for pid in pids]
                rate, _ = wrk(f"http://127.0.0.1:{port}{path}", 5)
                used = [cpu_seconds(pid) - b for pid, b in zip(pids, before, strict=True)]
                print(f"{path}: {rate:.0f} req/s; CPU seconds per worker: " + ", ".join(f"{u:.1f}" for u in used))
        finally:
            _stop(server)


if __name__ == "__main__":
    main()
