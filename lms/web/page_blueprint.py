"""What every blueprint of HTML pages shares: the refusal of NUL characters and the security
headers. Each feature defines its own ``PageBlueprint``; the extension registers them all."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, request

__all__ = ["CSP", "PageBlueprint", "serves_pages"]

# Inline scripts are allowed so that accessibility auditors injected into the live page (axe-core
# through Playwright, screen-reader test extensions) can run; the pages themselves never carry an
# inline script or event attribute (a test checks), see docs/decisions/0003-csp-allows-audit-scripts.md.
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self' 'unsafe-inline'; "
       "connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'self'")


class PageBlueprint(Blueprint):
    """A blueprint of HTML pages: its requests refuse U+0000 and its answers carry the CSP."""

    def __init__(self, name: str, import_name: str, **options: Any) -> None:
        super().__init__(name, import_name, **options)
        self.before_request(_refuse_nul_characters)
        self.after_request(_security_headers)


def serves_pages(blueprint_name: str | None) -> bool:
    """Whether the named blueprint of the current app is one of the LMS's page blueprints."""
    found = current_app.blueprints.get(blueprint_name) if blueprint_name else None
    return isinstance(found, PageBlueprint)


def _refuse_nul_characters() -> Any:
    """U+0000 belongs in no path, query or form field, and PostgreSQL can neither store nor
    compare it: refuse it here, the same on every database (the API does the same)."""
    if "\x00" in request.path:
        abort(404)
    fields = (*request.args.items(multi=True), *request.form.items(multi=True))
    if any("\x00" in value for _, value in fields):
        abort(400)
    return None


def _security_headers(response: Any) -> Any:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
