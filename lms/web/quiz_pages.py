"""Quiz pages for learners: start, answer (one form, works without JavaScript), result."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from lms.services import catalogue, quizzes
from lms.services.errors import ServiceError
from lms.services.records import Attempt, AttemptStatus, QuizKind, User
from lms.web.api import error_response
from lms.web.attempt_limits import opens_text
from lms.web.auth import current_account
from lms.web.certificate_pdfs import background
from lms.web.db import db, now, state, transaction
from lms.web.learning_path import certificate_needs, score_text
from lms.web.messages import message
from lms.web.page_blueprint import PageBlueprint
from lms.web.payload import json_payload

__all__ = ["bp"]

bp = PageBlueprint("lms_quizzes", __name__)


@bp.get("/quizzes/<quiz_id>")
def quiz(quiz_id: str) -> ResponseReturnValue:
    session = db()
    try:
        q = quizzes.get_quiz(session, quiz_id)
    except ServiceError:
        abort(404)
    bank = len(quizzes.active_questions(session, q.id))
    user = current_account()
    opens = None
    if user is not None and quizzes.open_attempt(session, user, q.id) is None:
        try:
            opens_at = quizzes.next_attempt_at(session, user, q, now=now())
        except ServiceError as exc:
            opens = message(exc.key)
        else:
            if opens_at is not None:
                opens = opens_text(opens_at)
    needs = None
    if q.kind == QuizKind.FINAL:
        needs = certificate_needs(session, current_account(), catalogue.get_course(session, q.course_id))
    return render_template("lms/quiz.html", needs=needs, quiz={
        "id": q.id, "title": q.title, "kind": q.kind, "pass_mark": q.pass_mark,
        "time_limit": q.time_limit_minutes, "questions": min(bank, q.draw_count or bank),
        "policy": quizzes.attempt_policy(q), "opens": opens,
        "course_url": url_for("lms_courses.course", course_id=q.course_id)})


@bp.post("/quizzes/<quiz_id>/attempts")
@login_required
def start(quiz_id: str) -> ResponseReturnValue:
    user = current_account()
    assert user is not None
    try:
        with transaction() as session:
            started = quizzes.start(session, user, quiz_id, now=now(), settings=state().settings,
                                    background=background())
    except ServiceError as exc:
        if exc.status == 404:
            abort(404)
        flash(message(exc.key), "warning")
        return redirect(url_for("lms_quizzes.quiz", quiz_id=quiz_id))
    if isinstance(started.refusal, quizzes.AttemptsUsed):
        flash(opens_text(started.refusal.opens_at), "warning")
        return redirect(url_for("lms_quizzes.quiz", quiz_id=quiz_id))
    if started.refusal is not None:
        flash(message(started.refusal.key), "warning")
        return redirect(url_for("lms_quizzes.quiz", quiz_id=quiz_id))
    assert started.attempt is not None
    return redirect(url_for("lms_quizzes.attempt", attempt_id=started.attempt.id))


def _view_question(number: int, q: dict[str, Any], saved: Any, error: str | None) -> dict[str, Any]:
    """Everything the template needs, decided here: names, checked and selected states."""
    qid = q["id"]
    view: dict[str, Any] = {"number": number, "id": qid, "type": q["type"], "text_html": q["text_html"],
                            "name": f"q-{number}", "error": error, "value": ""}
    if q["type"] in ("single", "multiple"):
        chosen = set(saved if isinstance(saved, list) else [saved])
        view["options"] = [{"id": c["id"], "html": c["text_html"], "checked": c["id"] in chosen,
                            "input_id": f"q{number}-{i}"} for i, c in enumerate(q["choices"])]
    elif q["type"] == "true_false":
        view["options"] = [{"id": "true", "html": _("Đúng"), "checked": saved is True, "input_id": f"q{number}-t"},
                           {"id": "false", "html": _("Sai"), "checked": saved is False, "input_id": f"q{number}-f"}]
    elif q["type"] in ("short_answer", "numeric"):
        view["value"] = "" if saved is None else str(saved)
    elif q["type"] == "matching":
        given = saved if isinstance(saved, dict) else {}
        view["rows"] = [{"html": c["text_html"], "select": f"q-{number}-{i}", "selected": given.get(c["id"], "")}
                        for i, c in enumerate(q["choices"])]
        view["targets"] = q["targets"]
    elif q["type"] == "ordering":
        order = saved if isinstance(saved, list) else []
        view["rows"] = [{"html": c["text_html"], "select": f"q-{number}-{i}",
                         "selected": str(order.index(c["id"]) + 1) if c["id"] in order else ""}
                        for i, c in enumerate(q["choices"])]
        view["positions"] = [str(n) for n in range(1, len(q["choices"]) + 1)]
    return view


def _parse(number: int, q: dict[str, Any]) -> Any:
    """The response a form field holds, in the API's shape (None when left empty)."""
    name = f"q-{number}"
    if q["type"] == "single":
        return request.form.get(name) or None
    if q["type"] == "multiple":
        return request.form.getlist(name) or None
    if q["type"] == "true_false":
        value = request.form.get(name)
        return None if value not in ("true", "false") else value == "true"
    if q["type"] == "short_answer":
        return request.form.get(name, "").strip() or None
    if q["type"] == "numeric":
        value = request.form.get(name, "").strip()
        return value or None
    if q["type"] == "matching":
        pairs = {c["id"]: request.form.get(f"{name}-{i}", "") for i, c in enumerate(q["choices"])}
        return {k: v for k, v in pairs.items() if v} or None
    if q["type"] == "ordering":
        positions = {c["id"]: request.form.get(f"{name}-{i}", "") for i, c in enumerate(q["choices"])}
        if not any(positions.values()):
            return None
        ranked = sorted(positions, key=lambda cid: int(positions[cid]) if positions[cid].isdigit() else 999)
        return ranked if sorted(positions.values()) == [str(n) for n in range(1, len(ranked) + 1)] else ["?"]
    return None


