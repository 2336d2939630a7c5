"""How the pages are put together: one blueprint per feature, each holding only the views of
the module that defines it, all registered by the extension, each page blueprint with the
same guards (NUL refusal, security headers), mounted or not."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection
from sqlalchemy.orm import sessionmaker

import lms.web
from lms import LMS
from lms.store import LmsSession
from lms.web.extension import PAGE_BLUEPRINTS
from lms.web.page_blueprint import PageBlueprint

# One GET page of each feature that answers a visitor (or sends them to sign in).
SAMPLE_PAGE = {"lms_pages": "/offline", "lms_courses": "/courses", "lms_quizzes": "/quizzes/none",
               "lms_account": "/login", "lms_privacy": "/me/data", "lms_certificates": "/verify",
               "lms_jobs": "/jobs", "lms_lesson_editor": "/trainer/lessons/none/edit", "lms_trainer": "/trainer",
               "lms_classes": "/trainer/classes", "lms_manager": "/manager", "lms_xapi": "/admin/xapi"}


def test_each_route_belongs_to_the_blueprint_of_its_own_module(app: Flask) -> None:
    """No module adds routes to another module's blueprint."""
    for rule in app.url_map.iter_rules():
        name = rule.endpoint.rpartition(".")[0]
        if not name.startswith("lms_") or rule.endpoint == "lms_pages.static":  # Flask's own view
            continue
        view = app.view_functions[rule.endpoint]
        assert view.__module__ == app.blueprints[name].import_name, rule.endpoint


def test_every_page_blueprint_is_registered_and_each_module_defines_one(app: Flask) -> None:
    registered = {name for name, bp in app.blueprints.items() if isinstance(bp, PageBlueprint)}
    assert registered == {bp.name for bp in PAGE_BLUEPRINTS}
    assert set(SAMPLE_PAGE) == registered
    defined: dict[str, str] = {}
    for module in pkgutil.iter_modules(lms.web.__path__):
        found = getattr(importlib.import_module(f"lms.web.{module.name}"), "bp", None)
        if isinstance(found, PageBlueprint):
            assert found.import_name == f"lms.web.{module.name}"
            defined[found.name] = module.name
    assert set(defined) == registered
    # the one template and static folder of the LMS hang on the site shell alone
    assert [bp.name for bp in PAGE_BLUEPRINTS if bp.static_folder or bp.template_folder] == ["lms_pages"]


@pytest.mark.parametrize("blueprint", sorted(SAMPLE_PAGE))
def test_every_page_blueprint_has_the_page_guards(client: FlaskClient, blueprint: str) -> None:
    path = SAMPLE_PAGE[blueprint]
    answer = client.get(path)
    assert answer.status_code in (200, 302, 404), path
    assert "frame-ancestors 'self'" in answer.headers["Content-Security-Policy"], path
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "same-origin"
    assert client.get(path, query_string={"q": "a\x00b"}).status_code == 400, path


def test_every_page_blueprint_is_mounted_under_the_hosts_prefix(database_url: str, connection: Connection) -> None:
    host = Flask("provincial_portal")
    host.config.update(LMS_DATABASE_URL=database_url, LMS_SECRET_KEY="h" * 40, TESTING=True)
    state = LMS().init_app(host, url_prefix="/hoc")
    state.sessionmaker = sessionmaker(class_=LmsSession, bind=connection, join_transaction_mode="create_savepoint")
    for rule in host.url_map.iter_rules():
        if isinstance(host.blueprints.get(rule.endpoint.rpartition(".")[0]), PageBlueprint):
            assert rule.rule.startswith("/hoc/"), rule.rule
    c = host.test_client()
    for blueprint, path in SAMPLE_PAGE.items():
        answer = c.get(f"/hoc{path}")
        assert answer.status_code in (200, 302, 404), path
        assert "Content-Security-Policy" in answer.headers, blueprint
        if answer.status_code == 302:  # a sign-in first, at the LMS's own login under the prefix
            assert answer.headers["Location"].startswith("/hoc/login"), path
