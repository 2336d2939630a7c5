"""The attempt API's three hot requests, answered before Flask's per-request machinery.

Starting an attempt, autosaving an answer and submitting are what a whole province's learners
send, over and over, near a deadline (issue 14). Through Flask each one also paid for the site's
request hooks (the page cache, CSRF, the session cookie, Flask-Login, the language switch, rate
limit bookkeeping, the LTI frame rules), none of which a bearer-token JSON request uses: about
0.1 ms of a 0.6 ms autosave. This WSGI layer, installed by ``create_app`` in front of the LMS's own
site, answers the plain successful case of those three requests itself, with the same services,
the same transaction and after-commit work (``lms.web.db``), the same audit actor and the same
JSON and headers as the API's views.

Anything else goes to Flask untouched, with the body it sent: any other request, a missing or
unknown token, a body that is not what the view accepts, a NUL anywhere, and every outcome that is
not the plain success (a refusal, an error, an answer after the deadline). The use case's
transaction is then rolled back first, so Flask's view, which answers those cases, finds the
database as it was. A site that mounts the LMS as a plugin keeps Flask's views for everything.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Flask, g

from lms.services import accounts, audit, quizzes
from lms.services.errors import ServiceError
from lms.web.api import API_CSP, attempt_body
from lms.web.certificate_pdfs import background
from lms.web.db import db, now, reset_write_intent, set_write_intent, state, transaction

__all__ = ["AttemptLane"]

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_MAX_BODY = 64 * 1024  # an answer is a few hundred bytes; anything larger goes to Flask
_STATUS = {200: "200 OK", 201: "201 CREATED"}


class _Decline(Exception):
    """Not the plain success: roll the transaction back and let Flask answer."""


class AttemptLane:
    """WSGI middleware: ``AttemptLane(app, app.wsgi_app)``, mounted at the API's prefix."""

    def __init__(self, app: Flask, inner: WsgiApp, prefix: str = "") -> None:
        self._app, self._inner = app, inner
        api = re.escape(f"{prefix}/api/v1")
        # The API's three URLs, as Flask's routing matches them (a segment is one or more
        # characters other than "/"); a regular expression costs a tenth of werkzeug's Map here.
        self._urls = (
            ("POST", "start", re.compile(f"{api}/quizzes/(?P<quiz_id>[^/]+)/attempts")),
            ("PUT", "save", re.compile(f"{api}/attempts/(?P<attempt_id>[^/]+)/answers/(?P<question_id>[^/]+)")),
            ("POST", "submit", re.compile(f"{api}/attempts/(?P<attempt_id>[^/]+)/submission")),
        )

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") not in ("POST", "PUT") or "/attempts" not in path:
            return self._inner(environ, start_response)
        routed = self._route(environ["REQUEST_METHOD"], path)
        if routed is None:
            return self._inner(environ, start_response)
        endpoint, args = routed
        body = _body(environ)
        answered = None if body is None else self._answer(endpoint, args, environ, body)
        if answered is None:
            if body is not None:  # what was read is handed on as the request's body
                environ["wsgi.input"] = io.BytesIO(body)
                environ["CONTENT_LENGTH"] = str(len(body))
            return self._inner(environ, start_response)
        status, payload = answered
        data = _json_bytes(self._app, payload)
        start_response(_STATUS[status], [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                                         ("X-Content-Type-Options", "nosniff"),
                                         ("Content-Security-Policy", API_CSP)])
        return [data]

    def _route(self, method: str, path: str) -> tuple[str, dict[str, str]] | None:
        for wanted, endpoint, pattern in self._urls:
            found = pattern.fullmatch(path) if method == wanted else None
            if found is not None:
                return endpoint, found.groupdict()
        return None

    def _answer(self, endpoint: str, args: Mapping[str, Any], environ: dict[str, Any],
                body: bytes) -> tuple[int, Any] | None:
        auth = environ.get("HTTP_AUTHORIZATION", "")
        raw = auth[7:].strip()
        path = environ.get("PATH_INFO", "")
        if auth[:7].lower() != "bearer " or not raw or "\x00" in environ.get("QUERY_STRING", "") \
                or not path.isascii() or "\x00" in path or b"\x00" in body or b"\\u0000" in body:
            return None
        data = None
        if endpoint == "save":
            data = _json_object(environ, body)
            if data is None or "response" not in data:
                return None
        try:
            answered = self._on_driver(endpoint, args, environ, raw, data)
        except Exception:  # Flask's view answers it, as the API answers any error
            self._app.logger.exception("the attempt lane declined a request after an error")
            return None
        if answered is not None:
            return answered
        with self._app.app_context():
            writes = set_write_intent(True)
            acting = None
            try:
                session = db()
                holder = accounts.token_holder(session, raw, now=now())
                if holder is None:
                    return None
                acting = audit.acting(holder, environ.get("REMOTE_ADDR") or "unknown")
                if endpoint == "start":
                    return _start(session, holder, args["quiz_id"])
                if endpoint == "save":
                    assert data is not None
                    return _save(holder, args["attempt_id"], args["question_id"], data["response"])
                return _submit(holder, args["attempt_id"])
            except (_Decline, ServiceError):
                return None
            except Exception:  # Flask's view answers it, as the API answers any error
                self._app.logger.exception("the attempt lane declined a request after an error")
                return None
            finally:
                if acting is not None:
                    audit.done(acting)
                reset_write_intent(writes)
                session_ = g.pop("lms_session", None)
                if session_ is not None:
                    session_.close()


    def _on_driver(self, endpoint: str, args: Mapping[str, Any], environ: dict[str, Any], raw: str,
                   data: dict[str, Any] | None) -> tuple[int, Any] | None:
        """On a driver connection, without a session or Flask's app context, where a session would
        do no more (not where tests bind their sessions to one connection; not the submission when
        an LRS takes statements). None: the session's use case answers."""
        lms_state = self._app.extensions["lms"]
        if lms_state.sessionmaker.kw.get("bind") is not lms_state.engine:
            return None
        if endpoint == "save":
            assert data is not None
            return _autosave(lms_state.engine, raw, args["attempt_id"], args["question_id"], data["response"])
        if endpoint == "start":
            attempt = quizzes.start_direct(lms_state.engine, raw, args["quiz_id"], now=datetime.now(UTC))
            return None if attempt is None else (201, attempt_body(lms_state.engine, attempt, new=True))
        if lms_state.settings.xapi_endpoint:
            return None
        result = quizzes.submit_direct(lms_state.engine, raw, args["attempt_id"], now=datetime.now(UTC),
                                       source=environ.get("REMOTE_ADDR") or "unknown")
        return None if result is None else (200, result)


