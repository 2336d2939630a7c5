"""The JSON API under ``/api/v1`` (see shared/API.md and /api/v1/openapi.json)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from flask import Blueprint, Flask, Response, abort, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from lms.services import (
    access,
    accounts,
    catalogue,
    certificates,
    credentials,
    mandates,
    personal_data,
    quizzes,
    reports,
    sessions,
)
from lms.services.credentials import Addresses
from lms.services.errors import ServiceError
from lms.services.records import AttemptStatus, PdfStatus
from lms.services.sso import identities_of, password_allowed
from lms.web.attempt_limits import refusal_response
from lms.web.auth import (
    api_holder,
    api_user,
    bearer_token,
    committing,
    require_api_user,
    require_token_holder,
    throttle,
)
from lms.web.certificate_pdfs import background, pdf_url
from lms.web.db import db, now, state, transaction
from lms.web.limits import limiter
from lms.web.messages import message
from lms.web.openapi import openapi_document
from lms.web.pages import error_page
from lms.web.payload import json_payload

__all__ = ["API_CSP", "attempt_body", "bp", "error_response", "register_site_errors"]

bp = Blueprint("lms_api", __name__)

_HTTP_CODES = {400: "bad_request", 401: "auth.required", 403: "auth.forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "too_large", 429: "throttled"}


def error_response(status: int, code: str, key: str | None = None,
                   fields: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"code": code, "message": message(key or code)}
    if fields:
        body["fields"] = {name: message(k) for name, k in fields.items()}
    response = jsonify(error=body)
    response.status_code = status
    return response


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError) -> ResponseReturnValue:
    return error_response(exc.status, exc.code, exc.key, exc.fields)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> ResponseReturnValue:
    status = exc.code or 500
    code = _HTTP_CODES.get(status, "error")
    return error_response(status, "throttled" if status == 429 else code.split(".")[0], code)


@bp.errorhandler(Exception)
def _crash(exc: Exception) -> ResponseReturnValue:
    from flask import current_app

    current_app.logger.exception("API request failed")
    return error_response(500, "server_error")


def register_site_errors(app: Flask, prefix: str) -> None:
    """On the LMS's own site, unknown API paths answer in the API's JSON shape too."""

    @app.errorhandler(404)
    @app.errorhandler(405)
    def _site_error(exc: HTTPException) -> ResponseReturnValue:
        if request.path.startswith(f"{prefix}/api/"):
            return _http_error(exc)

        return error_page(exc)


def _json_body() -> dict[str, Any]:
    data = json_payload()
    if not isinstance(data, dict):
        abort(error_response(400, "invalid_json"))
    return data


def _has_nul(value: Any) -> bool:
    """Whether U+0000 occurs in any string of a parsed JSON value (walked without recursion)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


@bp.before_request
def _refuse_nul_characters() -> ResponseReturnValue | None:
    """U+0000 is part of no id, login, code or name, and PostgreSQL can neither store nor compare
    it: answer here, the same on every database, rather than fail inside a query."""
    if "\x00" in request.path:
        return error_response(404, "not_found")
    in_query = any("\x00" in value for _, value in request.args.items(multi=True))
    if in_query or (request.is_json and _has_nul(json_payload())):
        return error_response(400, "bad_request")
    return None


# JSON answers never run script or load anything: a strict policy costs nothing and stops a
# browser that is tricked into rendering one (an error echoing input, say) from doing harm.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


@bp.after_app_request
def _api_headers(response: Response) -> Response:
    """On every answer under the API's prefix, errors and unknown paths included."""
    if request.path.startswith(f"{state().url_prefix}/api/"):
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers.setdefault("Content-Security-Policy", API_CSP)
    return response


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(openapi_document(request.url_root.rstrip("/") + state().url_prefix))


@bp.post("/tokens")
def create_token() -> ResponseReturnValue:

    data = _json_body()
    login, password = data.get("login"), data.get("password")
    if not isinstance(login, str) or not isinstance(password, str):
        return error_response(400, "bad_request", "auth.invalid")
    try:
        user = committing(lambda tx: sessions.sign_in(tx, throttle(), login, password, now=now()))
    except sessions.WrongPassword:
        return error_response(401, "unauthorized", "auth.invalid")
    with transaction() as session:

        if not password_allowed(session, user):  # the unit requires its officials to use single sign-on
            return error_response(403, "forbidden", "sso.password_only")
        lifetime = timedelta(hours=state().settings.token_lifetime_hours)
        raw, token = accounts.issue_token(session, user, now=now(), lifetime=lifetime)
    return jsonify(token=raw, expires_at=token.expires_at.isoformat()), 201


