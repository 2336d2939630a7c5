"""An LTI 1.3 platform that is not ours, for the LTI tests: the `lti1p3platform` package builds and
signs the launches, issues AGS access tokens for a client assertion it verifies against the tool's
key set, checks those tokens on score POSTs and validates deep linking responses. This module only
serves it on loopback (a thread on an ephemeral port) and records what it received.

What lti1p3platform has no part for is written here with PyJWT and said so: the tampered launches
(another key under the platform's kid) and the NRPS membership container it serves."""

from __future__ import annotations

import html
import json
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


def _pem_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


class _Req(Request):  # type: ignore[misc]
    def build_metadata(self, request: Any) -> Any:
        return request


class _Launch(LTIAdvantageMessageLaunchAbstract):  # type: ignore[misc]
    def render_launch_form(self, launch_data: Any, **kwargs: Any) -> Any:
        return launch_data


@dataclass
class Scenario:
    sub: str
    roles: list[str]
    message_type: str = "LtiResourceLinkRequest"
    name: str = "Nguyễn Thị Lan"
    custom: dict[str, str] = field(default_factory=dict)
    ags: bool = False
    nrps: bool = False
    tamper: str | None = None  # stranger_key | wrong_aud | expired | other_deployment
    data: str | None = None


class Platform:
    def __init__(self, tool_keyset: dict[str, Any] | None = None) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.issuer = self.url + "/moodle"
        self.client_id = "lms-" + uuid.uuid4().hex[:8]
        self.deployment_id = "dep-1"
        self.lineitem = self.url + "/lineitems/1"
        self.private, self.public = _pem_pair()
        self.stranger, _ = _pem_pair()
        self.kid = Registration().set_platform_private_key(self.private).get_kid()
        self.tool_keyset = tool_keyset
        self.tool_launch_url = ""
        self.scores: list[dict[str, Any]] = []
        self.tokens: list[dict[str, Any]] = []
        self.score_failures = 0  # the next N score POSTs are answered 503
        self.members: list[dict[str, Any]] = []
        self.registrations: list[dict[str, Any]] = []
        self.scenarios: dict[str, Scenario] = {}  # by lti_message_hint, for launches a browser makes
        self.tool_url = ""  # the live tool, when a browser plays the person
        self.lock = threading.Lock()

    # ------------------------------------------------------------ the platform's registration of the tool
    def registration(self, forged: bool = False) -> Registration:
        outer = self

        class Forged(Registration):  # type: ignore[misc]
            def get_kid(self) -> str:
                return outer.kid  # another key's signature under the platform's kid

        reg = (Forged() if forged else Registration()).set_iss(self.issuer).set_client_id(self.client_id)
        reg.set_deployment_id(self.deployment_id).set_platform_public_key(self.public)
        reg.set_platform_private_key(self.stranger if forged else self.private)
        reg.set_launch_url(self.tool_launch_url).set_deeplink_launch_url(self.tool_launch_url)
        if self.tool_keyset is not None:
            reg.set_tool_key_set(self.tool_keyset)
        elif self.tool_url:
            reg.set_tool_key_set_url(self.tool_url + "/lti/jwks")
        return reg

    def conf(self, forged: bool = False) -> LTI1P3PlatformConfAbstract:
        outer = self

        class Conf(LTI1P3PlatformConfAbstract):  # type: ignore[misc]
            def init_platform_config(self, **kwargs: Any) -> None:
                pass

            def get_registration_by_params(self, **kwargs: Any) -> Registration:
                return outer.registration(forged)

        conf = Conf()
        conf.get_registration()
        return conf

    # ------------------------------------------------------------ the browser's visit to the auth endpoint
    def authorize(self, auth_query: dict[str, str], sc: Scenario) -> dict[str, str]:
        """What the platform's auth endpoint answers: the form fields posted to the tool."""
        assert auth_query["scope"] == "openid" and auth_query["response_type"] == "id_token"
        assert auth_query["response_mode"] == "form_post" and auth_query["prompt"] == "none"
        assert auth_query["client_id"] == self.client_id and auth_query["login_hint"] == sc.sub
        req = _Req({"method": "GET", "form_data": {}, "get_data": auth_query, "headers": {},
                    "content_type": "", "path": "/auth", "json": None})
        launch = _Launch(req, self.conf(forged=sc.tamper == "stranger_key"))
        launch.set_user_data(sc.sub, sc.roles, full_name=sc.name)
        launch.set_launch_context_claim("ctx-1", ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
                                        "Chuyển đổi số cho cán bộ xã", "CDS-1")
        if sc.message_type == "LtiDeepLinkingRequest":
            launch.set_dl(self.url + "/deep_link_return", title="Chọn nội dung", accept_types={"ltiResourceLink"})
            if sc.data is not None:
                launch._deep_linking_launch_data[
                    "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"]["data"] = sc.data
        else:
            launch.set_resource_link_claim("rl-" + uuid.uuid4().hex[:6], title="Bài kiểm tra")
            if sc.ags:
                launch.set_ags(lineitems_url=self.url + "/lineitems", lineitem_url=self.lineitem,
                               allow_creating_lineitems=False)
            if sc.nrps:
                launch.set_nrps(self.url + "/memberships")
        if sc.custom:
            launch.set_custom_parameters_claim(sc.custom)
        if sc.tamper == "wrong_aud":
            launch.set_extra_claims({"aud": "another-tool", "azp": "another-tool"})
        if sc.tamper == "other_deployment":
            launch.set_extra_claims({"https://purl.imsglobal.org/spec/lti/claim/deployment_id": "dep-unknown"})
        if sc.tamper == "expired":
            launch.set_id_token_expiration(-600)
        data = launch.lti_launch()
        return {"action": data["launch_url"], "id_token": data["id_token"], "state": data["state"]}

    def check_deep_link(self, token: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.conf().validate_deeplinking_resp({"JWT": token})
        return items

    # ------------------------------------------------------------ the services it serves on loopback
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt: str, *args: Any) -> None:
                pass

            def answer(self, status: int, body: Any, ctype: str = "application/json",
                       headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def page(self, text: str) -> None:
                data = text.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> bytes:
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def _bearer(self, scope: str) -> bool:
                auth = (self.headers.get("Authorization") or "").split()
                try:
                    return len(auth) == 2 and bool(outer.conf().validate_token(auth[1], [scope]))
                except Exception:
                    return False

            def do_GET(self) -> None:
                path = urllib.parse.urlparse(self.path)
                if path.path == "/jwks":
                    return self.answer(200, {"keys": outer.registration().get_jwks()})
                if path.path == "/moodle/.well-known/openid-configuration":
                    # lti1p3platform has no Dynamic Registration: the platform's side of it, by hand
                    return self.answer(200, {
                        "issuer": outer.issuer, "authorization_endpoint": outer.url + "/auth",
                        "token_endpoint": outer.url + "/token", "jwks_uri": outer.url + "/jwks",
                        "registration_endpoint": outer.url + "/register",
                        "scopes_supported": ["openid", SCORE_SCOPE, NRPS_SCOPE],
                        "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                            "product_family_code": "moodle", "version": "4.5"}})
                if path.path == "/course":
                    # the platform's course page: the tool in an iframe, started by third-party login
                    hint = dict(urllib.parse.parse_qsl(path.query))["hint"]
                    sc = outer.scenarios[hint]
                    login = outer.tool_url + "/lti/login?" + urllib.parse.urlencode({
                        "iss": outer.issuer, "login_hint": sc.sub, "target_link_uri": outer.tool_launch_url,
                        "lti_message_hint": hint, "client_id": outer.client_id,
                        "lti_deployment_id": outer.deployment_id})
                    return self.page(f'<!doctype html><html lang="vi"><title>Khoá học</title><h1>Moodle</h1>'
                                     f'<iframe title="LMS" src="{html.escape(login)}" width="360" height="600">'
                                     f'</iframe></html>')
                if path.path == "/auth":
                    query = dict(urllib.parse.parse_qsl(path.query))
                    form = outer.authorize(query, outer.scenarios[query["lti_message_hint"]])
                    fields = "".join(f'<input type="hidden" name="{k}" value="{html.escape(form[k])}">'
                                     for k in ("id_token", "state"))
                    return self.page(f'<!doctype html><html><title>Launch</title><form method="post" '
                                     f'action="{html.escape(form["action"])}" id="f">{fields}</form>'
                                     f'<script>document.getElementById("f").submit()</script></html>')
                if path.path == "/memberships":
                    if not self._bearer(NRPS_SCOPE):
                        return self.answer(401, {"error": "no token"})
                    # lti1p3platform has no membership container to serve: the NRPS 2.0 shape, by hand
                    page = int(dict(urllib.parse.parse_qsl(path.query)).get("page", "1"))
                    members = outer.members[(page - 1) * 2: page * 2]
                    more = page * 2 < len(outer.members)
                    link = {"Link": f'<{outer.url}/memberships?page={page + 1}>; rel="next"'} if more else {}
                    return self.answer(200, {"id": outer.url + "/memberships", "context": {"id": "ctx-1"},
                                             "members": members},
                                       "application/vnd.ims.lti-nrps.v2.membershipcontainer+json", link)
                return self.answer(404, {})

            def do_POST(self) -> None:
                path = urllib.parse.urlparse(self.path).path
                raw = self._body()
                if path == "/token":
                    form = dict(urllib.parse.parse_qsl(raw.decode()))
                    try:
                        issued = outer.conf().get_access_token(form)
                    except Exception as exc:
                        with outer.lock:
                            outer.tokens.append({"ok": False, "error": repr(exc)})
                        return self.answer(401, {"error": "invalid_client"})
                    with outer.lock:
                        outer.tokens.append({"ok": True, "form": form})
                    return self.answer(200, issued)
                if path == "/register":
                    with outer.lock:
                        outer.registrations.append({"auth": self.headers.get("Authorization"),
                                                    "body": json.loads(raw)})
                    return self.answer(200, {**json.loads(raw), "client_id": outer.client_id,
                                             "https://purl.imsglobal.org/spec/lti-tool-configuration": {
                                                 "deployment_id": outer.deployment_id}})
                if path == "/lineitems/1/scores":
                    ok = self._bearer(SCORE_SCOPE)
                    with outer.lock:
                        failing = outer.score_failures > 0
                        outer.score_failures -= int(failing)
                        outer.scores.append({"auth_ok": ok, "ctype": self.headers.get("Content-Type"),
                                             "body": json.loads(raw or b"{}"), "failed": failing})
                    if failing:
                        return self.answer(503, {"error": "down for maintenance"})
                    return self.answer(200 if ok else 401, {})
                return self.answer(404, {})

        return Handler

    @contextmanager
    def running(self) -> Iterator[Platform]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
