"""CPU time of the quiz's three hot requests, by kind, in process: the site's WSGI app called with a
prepared environ (no test client, no gunicorn, no sockets), full cycles of start, one autosave per
question and submit by one learner. Prints µs of CPU and of wall time per start, autosave and
submission, and per cycle; the wall time beyond the CPU is mostly waiting for the database.

Run: .venv/bin/python bench/attempt_cpu.py [--db sqlite|postgres] [--cycles 500]
Compare two versions of the code by running each a few times, interleaved: figures move by 10%
from one run to the next on a shared machine.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.profile_requests import _setup  # noqa: E402
from tests.databases import fresh_database  # noqa: E402


def environ(method: str, path: str, body: dict[str, Any], token: str) -> dict[str, Any]:
    data = json.dumps(body).encode()
    return {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(data)), "wsgi.input": io.BytesIO(data),
            "HTTP_AUTHORIZATION": f"Bearer {token}", "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0), "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="sqlite")
    ap.add_argument("--cycles", type=int, default=500)
    args = ap.parse_args()
    with fresh_database(args.db) as url, tempfile.TemporaryDirectory() as tmp:
        app, _, quiz, tokens = _setup(url, Path(tmp))
        token = tokens[0]
        spent: dict[str, list[float]] = {}
        counts: dict[str, int] = {}
        statuses: list[str] = []

        def start_response(status: str, headers: list[tuple[str, str]]) -> None:
            statuses.append(status)

        def call(kind: str, method: str, path: str, body: dict[str, Any]) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            data = b"".join(app(environ(method, path, body, token), start_response))
            used = spent.setdefault(kind, [0.0, 0.0])
            used[0] += time.perf_counter() - wall
            used[1] += time.process_time() - cpu
            counts[kind] = counts.get(kind, 0) + 1
            if not statuses[-1].startswith("20"):
                raise SystemExit(f"{kind} answered {statuses[-1]}: {data[:300]!r}")
            return json.loads(data)

        for cycle in range(args.cycles + 30):
            if cycle == 30:  # warmed: the quiz's version kept, statements prepared
                spent.clear()
                counts.clear()
            started = call("start", "POST", f"/api/v1/quizzes/{quiz}/attempts", {})
            for question in started["questions"]:
                call("autosave", "PUT", f"/api/v1/attempts/{started['attempt_id']}/answers/{question['id']}",
                     {"response": question["choices"][0]["id"]})
            call("submission", "POST", f"/api/v1/attempts/{started['attempt_id']}/submission", {})
        print(f"attempt_cpu: {args.db}, {args.cycles} cycles by one learner, in process")
        for kind, (wall, cpu) in spent.items():
            print(f"{kind:>10}: {cpu * 1e6 / counts[kind]:6.0f} µs CPU, {wall * 1e6 / counts[kind]:6.0f} µs wall")
        total_cpu = sum(cpu for _, cpu in spent.values())
        total_wall = sum(wall for wall, _ in spent.values())
        per_cycle = 1e6 / args.cycles
        print(f"{'cycle':>10}: {total_cpu * per_cycle:6.0f} µs CPU, {total_wall * per_cycle:6.0f} µs wall")


if __name__ == "__main__":
    main()