def _own_attempt(attempt_id: str) -> tuple[User, Attempt]:
    """The logged-in learner and their attempt; anyone else's is a 404."""
    user = current_account()
    assert user is not None
    try:
        return user, quizzes.get_attempt(db(), user, attempt_id)
    except ServiceError:
        abort(404)


@bp.route("/attempts/<attempt_id>", methods=["GET", "POST"])
@login_required
def attempt(attempt_id: str) -> ResponseReturnValue:
    user, current = _own_attempt(attempt_id)
    if current.status == AttemptStatus.SUBMITTED:
        return redirect(url_for("lms_quizzes.result", attempt_id=attempt_id))
    served = quizzes.learner_questions(current)
    errors: dict[str, str] = {}
    if request.method == "POST":
        time_up = False
        responses = [(q["id"], _parse(number, q)) for number, q in enumerate(served, start=1)]
        try:
            with transaction() as tx:
                last, refused = quizzes.save_answers(tx, user, attempt_id, responses, now=now())
                errors = {qid: message(next(iter(exc.fields.values()), exc.key)) for qid, exc in refused.items()}
                time_up = last is not None and last.closed_by_deadline
                if time_up or (request.form.get("action") == "submit" and not errors):
                    quizzes.submit(tx, user, attempt_id, now=now(), settings=state().settings,
                                   background=background())
        except ServiceError as exc:
            flash(message(exc.key), "warning")
            return redirect(url_for("lms_quizzes.result", attempt_id=attempt_id))
        if time_up:
            flash(message("attempt.time_up"), "warning")
            return redirect(url_for("lms_quizzes.result", attempt_id=attempt_id))
        if request.form.get("action") == "submit" and not errors:
            return redirect(url_for("lms_quizzes.result", attempt_id=attempt_id))
        if not errors:
            flash(_("Đã lưu các câu trả lời."), "success")
            return redirect(url_for("lms_quizzes.attempt", attempt_id=attempt_id))
    saved = quizzes.saved_responses(db(), current)
    questions = [_view_question(n, q, saved.get(q["id"]), errors.get(q["id"])) for n, q in enumerate(served, 1)]
    status = 422 if errors else 200
    return render_template("lms/attempt.html", attempt={
        "id": attempt_id, "deadline": current.deadline_at,
        "answer_url": url_for("lms_quizzes.answer_now", attempt_id=attempt_id, question_id="__Q__")},
                           questions=questions, answered=len([v for v in saved.values() if v is not None])), status


