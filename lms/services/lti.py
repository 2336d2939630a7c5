"""The LMS as an LTI 1.3 Advantage tool: platform registration, the tool's keys, third-party
login, launch validation, account linking, deep linking, and the scores and rosters of the
Assignment and Grade and the Names and Role Provisioning services.

JOSE is PyJWT's (signatures, ``exp``/``iat``/``aud``/``iss``, JWKS fetching); the checks the LTI
specification adds on top (state and nonce used once, ``azp``, deployment id, version, message
type) are written here, once. The HTTP calls to platforms use the standard library, through one
function that tests and callers may replace."""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from lms.config import Settings
from lms.domain.text import nfc
from lms.jobs import enqueue
from lms.services import audit
from lms.services.errors import Conflict, Invalid, NotFound
from lms.services.unit_of_work import make_sessionmaker
from lms.store import Attempt, Course, Lesson, Quiz, Role, User, direct, make_engine, write_intent
from lms.store.models import (
    Identity,
    LtiContext,
    LtiGradeLink,
    LtiKey,
    LtiLaunchState,
    LtiPlatform,
    LtiScore,
)

__all__ = [
    "AGS_SCORE_SCOPE",
    "DEEP_LINKING",
    "NRPS_SCOPE",
    "RESOURCE_LINK",
    "DeliveryRounds",
    "Launch",
    "LaunchRefused",
    "LoginRedirect",
    "Target",
    "add_platform",
    "begin_login",
    "deep_link_choices",
    "deep_link_row",
    "deep_linking_response",
    "deliver_due",
    "deliver_job",
    "grade_link_sql",
    "has_grade_links",
    "jwks",
    "link_account",
    "list_platforms",
    "platform_origins",
    "record_grading",
    "register_dynamically",
    "registration_allowed",
    "registration_url",
    "remember_launch",
    "remove_platform",
    "resolve_target",
    "roster_sync",
    "rotate_keys",
    "score_counts",
    "validate_launch",
]

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
RESOURCE_LINK = "LtiResourceLinkRequest"
DEEP_LINKING = "LtiDeepLinkingRequest"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
AGS_SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
STATE_LIFETIME = timedelta(minutes=10)  # from third-party login to launch: one browser round trip
CLOCK_SKEW = 60  # seconds allowed between the platform's clock and ours
# A tool key stays in /lti/jwks this long after it stops signing: its deep linking responses and
# client assertions live minutes, so a day is ample for platforms that cache the key set.
RETIRED_KEY_KEPT = timedelta(days=1)
INSTRUCTOR_ROLES = ("#Instructor", "#Administrator", "#ContentDeveloper", "#TeachingAssistant", "#Mentor")

HttpResponse = tuple[int, Mapping[str, str], bytes]
Http = Callable[[str, str, bytes | None, Mapping[str, str]], HttpResponse]


def http_call(method: str, url: str, body: bytes | None, headers: Mapping[str, str]) -> HttpResponse:
    """One HTTP exchange with a platform; any HTTP status is an answer, a network failure raises."""
    if urllib.parse.urlparse(url).scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url!r}")
    req = urllib.request.Request(url, data=body, method=method, headers=dict(headers))  # noqa: S310 - checked above
    try:
        with urllib.request.urlopen(req, timeout=20) as r:  # noqa: S310 - platform URLs are the admin's
            return r.status, dict(r.headers.items()), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers.items()) if e.headers else {}, e.read()


