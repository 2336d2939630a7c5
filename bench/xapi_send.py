"""Send a backlog of queued xAPI statements to a real LRS (ralph, file-system backend, on
loopback) with ``lms.services.statements.flush``, and time it against posting the same number of
ready-made statements to a second, empty ralph in the same batches (no database at all).

Run (needs `make xapi-lrs` for ralph, and PostgreSQL as the tests do unless --db sqlite):
    .venv/bin/python bench/xapi_send.py                 # 100,000 statements, PostgreSQL
    .venv/bin/python bench/xapi_send.py --db sqlite --count 20000
    .venv/bin/python bench/xapi_send.py --sink          # an LRS that stores nothing: the LMS's own cost
Prints statements/s, the peak of Python memory while sending (tracemalloc) next to the size of
the whole backlog, and the ratio to the baseline. ralph's file-system backend looks every posted id
up among all it holds, so against ralph the rate falls as its store grows; ``--sink`` replaces it
with a tiny HTTP server (a subprocess) that checks the Basic auth, parses the JSON, counts the
statements and answers 200.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.databases import fresh_database  # noqa: E402
from tests.xapi_lrs import Ralph  # noqa: E402

_SINK = """import base64, json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
AUTH = "Basic " + base64.b64encode(b"lms:sink").decode()
ids = set()
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Authorization") != AUTH:
            self.send_response(401); self.end_headers(); return
        ids.update(st["id"] for st in json.loads(body))
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"[]")
    def do_GET(self):
        out = json.dumps({"count": len(ids)}).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(out))); self.end_headers()
        self.wfile.write(out)
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


class Sink:
    """Stands in for ``Ralph``: the same attributes, nothing stored but the ids."""

    def __init__(self, port: int = 5964) -> None:
        import subprocess

        self.port, self.username, self.password = port, "lms", "sink"
        self.endpoint = f"http://127.0.0.1:{port}/xAPI/"
        self.proc = subprocess.Popen([sys.executable, "-c", _SINK, str(port)])
        time.sleep(1.0)

    def count(self) -> int:
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/") as r:
            return int(json.load(r)["count"])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def _statement(n: int, now: datetime) -> dict[str, object]:
    from lms.domain import xapi

    place = xapi.Place("https://hoc.example.vn", xapi.actor_name("bench", n % 5000), "28756", "86")
    return xapi.lesson_completed(str(uuid.uuid4()), place, lesson_id=f"an-toan-so-{n % 12:02d}",
                                 lesson_title="Bài học", course_id="an-toan-so", course_title="An toàn số", now=now)


def fill(url: str, count: int) -> int:
    """``count`` pending statements in the outbox, written in chunks; returns their total bytes."""
    from sqlalchemy import insert

    from lms.store import make_engine
    from lms.store.migrate import upgrade
    from lms.store.models import XapiStatement

    upgrade(url)
    engine = make_engine(url)
    now, size = datetime.now(UTC), 0
    with engine.begin() as conn:
        for start in range(0, count, 10_000):
            rows = []
            for n in range(start, min(count, start + 10_000)):
                st = _statement(n, now)
                body = json.dumps(st, ensure_ascii=False, separators=(",", ":"))
                size += len(body.encode())
                rows.append({"id": st["id"], "verb": "completed", "body": body, "created_at": now, "tries": 0})
            conn.execute(insert(XapiStatement), rows)
    engine.dispose()
    return size


def send(url: str, lrs: Ralph | Sink, batch: int) -> tuple[float, int, int]:
    from lms.config import Settings
    from lms.services import statements
    from lms.store import make_engine, make_sessionmaker

    settings = Settings.load({"LMS_DATABASE_URL": url, "LMS_SECRET_KEY": "b" * 64,
                              "LMS_XAPI_ENDPOINT": lrs.endpoint, "LMS_XAPI_USERNAME": lrs.username,
                              "LMS_XAPI_PASSWORD": lrs.password})
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    target = statements.bind(sessions, settings)
    assert target is not None
    tracemalloc.start()
    t0 = time.perf_counter()
    result = statements.flush(sessions, target, batch=batch)
    took = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    engine.dispose()
    assert result.error is None and result.pending == 0, result
    return took, result.sent, peak


def baseline(lrs: Ralph | Sink, count: int, batch: int) -> float:
    """The same number of statements, made in memory a batch at a time and posted as they are."""
    from lms.jobs.xapi import Lrs

    client = Lrs(lrs.endpoint, lrs.username, lrs.password)
    now, took = datetime.now(UTC), 0.0
    for start in range(0, count, batch):
        bodies = [json.dumps(_statement(n, now), ensure_ascii=False, separators=(",", ":"))
                  for n in range(start, min(count, start + batch))]
        t0 = time.perf_counter()
        status, detail = client.post(bodies)
        took += time.perf_counter() - t0
        assert status in (200, 204), (status, detail)
    client.close()
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--sink", action="store_true", help="an HTTP sink instead of ralph")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with fresh_database(args.db) as url, tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        size = fill(url, args.count)
        print(f"outbox: {args.count} statements ({size / 1e6:.1f} MB of JSON) queued on {args.db} "
              f"in {time.perf_counter() - t0:.1f} s")
        def lrs_for(name: str) -> Ralph | Sink:
            if args.sink:
                return Sink()
            made = Ralph(Path(tmp) / name, port=5963)
            made.start()
            return made

        first = lrs_for("baseline")
        try:
            base = baseline(first, args.count, args.batch)
        finally:
            first.stop()
        lrs = lrs_for("lms")
        try:
            took, sent, peak = send(url, lrs, args.batch)
            stored = lrs.count() if isinstance(lrs, Sink) else len(set(lrs.stored_ids()))
        finally:
            lrs.stop()
    kind = "an HTTP sink" if args.sink else "ralph 5.1 (fs backend)"
    print(f"sent: {sent} statements in {took:.1f} s = {sent / took:.0f} statements/s, "
          f"batches of {args.batch}, to {kind}; it holds {stored}")
    print(f"peak Python memory while sending: {peak / 1e6:.1f} MB (the backlog is {size / 1e6:.1f} MB)")
    print(f"baseline: the same number posted straight to {kind} (empty at first), no database: {base:.1f} s = "
          f"{args.count / base:.0f} statements/s; ratio {base / took:.2f}x the baseline rate")
    print(f"machine load (1-minute average): start {load:.1f}, end {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
