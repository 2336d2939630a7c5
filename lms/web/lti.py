"""LTI 1.3 tool routes: key set, configuration, dynamic registration, third-party login, launch,
and the deep linking picker. The protocol itself is in ``lms.services.lti``."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, redirect, render_template, request, url_for
from flask import session as cookie_session
from flask.sessions import SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFProtect
from itsdangerous import BadSignature, URLSafeTimedSerializer

from lms.jobs.drainer import Drainer
from lms.services import access, lti
from lms.services.errors import ServiceError
from lms.services.records import Course, Quiz
from lms.web.auth import current_account, sign_in_browser
from lms.web.db import db, state, transaction, write_intent
from lms.web.page_blueprint import CSP

__all__ = ["bp", "init_lti"]

bp = Blueprint("lms_lti", __name__, template_folder="templates")

STATE_COOKIE = "lms-lti-"
REFUSALS: dict[str, tuple[int, Any]] = {
    "replay": (409, _l("Lượt mở này đã được dùng. Hãy quay lại hệ thống học tập của bạn và bấm mở lại.")),
    "state": (400, _l("Lượt mở không hợp lệ hoặc đã hết hạn. Hãy quay lại hệ thống học tập và bấm mở lại.")),
    "state_expired": (400, _l("Lượt mở đã hết hạn. Hãy quay lại hệ thống học tập và bấm mở lại.")),
    "browser": (400, _l("Lượt mở bắt đầu ở một trình duyệt khác. Hãy bấm mở lại từ hệ thống học tập.")),
    "expired": (401, _l("Thông tin đăng nhập từ hệ thống học tập đã hết hạn. Hãy bấm mở lại.")),
    "audience": (403, _l("Lượt mở này được gửi cho một công cụ khác, không phải cho trang này.")),
    "signature": (401, _l("Chữ ký của lượt mở không đúng: không xác minh được hệ thống học tập đã gửi nó.")),
    "platform": (403, _l("Hệ thống học tập này chưa được đăng ký với trang. Hãy liên hệ quản trị viên.")),
    "deployment": (403, _l("Lượt cài đặt (deployment) này chưa được đăng ký với trang. Hãy liên hệ quản trị viên.")),
    "nonce": (401, _l("Lượt mở không khớp với lần đăng nhập đã bắt đầu.")),
    "version": (400, _l("Trang chỉ nhận LTI phiên bản 1.3.0.")),
    "message_type": (400, _l("Trang không hỗ trợ loại yêu cầu LTI này.")),
    "token": (400, _l("Thông tin đăng nhập từ hệ thống học tập không hợp lệ.")),
    "login": (400, _l("Yêu cầu đăng nhập LTI thiếu thông tin bắt buộc.")),
    "account": (403, _l("Tài khoản này đã bị khóa.")),
    "role": (403, _l("Chỉ giảng viên mới chọn được nội dung để gắn vào khóa học.")),
    "target": (404, _l("Nội dung mà liên kết này trỏ tới không còn trên trang.")),
    "picker": (400, _l("Phiên chọn nội dung đã hết hạn. Hãy mở lại từ hệ thống học tập.")),
}


def _utc() -> datetime:
    return datetime.now(UTC)


def _base() -> str:
    st = state()
    return f"{st.settings.public_url}{st.url_prefix}"


def tool_urls() -> dict[str, str]:
    base = _base()
    return {"login_url": f"{base}/lti/login", "launch_url": f"{base}/lti/launch", "jwks_url": f"{base}/lti/jwks",
            "deep_linking_url": f"{base}/lti/deep-linking", "registration_url": f"{base}/lti/register"}


def _https() -> bool:
    return state().settings.public_url.startswith("https://")


def _refused(reason: str, detail: str = "") -> ResponseReturnValue:
    status, text = REFUSALS.get(reason, REFUSALS["token"])
    current_app.logger.info("LTI launch refused: %s %s", reason, detail)
    return render_template("lms/lti_refused.html", text=text, reason=reason), status


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="lms-lti-deep-linking")


@bp.get("/jwks")
def jwks() -> ResponseReturnValue:
    with transaction() as session:
        keys = lti.jwks(session, _utc(), create=False)
    if not keys["keys"]:  # the very first request makes the key pair: a write (SQLite takes its lock first)
        with write_intent(True), transaction() as session:
            keys = lti.jwks(session, _utc())
    response = jsonify(keys)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/config")
def config() -> ResponseReturnValue:
    urls = tool_urls()
    return jsonify({**urls, "title": _("Bình dân học vụ số"), "scopes": [lti.AGS_SCORE_SCOPE, lti.NRPS_SCOPE],
                    "messages": [lti.RESOURCE_LINK, lti.DEEP_LINKING], "custom_parameters": {"lms_target": "quiz:ID"}})


@bp.get("/register")
def register() -> ResponseReturnValue:
    """LTI Dynamic Registration: a platform administrator pastes this URL; the platform opens it
    with ``openid_configuration`` and ``registration_token``."""
    conf_url = request.args.get("openid_configuration", "")
    secret = state().settings.secret_key
    if not conf_url:
        user = current_account()
        grant = lti.registration_url(_base(), secret_key=secret) if access.is_admin(user) else None
        return render_template("lms/lti_register.html", done=False, urls=tool_urls(), error=None, grant=grant)
    if not lti.registration_allowed(request.args.get("grant", ""), secret_key=secret):
        error = _("Địa chỉ đăng ký này không hợp lệ hoặc đã hết hạn. Hãy xin quản trị viên trang một địa chỉ mới.")
        return render_template("lms/lti_register.html", done=False, urls=tool_urls(), error=error, grant=None), 403
    try:
        with write_intent(True), transaction() as session:
            platform = lti.register_dynamically(session, openid_configuration=conf_url,
                                                registration_token=request.args.get("registration_token"),
                                                tool=tool_urls(), tool_name=_("Bình dân học vụ số"), now=_utc())
            name = platform.name or platform.issuer
    except (ServiceError, ValueError, KeyError, OSError) as exc:
        current_app.logger.warning("LTI dynamic registration failed: %s", exc)
        error = _("Không đăng ký được với hệ thống học tập. Hãy kiểm tra địa chỉ và thử lại.")
        return render_template("lms/lti_register.html", done=False, urls=tool_urls(), error=error, grant=None), 400
    return render_template("lms/lti_register.html", done=True, urls=tool_urls(), error=None, platform=name)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    params = {k: v for k, v in (request.values.items()) if isinstance(v, str)}
    urls = tool_urls()
    target = params.get("target_link_uri", "")
    redirect_uri = target if target in (urls["launch_url"], urls["deep_linking_url"]) else urls["launch_url"]
    try:  # a GET that writes (the state row): SQLite takes its write lock first
        with write_intent(True), transaction() as session:
            answer = lti.begin_login(session, params, redirect_uri=redirect_uri, now=_utc())
    except lti.LaunchRefused as exc:
        return _refused(exc.reason, exc.detail)
    response = redirect(answer.url, code=302)
    # the launch comes back as a cross-site POST: only SameSite=None cookies travel with it, and
    # browsers take those only when Secure; on plain http the state is checked without the cookie
    response.set_cookie(STATE_COOKIE + answer.state[:16], answer.browser_token,
                        max_age=int(lti.STATE_LIFETIME.total_seconds()), httponly=True, secure=_https(),
                        samesite="None" if _https() else "Lax",
                        path=f"{state().url_prefix}/lti/")
    return response


@bp.route("/launch", methods=["POST"])
@bp.route("/deep-linking", methods=["POST"])
def launch() -> ResponseReturnValue:
    id_token, launch_state = request.form.get("id_token", ""), request.form.get("state", "")
    if not id_token or not launch_state:
        return _refused("token", "id_token and state are required")
    browser = request.cookies.get(STATE_COOKIE + launch_state[:16])
    try:
        with transaction() as session:
            checked = lti.validate_launch(session, id_token=id_token, state=launch_state, browser_token=browser,
                                          allow_cookieless=not _https(), now=_utc())
            if checked.message_type == lti.DEEP_LINKING:
                if not checked.is_instructor:
                    raise lti.LaunchRefused("role")
                user = lti.link_account(session, checked, now=_utc())
                return _picker(session, checked, user)
            user = lti.link_account(session, checked, now=_utc())
            try:
                target = lti.resolve_target(session, checked)
            except ServiceError:
                raise lti.LaunchRefused("target") from None
            lti.remember_launch(session, checked, user, target, now=_utc())
            origins = lti.platform_origins(session)
    except lti.LaunchRefused as exc:
        return _refused(exc.reason, exc.detail)
    sign_in_browser(user)  # a server-side session, like a password sign-in
    cookie_session["lti_frame"] = origins
    if target is not None and target.kind == "lesson":
        cookie_session["lti_lessons"] = [*cookie_session.get("lti_lessons", [])[-19:], target.id]
    response = redirect(_target_url(target), code=303)
    response.delete_cookie(STATE_COOKIE + launch_state[:16], path=f"{state().url_prefix}/lti/")
    return response


def _target_url(target: lti.Target | None) -> str:
    if target is None:
        return url_for("lms_courses.courses")
    if target.kind == "course":
        return url_for("lms_courses.course", course_id=target.id)
    if target.kind == "lesson":
        return url_for("lms_courses.lesson", lesson_id=target.id)
    return url_for("lms_quizzes.quiz", quiz_id=target.id)


def _picker(session: Any, launch: lti.Launch, user: Any) -> ResponseReturnValue:
    settings = launch.claims.get(lti.DL_SETTINGS) or {}
    if not isinstance(settings, dict) or not settings.get("deep_link_return_url"):
        raise lti.LaunchRefused("token", "no deep_link_return_url")
    context = _signer().dumps({"p": launch.platform_id, "d": launch.deployment_id,
                               "r": settings["deep_link_return_url"], "data": settings.get("data"),
                               "multiple": settings.get("accept_multiple", True) is not False, "u": user.id})
    courses, quizzes = lti.deep_link_choices(session)
    titles = {c.id: c.title for c in courses}
    groups = [{"title": c.title, "items": [{"value": f"quiz:{q.id}", "title": q.title}
                                          for q in quizzes if q.course_id == c.id]
               + [{"value": f"course:{c.id}", "title": _("Cả khóa học: %(t)s", t=c.title)}]} for c in courses]
    orphans = [{"value": f"quiz:{q.id}", "title": q.title} for q in quizzes if q.course_id not in titles]
    if orphans:
        groups.append({"title": _("Bài kiểm tra khác"), "items": orphans})
    return render_template("lms/lti_picker.html", groups=groups, context=context,
                           multiple=settings.get("accept_multiple", True) is not False,
                           action=url_for("lms_lti.deep_linking_response"))


@bp.post("/deep-linking/response")
def deep_linking_response() -> ResponseReturnValue:
    try:
        ctx = _signer().loads(request.form.get("context", ""), max_age=3600)
    except BadSignature:
        return _refused("picker")
    chosen = request.form.getlist("item")[: (50 if ctx.get("multiple") else 1)]
    items = []
    with write_intent(True), transaction() as session:  # may make the first key pair
        for value in chosen:
            kind, _sep, ident = value.partition(":")
            row: Quiz | Course | None = lti.deep_link_row(session, kind, ident)
            if row is None:
                continue
            items.append(lti.deep_link_item(kind=kind, ident=ident, title=row.title,
                                            launch_url=tool_urls()["launch_url"], with_score=kind == "quiz"))
        token = lti.deep_linking_response(session, platform_id=int(ctx["p"]), deployment_id=str(ctx["d"]),
                                          data=ctx.get("data"), items=items, now=_utc())
    return render_template("lms/lti_return.html", action=ctx["r"], token=token, count=len(items))


# ---------------------------------------------------------------- iframes

_FRAME_ANCESTORS = re.compile(r"frame-ancestors [^;]*")


def _frame_for_platforms(response: Any) -> Any:
    """Pages of an LTI session, and the LTI pages themselves, may be framed by the registered
    platforms; every other page keeps frame-ancestors 'self'. In an LTI session behind TLS the
    session cookie is SameSite=None, so that it travels inside the platform's iframe."""
    if not (request.blueprint or "").startswith("lms_"):
        return response  # a host application's own pages are not ours to change
    origins = cookie_session.get("lti_frame") if request.blueprint != bp.name else None
    if request.blueprint == bp.name:
        try:
            origins = lti.platform_origins(db())
        except Exception:
            origins = None
    if origins:
        allowed = "frame-ancestors 'self' " + " ".join(o for o in origins if re.fullmatch(r"https?://[\w.\-:\[\]]+", o))
        csp = response.headers.get("Content-Security-Policy")
        csp = _FRAME_ANCESTORS.sub(allowed, csp) if csp and "frame-ancestors" in csp else (
            f"{csp}; {allowed}" if csp else allowed)
        if request.blueprint == bp.name:  # the deep linking answer is a form posted to the platform
            csp = csp.replace("form-action 'self'", "form-action 'self' " + allowed.split("'self' ", 1)[1])
        response.headers["Content-Security-Policy"] = csp
    return response


