"""The LMS as other people get it: a wheel installed into a fresh virtual environment outside the
repository, mounted into a two-route host site, migrating its own database and taking a learner
from a lesson to a certificate — while the host's own routes and SQLAlchemy sessions stay its own.

Slow (a build and an install into a new venv), so it builds once per run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from lms.config import PROJECT_ROOT
from tests.databases import fresh_database

pytestmark = pytest.mark.wheel

HOST_APP = r'''
import json, sys, time
from flask import Flask
from sqlalchemy import String, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from lms import LMS

database_url, content, quizzes = sys.argv[1:4]


class HostBase(DeclarativeBase):
    pass


class Note(HostBase):  # the host's own table, in the host's own database
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(50))


host = Flask("provincial_portal")
host.config.update(LMS_DATABASE_URL=database_url, LMS_SECRET_KEY="w" * 40, LMS_CONTENT_PATH=content,
                   LMS_QUIZZES_PATH=quizzes, TESTING=True)


@host.get("/")
def home():
    return "cổng thông tin tỉnh"


@host.get("/notes")
def notes():
    with Session(host_engine) as s:
        return {"notes": [n.text for n in s.query(Note).all()]}


host_engine = create_engine("sqlite://")
HostBase.metadata.create_all(host_engine)
LMS().init_app(host, url_prefix="/hoc")

# The host's own sessions: none of the LMS's hooks are registered on SQLAlchemy's Session.
from lms.services import figures  # noqa: E402
hooks = [name for name in ("after_flush", "after_soft_rollback", "before_commit")
         if any(event.contains(Session, name, fn) for fn in vars(figures).values() if callable(fn))]
with Session(host_engine) as s, s.begin():
    s.add(Note(text="họp tổ dân phố"))
with Session(host_engine) as s:
    host_info = sorted(str(k) for k in s.info)

c = host.test_client()
out = {"home": c.get("/").get_data(as_text=True), "notes": c.get("/notes").json, "hooks_on_session": hooks,
       "host_session_info": host_info}

reg = c.post("/hoc/api/v1/registrations", json={"full_name": "Lê Thị Mai", "login": "0987654321",
             "password": "Hoc-tap-2026!", "birth_year": 1958, "unit_code": UNIT})
out["registration"] = reg.status_code
token = c.post("/hoc/api/v1/tokens", json={"login": "0987654321", "password": "Hoc-tap-2026!"}).json["token"]
auth = {"Authorization": "Bearer " + token}
course = c.get("/hoc/api/v1/courses/" + COURSE).json
for lesson in course["lessons"]:
    done = c.post(f"/hoc/api/v1/lessons/{lesson['id']}/completion", headers=auth, json={}).json
out["progress"] = [done["completed_lessons"], done["lesson_count"]]
final = next(q["id"] for q in course["quizzes"] if q["id"].endswith("cuoi-khoa"))
attempt = c.post(f"/hoc/api/v1/quizzes/{final}/attempts", headers=auth, json={})
out["attempt"] = attempt.status_code
attempt = attempt.json

# The right answers, read from what the server grades against (the attempt's stored layout).
from lms.config import Settings  # noqa: E402
from lms.services.unit_of_work import make_sessionmaker  # noqa: E402
from lms.store import Attempt, make_engine  # noqa: E402
engine = make_engine(Settings.load(host.config).database_url)
with make_sessionmaker(engine)() as s:
    layout = {snap["id"]: snap for snap in s.get(Attempt, attempt["attempt_id"]).layout}
engine.dispose()
for q in attempt["questions"]:
    r = c.put(f"/hoc/api/v1/attempts/{attempt['attempt_id']}/answers/{q['id']}", headers=auth,
              json={"response": correct_response(layout[q["id"]])})
    assert r.status_code == 200, r.get_data(as_text=True)
result = c.post(f"/hoc/api/v1/attempts/{attempt['attempt_id']}/submission", headers=auth, json={}).json
out["passed"] = result["passed"]
pdf = b""
for _ in range(120):  # the PDF may be made in the background
    mine = c.get("/hoc/api/v1/me/certificates", headers=auth).json
    if mine and mine[0].get("pdf_url"):
        got = c.get(mine[0]["pdf_url"], headers=auth)
        if got.status_code == 200 and got.data.startswith(b"%PDF"):
            pdf = got.data
            break
    time.sleep(0.5)
out["certificate"] = {"course": mine[0]["course_id"], "pdf_url": mine[0]["pdf_url"], "pdf": pdf[:5].decode()}
out["verify"] = c.get("/hoc/api/v1/verify/" + mine[0]["code"]).json["valid"]
out["outside_prefix"] = c.get("/api/v1/courses").status_code
print("RESULT " + json.dumps(out, ensure_ascii=False))
'''


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A wheel built from this checkout, installed into a new venv in a folder outside it."""
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--disable-pip-version-check",
                    "-w", str(dist), str(PROJECT_ROOT)], check=True, cwd=root)
    wheel = next(dist.glob("lms-*.whl"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    str(wheel)], check=True, cwd=root)
    yield venv