@bp.delete("/tokens/current")
@require_api_user()
def revoke_token() -> ResponseReturnValue:
    raw = bearer_token()
    assert raw is not None
    with transaction() as session:
        accounts.revoke_token(session, raw, now=now())
    return "", 204


@bp.post("/me/password")
@require_api_user()
def change_password() -> ResponseReturnValue:
    """204; every other token and session of the account ends (this token goes on working)."""

    user = api_user()
    assert user is not None
    data = _json_body()
    current, new = data.get("current_password"), data.get("new_password")
    if not isinstance(current, str) or not isinstance(new, str):
        return error_response(400, "bad_request", "password.fields")
    try:
        committing(lambda tx: sessions.change_password(tx, throttle(), user, current, new, now=now(),
                                                       keep_token=bearer_token()))
    except sessions.WrongPassword:
        return error_response(401, "unauthorized", "password.wrong")
    return "", 204


@bp.post("/registrations")
def register() -> ResponseReturnValue:
    data = _json_body()
    with transaction() as session:
        user = accounts.register_citizen(session, data, now=now())
    return jsonify(user_id=user.id), 201


@bp.get("/me")
@require_api_user()
def me() -> ResponseReturnValue:
    user = api_user()
    assert user is not None

    return jsonify(id=user.id, login=user.login, full_name=user.full_name, role=user.role,
                   unit_code=user.unit_code, birth_year=user.birth_year,
                   identities=[{"issuer": i.issuer, "subject": i.subject} for i in identities_of(db(), user)])


@bp.get("/courses")
def courses() -> ResponseReturnValue:
    return jsonify([
        {"id": c.id, "title": c.title, "title_en": c.title_en, "summary": c.summary, "summary_en": c.summary_en,
         "lesson_count": c.lesson_count, "competences": c.competences, "audience": c.audience,
         "version": c.version, "minutes": c.minutes, "mandated": c.mandated}
        for c in catalogue.list_courses(db())
    ])


@bp.get("/courses/<course_id>")
def course(course_id: str) -> ResponseReturnValue:
    session = db()
    c = catalogue.get_course(session, course_id)
    lessons = catalogue.published_lessons(session, c.id)
    return jsonify(id=c.id, title=c.title, title_en=c.title_en, summary=c.summary, version=c.version,
                   competences=c.competences, sequential=c.sequential,
                   lessons=[{"id": le.id, "title": le.title, "minutes": le.minutes} for le in lessons],
                   quizzes=_course_quizzes(c.id))


def _course_quizzes(course_id: str) -> list[dict[str, Any]]:
    return [{"id": q.id, "title": q.title, "kind": q.kind, "lesson_id": q.lesson_id}
            for q in quizzes.list_course_quizzes(db(), course_id)]


@bp.get("/lessons/<lesson_id>")
def lesson(lesson_id: str) -> ResponseReturnValue:
    le = catalogue.get_lesson(db(), lesson_id)
    return jsonify(id=le.id, course_id=le.course_id, title=le.title, title_en=le.title_en,
                   position=le.position, competences=le.competences, minutes=le.minutes, html=le.html)


@bp.post("/lessons/<lesson_id>/completion")
@require_api_user()
def complete(lesson_id: str) -> ResponseReturnValue:
    user = api_user()
    assert user is not None
    with transaction() as session:
        progress = catalogue.complete_lesson(session, user, lesson_id, now=now())
        if progress.done:
            certificates.award(session, user, progress.course_id, now=now(), settings=state().settings,
                               background=background())
    return jsonify(course_id=progress.course_id, completed_lessons=progress.completed_lessons,
                   lesson_count=progress.lesson_count)


@bp.get("/quizzes/<quiz_id>")
def quiz(quiz_id: str) -> ResponseReturnValue:
    q = quizzes.get_quiz(db(), quiz_id)
    bank = len(quizzes.active_questions(db(), q.id))
    return jsonify(id=q.id, course_id=q.course_id, title=q.title, kind=q.kind, lesson_id=q.lesson_id,
                   pass_mark=q.pass_mark, time_limit_minutes=q.time_limit_minutes, max_attempts=q.max_attempts,
                   cooldown_minutes=q.cooldown_minutes, question_count=min(bank, q.draw_count or bank),
                   attempt_policy=quizzes.attempt_policy(q))


