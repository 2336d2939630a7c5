"""Every page reachable by links, for every role, carries no inline script or event attribute.

The Content-Security-Policy lets injected audit scripts run (docs/decisions/0003), so the
guarantee that nothing of ours runs inline is this crawl, not the header."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlparse

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests import factories
from tests.conftest import csrf_token


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.problems: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                    "javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:…>")
        if tag == "script":
            if not names.get("src"):
                self._in_inline_script = True
            elif urlparse(names["src"] or "").netloc:
                self.problems.append(f"script from another origin: {names['src']}")
        if tag == "a" and names.get("href"):
            self.links.append(names["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data: str) -> None:
        if self._in_inline_script and data.strip():
            self.problems.append(f"inline script: {data.strip()[:60]}")


def _crawl(client: FlaskClient, limit: int = 60) -> tuple[int, dict[str, list[str]]]:
    queue, seen, problems, pages = ["/"], set(), {}, 0
    while queue and pages < limit:
        path = urldefrag(queue.pop(0))[0]
        if path in seen or re.search(r"logout|\.pdf$|\.(csv|xlsx|json|jwt)$|/api/", path):
            continue
        seen.add(path)
        r = client.get(path)
        assert r.status_code < 500, path
        if r.status_code != 200 or not r.content_type.startswith("text/html"):
            continue
        pages += 1
        parser = _Markup()
        parser.feed(r.get_data(as_text=True))
        if parser.problems:
            problems[path] = parser.problems
        for href in parser.links:
            u = urlparse(href)
            if not u.netloc and u.path.startswith("/"):
                queue.append(u.path + (f"?{u.query}" if u.query else ""))
    return pages, problems


@pytest.mark.parametrize("role", [None, "citizen", "official", "trainer", "manager", "admin"])
def test_no_page_runs_inline_script(client: FlaskClient, session: Session, role: str | None) -> None:
    if role:
        user = factories.user(session, role=role, unit_code="86" if role == "manager" else "28756")
        session.commit()
        client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "login": user.login,
                                    "password": factories.PASSWORD})
    pages, problems = _crawl(client)
    assert pages >= 8
    assert problems == {}
