"""Sign in with an OpenID Connect provider (VNeID or a province's own): the protocol side.

Authlib's Flask client does the relying party's work: discovery, the authorization code flow with
PKCE (S256), ``state`` and ``nonce`` kept in the signed session cookie, the code exchange and the
ID token's validation (signature from the provider's JWKS, fetched again when an unknown ``kid``
shows the keys were rotated; ``iss``, ``aud``, ``exp``, ``iat`` within a minute's skew, ``nonce``).
What the verified claims mean for accounts is ``lms.services.sso``'s business.

Nothing here is registered when ``LMS_OIDC_ISSUER`` is unset.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from authlib.integrations.flask_client import OAuth, OAuthError
from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from joserfc.errors import ClaimError, ExpiredTokenError, JoseError
from sqlalchemy.orm import Session

from lms.config import Settings
from lms.services import accounts, sso, units
from lms.services.errors import ServiceError
from lms.services.records import Unit, User
from lms.web.auth import current_account, sign_in_browser
from lms.web.db import db, now, state, transaction, write_intent
from lms.web.limits import limiter
from lms.web.messages import message
from lms.web.page_blueprint import serves_pages
from lms.web.pages import local_date

__all__ = ["after_logout", "bp", "button", "identity_rows", "init_sso", "link_more_url", "password_refusal",
           "sso_policy_view"]

bp = Blueprint("lms_sso", __name__, template_folder="templates")

CLIENT = "lms_oidc"
_EXTENSION = "lms_sso"
_AUTHLIB_KEY = "authlib.integrations.flask_client"
# Clock skew tolerated on the ID token's exp and iat: phones and provincial servers drift.
LEEWAY_SECONDS = 60
# How long a sign-in begun here may take at the provider (an older person finding the VNeID app),
# and how many begun ones a browser keeps: each sits in the session cookie, which holds 4 KB.
FLOW_SECONDS = 15 * 60
FLOWS_KEPT = 3
_NEXT = "lms_oidc_next"
_PENDING = "lms_oidc_pending"
_ID_TOKEN = "lms_oidc_id_token"
_INCOMPLETE = "lms_oidc_incomplete"

# Each refusal: a heading and what the person can do, in Vietnamese (English through Babel).
FAILURES: dict[sso.Failure, tuple[Any, Any, int]] = {
    sso.Failure.PROVIDER_DOWN: (
        _l("Không kết nối được với hệ thống định danh"),
        _l("Hệ thống định danh điện tử đang không trả lời. Bạn chưa được đăng nhập. Vui lòng thử lại sau "
           "ít phút, hoặc đăng nhập bằng mật khẩu nếu bạn có."), 503),
    sso.Failure.DENIED: (
        _l("Bạn đã không cho phép chia sẻ thông tin"),
        _l("Bạn đã từ chối cho trang học nhận thông tin từ hệ thống định danh, nên chưa được đăng nhập. "
           "Bạn có thể thử lại và bấm Đồng ý, hoặc đăng nhập bằng mật khẩu."), 403),
    sso.Failure.PROVIDER_ERROR: (
        _l("Hệ thống định danh báo lỗi"),
        _l("Hệ thống định danh không hoàn tất việc đăng nhập. Bạn chưa được đăng nhập. Vui lòng thử lại."),
        400),
    sso.Failure.STATE: (
        _l("Phiên đăng nhập không khớp"),
        _l("Yêu cầu đăng nhập này không bắt đầu từ trình duyệt của bạn, hoặc đã được dùng rồi. Để an toàn, "
           "bạn chưa được đăng nhập. Hãy bắt đầu lại từ trang Đăng nhập."), 400),
    sso.Failure.CODE: (
        _l("Mã đăng nhập đã hết hiệu lực"),
        _l("Mã đăng nhập từ hệ thống định danh đã được dùng hoặc đã hết hạn. Bạn chưa được đăng nhập. "
           "Hãy bắt đầu lại từ trang Đăng nhập."), 400),
    sso.Failure.AUDIENCE: (
        _l("Thông tin đăng nhập không dành cho trang này"),
        _l("Hệ thống định danh gửi thông tin đăng nhập dành cho một ứng dụng khác. Để an toàn, bạn chưa "
           "được đăng nhập."), 400),
    sso.Failure.EXPIRED: (
        _l("Thông tin đăng nhập đã hết hạn"),
        _l("Thông tin đăng nhập từ hệ thống định danh đã hết hạn (hoặc đồng hồ máy chủ lệch). Bạn chưa "
           "được đăng nhập. Hãy thử lại."), 400),
    sso.Failure.ISSUER: (
        _l("Thông tin đăng nhập đến từ nơi khác"),
        _l("Thông tin đăng nhập không do hệ thống định danh đã cấu hình cấp. Để an toàn, bạn chưa được "
           "đăng nhập."), 400),
    sso.Failure.TOKEN: (
        _l("Thông tin đăng nhập không hợp lệ"),
        _l("Không kiểm tra được chữ ký hoặc nội dung thông tin đăng nhập. Để an toàn, bạn chưa được "
           "đăng nhập."), 400),
    sso.Failure.ACCOUNT: (
        _l("Tài khoản đã bị khóa"),
        _l("Tài khoản gắn với danh tính này đã đóng hoặc bị khóa. Vui lòng liên hệ đơn vị quản lý."), 403),
    sso.Failure.PASSWORD_ONLY: (
        _l("Đơn vị của bạn yêu cầu đăng nhập bằng định danh điện tử"),
        _l("Cán bộ của đơn vị này không dùng mật khẩu để đăng nhập. Hãy dùng nút đăng nhập bằng định danh "
           "điện tử."), 403),
}


def init_sso(app: Flask, settings: Settings, prefix: str) -> None:
    """Register the sign-in routes and the provider's client when an issuer is configured."""
    if not settings.oidc_enabled or _EXTENSION in app.extensions:
        return
    oauth = OAuth()
    host_registry = app.extensions.get(_AUTHLIB_KEY)
    oauth.init_app(app)
    if host_registry is not None:  # a host site's own Authlib registry stays the host's
        app.extensions[_AUTHLIB_KEY] = host_registry
    assert settings.oidc_issuer is not None
    client = oauth.register(
        CLIENT, client_id=settings.oidc_client_id, client_secret=settings.oidc_client_secret or None,
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256",
                       "default_timeout": 10})
    client.framework.expires_in = FLOW_SECONDS
    app.extensions[_EXTENSION] = client
    app.register_blueprint(bp, url_prefix=prefix or None)