class LaunchRefused(Exception):
    """A launch the specification says to refuse; ``reason`` names which check failed."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


# ---------------------------------------------------------------- platforms

def add_platform(session: Session, *, issuer: str, client_id: str, deployment_id: str, auth_login_url: str,
                 auth_token_url: str, keyset_url: str, name: str = "", now: datetime) -> LtiPlatform:
    """Register a platform, or add a deployment to one already registered for this client id."""
    for label, url in (("issuer", issuer), ("auth_login_url", auth_login_url), ("auth_token_url", auth_token_url),
                       ("keyset_url", keyset_url)):
        if urllib.parse.urlparse(url).scheme not in ("http", "https") or not urllib.parse.urlparse(url).netloc:
            raise Invalid("lti.invalid", {label: "url.invalid"})
    if not client_id.strip() or not deployment_id.strip():
        raise Invalid("lti.invalid", {"client_id" if not client_id.strip() else "deployment_id": "field.required"})
    platform = session.scalar(select(LtiPlatform).where(LtiPlatform.issuer == issuer,
                                                        LtiPlatform.client_id == client_id))
    if platform is None:
        platform = LtiPlatform(issuer=issuer, client_id=client_id, deployment_ids=[], created_at=now,
                               auth_login_url=auth_login_url, auth_token_url=auth_token_url, keyset_url=keyset_url,
                               name=nfc(name or urllib.parse.urlparse(issuer).netloc))
        session.add(platform)
    else:
        platform.auth_login_url, platform.auth_token_url = auth_login_url, auth_token_url
        platform.keyset_url = keyset_url
    if deployment_id not in platform.deployment_ids:
        platform.deployment_ids = [*platform.deployment_ids, deployment_id]
    session.flush()
    return platform


def remove_platform(session: Session, platform_id: int, *, deployment_id: str | None = None,
                    drop_pending_scores: bool = False, now: datetime) -> dict[str, Any]:
    """Stop a platform launching the LMS: one of its deployments, or the whole platform, which
    also goes with its last deployment. With the platform go its unfinished logins, its grade links
    with their scores, and its courses' roster addresses (ON DELETE CASCADE); the accounts its
    launches made stay, with their progress and certificates, and link again if it is registered
    anew. Refused (Conflict) while scores wait to be sent to it, unless ``drop_pending_scores``:
    they could never be delivered."""
    platform = session.get(LtiPlatform, platform_id)
    if platform is None:
        raise NotFound("lti.platform_not_found")
    if deployment_id is not None and deployment_id not in platform.deployment_ids:
        raise NotFound("lti.deployment_not_found")
    if deployment_id is not None and len(platform.deployment_ids) > 1:
        platform.deployment_ids = [d for d in platform.deployment_ids if d != deployment_id]
        audit.record(session, "lti.deployment_remove", "lti_platform", platform.id, now=now, issuer=platform.issuer,
                     client_id=platform.client_id, deployment_id=deployment_id)
        session.flush()
        return {"platform_id": platform.id, "removed": "deployment", "deployment_ids": platform.deployment_ids}
    waiting = session.scalar(select(func.count()).select_from(LtiScore).join(
        LtiGradeLink, LtiScore.link_id == LtiGradeLink.id).where(LtiGradeLink.platform_id == platform.id,
                                                                 LtiScore.status != "sent")) or 0
    if waiting and not drop_pending_scores:
        raise Conflict("lti.scores_pending", {"scores": f"{waiting} not sent yet"})
    audit.record(session, "lti.platform_remove", "lti_platform", platform.id, now=now, issuer=platform.issuer,
                 client_id=platform.client_id, deployment_ids=platform.deployment_ids, scores_dropped=waiting)
    session.execute(delete(LtiPlatform).where(LtiPlatform.id == platform.id))
    session.expunge(platform)
    return {"platform_id": platform_id, "removed": "platform", "scores_dropped": waiting}


def list_platforms(session: Session) -> list[dict[str, Any]]:
    return [{"platform_id": p.id, "issuer": p.issuer, "client_id": p.client_id, "deployment_ids": p.deployment_ids,
             "auth_login_url": p.auth_login_url, "auth_token_url": p.auth_token_url, "keyset_url": p.keyset_url,
             "name": p.name} for p in session.scalars(select(LtiPlatform).order_by(LtiPlatform.id))]


def platform_origins(session: Session) -> list[str]:
    """The origins of the registered platforms: the pages they frame may be framed by them."""
    origins: set[str] = set()
    for issuer, login in session.execute(select(LtiPlatform.issuer, LtiPlatform.auth_login_url)):
        for url in (issuer, login):
            u = urllib.parse.urlparse(url)
            if u.scheme in ("http", "https") and u.netloc:
                origins.add(f"{u.scheme}://{u.netloc}")
    return sorted(origins)


# ---------------------------------------------------------------- the tool's keys

def _new_key(now: datetime, signs_from: datetime) -> LtiKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode("ascii")
    return LtiKey(kid=secrets.token_urlsafe(16), private_pem=pem, created_at=now, signs_from=signs_from)


def _published(session: Session, now: datetime, *, create: bool = True) -> list[LtiKey]:
    keys = list(session.scalars(select(LtiKey).where(or_(LtiKey.signs_until.is_(None),
                                                         LtiKey.signs_until > now - RETIRED_KEY_KEPT))
                                .order_by(LtiKey.created_at)))
    if not keys and create:
        key = _new_key(now, now)
        session.add(key)
        session.flush()
        keys = [key]
    return keys


def _signing_key(session: Session, now: datetime) -> LtiKey:
    usable = [k for k in _published(session, now)
              if k.signs_from <= now and (k.signs_until is None or k.signs_until > now)]
    if not usable:  # only keys not yet active: the one due first signs rather than nothing
        usable = [min(_published(session, now), key=lambda k: k.signs_from)]
    return max(usable, key=lambda k: k.signs_from)


@functools.lru_cache(maxsize=16)
def _private_key(kid: str, pem: str) -> rsa.RSAPrivateKey:
    """A key pair parsed once per process: loading a PEM checks the RSA key, which takes tens of
    milliseconds, and every signature and every /lti/jwks would pay it again."""
    private = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    return private


def jwks(session: Session, now: datetime, *, create: bool = True) -> dict[str, Any]:
    """The tool's public keys, the next one included before it signs anything (the first key
    pair is made here unless ``create`` is false)."""
    keys = []
    for k in _published(session, now, create=create):
        public = _private_key(k.kid, k.private_pem).public_key()
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public))
        jwk.pop("key_ops", None)  # RFC 7517: not beside "use"
        keys.append({**jwk, "kid": k.kid, "alg": "RS256", "use": "sig"})
    return {"keys": keys}


def rotate_keys(session: Session, *, now: datetime, grace: timedelta = timedelta(days=1)) -> dict[str, Any]:
    """Publish a new key now; it signs from ``now + grace``, when the keys signing today stop."""
    current = _published(session, now)
    new = _new_key(now, now + grace)
    session.add(new)
    for k in current:
        if k.signs_until is None or k.signs_until > new.signs_from:
            k.signs_until = new.signs_from
    session.flush()
    return {"kid": new.kid, "signs_from": new.signs_from.isoformat(), "published": [k.kid for k in current] + [new.kid]}


def _sign(session: Session, claims: dict[str, Any], now: datetime) -> str:
    key = _signing_key(session, now)
    return jwt.encode(claims, _private_key(key.kid, key.private_pem), algorithm="RS256", headers={"kid": key.kid})


# ---------------------------------------------------------------- third-party initiated login

@dataclass(frozen=True)
class LoginRedirect:
    url: str
    state: str
    browser_token: str


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _platform_for(session: Session, issuer: str, client_id: str | None) -> LtiPlatform:
    query = select(LtiPlatform).where(LtiPlatform.issuer == issuer)
    if client_id:
        query = query.where(LtiPlatform.client_id == client_id)
    platforms = list(session.scalars(query.order_by(LtiPlatform.id)))
    if len(platforms) != 1:  # none, or several client ids with no client_id to choose
        raise LaunchRefused("platform", issuer)
    return platforms[0]


def begin_login(session: Session, params: Mapping[str, str], *, redirect_uri: str, now: datetime) -> LoginRedirect:
    """Answer a platform's login initiation: remember a fresh state and nonce, and send the
    browser to the platform's authorization endpoint with the OIDC parameters."""
    issuer, login_hint = params.get("iss", ""), params.get("login_hint", "")
    if not issuer or not login_hint:
        raise LaunchRefused("login", "iss and login_hint are required")
    platform = _platform_for(session, issuer, params.get("client_id"))
    deployment = params.get("lti_deployment_id")
    if deployment and deployment not in platform.deployment_ids:
        raise LaunchRefused("deployment", deployment)
    state, nonce, browser = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.execute(delete(LtiLaunchState).where(LtiLaunchState.created_at < now - 6 * STATE_LIFETIME))
    session.add(LtiLaunchState(state=state, nonce=nonce, platform_id=platform.id, browser_hash=_sha(browser),
                               created_at=now))
    session.flush()
    query = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
             "client_id": platform.client_id, "redirect_uri": redirect_uri, "login_hint": login_hint,
             "state": state, "nonce": nonce}
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    sep = "&" if urllib.parse.urlparse(platform.auth_login_url).query else "?"
    return LoginRedirect(platform.auth_login_url + sep + urllib.parse.urlencode(query), state, browser)