def _start(session: Any, holder: accounts.TokenHolder, quiz_id: str) -> tuple[int, Any]:
    draw = quizzes.read_for_start(session, quiz_id)
    with transaction() as tx:
        started = quizzes.start(tx, holder, quiz_id, now=now(), draw=draw, settings=state().settings,
                                background=background())
        if started.attempt is None or started.refusal is not None:
            raise _Decline
    return 201, attempt_body(session, started.attempt, new=started.new)


def _save(holder: accounts.TokenHolder, attempt_id: str, question_id: str, response: object) -> tuple[int, Any]:
    with transaction() as tx:
        outcome = quizzes.save_answer(tx, holder, attempt_id, question_id, response, now=now())
        if outcome.status != "saved" or outcome.saved_at is None:
            raise _Decline  # after the deadline: Flask's view grades it and answers 409
    return 200, {"question_id": question_id, "saved_at": outcome.saved_at.isoformat()}


def _autosave(engine: Any, raw_token: str, attempt_id: str, question_id: str,
              response: object) -> tuple[int, Any] | None:
    """On a driver connection, without a session or even Flask's app context: what the API's
    autosave does in the plain case (quizzes.autosave), about a third less work (issue 14)."""
    outcome = quizzes.autosave(engine, raw_token, attempt_id, question_id, response, now=datetime.now(UTC))
    if outcome is None or outcome.saved_at is None:
        return None
    return 200, {"question_id": question_id, "saved_at": outcome.saved_at.isoformat()}


def _submit(holder: accounts.TokenHolder, attempt_id: str) -> tuple[int, Any]:
    with transaction() as tx:
        outcome = quizzes.submit(tx, holder, attempt_id, now=now(), settings=state().settings,
                                 background=background())
        assert outcome.attempt is not None
        return 200, quizzes.attempt_result(tx, outcome.attempt)


def _body(environ: dict[str, Any]) -> bytes | None:
    """The request's body, read whole, or None (left unread) when its length is not given or
    is more than an attempt request ever sends."""
    length = environ.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > _MAX_BODY or environ.get("HTTP_TRANSFER_ENCODING"):
        return None
    return environ["wsgi.input"].read(int(length)) if int(length) else b""


def _json_object(environ: dict[str, Any], body: bytes) -> dict[str, Any] | None:
    """The body as Flask's ``request.get_json`` gives it to the view (its JSON provider reads with
    the json module), when it is a JSON object. Not orjson, which reads an integer past 64 bits as
    a float: a body is a few dozen bytes, where the two differ by a microsecond."""
    mimetype = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    if not (mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))):
        return None
    try:
        data = json.loads(body)
    except ValueError:  # Flask's view reads it, or says why it cannot
        return None
    return data if isinstance(data, dict) else None


def _json_bytes(app: Flask, payload: Any) -> bytes:
    """The answer's JSON: orjson with sorted keys, as compact as jsonify's, UTF-8 rather than
    \\u escapes (a third of the bytes for Vietnamese text); jsonify's own for what orjson refuses."""
    try:
        return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
    except (orjson.JSONEncodeError, TypeError):
        return app.json.dumps(payload, separators=(",", ":")).encode() + b"\n"