def attempt_body(session: Any, attempt: Any, *, new: bool = False) -> dict[str, Any]:
    """An attempt as the API answers it (its questions as the learner sees them, what is saved,
    the result once graded); also lms.web.attempt_lane's answer."""
    body: dict[str, Any] = {
        "attempt_id": attempt.id, "quiz_id": attempt.quiz_id, "status": attempt.status, "number": attempt.number,
        "started_at": attempt.started_at.isoformat(),
        "deadline_at": attempt.deadline_at.isoformat() if attempt.deadline_at else None,
        "questions": quizzes.learner_questions(attempt, session),
        "saved": {} if new else quizzes.saved_responses(session, attempt),
    }
    if attempt.status == AttemptStatus.SUBMITTED:
        body["result"] = quizzes.attempt_result(session, attempt)
    return body


@bp.post("/quizzes/<quiz_id>/attempts")
@require_token_holder
def start_attempt(quiz_id: str) -> ResponseReturnValue:
    user = api_holder()
    assert user is not None
    # The quiz and its bank are kept per version: one read, before the write lock, checks it.
    draw = quizzes.read_for_start(db(), quiz_id)
    with transaction() as session:
        started = quizzes.start(session, user, quiz_id, now=now(), draw=draw, settings=state().settings,
                                 background=background())
    if isinstance(started.refusal, quizzes.AttemptsUsed):
        return refusal_response(started.refusal)
    if started.refusal is not None:
        raise started.refusal  # after the commit: an expired attempt it graded stays graded
    assert started.attempt is not None
    return jsonify(attempt_body(db(), started.attempt, new=started.new)), 201


@bp.get("/attempts/<attempt_id>")
@require_token_holder
def get_attempt(attempt_id: str) -> ResponseReturnValue:
    user = api_holder()
    assert user is not None
    return jsonify(attempt_body(db(), quizzes.get_attempt(db(), user, attempt_id)))


@bp.put("/attempts/<attempt_id>/answers/<question_id>")
@require_token_holder
def save_answer(attempt_id: str, question_id: str) -> ResponseReturnValue:
    user = api_holder()
    assert user is not None
    data = _json_body()
    if "response" not in data:
        return error_response(400, "bad_request", "response.missing")
    with transaction() as session:
        outcome = quizzes.save_answer(session, user, attempt_id, question_id, data["response"], now=now(),
                                      settings=state().settings, background=background())
    if outcome.closed_by_deadline or outcome.saved_at is None:
        # closed and graded with what was saved before this answer; the grading is committed
        return error_response(409, "time_up", "attempt.time_up")
    return jsonify(question_id=question_id, saved_at=outcome.saved_at.isoformat())


@bp.post("/attempts/<attempt_id>/submission")
@require_token_holder
def submit(attempt_id: str) -> ResponseReturnValue:
    user = api_holder()
    assert user is not None
    with transaction() as session:
        outcome = quizzes.submit(session, user, attempt_id, now=now(), settings=state().settings,
                                 background=background())
        assert outcome.attempt is not None
        result = quizzes.attempt_result(session, outcome.attempt)
    return jsonify(result)


def _certificate_json(cert: Any) -> dict[str, Any]:
    return {"code": cert.code, "course_id": cert.course_id, "course": cert.course_title,
            "status": certificates.certificate_status(cert, now()), "issued_at": cert.issued_at.isoformat(),
            "expires_at": cert.expires_at.isoformat() if cert.expires_at else None,
            "pdf_status": cert.pdf_status, "pdf_url": pdf_url(cert)}


@bp.get("/me/certificates")
@require_api_user()
def my_certificates() -> ResponseReturnValue:
    user = api_user()
    assert user is not None
    return jsonify([_certificate_json(c) for c in certificates.list_for_user(db(), user)])


@bp.get("/certificates/<code>.pdf")
@require_api_user()
def certificate_pdf(code: str) -> ResponseReturnValue:
    user = api_user()
    assert user is not None
    cert = certificates.get_own(db(), user, code)
    if cert.pdf_status != PdfStatus.READY or cert.pdf is None:
        return error_response(409, "pending", "certificate.pending")
    return pdf_response(cert)


@bp.get("/certificates/<code>/credential.json")
@require_api_user()
def certificate_credential(code: str) -> ResponseReturnValue:
    """The certificate as an Open Badges 3.0 OpenBadgeCredential (unsigned JSON-LD view)."""
    user = api_user()
    assert user is not None
    cert = certificates.get_own(db(), user, code)
    body = certificates.credential(db(), cert, base_url=state().settings.public_url)
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/ld+json")