# ---------------------------------------------------------------- launch

@dataclass
class Launch:
    platform_id: int
    issuer: str
    client_id: str
    deployment_id: str
    message_type: str
    claims: dict[str, Any] = field(repr=False)

    @property
    def subject(self) -> str:
        return str(self.claims.get("sub") or "")

    @property
    def custom(self) -> dict[str, Any]:
        value = self.claims.get(LTI + "custom")
        return value if isinstance(value, dict) else {}

    @property
    def roles(self) -> list[str]:
        value = self.claims.get(LTI + "roles")
        return [str(r) for r in value] if isinstance(value, list) else []

    @property
    def is_instructor(self) -> bool:
        return any(r.endswith(suffix) for r in self.roles for suffix in INSTRUCTOR_ROLES)


class _KeySets:
    """The platforms' key sets, fetched on first use and kept a few minutes; a kid not in the
    cached set makes PyJWT fetch the set again (the platform rotated its key)."""

    def __init__(self) -> None:
        self._clients: dict[str, jwt.PyJWKClient] = {}
        self._lock = threading.Lock()

    def key(self, url: str, kid: str | None) -> Any:
        with self._lock:
            client = self._clients.get(url)
            if client is None:
                client = self._clients[url] = jwt.PyJWKClient(url, cache_jwk_set=True, lifespan=300, timeout=15)
        if kid:
            return client.get_signing_key(kid).key
        keys = client.get_signing_keys()
        if len(keys) != 1:
            raise jwt.PyJWKClientError("the id_token names no kid and the key set holds several keys")
        return keys[0].key


KEY_SETS = _KeySets()


