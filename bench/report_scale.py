"""A province at national scale: generate learners, attempts and certificates on PostgreSQL, keep
the report figures by a rebuild, then time the dashboard and the report API against a bare Flask
endpoint served the same way, and stream a large CSV export while watching memory.

Run (defaults are the full size of issue 6; use smaller numbers for a quick look):
    .venv/bin/python bench/report_scale.py --learners 1000000 --attempts 5000000
    .venv/bin/python bench/report_scale.py --learners 100000 --attempts 500000 --keep
Needs PostgreSQL at LMS_TEST_PG_ADMIN (default postgresql://postgres@127.0.0.1:5432/postgres), as
the tests do (tests/databases.py makes and drops the database).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bench  # noqa: E402 - after the project root is on the path
from tests.databases import fresh_database  # noqa: E402

PROVINCE = "86"


def _copy(conn: psycopg.Connection, table: str, columns: tuple[str, ...], rows) -> int:  # type: ignore[no-untyped-def]
    n = 0
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def generate(url: str, learners: int, attempts: int, seed: int = 7) -> dict[str, float]:
    """Learners spread over the province's communes (5% officials on agency rosters), attempts at
    the assessments, and certificates for about 40% of them, written with COPY."""
    from sqlalchemy import select

    from lms.services.content import sync_all
    from lms.services.plans import ensure_default_plan
    from lms.services.units import ensure_units
    from lms.store import LmsSession, Quiz, Unit, make_engine
    from lms.store.migrate import upgrade

    rnd = random.Random(seed)
    t0 = time.perf_counter()
    upgrade(url)
    engine = make_engine(url)
    with LmsSession(engine) as s, s.begin():
        ensure_units(s)
        ensure_default_plan(s, now=datetime.now(UTC))
        sync_all(s, ROOT / "course_content", ROOT / "quizzes", now=datetime.now(UTC))
        communes = list(s.scalars(select(Unit.code).where(Unit.parent_code == PROVINCE)))
        finals = {q.course_id: q.id for q in s.scalars(select(Quiz)) if q.id.endswith("cuoi-khoa")} or \
            {q.course_id: q.id for q in s.scalars(select(Quiz))}
    engine.dispose()
    raw = url.replace("postgresql+psycopg://", "postgresql://")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with psycopg.connect(raw) as conn:
        agencies = [(i + 1, c, f"UBND {c}") for i, c in enumerate(communes)]
        _copy(conn, "agencies", ("id", "unit_code", "name"), agencies)
        conn.execute("SELECT setval(pg_get_serial_sequence('agencies', 'id'), %s)", (len(agencies),))

        def users():  # type: ignore[no-untyped-def]
            for i in range(1, learners + 1):
                unit = communes[i % len(communes)]
                official = i % 20 == 0
                yield (i, f"hv{i}@bench.vn", f"Học viên {i}", "!bench", "official" if official else "citizen",
                       None if official else rnd.randint(1945, 2008), unit,
                       (i % len(communes)) + 1 if official else None, True, 1, start)

        _copy(conn, "users", ("id", "login", "full_name", "password_hash", "role", "birth_year", "unit_code",
                              "agency_id", "is_active", "credentials_version", "created_at"), users())
        conn.execute("SELECT setval(pg_get_serial_sequence('users', 'id'), %s)", (learners,))
        course_for = {"citizen": "dich-vu-cong", "official": "chuyen-doi-so-can-bo"}
        quiz_ids = list(finals.values())

        def tries():  # type: ignore[no-untyped-def]
            for n in range(attempts):
                uid = rnd.randint(1, learners)
                when = start + timedelta(minutes=rnd.randint(0, 330 * 24 * 60))
                score = rnd.randint(0, 20)
                yield (uuid.uuid4().hex, rnd.choice(quiz_ids), uid, n, "submitted", when, None,
                       when + timedelta(minutes=9), "learner", "[]", score, 20.0, 5.0 * score, score >= 14, None)

        _copy(conn, "attempts", ("id", "quiz_id", "user_id", "number", "status", "started_at", "deadline_at",
                                 "submitted_at", "finished_by", "layout", "score", "max_score", "percent", "passed",
                                 "result"), tries())

        def certs():  # type: ignore[no-untyped-def]
            for i in range(1, learners + 1):
                if rnd.random() < 0.4:
                    role = "official" if i % 20 == 0 else "citizen"
                    course = course_for[role]
                    when = start + timedelta(minutes=rnd.randint(0, 330 * 24 * 60))
                    yield (uuid.uuid4().hex[:24].upper(), i, course, course, "2026.1", "[]", f"Học viên {i}",
                           communes[i % len(communes)], "Bench", "online", when, "ready")

        made = _copy(conn, "certificates", ("code", "user_id", "course_id", "course_title", "course_version",
                                            "competences", "holder_name", "unit_code", "issuer_name", "source",
                                            "issued_at", "pdf_status"), certs())
        conn.commit()
        conn.execute("ANALYZE")
    generated = time.perf_counter() - t0
    t1 = time.perf_counter()
    engine = make_engine(url)
    from lms.services import figures
    from lms.store import LmsSession

    with LmsSession(engine) as s, s.begin():
        figures.rebuild(s, batch=5000)
    engine.dispose()
    return {"generate_s": generated, "rebuild_s": time.perf_counter() - t1, "certificates": made}


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] * 1000


def measure(url: str, n: int) -> None:
    from flask import Flask

    from lms import create_app
    from lms.config import Settings

    app = create_app(Settings.load({"LMS_DATABASE_URL": url, "LMS_SECRET_KEY": "b" * 64,
                                    "LMS_INSTANCE_PATH": str(Path("/tmp/lms-bench-instance"))}))
    app.config["RATELIMIT_ENABLED"] = False
    bare = Flask("bare")
    bare.add_url_rule("/", "hello", lambda: "xin chào")
    from sqlalchemy import text

    from lms.services import accounts
    from lms.store import LmsSession, make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM users WHERE login = 'bench-manager@bench.vn'"))

    with LmsSession(engine) as s, s.begin():
        accounts.create_user(s, role="manager", login="bench-manager@bench.vn", password="Bench-2026!",
                             full_name="Quản lý", unit_code=PROVINCE, now=datetime.now(UTC))
    engine.dispose()
    client, base_client = app.test_client(), bare.test_client()
    login = client.post("/api/v1/tokens", json={"login": "bench-manager@bench.vn", "password": "Bench-2026!"})
    token = login.json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    year = 2026

    def timed(fn) -> list[float]:  # type: ignore[no-untyped-def]
        fn()  # warm up
        return bench.timed(fn, n)

    base = timed(lambda: base_client.get("/"))
    api = timed(lambda: client.get(f"/api/v1/reports/targets?unit={PROVINCE}&year={year}", headers=headers))
    commune_api = timed(lambda: client.get(f"/api/v1/reports/targets?unit=28756&year={year}", headers=headers))
    print(f"bare Flask endpoint      p95 {_p95(base):8.2f} ms")
    print(f"report API, province 86  p95 {_p95(api):8.2f} ms  ({_p95(api) / _p95(base):.0f}× the bare endpoint)")
    print(f"report API, one commune  p95 {_p95(commune_api):8.2f} ms")
    app.config["WTF_CSRF_ENABLED"] = False
    with app.test_client() as browser:
        browser.post("/login", data={"login": "bench-manager@bench.vn", "password": "Bench-2026!"})
        page = timed(lambda: browser.get(f"/manager?unit={PROVINCE}&year={year}"))
        print(f"dashboard page, 86       p95 {_p95(page):8.2f} ms  (status {browser.get('/manager').status_code})")
        tracemalloc.start()
        t0 = time.perf_counter()
        response = browser.get(f"/manager/certificates.csv?unit={PROVINCE}&year={year}", buffered=False)
        rows, size = 0, 0
        for chunk in response.response:
            size += len(chunk)
            rows += chunk.count(b"\n")
        response.close()  # as a WSGI server does: the request's teardown gives its connection back
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"certificate CSV export   {rows - 1} rows, {size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s, "
              f"peak Python memory {peak / 1e6:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=1_000_000)
    parser.add_argument("--attempts", type=int, default=5_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--database", help="reuse an existing generated database (its URL)")
    args = parser.parse_args()
    if args.database:
        measure(args.database, args.requests)
        return
    with fresh_database("postgres", keep=args.keep) as url:
        made = generate(url, args.learners, args.attempts)
        print(f"generated {args.learners:,} learners, {args.attempts:,} attempts, {made['certificates']:,} "
              f"certificates in {made['generate_s']:.0f} s; report figures rebuilt in {made['rebuild_s']:.0f} s")
        measure(url, args.requests)
        if args.keep:
            print(f"database kept: {url}")


if __name__ == "__main__":
    main()