@bp.get("/certificates/<code>/credential.jwt")
@limiter.limit("60 per minute")
def certificate_credential_jwt(code: str) -> ResponseReturnValue:
    """The certificate's Open Badges 3.0 VC-JWT, for anyone holding the code (like the verify
    page): an employer or another system checks it without an account here."""

    token = credentials.credential_jwt(db(), code, where=credential_addresses(),
                                       signing=certificates.Signing.from_settings(state().settings))
    response = Response(token, mimetype="application/vc+jwt")
    response.headers["Content-Disposition"] = f'attachment; filename="chung-nhan-{code.strip().upper()[:40]}.jwt"'
    return response


@bp.get("/credentials/status/<number>")
def status_list(number: str) -> ResponseReturnValue:
    """A W3C Bitstring Status List credential (revocation), as a VC-JWT. Short-lived caching only:
    a revocation shows within a minute."""

    if not number.isascii() or not number.isdecimal() or len(number) > 6:
        abort(404)
    token = credentials.status_list_jwt(db(), int(number), where=credential_addresses(),
                                        signing=certificates.Signing.from_settings(state().settings), now=now())
    response = Response(token, mimetype="application/vc+jwt")
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


def credential_addresses() -> Any:

    settings = state().settings
    public = settings.public_url.rstrip("/")
    return Addresses(public_url=public, api_url=f"{public}{state().url_prefix}/api/v1",
                     holder_secret=settings.secret_key)


def pdf_response(cert: Any) -> Response:
    response = Response(cert.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="chung-nhan-{cert.code}.pdf"'
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.get("/verify/<code>")
@limiter.limit("60 per minute")
def verify(code: str) -> ResponseReturnValue:
    found = certificates.verify(db(), code, now=now())
    if found is None:
        return error_response(404, "not_found", "certificate.not_found")
    return jsonify(found)


@bp.get("/quizzes/<quiz_id>/statistics")
@require_api_user(access.can_author)
def statistics(quiz_id: str) -> ResponseReturnValue:
    session = db()
    quizzes.get_quiz(session, quiz_id)
    return jsonify([{"question_id": s.question_id, "responses": s.responses, "facility": s.facility,
                     "discrimination": s.discrimination,
                     "wrong_choices": [{"text_html": t, "count": n, "share": sh} for t, n, sh in s.wrong_choices]}
                    for s in quizzes.item_analysis(session, quiz_id)])


@bp.get("/me/export")
@require_api_user()
def my_data() -> ResponseReturnValue:

    user = api_user()
    assert user is not None
    response = jsonify(personal_data.export(db(), user))
    response.headers["Content-Disposition"] = 'attachment; filename="du-lieu-cua-toi.json"'
    return response


@bp.post("/me/closure")
@require_api_user()
def close_my_account() -> ResponseReturnValue:

    user = api_user()
    assert user is not None
    data = _json_body()
    if data.get("confirm") is not True:
        return error_response(400, "bad_request", "closure.confirm")
    with transaction() as session:
        personal_data.close_account(session, user, now=now())
    return "", 204


@bp.get("/me/mandates")
@require_api_user()
def my_mandates() -> ResponseReturnValue:

    user = api_user()
    assert user is not None
    return jsonify([{"course_id": m.course_id, "course": m.course_title, "due": m.due.isoformat(), "done": m.done,
                     "overdue": m.overdue} for m in mandates.mandates_for(db(), user, today=now().date())])


@bp.get("/reports/targets")
@require_api_user(access.may_open_reports)
def target_report() -> ResponseReturnValue:

    user = api_user()
    assert user is not None
    unit = request.args.get("unit", "").strip()
    year_text = request.args.get("year", "").strip()
    if not unit or not year_text.isdecimal() or not 2000 <= int(year_text) <= 2100:  # "²⁰²⁶".isdigit()
        return error_response(400, "bad_request", "report.parameters")
    report = reports.full_report(db(), user, unit, int(year_text), with_units=False)
    plan = report.plan
    return jsonify(unit=unit, year=report.year, figures=report.figures, trend=report.trend,
                   plan={"slug": plan.slug, "title": plan.title, "issuing_body": plan.issuing_body,
                         "decision_number": plan.decision_number, "working_age_min": plan.working_age_min,
                         "working_age_max": plan.working_age_max, "team_min_certified": plan.team_min_certified},
                   indicators=[{"id": r.id, "label": r.label, "numerator": r.numerator, "denominator": r.denominator,
                                "percent": r.percent, "target_percent": r.target_percent, "met": r.met,
                                "denominator_source": report.denominator_source.get(r.id, "records")}
                               for r in report.indicators])


@bp.route("/<path:_rest>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
def unknown(_rest: str) -> ResponseReturnValue:
    abort(404)