def _client() -> Any:
    client = current_app.extensions.get(_EXTENSION)
    if client is None:
        abort(404)
    return client


def _settings() -> Settings:
    return state().settings


def button() -> dict[str, str] | None:
    """The sign-in page's "Đăng nhập bằng …" link, or None when single sign-on is off."""
    if _EXTENSION not in current_app.extensions:
        return None
    nxt = _safe(request.args.get("next"))
    return {"label": _("Đăng nhập bằng %(name)s", name=_settings().oidc_name),
            "url": url_for("lms_sso.start", next=nxt) if nxt else url_for("lms_sso.start")}


def _safe(path: str | None) -> str | None:
    """A path on this site, never another origin (``//host``, ``/\\host``, a scheme)."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path \
            and not any(ord(c) < 32 for c in path):
        return path
    return None


def _metadata(client: Any) -> dict[str, Any]:
    """The provider's discovery document; its ``issuer`` must be the configured one exactly."""
    metadata: dict[str, Any] = client.load_server_metadata()
    if metadata.get("issuer") != _settings().oidc_issuer:
        raise _Refusal(sso.Failure.ISSUER, f"discovery names issuer {metadata.get('issuer')!r}")
    return metadata


class _Refusal(Exception):
    def __init__(self, failure: sso.Failure, detail: str = "") -> None:
        super().__init__(detail)
        self.failure = failure
        self.detail = detail