def validate_launch(session: Session, *, id_token: str, state: str, browser_token: str | None,
                    allow_cookieless: bool, now: datetime, key_for: Callable[[str, str | None], Any] | None = None
                    ) -> Launch:
    """Every check of the LTI 1.3 core and security framework specifications, in the order that
    spends the state only on a launch that is otherwise valid."""
    row = session.get(LtiLaunchState, state) if state and len(state) <= 64 else None
    if row is None:
        raise LaunchRefused("state")
    if row.used_at is not None:
        raise LaunchRefused("replay")
    if row.created_at < now - STATE_LIFETIME:
        raise LaunchRefused("state_expired")
    if browser_token is not None:
        if not secrets.compare_digest(_sha(browser_token), row.browser_hash or ""):
            raise LaunchRefused("browser")
    elif not allow_cookieless:
        raise LaunchRefused("browser")
    platform = session.get(LtiPlatform, row.platform_id)
    if platform is None:
        raise LaunchRefused("platform")
    try:
        header = jwt.get_unverified_header(id_token)
    except jwt.InvalidTokenError as exc:
        raise LaunchRefused("signature", str(exc)) from exc
    if header.get("alg") != "RS256":
        raise LaunchRefused("signature", f"alg {header.get('alg')!r}")
    try:
        key = (key_for or KEY_SETS.key)(platform.keyset_url, header.get("kid"))
    except (jwt.PyJWKClientError, jwt.InvalidKeyError) as exc:
        raise LaunchRefused("signature", str(exc)) from exc
    try:
        claims: dict[str, Any] = jwt.decode(
            id_token, key, algorithms=["RS256"], audience=platform.client_id, issuer=platform.issuer,
            leeway=CLOCK_SKEW, options={"require": ["exp", "iat", "iss", "aud", "nonce"]})
    except jwt.ExpiredSignatureError as exc:
        raise LaunchRefused("expired", str(exc)) from exc
    except jwt.InvalidAudienceError as exc:
        raise LaunchRefused("audience", str(exc)) from exc
    except jwt.InvalidIssuerError as exc:
        raise LaunchRefused("platform", str(exc)) from exc
    except jwt.InvalidSignatureError as exc:
        raise LaunchRefused("signature", str(exc)) from exc
    except jwt.InvalidTokenError as exc:
        raise LaunchRefused("token", str(exc)) from exc
    iat = claims.get("iat")
    if not isinstance(iat, (int, float)) or iat > now.timestamp() + CLOCK_SKEW:
        raise LaunchRefused("token", "iat in the future")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    azp = claims.get("azp")
    if (len(audiences) > 1 and azp is None) or (azp is not None and azp != platform.client_id):
        raise LaunchRefused("audience", f"azp {azp!r}")
    if not secrets.compare_digest(str(claims.get("nonce")), row.nonce):
        raise LaunchRefused("nonce")
    if claims.get(LTI + "version") != "1.3.0":
        raise LaunchRefused("version", str(claims.get(LTI + "version")))
    deployment = str(claims.get(LTI + "deployment_id") or "")
    if deployment not in platform.deployment_ids:
        raise LaunchRefused("deployment", deployment)
    message_type = str(claims.get(LTI + "message_type") or "")
    if message_type not in (RESOURCE_LINK, DEEP_LINKING):
        raise LaunchRefused("message_type", message_type)
    link = claims.get(LTI + "resource_link")
    if message_type == RESOURCE_LINK and (not claims.get("sub") or not isinstance(link, dict) or not link.get("id")):
        raise LaunchRefused("token", "a resource link launch needs sub and resource_link.id")
    spent = session.execute(update(LtiLaunchState)
                            .where(LtiLaunchState.state == state, LtiLaunchState.used_at.is_(None))
                            .values(used_at=now).execution_options(synchronize_session=False))
    if getattr(spent, "rowcount", 0) != 1:  # another worker took this very launch a moment ago
        raise LaunchRefused("replay")
    return Launch(platform_id=platform.id, issuer=platform.issuer, client_id=platform.client_id,
                  deployment_id=deployment, message_type=message_type, claims=claims)


def _name_from(claims: Mapping[str, Any]) -> str:
    name = str(claims.get("name") or " ".join(str(claims.get(k) or "") for k in ("given_name", "family_name"))).strip()
    return nfc(name)[:200] or "Người học"


def _account_for(session: Session, *, issuer: str, subject: str, name: str, instructor: bool,
                 now: datetime) -> tuple[User, bool]:
    """The account linked to issuer + subject, created on first sight; the role follows the
    platform's: Instructor makes a trainer (a citizen is promoted), Learner a citizen; an official,
    manager or admin keeps their role."""
    identity = session.scalar(select(Identity).where(Identity.issuer == issuer, Identity.subject == subject))
    created = False
    if identity is None:
        login = "lti-" + _sha(f"{issuer}\n{subject}")[:24]
        role = Role.TRAINER if instructor else Role.CITIZEN
        user = User(login=login, full_name=name, role=role.value, created_at=now,
                    password_hash="!lti")  # noqa: S106 - a hash starting "!" matches no password
        session.add(user)
        session.flush()
        identity = Identity(user_id=user.id, protocol="lti", issuer=issuer, subject=subject, created_at=now)
        session.add(identity)
        created = True
    linked = session.get(User, identity.user_id)
    assert linked is not None
    user = linked
    if instructor and user.role == Role.CITIZEN:
        user.role = Role.TRAINER.value
    identity.last_used_at = now
    session.flush()
    return user, created


