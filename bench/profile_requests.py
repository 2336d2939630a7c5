"""In-process profile of the hot requests (Flask test client, cProfile): where the time of one
request goes, apart from gunicorn and the network. Prints ms per request and the top functions.

Run: .venv/bin/python bench/profile_requests.py [--db sqlite|postgres] [--top 25] [--n 300]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.databases import fresh_database  # noqa: E402

GIFT = "\n\n".join(f"::S{i}:: Câu hỏi số {i}? {{=Đúng ~Sai ~Không biết}}" for i in range(1, 7)) + "\n"


def _setup(url: str, tmp: Path) -> tuple[Any, str, str, list[str]]:
    import subprocess

    env = dict(os.environ, LMS_DATABASE_URL=url, LMS_INSTANCE_PATH=str(tmp))
    lms = str(Path(sys.executable).parent / "lms")
    for args in (["db", "upgrade"], ["content", "sync"]):
        subprocess.run([lms, *args], env=env, check=True, capture_output=True)
    (tmp / "speed.gift").write_text(GIFT, encoding="utf-8")
    os.environ.update(LMS_DATABASE_URL=url, LMS_INSTANCE_PATH=str(tmp))
    from lms import create_app

    app = create_app()
    client = app.test_client()
    course = client.get("/api/v1/courses").json[0]["id"]
    out = subprocess.run([lms, "quiz", "import", str(tmp / "speed.gift"), "--course", course], env=env,
                         check=True, capture_output=True, text=True).stdout
    import json

    quiz = json.loads(out.strip().splitlines()[-1])["quiz_id"]
    lesson = client.get(f"/api/v1/courses/{course}").json["lessons"][0]["id"]
    tokens = []
    for i in range(4):
        login = f"prof{i}@example.vn"
        client.post("/api/v1/registrations", json={"full_name": "Người Thử", "login": login,
                                                   "password": "Mat-khau-2026!", "birth_year": 1990,
                                                   "unit_code": _commune(client, app)})
        tokens.append(client.post("/api/v1/tokens", json={"login": login, "password": "Mat-khau-2026!"}).json["token"])
    return app, lesson, quiz, tokens


def _commune(client: Any, app: Any) -> str:
    from sqlalchemy import select

    from lms.store import Unit

    with app.extensions["lms"].sessionmaker() as s:
        return str(s.scalar(select(Unit.code).where(Unit.level == "commune").limit(1)))


def _cycle(client: Any, quiz: str, token: str) -> None:
    h = {"Authorization": f"Bearer {token}"}
    r = client.post(f"/api/v1/quizzes/{quiz}/attempts", json={}, headers=h)
    assert r.status_code == 201, r.data
    body = r.json
    for q in body["questions"]:
        resp = client.put(f"/api/v1/attempts/{body['attempt_id']}/answers/{q['id']}",
                          json={"response": q["choices"][0]["id"]}, headers=h)
        assert resp.status_code == 200, resp.data
    r = client.post(f"/api/v1/attempts/{body['attempt_id']}/submission", json={}, headers=h)
    assert r.status_code == 200, r.data


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="sqlite")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    import tempfile

    with fresh_database(args.db) as url, tempfile.TemporaryDirectory() as tmp:
        app, lesson, quiz, tokens = _setup(url, Path(tmp))
        # No cookies kept: like wrk, every request is a first-time visitor.
        client = app.test_client(use_cookies=False)
        page = f"/lessons/{lesson}"
        h = {"Authorization": f"Bearer {tokens[1]}"}
        started = client.post(f"/api/v1/quizzes/{quiz}/attempts", json={}, headers=h).json
        first = started["questions"][0]
        save_url = f"/api/v1/attempts/{started['attempt_id']}/answers/{first['id']}"
        cases = {
            "healthz": lambda: client.get("/healthz"),
            "home": lambda: client.get("/"),
            "lesson page": lambda: client.get(page),
            "lesson API": lambda: client.get(f"/api/v1/lessons/{lesson}"),
            "quiz cycle (8 requests)": lambda: _cycle(client, quiz, tokens[0]),
            "autosave": lambda: client.put(save_url, json={"response": first["choices"][0]["id"]}, headers=h),
        }
        for name, fn in cases.items():
            if args.only and args.only not in name:
                continue
            n = args.n if "cycle" not in name else max(args.n // 8, 5)
            for _ in range(5):
                fn()
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(n):
                fn()
            ms = (time.perf_counter() - t0) * 1000 / n
            cpu = (time.process_time() - c0) * 1000 / n  # steadier than wall time on a busy machine
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(n):
                fn()
            prof.disable()
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(args.top)
            print(f"=== {name}: {ms:.2f} ms per call, {cpu:.2f} ms of CPU (unprofiled)")
            if args.top:
                print("\n".join(buf.getvalue().splitlines()[6:]))


if __name__ == "__main__":
    main()
