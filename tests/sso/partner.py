"""A real OpenID Provider for the single sign-on tests: panva's oidc-provider (npm, OpenID Certified)
run with the machine's Node.js on 127.0.0.1:5962 (not the acceptance check's 5992). `make test-sso`
installs it into the git-ignored .cache/node; a missing provider fails the tests, never skips them.

The LMS under test is the Flask test client (its callback is http://localhost/login/oidc/callback);
its server-side calls (discovery, JWKS, token, userinfo) go to the provider over real HTTP, and the
browser's part (the provider's login and consent forms) is played by ``requests`` here, or by
Chromium in test_sso_browser.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection
from sqlalchemy.orm import sessionmaker

from lms import create_app
from lms.config import PROJECT_ROOT, Settings
from lms.web.limits import limiter

NODE_DIR = PROJECT_ROOT / ".cache" / "node"
PORT = int(os.environ.get("LMS_TEST_SSO_PORT", "5962"))
ISSUER = f"http://127.0.0.1:{PORT}"
CLIENT_ID = "lms-test"
CLIENT_SECRET = "lms-test-secret-" + "x" * 16
CALLBACK = "http://localhost/login/oidc/callback"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ProviderControl:
    issuer: str
    browser_site_port: int  # the one other callback it accepts: the browser test's live site

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        r = requests.post(self.issuer + path, json=body or {}, timeout=30)
        r.raise_for_status()
        return r.json()

    def people(self, **claims: dict[str, Any]) -> None:
        """Claims released for each ``sub`` (the login name typed at the provider)."""
        self.post("/__test/people", claims)

    def tamper(self, mode: str) -> None:
        self.post("/__test/tamper", {"mode": mode})

    def rotate(self) -> str:
        return str(self.post("/__test/rotate")["kid"])

    def stats(self) -> dict[str, Any]:
        return dict(requests.get(self.issuer + "/__test/stats", timeout=30).json())


@contextmanager
def running_provider() -> Iterator[ProviderControl]:
    """oidc-provider on 127.0.0.1:PORT for as long as the block runs (tests and bench/sso_sign_in.py)."""
    package = NODE_DIR / "node_modules" / "oidc-provider" / "package.json"
    if not package.exists() or shutil.which("node") is None:
        raise RuntimeError("oidc-provider is not installed in .cache/node: run `make test-sso`, which installs it")
    script = NODE_DIR / "sso_test_provider.mjs"  # beside node_modules, where Node resolves imports
    shutil.copyfile(Path(__file__).with_name("provider.mjs"), script)
    site_port = _free_port()
    env = dict(os.environ, SSO_ISSUER=ISSUER, SSO_PORT=str(PORT), SSO_CLIENT_ID=CLIENT_ID,
               SSO_CLIENT_SECRET=CLIENT_SECRET,
               SSO_REDIRECT_URIS=json.dumps([CALLBACK, f"http://127.0.0.1:{site_port}/login/oidc/callback"]))
    with open(NODE_DIR / "sso_test_provider.log", "wb") as log:
        process = subprocess.Popen(["node", str(script)], cwd=NODE_DIR, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            # Until it answers or dies: no deadline, a dead provider fails at once with its log.
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"the test provider stopped: see {NODE_DIR / 'sso_test_provider.log'}")
                try:
                    if requests.get(ISSUER + "/.well-known/openid-configuration", timeout=2).ok:
                        break
                except requests.ConnectionError:
                    time.sleep(0.25)
            yield ProviderControl(ISSUER, site_port)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


@pytest.fixture(scope="session")
def provider() -> Iterator[ProviderControl]:
    try:
        with running_provider() as control:
            yield control
    except RuntimeError as exc:
        pytest.fail(str(exc))


def sso_settings(settings: Settings, **overrides: str) -> Settings:
    return replace(settings, oidc_issuer=overrides.get("issuer", ISSUER), oidc_client_id=CLIENT_ID,
                   oidc_client_secret=CLIENT_SECRET, oidc_name="VNeID")


@pytest.fixture()
def sso_app(settings: Settings, connection: Connection, provider: ProviderControl) -> Iterator[Flask]:
    application = create_app(sso_settings(settings))
    application.config["TESTING"] = True
    state = application.extensions["lms"]
    state.sessionmaker = sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                                      expire_on_commit=False)
    limiter.reset()
    yield application
    state.engine.dispose()


@pytest.fixture()
def sso_client(sso_app: Flask) -> FlaskClient:
    return sso_app.test_client()


class ProviderBrowser:
    """The person's browser at the provider: its login and consent forms, cookies kept."""

    def __init__(self) -> None:
        self.http = requests.Session()

    def sign_in(self, authorize_url: str, login: str) -> str:
        """Follow the provider's forms as ``login``; the callback URL it sends the browser to."""
        response = self.http.get(authorize_url, allow_redirects=False, timeout=30)
        for _ in range(12):
            location = response.headers.get("Location")
            if location:
                url = urllib.parse.urljoin(response.url, location)
                if url.startswith(CALLBACK):
                    return url
                response = self.http.get(url, allow_redirects=False, timeout=30)
                continue
            action = re.search(r'<form[^>]*action="([^"]+)"', response.text)
            assert response.status_code == 200 and action, response.text[:500]
            fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', response.text))
            if 'name="login"' in response.text:
                fields.update(login=login, password="any")
            response = self.http.post(urllib.parse.urljoin(response.url, unescape(action.group(1))),
                                      data=fields, allow_redirects=False, timeout=30)
        raise AssertionError("the provider never sent the browser back")

    def deny(self, authorize_url: str, login: str) -> str:
        """Sign in at the provider, then press its "cancel" on the consent form."""
        response = self.http.get(authorize_url, allow_redirects=True, timeout=30)
        action = re.search(r'<form[^>]*action="([^"]+)"', response.text)
        assert action
        response = self.http.post(urllib.parse.urljoin(response.url, unescape(action.group(1))),
                                  data={"prompt": "login", "login": login, "password": "any"},
                                  allow_redirects=True, timeout=30)
        abort = re.search(r'href="([^"]+/abort)"', response.text)
        assert abort, response.text[:800]
        response = self.http.get(urllib.parse.urljoin(response.url, unescape(abort.group(1))),
                                 allow_redirects=False, timeout=30)
        for _ in range(6):
            url = urllib.parse.urljoin(response.url, response.headers["Location"])
            if url.startswith(CALLBACK):
                return url
            response = self.http.get(url, allow_redirects=False, timeout=30)
        raise AssertionError("the provider never sent the browser back")


def start(client: FlaskClient, next_path: str | None = None) -> str:
    """GET /login/oidc on the site: the provider's authorization URL it redirects to."""
    r = client.get("/login/oidc", query_string={"next": next_path} if next_path else None)
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return str(r.headers["Location"])


def callback(client: FlaskClient, url: str) -> Any:
    parts = urllib.parse.urlsplit(url)
    return client.get(parts.path + "?" + parts.query)