class _LtiSessionInterface(SecureCookieSessionInterface):
    """Flask's cookie session, except that the session of an LTI launch behind TLS is sent
    SameSite=None; Secure, so that it travels inside the platform's iframe (a cross-site frame).
    Every other session keeps the site's SameSite=Lax."""

    def open_session(self, app: Flask, request: Any) -> Any:
        # No cookie (an API client, a first visit): an empty session, without building the signing
        # serializer, which Flask does for every request (issue 14: ~20 µs of an autosave).
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        if not session and not session.modified:  # nothing to send (Flask's own early return)
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)
        if not session.get("lti_frame") or not app.extensions["lms"].settings.public_url.startswith("https://"):
            return
        name = self.get_cookie_name(app)
        cookies = response.headers.getlist("Set-Cookie")
        if not any(c.startswith(f"{name}=") for c in cookies):
            return
        response.headers.remove("Set-Cookie")
        for c in cookies:
            if c.startswith(f"{name}="):
                c = re.sub(r"(?i);\s*SameSite=\w+", "", c) + "; SameSite=None"
                c = c if re.search(r"(?i);\s*Secure\b", c) else c + "; Secure"
            response.headers.add("Set-Cookie", c)


@bp.after_request
def _headers(response: Any) -> Any:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


# ---------------------------------------------------------------- wiring

def init_lti(app: Flask, csrf: CSRFProtect, prefix: str) -> None:
    """Register the LTI routes; the platform posts to login and launch from its own site, so
    those carry no CSRF token (the state, nonce and signature stand in for it)."""
    for view in (login, launch, register, deep_linking_response):
        csrf.exempt(view)
    app.register_blueprint(bp, url_prefix=f"{prefix}/lti")
    app.after_request(_frame_for_platforms)
    if type(app.session_interface) is SecureCookieSessionInterface:  # a host's own sessions are left alone
        app.session_interface = _LtiSessionInterface()
    lms_state = app.extensions["lms"]
    rounds = lti.DeliveryRounds(sessions=lambda: lms_state.sessionmaker, redis_url=lms_state.settings.redis_url,
                                now=_utc)
    drainer = Drainer("lti-scores", rounds, idle=3.0)
    app.extensions["lms_lti_drainer"] = drainer

    @app.before_request
    def _start_drainer() -> None:
        # started by the first request, in the serving process itself (after gunicorn's fork);
        # tests drive delivery themselves
        if not app.testing and not app.config.get("LMS_LTI_NO_DRAINER"):
            drainer.start()