@contextmanager
def _writing() -> Iterator[Session]:
    """A write made by a GET (the provider sends the browser back with one): take SQLite's write
    lock up front as a POST does, rather than upgrade a read and meet "database is locked" when
    a background job writes at the same moment."""
    session_ = db()
    if session_.in_transaction():
        session_.rollback()  # only reads so far: end them so the write begins with the lock
    with write_intent(True), transaction() as tx:
        yield tx


def _refuse(failure: sso.Failure, detail: str = "") -> ResponseReturnValue:
    """A clear page, nobody signed in, one audit event."""
    with _writing() as tx:
        sso.record_failure(tx, failure, now=now(), issuer=_settings().oidc_issuer, detail=detail)
    current_app.logger.warning("single sign-on refused: %s (%s)", failure.value, detail)
    title, text, status = FAILURES[failure]
    return render_template("lms/sso_error.html", title=str(title), text=str(text),
                           retry_url=url_for("lms_sso.start"), login_url=url_for("lms_account.login"),
                           provider=_settings().oidc_name), status


@bp.get("/login/oidc")
def start() -> ResponseReturnValue:
    client = _client()
    session[_NEXT] = _safe(request.args.get("next"))
    _forget_old_flows()
    try:
        _metadata(client)
        # Authlib adds state, nonce and the S256 challenge, and keeps them with the verifier in
        # the session for the callback.
        redirect_uri = url_for("lms_sso.callback", _external=True)
        response: ResponseReturnValue = client.authorize_redirect(redirect_uri)
        return response
    except _Refusal as exc:
        return _refuse(exc.failure, exc.detail)
    except (requests.RequestException, ValueError) as exc:
        return _refuse(sso.Failure.PROVIDER_DOWN, f"discovery: {type(exc).__name__}")
    except RuntimeError as exc:  # Authlib: the discovery document lacks an endpoint it needs
        return _refuse(sso.Failure.PROVIDER_ERROR, str(exc))


@bp.get("/login/oidc/callback")
def callback() -> ResponseReturnValue:
    client = _client()
    issuer = _settings().oidc_issuer
    assert issuer is not None
    try:
        token = _validated_token(client, issuer)
        raw = dict(token["userinfo"])
        raw.update(_userinfo(client, token, raw))
        claims = sso.claims_from(issuer, raw)
    except _Refusal as exc:
        return _refuse(exc.failure, exc.detail)
    except ServiceError as exc:
        return _refuse(sso.Failure.TOKEN, exc.key)
    nxt = session.pop(_NEXT, None)
    signed_in = current_account()
    if signed_in is not None:
        return _link_more(signed_in, claims, nxt)
    try:
        with _writing() as tx:
            outcome = sso.sign_in(tx, claims, now=now())
            user = outcome.user
    except ServiceError as exc:
        return _refuse(sso.Failure.ACCOUNT, exc.key)
    if outcome.kind is sso.OutcomeKind.LINK_NEEDED:
        session[_PENDING] = {"issuer": claims.issuer, "subject": claims.subject, "user_id": user.id,
                             "next": nxt, "id_token": token.get("id_token")}
        return redirect(url_for("lms_sso.link"))
    return _signed_in(user, token.get("id_token"), nxt)


def _link_more(user: User, claims: sso.Claims, nxt: str | None) -> ResponseReturnValue:
    """Someone already signed in came back from the provider: the identity joins their account."""
    try:
        with _writing() as tx:
            added = sso.link_to(tx, user, claims, now=now())
    except ServiceError as exc:
        flash(message(exc.key), "warning")
    else:
        if added:
            flash(_("Đã liên kết thêm danh tính %(name)s với tài khoản của bạn.", name=_settings().oidc_name),
                  "success")
    return redirect(_safe(nxt) or url_for("lms_account.me"))


def _signed_in(user: User, id_token: str | None, nxt: str | None) -> ResponseReturnValue:
    sign_in_browser(user)  # a server-side session, like a password sign-in
    if id_token:
        session[_ID_TOKEN] = id_token
    if sso.missing_profile(user):
        session[_NEXT] = nxt
        session[_INCOMPLETE] = True
        return redirect(url_for("lms_sso.complete"))
    return redirect(_safe(nxt) or url_for("lms_pages.home"))