@bp.post("/attempts/<attempt_id>/answers/<question_id>")
def answer_now(attempt_id: str, question_id: str) -> ResponseReturnValue:
    """One answer, saved at once: the attempt page's script sends each answer as it is given
    (and again, from its queue, when the connection returns). Session cookie + CSRF token, the
    same rules as the API's PUT. The body is either the question's form fields, as the page's
    form names them, or JSON ``{"response": ...}`` in the API's shape. Sending it again is harmless."""
    user = current_account()
    if user is None:
        return error_response(401, "auth.required")
    try:
        current = quizzes.get_attempt(db(), user, attempt_id)
    except ServiceError as exc:
        return error_response(exc.status, exc.code, exc.key)
    served = quizzes.learner_questions(current)
    number = next((n for n, q in enumerate(served, start=1) if q["id"] == question_id), None)
    if number is None:
        return error_response(404, "not_found", "question.not_in_attempt")
    if request.is_json:
        body = json_payload()
        if not isinstance(body, dict) or "response" not in body:
            return error_response(400, "bad_request", "response.missing")
        response = body["response"]
    else:
        response = _parse(number, served[number - 1])
        if response == ["?"] and any(not request.form.get(f"q-{number}-{i}", "")
                                     for i in range(len(served[number - 1]["choices"]))):
            # a ranking the learner is still filling in: nothing to save yet, and no error to show
            return jsonify(question_id=question_id, status="incomplete")
    try:
        with transaction() as tx:
            outcome = quizzes.save_answer(tx, user, attempt_id, question_id, response, now=now(),
                                          settings=state().settings, background=background())
    except ServiceError as exc:
        return error_response(exc.status, exc.code, exc.key, exc.fields)
    if outcome.closed_by_deadline or outcome.saved_at is None:
        # closed and graded with what was saved before this answer; the grading is committed
        return error_response(409, "time_up", "attempt.time_up")
    return jsonify(question_id=question_id, saved_at=outcome.saved_at.isoformat(), status="saved")


@bp.get("/attempts/<attempt_id>/result")
@login_required
def result(attempt_id: str) -> ResponseReturnValue:
    _, done = _own_attempt(attempt_id)
    session = db()
    if done.status != AttemptStatus.SUBMITTED:
        return redirect(url_for("lms_quizzes.attempt", attempt_id=attempt_id))
    res = quizzes.attempt_result(session, done)
    texts = {q["id"]: q["text_html"] for q in quizzes.learner_questions(done)}
    rows = [{"number": n, "text_html": texts.get(q["id"], ""), "correct": q["correct"],
             "feedback_html": q["feedback_html"]} for n, q in enumerate(res["questions"], start=1)
            if res.get("review") != "withheld"]
    q = quizzes.get_quiz(session, done.quiz_id)

    needs = None
    if q.kind == QuizKind.FINAL:
        needs = certificate_needs(session, current_account(), catalogue.get_course(session, q.course_id))
    return render_template("lms/result.html", result=res, rows=rows, needs=needs,
                           score=score_text(float(res["score"]), float(res["max_score"])),
                           quiz={"title": q.title, "url": url_for("lms_quizzes.quiz", quiz_id=q.id),
                                 "course_url": url_for("lms_courses.course", course_id=q.course_id)})
