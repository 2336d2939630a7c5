"""The Bình dân học vụ số LMS: a site of its own (``create_app``) or mounted into a host (``LMS``)."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from lms.config import Settings
from lms.web.attempt_lane import AttemptLane
from lms.web.extension import LMS
from lms.web.ops import HealthFirst

__all__ = ["LMS", "Settings", "create_app"]


def create_app(settings: Settings | None = None) -> Flask:
    """Run the LMS as its own site."""
    settings = settings or Settings.load()
    app = Flask("lms", instance_path=str(settings.instance_path), static_folder=None)
    LMS(settings).init_app(app, url_prefix="")
    if settings.attempt_lane:  # start, autosave and submit answered before Flask's hooks (issue 14)
        app.wsgi_app = AttemptLane(app, app.wsgi_app)  # type: ignore[method-assign]
    app.wsgi_app = HealthFirst(app, app.wsgi_app)  # type: ignore[method-assign]
    if settings.trusted_proxies:
        # Behind nginx every request comes from nginx's address: take the visitor's from the
        # headers the trusted proxies set (audit sources, per-address rate limits, https links).
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    return app