# What a person who still owes the commune and consent may open before answering.
_OPEN_WHILE_INCOMPLETE = {"lms_sso.complete", "lms_account.logout", "lms_pages.static", "lms_pages.service_worker",
                          "lms_pages.offline", "lms_pages.language", "lms_pages.text_size", "lms_privacy.my_data",
                          "lms_privacy.my_data_file"}


@bp.before_app_request
def _finish_profile_first() -> ResponseReturnValue | None:
    """After a first sign-in through the provider, the LMS's pages wait for the missing answers.
    Only the LMS's own pages, and only sessions begun through the provider: a host site's routes
    and accounts made any other way are not this hook's business."""
    if not session.get(_INCOMPLETE) or not (serves_pages(request.blueprint) or request.blueprint == "lms_sso") \
            or request.endpoint in _OPEN_WHILE_INCOMPLETE:
        return None
    # flask_login directly, not current_account(): this hook runs before the LMS's own, which sets
    # the audit actor for the request, and must not set it first (it would outlive the request).
    user = current_user.user if current_user and current_user.is_authenticated else None
    if user is None or not sso.missing_profile(user):
        session.pop(_INCOMPLETE, None)
        return None
    return redirect(url_for("lms_sso.complete"))


def _flows() -> list[str]:
    prefix = f"_state_{CLIENT}_"
    return sorted((k for k in session if k.startswith(prefix)), key=lambda k: session[k].get("exp") or 0)


def _forget_old_flows() -> None:
    """Drop begun sign-ins beyond the newest few (a new one is about to be added)."""
    flows = _flows()
    for key in flows[:max(0, len(flows) - (FLOWS_KEPT - 1))]:
        session.pop(key, None)


def _flow_alive(state_value: str | None) -> bool:
    # Authlib keeps an expiry with each state but does not check it when reading: we do.
    entry = session.get(f"_state_{CLIENT}_{state_value}")
    return isinstance(entry, dict) and float(entry.get("exp") or 0) > time.time()


def _validated_token(client: Any, issuer: str) -> dict[str, Any]:
    # RFC 9207: a provider that names itself in the response must be the one we asked (mix-up).
    answered_by = request.args.get("iss")
    if answered_by is not None and answered_by != issuer:
        raise _Refusal(sso.Failure.ISSUER, f"iss parameter {answered_by!r}")
    if request.args.get("error") is None and not _flow_alive(request.args.get("state")):
        # Checked before the code is spent: a forged or foreign state never reaches the provider.
        raise _Refusal(sso.Failure.STATE, "unknown state")
    try:
        _metadata(client)
        token: dict[str, Any] = client.authorize_access_token(
            claims_options={"iss": {"essential": True, "value": issuer}}, leeway=LEEWAY_SECONDS)
    except OAuthError as exc:
        error = getattr(exc, "error", "")
        if error == "mismatching_state":
            raise _Refusal(sso.Failure.STATE, "mismatching state") from exc
        if error == "access_denied":
            raise _Refusal(sso.Failure.DENIED, "access_denied") from exc
        if error == "invalid_grant":
            raise _Refusal(sso.Failure.CODE, str(getattr(exc, "description", "") or error)) from exc
        raise _Refusal(sso.Failure.PROVIDER_ERROR, f"{error}: {getattr(exc, 'description', '')}") from exc
    except ExpiredTokenError as exc:
        raise _Refusal(sso.Failure.EXPIRED, str(exc)) from exc
    except ClaimError as exc:
        kind = {"aud": sso.Failure.AUDIENCE, "azp": sso.Failure.AUDIENCE,
                "iss": sso.Failure.ISSUER}.get(exc.claim, sso.Failure.TOKEN)
        raise _Refusal(kind, f"claim {exc.claim}: {exc}") from exc
    except JoseError as exc:
        raise _Refusal(sso.Failure.TOKEN, f"{type(exc).__name__}: {exc}") from exc
    except requests.RequestException as exc:
        raise _Refusal(sso.Failure.PROVIDER_DOWN, f"token endpoint: {type(exc).__name__}") from exc
    except ValueError as exc:  # a malformed ID token or answer
        raise _Refusal(sso.Failure.TOKEN, f"{type(exc).__name__}: {exc}") from exc
    except RuntimeError as exc:  # Authlib: no token endpoint or jwks_uri in the discovery document
        raise _Refusal(sso.Failure.PROVIDER_ERROR, str(exc)) from exc
    if not token.get("userinfo"):
        raise _Refusal(sso.Failure.TOKEN, "no ID token in the token response")
    return token


