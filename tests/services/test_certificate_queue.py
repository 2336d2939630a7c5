"""With LMS_REDIS_URL set, issuing records the certificate at once and the PDF is made by a
worker from the real Redis queue, after the transaction commits."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import Engine, delete

from lms.config import Settings
from lms.jobs import QUEUE
from lms.services import certificates
from lms.services.unit_of_work import make_sessionmaker
from lms.store import Certificate, Course, User
from tests import factories
from tests.databases import REDIS_URL
from tests.factories import now


def test_pdf_is_made_by_the_worker_after_commit(engine: Engine, worker_env: Settings, test_redis: Redis) -> None:
    redis = test_redis
    settings = replace(worker_env, redis_url=REDIS_URL)
    try:
        with make_sessionmaker(engine, expire_on_commit=True)() as s, s.begin():
            user = factories.user(s)
            course = s.get(Course, "an-toan-so")
            assert course is not None
            cert = certificates.issue(s, user, course, now=now(), source="in_person")
            assert certificates.schedule_pdf(s, cert, settings=settings) == "queued"
            assert Queue(QUEUE, connection=redis).count == 0  # nothing is enqueued before the commit
            cert_id, user_id = cert.id, user.id
        queue = Queue(QUEUE, connection=redis)
        assert queue.count == 1
        SimpleWorker([queue], connection=redis).work(burst=True)
        with make_sessionmaker(engine, expire_on_commit=True)() as s:
            stored = s.get(Certificate, cert_id)
            assert stored is not None and stored.pdf_status == "ready" and stored.pdf is not None
            assert stored.pdf.startswith(b"%PDF")
    finally:
        with make_sessionmaker(engine, expire_on_commit=True)() as s, s.begin():
            s.execute(delete(Certificate).where(Certificate.user_id == user_id))
            s.execute(delete(User).where(User.id == user_id))


def test_the_organisations_own_key_signs_when_configured(tmp_path: Path) -> None:
    from lms.certificates.signing import ensure_dev_signer

    key, cert = ensure_dev_signer(tmp_path / "org", "Sở KH&CN tỉnh Vĩnh Long")
    own = Settings.load({"LMS_DATABASE_URL": "sqlite://", "LMS_SECRET_KEY": "k" * 40,
                         "LMS_SIGNING_KEY": str(key), "LMS_SIGNING_CERT": str(cert),
                         "LMS_ISSUER_NAME": "Sở KH&CN tỉnh Vĩnh Long", "LMS_INSTANCE_PATH": str(tmp_path / "i")})
    signing = certificates.Signing.from_settings(own)
    assert signing.key_path == key and signing.organisation == "Sở KH&CN tỉnh Vĩnh Long"
    assert not (tmp_path / "i" / "signing").exists()  # no development key was made
    fallback = certificates.Signing.from_settings(replace(own, signing_key=None, signing_cert=None))
    assert fallback.key_path.parent == tmp_path / "i" / "signing"
    with pytest.raises(Exception, match="go together"):
        Settings.load({"LMS_ENV": "production", "LMS_DATABASE_URL": "sqlite://", "LMS_SECRET_KEY": "k" * 40,
                       "LMS_SIGNING_KEY": str(key)})


def test_warm_up_leaves_a_forked_job_the_renderer_and_signer(tmp_path: Path) -> None:
    """`lms worker` warms up before RQ forks a work horse per job: the fork must find the font
    configuration, the stylesheets and the signer already loaded, and still make a good PDF."""
    import os

    from lms.certificates import render, signing

    settings = Settings.load({"LMS_DATABASE_URL": "sqlite://", "LMS_SECRET_KEY": "k" * 40,
                              "LMS_INSTANCE_PATH": str(tmp_path / "i")})
    certificates.warm_up(settings)
    assert render._IDLE_KITS and signing._signer.cache_info().currsize >= 1
    kit = render._IDLE_KITS[-1]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the work horse: report whether it used the inherited kit and signer
        try:
            loads = signing._signer.cache_info().misses
            key = certificates.Signing.from_settings(settings)
            view = render.CertificateView(holder="Lê Văn Tám", course="An toàn", version="1", competences=[],
                                          issuer="Sở", place="Vĩnh Long", signatory="Sở", date="", expires=None,
                                          code="X", verify_url="http://127.0.0.1/verify/X")
            pdf = signing.sign_pdf(render.render_pdf(view), key_path=key.key_path, cert_path=key.cert_path,
                                   reason="r", location="VN")
            same = render._IDLE_KITS[-1] is kit and signing._signer.cache_info().misses == loads
            os.write(write, b"ok" if same and pdf.startswith(b"%PDF") else b"reloaded")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 16) == b"ok"