def link_account(session: Session, launch: Launch, *, now: datetime) -> User:
    user, _ = _account_for(session, issuer=launch.issuer, subject=launch.subject, name=_name_from(launch.claims),
                           instructor=launch.is_instructor, now=now)
    if not user.is_active:
        raise LaunchRefused("account")
    return user


@dataclass(frozen=True)
class Target:
    kind: str  # course | lesson | quiz
    id: str


def resolve_target(session: Session, launch: Launch) -> Target | None:
    """What the launch opens: the custom parameter ``lms_target`` (set by the platform's
    administrator, or by a deep-linked item); None when it names nothing."""
    raw = str(launch.custom.get("lms_target") or "").strip()
    kind, _, ident = raw.partition(":")
    model = {"course": Course, "lesson": Lesson, "quiz": Quiz}.get(kind)
    if model is None or not ident:
        return None
    row = session.get(model, ident)
    if row is None or not getattr(row, "published", True):
        raise NotFound("lti.target_not_found")
    return Target(kind, ident)


def remember_launch(session: Session, launch: Launch, user: User, target: Target | None, *, now: datetime) -> None:
    """Keep what later services need: the line item a quiz's grading goes to, and the course's
    roster service."""
    context = launch.claims.get(LTI + "context")
    nrps = launch.claims.get(NRPS_CLAIM)
    if isinstance(context, dict) and context.get("id"):
        row = session.scalar(select(LtiContext).where(LtiContext.platform_id == launch.platform_id,
                                                      LtiContext.context_id == str(context["id"])))
        if row is None:
            row = LtiContext(platform_id=launch.platform_id, context_id=str(context["id"])[:255], updated_at=now)
            session.add(row)
        row.title = nfc(str(context.get("title") or ""))[:300]
        if isinstance(nrps, dict) and nrps.get("context_memberships_url"):
            row.memberships_url = str(nrps["context_memberships_url"])[:1000]
        row.updated_at = now
    ags = launch.claims.get(AGS_CLAIM)
    if target is None or target.kind != "quiz" or not isinstance(ags, dict) or not ags.get("lineitem"):
        session.flush()
        return
    if AGS_SCORE_SCOPE not in (ags.get("scope") or []):
        session.flush()
        return
    lineitem = str(ags["lineitem"])[:1000]
    link = session.scalar(select(LtiGradeLink).where(LtiGradeLink.user_id == user.id, LtiGradeLink.quiz_id == target.id,
                                                     LtiGradeLink.lineitem == lineitem))
    if link is None:
        session.add(LtiGradeLink(platform_id=launch.platform_id, user_id=user.id, quiz_id=target.id,
                                 lineitem=lineitem, subject=launch.subject, launched_at=now))
    else:
        link.launched_at, link.subject = now, launch.subject
    session.flush()


# ---------------------------------------------------------------- deep linking

def deep_linking_response(session: Session, *, platform_id: int, deployment_id: str, data: str | None,
                          items: list[dict[str, Any]], now: datetime) -> str:
    """The signed LtiDeepLinkingResponse that carries the picked items back to the platform."""
    platform = session.get(LtiPlatform, platform_id)
    if platform is None:
        raise NotFound("lti.platform_not_found")
    claims: dict[str, Any] = {
        "iss": platform.client_id, "aud": [platform.issuer], "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + 600, "nonce": secrets.token_urlsafe(16), "jti": uuid.uuid4().hex,
        LTI + "message_type": "LtiDeepLinkingResponse", LTI + "version": "1.3.0",
        LTI + "deployment_id": deployment_id,
        "https://purl.imsglobal.org/spec/lti-dl/claim/content_items": items,
    }
    if data is not None:
        claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"] = data
    return _sign(session, claims, now)


def deep_link_item(*, kind: str, ident: str, title: str, launch_url: str, with_score: bool) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "ltiResourceLink", "title": title, "url": launch_url,
                            "custom": {"lms_target": f"{kind}:{ident}"}}
    if with_score:  # the platform makes a gradebook column for the quiz
        item["lineItem"] = {"scoreMaximum": 100, "label": title, "resourceId": f"{kind}:{ident}"}
    return item


# ---------------------------------------------------------------- assignment and grade services

def grade_link_sql(user: str = ":user", quiz: str = ":quiz") -> str:
    """SQL for a line item this learner launched this quiz with; ``user`` and ``quiz`` name
    parameters, or columns of an outer query (a submission on PostgreSQL: lms.services.quizzes)."""
    return (f"SELECT 1 FROM lti_grade_links WHERE user_id = {direct.name(user)} "  # noqa: S608 (names checked)
            f"AND quiz_id = {direct.name(quiz)} LIMIT 1")


_ANY_GRADE_LINK = direct.Sql(grade_link_sql())


