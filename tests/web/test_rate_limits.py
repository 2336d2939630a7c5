"""Flask-Limiter's per-request hook is left out while the LMS sets no default limits
(web/extension.py::_limit_in_views_only, issue 14): the views it limits still check their own."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient


def test_a_limited_view_still_answers_429_past_its_limit(app: Flask, client: FlaskClient) -> None:
    assert all(getattr(f, "__name__", "") != "_check_request_limit" for f in app.before_request_funcs[None])
    codes = [client.get("/api/v1/verify/KHONG-CO-MA-NAY").status_code for _ in range(61)]
    assert codes[:60] == [404] * 60 and codes[60] == 429  # "60 per minute" on the verify API
    assert client.get("/api/v1/courses").status_code == 200  # an unlimited view is not held back
