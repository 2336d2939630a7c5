"""The LMS mounted into someone else's Flask app, beside the host's own routes."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import Connection

from lms import LMS
from lms.services.unit_of_work import make_sessionmaker


def test_mounts_under_a_prefix_beside_host_routes(database_url: str, connection: Connection) -> None:
    host = Flask("provincial_portal")
    host.config.update(LMS_DATABASE_URL=database_url, LMS_SECRET_KEY="h" * 40, TESTING=True)

    @host.get("/")
    def home() -> str:
        return "cổng thông tin tỉnh"

    state = LMS().init_app(host, url_prefix="/hoc")
    state.sessionmaker = make_sessionmaker(connection, join_transaction_mode="create_savepoint",
                                           expire_on_commit=True)
    c = host.test_client()
    assert c.get("/").get_data(as_text=True) == "cổng thông tin tỉnh"
    courses = c.get("/hoc/api/v1/courses")
    assert courses.status_code == 200 and len(courses.json) >= 3
    assert c.get("/hoc/healthz").json["database"] == "ok"  # a round trip on the app's own pool
    state.engine.dispose()  # which the test's connection fixture does not close
    page = c.get("/hoc/courses").get_data(as_text=True)
    assert 'href="/hoc/courses/' in page and 'href="/hoc/static/site.css' in page
    assert c.get("/api/v1/courses").status_code == 404  # nothing leaks outside the prefix
    doc = c.get("/hoc/api/v1/openapi.json").json
    assert doc["servers"][0]["url"].endswith("/hoc")