def has_grade_links(on: direct.On, user_id: int, quiz_id: str) -> bool:
    """Whether this learner opened this quiz from a platform launch that carried a line item."""
    return direct.execute(on, _ANY_GRADE_LINK, {"user": user_id, "quiz": quiz_id}).fetchone() is not None


def record_grading(session: Session, attempt: Attempt, *, now: datetime) -> int:
    """In the grading's own transaction: one score to send per line item this quiz was launched
    with for this learner. Returns how many were queued."""
    if not has_grade_links(session, attempt.user_id, attempt.quiz_id):
        return 0  # most gradings: the quiz was not launched from a platform (one indexed read, no ORM)
    links = session.scalars(select(LtiGradeLink).where(LtiGradeLink.user_id == attempt.user_id,
                                                       LtiGradeLink.quiz_id == attempt.quiz_id)).all()
    maximum = float(attempt.max_score or 0)
    if not links or maximum <= 0:
        return 0
    given = min(max(float(attempt.score or 0), 0.0), maximum)
    stamp = (attempt.submitted_at or now).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    for link in links:
        body = {"scoreGiven": round(given, 4), "scoreMaximum": round(maximum, 4), "activityProgress": "Completed",
                "gradingProgress": "FullyGraded", "userId": link.subject, "timestamp": stamp}
        session.add(LtiScore(attempt_id=attempt.id, link_id=link.id, body=body, status="pending", tries=0,
                             next_try_at=now, created_at=now))
    session.flush()
    return len(links)


def _backoff(tries: int) -> timedelta:
    return timedelta(seconds=min(15 * 2 ** max(tries - 1, 0), 6 * 3600))


SENDING_LEASE = timedelta(minutes=2)  # a send that takes longer belongs to a process that died


