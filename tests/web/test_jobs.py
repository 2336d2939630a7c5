"""Job pages: progress shown with <progress> and a refresh that needs no JavaScript, only to the
job's owner (or an admin); the report export as a job hands out the same file as the direct
download; the quiz import goes through a job; reading a job's page changes nothing, and a job
left behind is started again by its owner's POST."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import openpyxl
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.services import jobs
from lms.store import Job, User
from tests import factories
from tests.conftest import csrf_token
from tests.factories import now
from tests.shared_dir import SHARED


def _login(client: FlaskClient, session: Session, role: str, unit_code: str = "28756") -> int:
    user = factories.user(session, role=role, unit_code=unit_code)
    session.commit()
    client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "login": user.login,
                                "password": factories.PASSWORD})
    return user.id


def _export_job(client: FlaskClient, fmt: str) -> str:
    r = client.post("/manager/exports", data={"csrf_token": csrf_token(client, "/manager?unit=86"), "unit": "86",
                                              "year": str(now().year), "format": fmt})
    assert r.status_code == 302
    found = re.search(r"/jobs/([0-9a-f]{32})$", r.headers["Location"])
    assert found
    return found.group(1)


def test_export_job_makes_the_same_file_as_the_direct_export(client: FlaskClient, session: Session) -> None:
    _login(client, session, "manager", "86")
    year = now().year
    job_id = _export_job(client, "csv")
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Đã xong" in page and 'value="1"' in page and "<progress" in page and "http-equiv" not in page
    assert f"/jobs/{job_id}/file" in page
    from_job = client.get(f"/jobs/{job_id}/file")
    direct = client.get(f"/manager/report.csv?unit=86&year={year}")
    assert from_job.status_code == 200 and from_job.data == direct.data
    assert from_job.headers["Content-Disposition"] == direct.headers["Content-Disposition"]
    assert from_job.mimetype == direct.mimetype == "text/csv"

    xlsx_job = _export_job(client, "xlsx")
    book_job = openpyxl.load_workbook(io.BytesIO(client.get(f"/jobs/{xlsx_job}/file").data))
    book_direct = openpyxl.load_workbook(io.BytesIO(client.get(f"/manager/report.xlsx?unit=86&year={year}").data))
    rows = [list(r) for r in book_job.active.iter_rows(values_only=True)]  # type: ignore[union-attr]
    assert rows == [list(r) for r in book_direct.active.iter_rows(values_only=True)]  # type: ignore[union-attr]
    assert len(rows) > 1
    manager_page = client.get("/manager?unit=86").get_data(as_text=True)
    assert "Việc đang chạy" in manager_page and f"/jobs/{xlsx_job}" in manager_page


def test_job_page_shows_progress_and_refreshes_while_running(client: FlaskClient, session: Session) -> None:
    user_id = _login(client, session, "trainer")
    owner = session.get(User, user_id)
    job = jobs.create(session, kind="quiz_import", owner=owner, now=now(), total=5)
    job.status, job.done = "running", 2
    session.commit()
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    # updated in place by refresh.js while running (no timed reload, WCAG 2.2.1); a link without JS
    assert 'data-running="1"' in page and "refresh.js" in page and "http-equiv" not in page
    assert f'href="/jobs/{job.id}"' in page
    assert '<progress id="job-progress" max="5" value="2"' in page and "2/5 (40%)" in page
    assert "Đang chạy" in page
    me = client.get("/me").get_data(as_text=True)
    assert "Việc đang chạy" in me and f"/jobs/{job.id}" in me


def test_job_page_is_forbidden_to_others(app: Flask, client: FlaskClient, session: Session) -> None:
    _login(client, session, "manager", "86")
    job_id = _export_job(client, "csv")
    other = app.test_client()
    _login(other, session, "manager", "86")
    assert other.get(f"/jobs/{job_id}").status_code == 403
    assert other.get(f"/jobs/{job_id}/file").status_code == 403
    assert other.get(f"/jobs/{'0' * 32}").status_code == 404
    admin = app.test_client()
    _login(admin, session, "admin")
    assert admin.get(f"/jobs/{job_id}").status_code == 200
    anonymous = app.test_client()
    assert anonymous.get(f"/jobs/{job_id}").status_code in (302, 401)


def test_quiz_import_runs_as_a_job(client: FlaskClient, session: Session) -> None:
    trainer_id = _login(client, session, "trainer")
    sample = SHARED / "accept" / "sample_quiz.gift"
    r = client.post("/trainer/import", data={
        "csrf_token": csrf_token(client, "/trainer/import"), "course": "tri-tue-nhan-tao", "format": "",
        "file": (io.BytesIO(sample.read_bytes()), sample.name)}, content_type="multipart/form-data")
    assert r.status_code == 302 and "/preview" in r.headers["Location"]
    job = session.scalars(select(Job).where(Job.owner_id == trainer_id)).one()
    assert job.kind == "quiz_import" and job.status == "done" and job.payload is None
    assert job.result is not None and job.result["quiz_id"].startswith("imp_")
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert f"/trainer/quizzes/{job.result['quiz_id']}/preview" in page
    assert f"/jobs/{job.id}" in client.get("/trainer").get_data(as_text=True)


def _left_behind(session: Session, owner: User | None) -> Job:
    job = jobs.create(session, kind="report_export", owner=owner, now=now(), total=1,
                      params={"unit": "86", "year": now().year, "format": "csv",
                              "header": ["a", "b", "c", "d", "e", "f"], "yes": "y", "no": "n"})
    job.status, job.runs, job.updated_at = "running", 1, now() - timedelta(hours=1)
    session.commit()
    return job


def test_reading_the_page_of_a_job_left_behind_changes_nothing(client: FlaskClient, session: Session) -> None:
    user_id = _login(client, session, "manager", "86")
    job = _left_behind(session, session.get(User, user_id))
    other = _left_behind(session, session.get(User, user_id))
    before = {job.id: job.updated_at, other.id: other.updated_at}
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    # it says the job stopped (not "running", and no promise that the page updates itself)
    assert "Đã dừng giữa chừng" in page and f'action="/jobs/{job.id}/resume"' in page
    assert "data-running" not in page
    session.expire_all()
    for job_id, updated_at in before.items():
        stored = session.get(Job, job_id)
        assert stored is not None and stored.status == "running" and stored.runs == 1
        assert stored.updated_at == updated_at


def test_a_job_left_behind_is_started_again_by_its_owner(app: Flask, client: FlaskClient,
                                                         session: Session) -> None:
    """Was: started again by a GET of its page. The page now offers a button (a POST)."""
    user_id = _login(client, session, "manager", "86")
    job = _left_behind(session, session.get(User, user_id))
    other = _left_behind(session, session.get(User, user_id))
    stranger = app.test_client()
    _login(stranger, session, "manager", "86")
    token = csrf_token(stranger, "/manager?unit=86")
    assert stranger.post(f"/jobs/{job.id}/resume", data={"csrf_token": token}).status_code == 403
    assert client.post(f"/jobs/{job.id}/resume").status_code == 400  # no CSRF token
    r = client.post(f"/jobs/{job.id}/resume", data={"csrf_token": csrf_token(client, f"/jobs/{job.id}")})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/jobs/{job.id}")
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Đã xong" in page and f"/jobs/{job.id}/file" in page and "/resume" not in page
    session.expire_all()
    stored = session.get(Job, job.id)
    assert stored is not None and stored.status == "done" and stored.runs == 2
    untouched = session.get(Job, other.id)  # only the job asked about
    assert untouched is not None and untouched.status == "running" and untouched.runs == 1


def test_only_admins_regenerate_certificates_from_the_browser(app: Flask, client: FlaskClient,
                                                             session: Session) -> None:
    _login(client, session, "manager", "86")
    token = csrf_token(client, "/manager?unit=86")
    assert client.post("/manager/certificates/regenerate", data={"csrf_token": token}).status_code == 403
    admin = app.test_client()
    _login(admin, session, "admin", "86")
    page = admin.get("/manager?unit=86").get_data(as_text=True)
    assert "/manager/certificates/regenerate" in page
    r = admin.post("/manager/certificates/regenerate", data={"csrf_token": csrf_token(admin, "/manager?unit=86")})
    assert r.status_code == 302 and "/jobs/" in r.headers["Location"]
    assert "Đã xong" in admin.get(r.headers["Location"]).get_data(as_text=True)
