from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests import factories


def _register(client: FlaskClient, **over: object):
    body: dict[str, object] = {"full_name": "Nguyễn Thị Hồng Nhung", "login": "nhung@example.vn",
                               "password": "Mat-khau-2026!", "birth_year": 1961, "unit_code": "28756"}
    body.update(over)
    return client.post("/api/v1/registrations", json=body)


def test_healthz(client: FlaskClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json == {"status": "ok", "database": "ok"}


def test_register_then_token_then_me(client: FlaskClient) -> None:
    r = _register(client)
    assert r.status_code == 201 and isinstance(r.json["user_id"], int)
    t = client.post("/api/v1/tokens", json={"login": "nhung@example.vn", "password": "Mat-khau-2026!"})
    assert t.status_code == 201 and t.json["expires_at"] > "2026"
    me = client.get("/api/v1/me", headers=factories.bearer(t.json["token"]))
    assert me.status_code == 200 and me.json["full_name"] == "Nguyễn Thị Hồng Nhung" and me.json["role"] == "citizen"
    assert "password" not in str(me.json)


def test_registration_errors_have_the_json_shape_and_name_fields(client: FlaskClient) -> None:
    r = _register(client, login="abc", birth_year=1700)
    assert r.status_code == 422
    err = r.json["error"]
    assert err["code"] == "invalid" and set(err["fields"]) == {"login", "birth_year"}
    assert "số điện thoại" in err["fields"]["login"]
    assert _register(client).status_code == 201
    dup = _register(client)
    assert dup.status_code == 409 and dup.json["error"]["fields"]["login"]
    junk = client.post("/api/v1/registrations", data="not json", content_type="application/json")
    assert junk.status_code == 400 and junk.json["error"]["code"] == "invalid_json"


def test_full_name_is_stored_exactly_and_never_read_as_markup(client: FlaskClient) -> None:
    evil = "<script>alert(1)</script> Lê Văn Tám"
    assert _register(client, full_name=evil).status_code == 201
    t = client.post("/api/v1/tokens", json={"login": "nhung@example.vn", "password": "Mat-khau-2026!"}).json
    assert client.get("/api/v1/me", headers=factories.bearer(t["token"])).json["full_name"] == evil


def test_wrong_password_401_then_throttled_per_login(client: FlaskClient, session: Session) -> None:
    user = factories.user(session)
    session.commit()
    codes = [client.post("/api/v1/tokens", json={"login": user.login, "password": f"sai{i}"}).status_code
             for i in range(12)]
    assert codes[0] == 401 and codes[-1] == 429
    throttled = client.post("/api/v1/tokens", json={"login": user.login, "password": "sai"})
    assert throttled.json["error"]["code"] == "throttled"
    # another login from the same address is not locked out by someone else's failures
    other = factories.user(session)
    session.commit()
    ok = client.post("/api/v1/tokens", json={"login": other.login, "password": factories.PASSWORD})
    assert ok.status_code == 201


def test_revoked_token_is_refused(client: FlaskClient, session: Session) -> None:
    user = factories.user(session)
    raw = factories.token(session, user)
    session.commit()
    assert client.get("/api/v1/me", headers=factories.bearer(raw)).status_code == 200
    assert client.delete("/api/v1/tokens/current", headers=factories.bearer(raw)).status_code == 204
    r = client.get("/api/v1/me", headers=factories.bearer(raw))
    assert r.status_code == 401 and r.json["error"]["code"] == "auth"


def test_courses_lessons_and_completion(client: FlaskClient, session: Session) -> None:
    courses = client.get("/api/v1/courses").json
    assert len(courses) >= 3
    for c in courses:
        assert {"id", "title", "summary", "lesson_count", "competences"} <= set(c)
    course = client.get(f"/api/v1/courses/{courses[0]['id']}").json
    assert len(course["lessons"]) == courses[0]["lesson_count"]
    lesson = client.get(f"/api/v1/lessons/{course['lessons'][0]['id']}").json
    assert lesson["course_id"] == course["id"] and "<script" not in lesson["html"]
    user = factories.user(session)
    raw = factories.token(session, user)
    session.commit()
    path = f"/api/v1/lessons/{course['lessons'][0]['id']}/completion"
    assert client.post(path).status_code == 401
    first = client.post(path, headers=factories.bearer(raw)).json
    again = client.post(path, headers=factories.bearer(raw)).json
    assert first == again == {"course_id": course["id"], "completed_lessons": 1,
                              "lesson_count": len(course["lessons"])}
    assert client.get("/api/v1/courses/khong-co").status_code == 404
    assert client.get("/api/v1/lessons/khong-co").json["error"]["code"] == "not_found"


def test_sequential_course_locks_later_lessons(client: FlaskClient, session: Session) -> None:
    sequential = next(c for c in client.get("/api/v1/courses").json
                      if client.get(f"/api/v1/courses/{c['id']}").json["sequential"])
    lessons = client.get(f"/api/v1/courses/{sequential['id']}").json["lessons"]
    raw = factories.token(session, factories.user(session))
    session.commit()
    r = client.post(f"/api/v1/lessons/{lessons[1]['id']}/completion", headers=factories.bearer(raw))
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"


def test_openapi_documents_every_api_route(app: Flask, client: FlaskClient) -> None:
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.1")
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(("lms_api.", "lms_ops.")) or "<path:" in rule.rule:
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((path, method))
    assert served == documented


def test_security_headers_on_pages(client: FlaskClient) -> None:
    r = client.get("/")
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_healthz_says_degraded_when_the_database_is_unreachable(tmp_path) -> None:
    """The check is a real round trip: a database that does not answer gives 503."""
    from flask import Flask

    from lms import LMS
    from lms.config import Settings

    host = Flask("host")
    host.config.update(SECRET_KEY="x" * 32, TESTING=True)
    settings = Settings.load({"LMS_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none",
                              "LMS_INSTANCE_PATH": str(tmp_path)})
    LMS(settings).init_app(host)
    r = host.test_client().get("/healthz")
    assert r.status_code == 503 and r.json == {"status": "degraded", "database": "unavailable"}


def test_the_site_answers_healthz_in_front_of_flask_as_the_view_does(app, client: FlaskClient, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """create_app puts web/ops.py::HealthFirst in front of Flask: no request hook runs for it, and
    it says what the view says, 503 included."""
    from lms import create_app
    from lms.config import Settings

    ran: list[str] = []
    app.before_request(lambda: ran.append("flask"))
    r = client.get("/healthz?probe=1")
    assert r.status_code == 200 and r.json == {"status": "ok", "database": "ok"} and ran == []
    assert r.headers["Content-Type"] == "application/json"
    head = client.head("/healthz")
    assert head.status_code == 200 and head.data == b"" and ran == []
    assert client.get("/healthz/xapi").status_code == 200 and ran == ["flask"]  # the rest is Flask's
    down = create_app(Settings.load({"LMS_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none",
                                     "LMS_INSTANCE_PATH": str(tmp_path)}))
    r = down.test_client().get("/healthz")
    assert r.status_code == 503 and r.json == {"status": "degraded", "database": "unavailable"}
    down.extensions["lms"].engine.dispose()