def test_the_wheel_carries_migrations_templates_and_reference_data(installed: Path) -> None:
    probe = textwrap.dedent("""
        import json
        from importlib.resources import files
        import lms
        from lms.store.migrate import script_location
        from lms.certificates.render import TEMPLATES
        print(json.dumps({"package": lms.__file__, "migrations": str(script_location()),
                          "versions": len(list((script_location() / "versions").glob("*_0*.py"))),
                          "certificate": (TEMPLATES / "default" / "certificate.html").is_file(),
                          "units": (files("lms") / "data" / "admin_units_2025.csv").is_file(),
                          "templates": (files("lms.web") / "templates" / "lms" / "base.html").is_file(),
                          "static": (files("lms.web") / "static" / "site.css").is_file(),
                          "english": (files("lms") / "translations" / "en" / "LC_MESSAGES" / "messages.mo").is_file()}))
    """)
    p = subprocess.run([str(installed / "bin" / "python"), "-c", probe], capture_output=True, text=True,
                       cwd=installed.parent, check=True)
    got = json.loads(p.stdout)
    assert str(PROJECT_ROOT) not in got["package"] and str(PROJECT_ROOT) not in got["migrations"]
    assert got["versions"] == len(list((PROJECT_ROOT / "migrations" / "versions").glob("*_0*.py")))
    assert got["certificate"] and got["units"] and got["templates"] and got["static"] and got["english"]


def test_a_host_site_runs_the_installed_lms_from_lesson_to_certificate(installed: Path) -> None:
    kind = os.environ.get("LMS_TEST_DATABASE", "sqlite")
    with fresh_database(kind) as url:
        env = {**os.environ, "LMS_DATABASE_URL": url}
        env.pop("LMS_INSTANCE_PATH", None)
        work = installed.parent / f"host-{kind}"
        work.mkdir(exist_ok=True)
        up = subprocess.run([str(installed / "bin" / "lms"), "db", "upgrade"], capture_output=True, text=True,
                            cwd=work, env=env)
        assert up.returncode == 0, up.stderr[-2000:]
        # a host points the LMS at its own content folders (here: this repository's)
        sync = subprocess.run([str(installed / "bin" / "lms"), "content", "sync"], capture_output=True, text=True,
                              cwd=work, env={**env, "LMS_CONTENT_PATH": str(PROJECT_ROOT / "course_content"),
                                             "LMS_QUIZZES_PATH": str(PROJECT_ROOT / "quizzes")})
        assert sync.returncode == 0, sync.stdout[-1000:] + sync.stderr[-2000:]
        helpers = (PROJECT_ROOT / "tests" / "quizhelpers.py").read_text(encoding="utf-8")
        script = f"{helpers}\nUNIT = {_a_vinh_long_commune()!r}\nCOURSE = 'dich-vu-cong'\n{HOST_APP}"
        run = subprocess.run([str(installed / "bin" / "python"), "-c", script, url,
                              str(PROJECT_ROOT / "course_content"), str(PROJECT_ROOT / "quizzes")],
                             capture_output=True, text=True, cwd=work, env=env, timeout=600)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
        out = json.loads(run.stdout.split("RESULT ", 1)[1])
    assert out["home"] == "cổng thông tin tỉnh" and out["notes"] == {"notes": ["họp tổ dân phố"]}
    assert out["hooks_on_session"] == [] and out["host_session_info"] == []
    assert out["registration"] == 201 and out["progress"][0] == out["progress"][1] > 0
    assert out["attempt"] == 201 and out["passed"] is True
    assert out["certificate"]["course"] == "dich-vu-cong" and out["certificate"]["pdf"] == "%PDF-"
    assert out["certificate"]["pdf_url"].startswith("/hoc/") and out["verify"] is True
    assert out["outside_prefix"] == 404


def _a_vinh_long_commune() -> str:
    import csv

    with (PROJECT_ROOT / "lms" / "data" / "admin_units_2025.csv").open(encoding="utf-8") as f:
        return next(row["commune_code"] for row in csv.DictReader(f) if row["province_code"] == "86")
