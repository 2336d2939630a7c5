"""The LMS as an LTI 1.3 tool, end to end against a platform that is not ours (lti1p3platform,
served on loopback by tests/lti_platform.py): login, launch, quiz, score received; deep linking;
refused launches; retries; key rotation; roster sync."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.services import lti
from lms.services.unit_of_work import make_sessionmaker
from lms.store import Attempt, User
from lms.store.models import Identity, LtiScore
from tests import factories
from tests.conftest import csrf_token
from tests.lti_platform import INSTRUCTOR, LEARNER, Platform, Scenario

QUIZ = "an-toan-so-bai-01"


@pytest.fixture()
def platform(client: FlaskClient, session: Session) -> Iterator[Platform]:
    p = Platform()
    with p.running():
        lti.add_platform(session, issuer=p.issuer, client_id=p.client_id, deployment_id=p.deployment_id,
                         auth_login_url=p.url + "/auth", auth_token_url=p.url + "/token",
                         keyset_url=p.url + "/jwks", now=factories.now())
        session.commit()
        p.tool_keyset = client.get("/lti/jwks").get_json()
        p.tool_launch_url = client.get("/lti/config").get_json()["launch_url"]
        yield p


def _login(client: FlaskClient, p: Platform, sc: Scenario, *, method: str = "GET") -> dict[str, str]:
    params = {"iss": p.issuer, "login_hint": sc.sub, "target_link_uri": p.tool_launch_url,
              "lti_message_hint": "hint-1", "client_id": p.client_id, "lti_deployment_id": p.deployment_id}
    r = (client.get("/lti/login?" + urllib.parse.urlencode(params)) if method == "GET"
         else client.post("/lti/login", data=params))
    assert r.status_code == 302, r.get_data(as_text=True)
    where = r.headers["Location"]
    assert where.startswith(p.url + "/auth?")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(where).query))
    assert query["lti_message_hint"] == "hint-1" and query["redirect_uri"] == p.tool_launch_url
    return p.authorize(query, sc)


def _launch(client: FlaskClient, form: dict[str, str]) -> Any:
    return client.post(urllib.parse.urlparse(form["action"]).path,
                       data={"id_token": form["id_token"], "state": form["state"]})


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/me").status_code == 200


def _take_quiz(client: FlaskClient, session: Session, quiz_id: str, user_id: int) -> Attempt:
    page = client.get(f"/quizzes/{quiz_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert client.post(f"/quizzes/{quiz_id}/attempts", data={"csrf_token": token}).status_code == 302
    attempt = session.scalars(select(Attempt).where(Attempt.user_id == user_id, Attempt.quiz_id == quiz_id)).one()
    done = client.post(f"/attempts/{attempt.id}", data={"csrf_token": token, "action": "submit"})
    assert done.status_code == 302
    again = client.post(f"/attempts/{attempt.id}", data={"csrf_token": token, "action": "submit"})
    assert again.status_code == 302  # pressing submit twice grades once
    session.refresh(attempt)
    return attempt


def test_learner_launch_opens_the_quiz_and_its_score_reaches_the_platform(
        app: Flask, client: FlaskClient, session: Session, platform: Platform) -> None:
    sub = "moodle-user-42"
    form = _login(client, platform, Scenario(sub=sub, roles=[LEARNER], custom={"lms_target": f"quiz:{QUIZ}"},
                                             ags=True))
    r = _launch(client, form)
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/quizzes/{QUIZ}")
    page = client.get(f"/quizzes/{QUIZ}")
    assert "Bắt đầu làm bài" in page.get_data(as_text=True)
    assert f"frame-ancestors 'self' {platform.url}" in page.headers["Content-Security-Policy"]
    identity = session.scalars(select(Identity).where(Identity.subject == sub)).one()
    user = session.get(User, identity.user_id)
    assert user is not None and user.role == "citizen" and user.full_name == "Nguyễn Thị Lan"
    assert identity.protocol == "lti" and identity.issuer == platform.issuer

    attempt = _take_quiz(client, session, QUIZ, user.id)
    assert session.scalars(select(LtiScore)).all()[0].status == "pending"
    report = lti.deliver_due(app.extensions["lms"].sessionmaker, now=factories.now)
    assert report == {"sent": 1, "failed": 0, "pending": 0}
    assert lti.deliver_due(app.extensions["lms"].sessionmaker, now=factories.now)["sent"] == 0
    assert len(platform.scores) == 1
    got = platform.scores[0]
    assert got["auth_ok"] and got["ctype"] == "application/vnd.ims.lis.v1.score+json"
    body = got["body"]
    assert body["userId"] == sub and body["activityProgress"] == "Completed"
    assert body["gradingProgress"] == "FullyGraded"
    assert body["scoreGiven"] == attempt.score and body["scoreMaximum"] == attempt.max_score
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", body["timestamp"])
    assertion = platform.tokens[0]["form"]
    claims = jwt.decode(assertion["client_assertion"], options={"verify_signature": False})
    assert claims["iss"] == claims["sub"] == platform.client_id and claims["aud"] == platform.url + "/token"
    assert assertion["scope"] == lti.AGS_SCORE_SCOPE


def test_instructor_becomes_a_trainer_and_an_official_stays_one(client: FlaskClient, session: Session,
                                                               platform: Platform) -> None:
    _launch(client, _login(client, platform, Scenario(sub="teacher-1", roles=[INSTRUCTOR])))
    teacher = session.scalars(select(Identity).where(Identity.subject == "teacher-1")).one()
    assert session.get(User, teacher.user_id).role == "trainer"  # type: ignore[union-attr]
    official = factories.user(session, role="official")
    session.add(Identity(user_id=official.id, protocol="lti", issuer=platform.issuer, subject="official-1",
                         created_at=factories.now()))
    session.commit()
    other = client.application.test_client()
    _launch(other, _login(other, platform, Scenario(sub="official-1", roles=[LEARNER])))
    session.refresh(official)
    assert official.role == "official"


@pytest.mark.parametrize("tamper", ["stranger_key", "wrong_aud", "expired", "other_deployment"])
def test_bad_launches_are_refused_and_sign_nobody_in(client: FlaskClient, session: Session, platform: Platform,
                                                     tamper: str) -> None:
    form = _login(client, platform, Scenario(sub="intruder", roles=[LEARNER], tamper=tamper,
                                             custom={"lms_target": f"quiz:{QUIZ}"}))
    r = _launch(client, form)
    assert 400 <= r.status_code < 500
    assert 'role="alert"' in r.get_data(as_text=True)
    assert not _signed_in(client)
    assert session.scalars(select(Identity).where(Identity.subject == "intruder")).first() is None


def test_a_replayed_launch_is_refused(app: Flask, client: FlaskClient, platform: Platform) -> None:
    form = _login(client, platform, Scenario(sub="learner-r", roles=[LEARNER], custom={"lms_target": f"quiz:{QUIZ}"}))
    cookies = {c.key: c.value for c in client._cookies.values()}
    assert _launch(client, form).status_code == 303
    thief = app.test_client()
    for name, value in cookies.items():
        thief.set_cookie(name, value, path="/lti/")
    r = _launch(thief, form)
    assert r.status_code == 409 and "đã được dùng" in r.get_data(as_text=True)
    assert not _signed_in(thief)


def test_state_is_bound_to_the_browser_that_started_the_login(app: Flask, client: FlaskClient,
                                                              platform: Platform) -> None:
    form = _login(client, platform, Scenario(sub="learner-b", roles=[LEARNER]))
    stranger = app.test_client()
    stranger.set_cookie("lms-lti-" + form["state"][:16], "not-the-browser-token", path="/lti/")
    assert _launch(stranger, form).status_code == 400
    assert _launch(client, form).status_code == 303  # the real browser's launch still works


def test_unknown_platform_or_deployment_is_refused_at_login(client: FlaskClient, platform: Platform) -> None:
    r = client.get("/lti/login?" + urllib.parse.urlencode({"iss": "https://moodle.example", "login_hint": "x"}))
    assert r.status_code == 403 and "chưa được đăng ký" in r.get_data(as_text=True)
    r = client.get("/lti/login?" + urllib.parse.urlencode({"iss": platform.issuer, "login_hint": "x",
                                                          "lti_deployment_id": "nope"}))
    assert r.status_code == 403


def test_deep_linking_round_trip(client: FlaskClient, platform: Platform) -> None:
    form = _login(client, platform, Scenario(sub="teacher-dl", roles=[INSTRUCTOR],
                                             message_type="LtiDeepLinkingRequest", data="opaque-42"), method="POST")
    r = _launch(client, form)
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and f'value="quiz:{QUIZ}"' in page
    assert platform.url in r.headers["Content-Security-Policy"]
    context = re.search(r'name="context" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    back = client.post("/lti/deep-linking/response", data={"context": context, "item": [f"quiz:{QUIZ}"]})
    html = back.get_data(as_text=True)
    assert back.status_code == 200 and f'action="{platform.url}/deep_link_return"' in html
    token = re.search(r'name="JWT" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    items = platform.check_deep_link(token)  # the platform verifies it against /lti/jwks
    assert items[0]["type"] == "ltiResourceLink" and items[0]["custom"] == {"lms_target": f"quiz:{QUIZ}"}
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == platform.client_id and claims["aud"] == [platform.issuer]
    assert claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "opaque-42"
    assert claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] == platform.deployment_id
    learner = client.application.test_client()
    r = _launch(learner, _login(learner, platform, Scenario(sub="learner-dl", roles=[LEARNER],
                                                            custom=items[0]["custom"])))
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/quizzes/{QUIZ}")
    assert client.post("/lti/deep-linking/response", data={"context": "forged"}).status_code == 400


def test_a_learner_cannot_open_the_picker(client: FlaskClient, platform: Platform) -> None:
    form = _login(client, platform, Scenario(sub="learner-dl2", roles=[LEARNER],
                                             message_type="LtiDeepLinkingRequest"))
    assert _launch(client, form).status_code == 403


def test_a_score_the_platform_refuses_is_retried_with_backoff_and_taken_once(
        app: Flask, client: FlaskClient, session: Session, platform: Platform) -> None:
    form = _login(client, platform, Scenario(sub="learner-retry", roles=[LEARNER],
                                             custom={"lms_target": f"quiz:{QUIZ}"}, ags=True))
    _launch(client, form)
    user_id = session.scalars(select(Identity).where(Identity.subject == "learner-retry")).one().user_id
    _take_quiz(client, session, QUIZ, user_id)
    platform.score_failures = 1
    sessions = app.extensions["lms"].sessionmaker
    assert lti.deliver_due(sessions, now=factories.now) == {"sent": 0, "failed": 1, "pending": 1}
    assert lti.deliver_due(sessions, now=factories.now)["sent"] == 0  # not due again yet
    later = factories.now() + timedelta(minutes=1)
    assert lti.deliver_due(sessions, now=lambda: later) == {"sent": 1, "failed": 0, "pending": 0}
    assert [s["failed"] for s in platform.scores] == [True, False]


def test_key_rotation_publishes_the_new_key_before_it_signs(client: FlaskClient, session: Session) -> None:
    now = datetime.now(UTC)  # the key set page reads the clock too
    first = client.get("/lti/jwks").get_json()["keys"]
    assert len(first) == 1 and not any(k in first[0] for k in ("d", "p", "q"))
    rotated = lti.rotate_keys(session, now=now, grace=timedelta(hours=24))
    session.commit()
    kids = [k["kid"] for k in client.get("/lti/jwks").get_json()["keys"]]
    assert sorted(kids) == sorted([first[0]["kid"], rotated["kid"]])
    old_kid = jwt.get_unverified_header(lti._sign(session, {"x": 1}, now))["kid"]
    new_kid = jwt.get_unverified_header(lti._sign(session, {"x": 1}, now + timedelta(hours=25)))["kid"]
    assert old_kid == first[0]["kid"] and new_kid == rotated["kid"]
    assert [k.kid for k in lti._published(session, now + timedelta(days=3))] == [rotated["kid"]]


def test_roster_sync_links_the_members_of_a_launched_course(client: FlaskClient, session: Session,
                                                            platform: Platform) -> None:
    platform.members = [{"user_id": f"m-{i}", "name": f"Thành viên {i}", "status": "Active",
                         "roles": [INSTRUCTOR if i == 0 else LEARNER]} for i in range(3)]
    _launch(client, _login(client, platform, Scenario(sub="m-0", roles=[INSTRUCTOR], nrps=True)))
    report = lti.roster_sync(session, now=factories.now())
    assert report == {"contexts": 1, "members": 3, "created": 2, "errors": []}  # m-0 launched already
    linked = session.scalars(select(Identity).where(Identity.issuer == platform.issuer)).all()
    roles = {i.subject: session.get(User, i.user_id).role for i in linked}  # type: ignore[union-attr]
    assert roles == {"m-0": "trainer", "m-1": "citizen", "m-2": "citizen"}


def test_dynamic_registration_registers_the_platform_and_closes_the_window(client: FlaskClient, session: Session
                                                                           ) -> None:
    p = Platform()
    with p.running():
        conf = p.issuer + "/.well-known/openid-configuration"
        secret = client.application.extensions["lms"].settings.secret_key
        pasted = lti.registration_url("http://localhost", secret_key=secret)["url"]
        assert isinstance(pasted, str)
        # without the grant the LMS administrator handed out, nobody can register a platform
        r = client.get("/lti/register?" + urllib.parse.urlencode({"openid_configuration": conf}))
        assert r.status_code == 403 and p.registrations == []
        r = client.get(urllib.parse.urlparse(pasted).path + "?" + urllib.parse.urlparse(pasted).query + "&"
                       + urllib.parse.urlencode({"openid_configuration": conf, "registration_token": "tok-1"}))
        assert r.status_code == 200, r.get_data(as_text=True)
        assert "data-lti-close" in r.get_data(as_text=True) and "lti.js" in r.get_data(as_text=True)
        sent = p.registrations[0]
        assert sent["auth"] == "Bearer tok-1"
        assert sent["body"]["initiate_login_uri"].endswith("/lti/login")
        assert sent["body"]["jwks_uri"].endswith("/lti/jwks")
        assert lti.AGS_SCORE_SCOPE in sent["body"]["scope"].split()
        listed = lti.list_platforms(session)
        assert [(x["issuer"], x["client_id"], x["deployment_ids"]) for x in listed] == [
            (p.issuer, p.client_id, [p.deployment_id])]
        assert listed[0]["auth_login_url"] == p.url + "/auth"
        # a configuration that is not under the issuer it claims is refused
        grant = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(pasted).query))["grant"]
        bad = client.get("/lti/register?" + urllib.parse.urlencode({"openid_configuration": p.url + "/other",
                                                                    "grant": grant}))
        assert bad.status_code == 400
    assert "grant=" not in client.get("/lti/register").get_data(as_text=True)
    admin = factories.user(session, role="admin")
    session.commit()
    client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "login": admin.login,
                                "password": factories.PASSWORD})
    assert "/lti/register?grant=" in client.get("/lti/register").get_data(as_text=True)


def test_behind_tls_the_lti_cookies_travel_in_the_platforms_iframe(settings: Any, connection: Any) -> None:
    from dataclasses import replace

    from lms import create_app

    app = create_app(replace(settings, public_url="https://lms.example.vn", secure_cookies=True))
    app.config["TESTING"] = True
    app.extensions["lms"].sessionmaker = make_sessionmaker(connection, join_transaction_mode="create_savepoint")
    client = app.test_client()
    session = app.extensions["lms"].sessionmaker()
    with Platform().running() as p:
        lti.add_platform(session, issuer=p.issuer, client_id=p.client_id, deployment_id=p.deployment_id,
                         auth_login_url=p.url + "/auth", auth_token_url=p.url + "/token",
                         keyset_url=p.url + "/jwks", now=factories.now())
        session.commit()
        p.tool_launch_url = "https://lms.example.vn/lti/launch"
        params = {"iss": p.issuer, "login_hint": "u-tls", "target_link_uri": p.tool_launch_url,
                  "client_id": p.client_id}
        r = client.get("/lti/login?" + urllib.parse.urlencode(params), base_url="https://lms.example.vn")
        state_cookie = r.headers["Set-Cookie"]
        assert "SameSite=None" in state_cookie and "Secure" in state_cookie and "HttpOnly" in state_cookie
        form = p.authorize(dict(urllib.parse.parse_qsl(urllib.parse.urlparse(r.headers["Location"]).query)),
                           Scenario(sub="u-tls", roles=[LEARNER], custom={"lms_target": f"quiz:{QUIZ}"}))
        # without the state cookie (another browser, or one that dropped it) the launch is refused
        bare = app.test_client()
        assert bare.post("/lti/launch", data={"id_token": form["id_token"], "state": form["state"]},
                         base_url="https://lms.example.vn").status_code == 400
        done = client.post("/lti/launch", data={"id_token": form["id_token"], "state": form["state"]},
                           base_url="https://lms.example.vn")
        assert done.status_code == 303
        session_cookie = next(c for c in done.headers.getlist("Set-Cookie") if c.startswith("session="))
        assert "SameSite=None" in session_cookie and "Secure" in session_cookie
    session.close()


def test_a_launched_lesson_opens_past_the_lesson_lock_and_only_lti_pages_may_be_framed(
        app: Flask, client: FlaskClient, session: Session, platform: Platform) -> None:
    from lms.store import Lesson

    locked = session.scalars(select(Lesson).where(Lesson.course_id == "dich-vu-cong")
                             .order_by(Lesson.position)).all()[3]
    visitor = app.test_client()
    shut = visitor.get(f"/lessons/{locked.id}").get_data(as_text=True)  # the lock of a sequential course
    assert "Bài này mở khi bạn học xong bài trước" in shut and 'id="lesson-text"' not in shut
    assert visitor.get("/courses").headers["Content-Security-Policy"].endswith("frame-ancestors 'self'")
    r = _launch(client, _login(client, platform, Scenario(sub="learner-lesson", roles=[LEARNER],
                                                          custom={"lms_target": f"lesson:{locked.id}"})))
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/lessons/{locked.id}")
    page = client.get(f"/lessons/{locked.id}")
    assert page.status_code == 200 and locked.title in page.get_data(as_text=True)
    assert f"frame-ancestors 'self' {platform.url}" in page.headers["Content-Security-Policy"]
    r = _launch(client, _login(client, platform, Scenario(sub="learner-lesson", roles=[LEARNER],
                                                          custom={"lms_target": "quiz:no-such-quiz"})))
    assert r.status_code == 404


def test_a_launch_after_the_state_expired_is_refused(client: FlaskClient, session: Session,
                                                     platform: Platform) -> None:
    form = _login(client, platform, Scenario(sub="learner-late", roles=[LEARNER]))
    late = datetime.now(UTC) + lti.STATE_LIFETIME + timedelta(seconds=1)
    with pytest.raises(lti.LaunchRefused) as refused:
        lti.validate_launch(session, id_token=form["id_token"], state=form["state"], browser_token=None,
                            allow_cookieless=True, now=late)
    assert refused.value.reason == "state_expired"
    with pytest.raises(lti.LaunchRefused) as refused:  # behind TLS a launch without the state cookie is refused
        lti.validate_launch(session, id_token=form["id_token"], state=form["state"], browser_token=None,
                            allow_cookieless=False, now=datetime.now(UTC))
    assert refused.value.reason == "browser"
    assert _launch(client, form).status_code == 303  # in time, from its browser: taken
