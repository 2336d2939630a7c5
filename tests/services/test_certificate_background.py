"""Without a queue, the web server makes a certificate's PDF after the commit, in the
background, and the pending row is the queue a restarted server drains (issue 14)."""

from __future__ import annotations

from sqlalchemy import Engine, delete

from lms.config import Settings
from lms.services import certificates
from lms.services.unit_of_work import make_sessionmaker
from lms.store import Certificate, Course, User
from tests import factories
from tests.factories import now


def test_pdf_is_made_after_commit_not_in_the_request(engine: Engine, worker_env: Settings) -> None:
    settings = worker_env
    asked: list[int] = []
    try:
        with make_sessionmaker(engine, expire_on_commit=True)() as s, s.begin():
            user = factories.user(s)
            course = s.get(Course, "an-toan-so")
            assert course is not None
            cert = certificates.issue(s, user, course, now=now(), source="in_person")
            assert certificates.schedule_pdf(s, cert, settings=settings, background=asked.append) == "queued"
            assert asked == []  # nothing starts before the rows it needs are committed
            assert cert.pdf_status == "pending" and cert.pdf is None
            cert_id, user_id = cert.id, user.id
        assert asked == [cert_id]
        sessions = make_sessionmaker(engine, expire_on_commit=True)
        assert certificates.render_in_background(sessions, cert_id, settings=settings) == "ready"
        assert certificates.render_in_background(sessions, cert_id, settings=settings) == "ready"  # once is enough
        with make_sessionmaker(engine, expire_on_commit=True)() as s:
            stored = s.get(Certificate, cert_id)
            assert stored is not None and stored.pdf_status == "ready" and stored.pdf is not None
            assert stored.pdf.startswith(b"%PDF")
    finally:
        with make_sessionmaker(engine, expire_on_commit=True)() as s, s.begin():
            s.execute(delete(Certificate).where(Certificate.user_id == user_id))
            s.execute(delete(User).where(User.id == user_id))


def test_a_restarted_server_makes_what_was_left_pending(engine: Engine, worker_env: Settings) -> None:
    settings = worker_env
    try:
        with make_sessionmaker(engine, expire_on_commit=True)() as s, s.begin():
            user = factories.user(s)
            course = s.get(Course, "an-toan-so")
            assert course is not None
            cert = certificates.issue(s, user, course, now=now(), source="in_person")
            certificates.schedule_pdf(s, cert, settings=settings, background=lambda _id: None)  # the process died
            cert_id, user_id = cert.id, user.id
        assert certificates.render_pending(make_sessionmaker(engine, expire_on_commit=True), settings=settings) >= 1
        with make_sessionmaker(engine, expire_on_commit=True)() as s:
            stored = s.get(Certificate, cert_id)
            assert stored is not None and stored.pdf_status == "ready"
    finally:
        with make_sessionmaker(engine, expire_on_commit=True)() as s, s.begin():
            s.execute(delete(Certificate).where(Certificate.user_id == user_id))
            s.execute(delete(User).where(User.id == user_id))