def _userinfo(client: Any, token: dict[str, Any], id_claims: dict[str, Any]) -> dict[str, Any]:
    """The userinfo endpoint's kept claims, when the provider has one; optional: the ID token's
    claims suffice when it is unreachable. A different ``sub`` there is a token substitution."""
    if not client.load_server_metadata().get("userinfo_endpoint") or not token.get("access_token"):
        return {}
    try:
        info = dict(client.userinfo(token=token))
    except (requests.RequestException, OAuthError, ValueError) as exc:
        current_app.logger.info("userinfo unavailable, using the ID token's claims: %s", exc)
        return {}
    if info.get("sub") != id_claims.get("sub"):
        raise _Refusal(sso.Failure.TOKEN, "userinfo sub differs from the ID token's")
    return {k: v for k, v in info.items() if k in sso.KEPT_CLAIMS and v is not None}


def _communes(province: str) -> list[Unit]:
    return units.communes_of(db(), province)


@bp.route("/login/oidc/complete", methods=["GET", "POST"])
@login_required
def complete() -> ResponseReturnValue:
    """After a first sign-in: ask only what the claims lacked (commune, consent)."""
    user = current_account()
    assert user is not None
    missing = sso.missing_profile(user)
    if not missing:
        return redirect(_safe(session.pop(_NEXT, None)) or url_for("lms_pages.home"))
    provinces = units.provinces(db())
    province = request.form.get("province", "")
    unit_code = request.form.get("unit_code", "")
    consent = request.form.get("consent") == "yes"
    errors: dict[str, str] = {}
    status = 200
    communes = _communes(province) if province in {p.code for p in provinces} else []
    if request.method == "POST":
        if "unit_code" in missing and not communes:
            errors["province"] = _("Vui lòng chọn tỉnh, thành phố nơi bạn sinh sống.")
        elif "unit_code" in missing and unit_code not in {c.code for c in communes}:
            if unit_code:  # a commune of another province, or none: choose again from the list
                errors["unit_code"] = message("unit_code.unknown")
        else:
            try:
                with transaction() as tx:
                    sso.complete_profile(tx, user, unit_code=unit_code or None, consent=consent,
                                         now=now())
            except ServiceError as exc:
                errors.update({k: message(v) for k, v in exc.fields.items()})
                status = exc.status
            else:
                session.pop(_INCOMPLETE, None)
                return redirect(_safe(session.pop(_NEXT, None)) or url_for("lms_pages.home"))
    return render_template("lms/sso_complete.html", missing=missing, provinces=provinces, province=province,
                           communes=communes, unit_code=unit_code, consent=consent, errors=errors,
                           name=user.full_name), status


@bp.route("/login/oidc/link", methods=["GET", "POST"])
@limiter.limit("10 per 15 minutes", methods=["POST"], deduct_when=lambda r: r.status_code == 401)
def link() -> ResponseReturnValue:
    """A verified phone equal to an existing login: that account's password, once, links them."""
    pending = session.get(_PENDING)
    if not pending:
        return redirect(url_for("lms_account.login"))
    session_ = db()
    holder = accounts.get_user(session_, pending["user_id"])
    if holder is None:
        session.pop(_PENDING, None)
        return redirect(url_for("lms_account.login"))
    status, error = 200, None
    if request.method == "POST":
        if request.form.get("cancel"):
            session.pop(_PENDING, None)
            return redirect(url_for("lms_account.login"))
        claims = sso.Claims(issuer=pending["issuer"], subject=pending["subject"])
        with transaction() as tx:
            user = sso.link_with_password(tx, claims, holder.id, request.form.get("password", ""), now=now())
        if user is not None:
            session.pop(_PENDING, None)
            return _signed_in(user, pending.get("id_token"), pending.get("next"))
        error, status = message("auth.invalid"), 401
    return render_template("lms/sso_link.html", login=holder.login, provider=_settings().oidc_name,
                           error=error), status