class _Tokens:
    """Access tokens the platforms issued, reused until shortly before they expire."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> str | None:
        with self._lock:
            found = self._tokens.get(key)
        return found[0] if found and found[1] > time.monotonic() else None

    def put(self, key: tuple[str, str, str], token: str, lifetime: float) -> None:
        with self._lock:
            self._tokens[key] = (token, time.monotonic() + max(lifetime - 30, 0))

    def drop(self, key: tuple[str, str, str]) -> None:
        with self._lock:
            self._tokens.pop(key, None)


TOKENS = _Tokens()


def access_token(session: Session, platform: LtiPlatform, scope: str, *, now: datetime, http: Http = http_call) -> str:
    """A token by the client credentials grant with a JWT assertion signed by the tool's key."""
    key = (platform.auth_token_url, platform.client_id, scope)
    cached = TOKENS.get(key)
    if cached:
        return cached
    assertion = _sign(session, {"iss": platform.client_id, "sub": platform.client_id, "aud": platform.auth_token_url,
                                "iat": int(now.timestamp()), "exp": int(now.timestamp()) + 300,
                                "jti": uuid.uuid4().hex}, now)
    form = urllib.parse.urlencode({
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion, "scope": scope}).encode()
    status, _, body = http("POST", platform.auth_token_url, form, {
        "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})
    if status != 200:
        raise RuntimeError(f"token endpoint answered {status}: {body[:300]!r}")
    answer = json.loads(body)
    token = str(answer["access_token"])
    TOKENS.put(key, token, float(answer.get("expires_in") or 3600))
    return token


def _scores_url(lineitem: str) -> str:
    u = urllib.parse.urlparse(lineitem)
    return urllib.parse.urlunparse(u._replace(path=u.path.rstrip("/") + "/scores"))


def _send_one(session: Session, row: LtiScore, *, now: datetime, http: Http) -> None:
    link = session.get(LtiGradeLink, row.link_id)
    platform = session.get(LtiPlatform, link.platform_id) if link else None
    if link is None or platform is None:
        raise RuntimeError("the platform or line item is no longer registered")
    token = access_token(session, platform, AGS_SCORE_SCOPE, now=now, http=http)
    status, _, body = http("POST", _scores_url(link.lineitem), json.dumps(row.body).encode(), {
        "Content-Type": "application/vnd.ims.lis.v1.score+json", "Authorization": f"Bearer {token}"})
    if status == 401:
        TOKENS.drop((platform.auth_token_url, platform.client_id, AGS_SCORE_SCOPE))
    if not 200 <= status < 300:
        raise RuntimeError(f"the line item answered {status}: {body[:300]!r}")


def deliver_due(sessions: sessionmaker[Session], *, now: Callable[[], datetime], http: Http = http_call,
                limit: int = 50) -> dict[str, int]:
    """Send the scores that are due, each claimed first by a conditional update (so two workers
    never send one), each outcome committed on its own. Returns {"sent", "failed", "pending"}."""
    sent = failed = 0
    with write_intent(False), sessions() as session, session.begin():  # a look only: no write lock
        at = now()
        due = list(session.scalars(select(LtiScore.id).where(
            or_(LtiScore.status == "pending", LtiScore.status == "sending"), LtiScore.next_try_at <= at)
            .order_by(LtiScore.next_try_at).limit(limit)))
    for score_id in due:
        with write_intent(True), sessions() as session, session.begin():
            at = now()
            claimed = session.execute(update(LtiScore).where(
                LtiScore.id == score_id, LtiScore.status.in_(("pending", "sending")), LtiScore.next_try_at <= at)
                .values(status="sending", next_try_at=at + SENDING_LEASE, tries=LtiScore.tries + 1)
                .execution_options(synchronize_session=False))
            if getattr(claimed, "rowcount", 0) == 1:
                _signing_key(session, at)  # made now if missing, so the send below writes nothing
        if getattr(claimed, "rowcount", 0) != 1:
            continue
        # the platform is called outside any write transaction: on SQLite a write lock held
        # across a slow platform would stall every other writer of the site
        error = None
        with write_intent(False), sessions() as session, session.begin():
            row = session.get(LtiScore, score_id)
            assert row is not None
            try:
                _send_one(session, row, now=now(), http=http)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"[:2000]
        with write_intent(True), sessions() as session, session.begin():
            row = session.get(LtiScore, score_id)
            assert row is not None
            if error is None:
                row.status, row.sent_at, row.last_error = "sent", now(), None
                sent += 1
            else:
                row.status, row.next_try_at, row.last_error = "pending", now() + _backoff(row.tries), error
                failed += 1
    with write_intent(False), sessions() as session:
        pending = len(session.scalars(select(LtiScore.id).where(LtiScore.status != "sent")).all())
    return {"sent": sent, "failed": failed, "pending": pending}


def score_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(LtiScore.status, LtiScore.id)).all()
    counts = {"pending": 0, "sending": 0, "sent": 0}
    for status, _ in rows:
        counts[status] = counts.get(status, 0) + 1
    return counts


def next_due(session: Session) -> datetime | None:
    return session.scalar(select(LtiScore.next_try_at).where(LtiScore.status != "sent")
                          .order_by(LtiScore.next_try_at).limit(1))


def deliver_job() -> dict[str, int]:
    """The Redis queue's entry point (run by `lms worker`): send what is due, with this
    process's settings."""
    engine = make_engine(Settings.load().database_url)
    try:
        return deliver_due(make_sessionmaker(engine), now=lambda: datetime.now(UTC))
    finally:
        engine.dispose()


@dataclass
class DeliveryRounds:
    """What a web process does every few seconds for the score outbox: with Redis, hand the
    sending to the queue's workers when something is due (at most once per ``requeue_after``, the
    rows' claim keeps two workers from sending one score); without Redis, send here."""

    sessions: Callable[[], sessionmaker[Session]]
    redis_url: str | None
    now: Callable[[], datetime]
    requeue_after: float = 10.0
    _last_enqueued: float = field(default=-1e9, repr=False)

    def __call__(self) -> float:
        sessions = self.sessions()
        if not self.redis_url:
            deliver_due(sessions, now=self.now)
        with write_intent(False), sessions() as session:
            due = next_due(session)
        if due is None:
            return 30.0
        wait = (due - self.now()).total_seconds()
        if self.redis_url and wait <= 0:
            if time.monotonic() - self._last_enqueued >= self.requeue_after:
                enqueue(self.redis_url, "lms.services.lti.deliver_job")
                self._last_enqueued = time.monotonic()
            return self.requeue_after
        return max(wait, 0.2)


# ---------------------------------------------------------------- names and role provisioning

def roster_sync(session: Session, *, now: datetime, http: Http = http_call) -> dict[str, Any]:
    """Read the members of every platform course seen in a launch (NRPS 2.0, following the
    ``Link: rel="next"`` pages) and link an account to each, as a launch would."""
    report: dict[str, Any] = {"contexts": 0, "members": 0, "created": 0, "errors": []}
    for context in session.scalars(select(LtiContext).where(LtiContext.memberships_url.is_not(None))).all():
        platform = session.get(LtiPlatform, context.platform_id)
        if platform is None or not context.memberships_url:
            continue
        url: str | None = context.memberships_url
        try:
            token = access_token(session, platform, NRPS_SCOPE, now=now, http=http)
            while url:
                status, headers, body = http("GET", url, None, {
                    "Accept": "application/vnd.ims.lti-nrps.v2.membershipcontainer+json",
                    "Authorization": f"Bearer {token}"})
                if status != 200:
                    raise RuntimeError(f"{url} answered {status}")
                for member in json.loads(body).get("members", []):
                    if member.get("status", "Active") != "Active" or not member.get("user_id"):
                        continue
                    roles = [str(r) for r in member.get("roles", [])]
                    _, created = _account_for(session, issuer=platform.issuer, subject=str(member["user_id"]),
                                              name=_name_from(member), now=now,
                                              instructor=any(r.endswith(s) for r in roles for s in INSTRUCTOR_ROLES))
                    report["members"] += 1
                    report["created"] += int(created)
                url = _next_link(headers)
            report["contexts"] += 1
        except Exception as exc:
            report["errors"].append(f"{context.context_id}: {type(exc).__name__}: {exc}")
    return report


def _next_link(headers: Mapping[str, str]) -> str | None:
    link = next((v for k, v in headers.items() if k.lower() == "link"), "")
    for part in link.split(","):
        if 'rel="next"' in part and "<" in part:
            return part[part.index("<") + 1:part.index(">")]
    return None


# ---------------------------------------------------------------- dynamic registration

REGISTRATION_SALT = "lms-lti-dynamic-registration"


def registration_url(base_url: str, *, secret_key: str, days: int = 7) -> dict[str, str | int]:
    """The URL an LMS administrator gives to a platform's administrator for Dynamic Registration:
    it carries a signed grant, so that nobody else can register a platform by opening it."""
    grant = URLSafeTimedSerializer(secret_key, salt=REGISTRATION_SALT).dumps({"days": days})
    return {"url": f"{base_url}/lti/register?{urllib.parse.urlencode({'grant': grant})}", "valid_days": days}


def registration_allowed(grant: str, *, secret_key: str) -> bool:
    signer = URLSafeTimedSerializer(secret_key, salt=REGISTRATION_SALT)
    try:
        days = int(signer.loads(grant, max_age=None)["days"])
        signer.loads(grant, max_age=days * 86400)
    except (BadSignature, KeyError, TypeError, ValueError):
        return False
    return True


def register_dynamically(session: Session, *, openid_configuration: str, registration_token: str | None,
                         tool: Mapping[str, str], tool_name: str, now: datetime, http: Http = http_call
                         ) -> LtiPlatform:
    """LTI Dynamic Registration: read the platform's configuration, register the tool there, and
    register the platform here with the client id and deployment the platform answered."""
    status, _, body = http("GET", openid_configuration, None, {"Accept": "application/json"})
    if status != 200:
        raise Invalid("lti.registration_failed", {"openid_configuration": f"HTTP {status}"})
    conf = json.loads(body)
    issuer = str(conf.get("issuer") or "")
    if not issuer or not openid_configuration.startswith(issuer.rstrip("/")):
        # the spec: the configuration URL must begin with the issuer it declares
        raise Invalid("lti.registration_failed", {"issuer": issuer or "missing"})
    platform_conf = conf.get("https://purl.imsglobal.org/spec/lti-platform-configuration") or {}
    scopes = [s for s in (AGS_SCORE_SCOPE, "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                          "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly", NRPS_SCOPE)
              if s in (conf.get("scopes_supported") or [s])]
    domain = urllib.parse.urlparse(tool["launch_url"]).netloc
    registration = {
        "application_type": "web", "response_types": ["id_token"], "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": tool["login_url"], "redirect_uris": [tool["launch_url"], tool["deep_linking_url"]],
        "client_name": tool_name, "jwks_uri": tool["jwks_url"], "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
        "https://purl.imsglobal.org/spec/lti-tool-configuration": {
            "domain": domain, "target_link_uri": tool["launch_url"],
            "claims": ["iss", "sub", "name", "given_name", "family_name"],
            "messages": [{"type": DEEP_LINKING, "target_link_uri": tool["deep_linking_url"], "label": tool_name,
                          "placements": ["ContentArea"], "supported_types": ["ltiResourceLink"]}],
            "description": "Bình dân học vụ số: khoá học và bài kiểm tra",
        },
    }
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    status, _, body = http("POST", str(conf["registration_endpoint"]), json.dumps(registration).encode(), headers)
    if status not in (200, 201):
        raise Invalid("lti.registration_failed", {"registration_endpoint": f"HTTP {status}: {body[:200]!r}"})
    answer = json.loads(body)
    tool_conf = answer.get("https://purl.imsglobal.org/spec/lti-tool-configuration") or {}
    deployment = str(tool_conf.get("deployment_id") or "1")
    return add_platform(session, issuer=issuer, client_id=str(answer["client_id"]), deployment_id=deployment,
                        auth_login_url=str(conf["authorization_endpoint"]),
                        auth_token_url=str(conf["token_endpoint"]), keyset_url=str(conf["jwks_uri"]),
                        name=str(platform_conf.get("product_family_code") or ""), now=now)


def deep_link_choices(session: Session) -> tuple[list[Course], list[Quiz]]:
    """What a teacher on the platform may pick to link: the published courses and quizzes."""
    courses = session.scalars(select(Course).where(Course.published.is_(True)).order_by(Course.position)).all()
    quizzes = session.scalars(select(Quiz).where(Quiz.published.is_(True)).order_by(Quiz.course_id, Quiz.id)).all()
    return list(courses), list(quizzes)


def deep_link_row(session: Session, kind: str, ident: str) -> Quiz | Course | None:
    """The quiz or course a picked ``kind:ident`` value names, if it exists."""
    if kind == "quiz":
        return session.get(Quiz, ident)
    if kind == "course":
        return session.get(Course, ident)
    return None