@bp.post("/me/identities/<int:identity_id>/delete")
@login_required
def remove_identity(identity_id: int) -> ResponseReturnValue:
    user = current_account()
    assert user is not None
    try:
        with transaction() as tx:
            sso.remove_identity(tx, user, identity_id, now=now())
    except ServiceError as exc:
        if exc.status == 404:
            abort(404)
        flash(message(exc.key), "warning")
    else:
        flash(_("Đã bỏ liên kết danh tính."), "success")
    return redirect(url_for("lms_account.me"))


def link_more_url() -> dict[str, str] | None:
    """/me's "link another identity" button, when single sign-on is on."""
    if _EXTENSION not in current_app.extensions:
        return None
    return {"url": url_for("lms_sso.start", next=url_for("lms_account.me")),
            "label": _("Liên kết với %(name)s", name=_settings().oidc_name)}


def identity_rows(user: User) -> list[dict[str, Any]]:
    """The person's linked identities for /me, each with its removal URL."""
    return [{"issuer": i.issuer, "subject": i.subject, "protocol": i.protocol, "created": local_date(i.created_at),
             "last_used": local_date(i.last_used_at),
             "remove_url": url_for("lms_sso.remove_identity", identity_id=i.id) if _EXTENSION in current_app.extensions
             else None}
            for i in sso.identities_of(db(), user)]


def password_refusal(user: User) -> str | None:
    """Why this account may not sign in with a password (an official whose unit requires SSO)."""
    if sso.password_allowed(db(), user):
        return None
    return str(FAILURES[sso.Failure.PASSWORD_ONLY][1])


def after_logout() -> ResponseReturnValue | None:
    """After the site's session ends: offer to end the provider's too (RP-initiated logout)
    when its discovery document has an ``end_session_endpoint``. A link, not a redirect: the
    sign-out form may only lead to this site (CSP form-action), and leaving the provider signed
    in is the person's choice on a shared phone."""
    id_token = session.pop(_ID_TOKEN, None)
    client = current_app.extensions.get(_EXTENSION)
    if client is None or not id_token:
        return None
    try:
        end_session = client.load_server_metadata().get("end_session_endpoint")
    except (requests.RequestException, ValueError):
        return None
    if not end_session:
        return None
    url = client.create_logout_url(id_token_hint=id_token, client_id=_settings().oidc_client_id)["url"]
    return render_template("lms/sso_signed_out.html", provider_logout_url=url, provider=_settings().oidc_name)


def sso_policy_view(unit_code: str) -> dict[str, Any] | None:
    """The manager page's switch: officials of this unit sign in only with the provider."""
    if _EXTENSION not in current_app.extensions:
        return None
    return {"unit_code": unit_code, "required": sso.officials_sso_only(db(), unit_code),
            "provider": _settings().oidc_name, "url": url_for("lms_sso.unit_policy")}


@bp.post("/manager/sso")
@login_required
def unit_policy() -> ResponseReturnValue:
    user = current_account()
    assert user is not None
    unit_code = request.form.get("unit", "")
    required = request.form.get("officials_sso_only") == "yes"
    try:
        with transaction() as tx:
            sso.set_officials_sso_only(tx, user, unit_code, required, now=now())
    except ServiceError as exc:
        abort(exc.status)
    flash(_("Đã lưu: cán bộ của đơn vị chỉ đăng nhập bằng %(name)s.", name=_settings().oidc_name) if required
          else _("Đã lưu: cán bộ của đơn vị được đăng nhập bằng mật khẩu."), "success")
    return redirect(url_for("lms_manager.manager_home", unit=unit_code))
