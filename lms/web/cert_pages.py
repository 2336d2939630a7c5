"""Certificate pages: a learner's list and downloads, and the public verification page."""

from __future__ import annotations

from datetime import datetime

from flask import abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from lms.services import certificates, credentials
from lms.services.errors import ServiceError
from lms.services.records import PdfStatus
from lms.web.api import credential_addresses, pdf_response
from lms.web.auth import current_account
from lms.web.db import db, now, state
from lms.web.limits import limiter
from lms.web.page_blueprint import PageBlueprint
from lms.web.pages import long_date

__all__ = ["bp"]

bp = PageBlueprint("lms_certificates", __name__)

STATUS_TEXT = {"valid": _l("Còn hiệu lực"), "expired": _l("Đã hết hạn"), "revoked": _l("Đã bị thu hồi")}


@bp.get("/me/certificates")
@login_required
def my_certificates() -> ResponseReturnValue:
    user = current_account()
    assert user is not None
    rows = [{"course": c.course_title, "code": c.code, "status": certificates.certificate_status(c, now()),
             "issued": long_date(c.issued_at), "ready": c.pdf_status == PdfStatus.READY,
             "pdf": url_for("lms_certificates.certificate_download", code=c.code),
             "verify": url_for("lms_certificates.verify_page", code=c.code)}
            for c in certificates.list_for_user(db(), user)]
    return render_template("lms/my_certificates.html", rows=rows)


@bp.get("/me/certificates/<code>.pdf")
@login_required
def certificate_download(code: str) -> ResponseReturnValue:
    user = current_account()
    assert user is not None
    try:
        cert = certificates.get_own(db(), user, code)
    except ServiceError:
        abort(404)
    if cert.pdf is None:
        abort(404)
    return pdf_response(cert)


@bp.get("/verify")
def verify_form() -> ResponseReturnValue:
    """Type the code printed on a certificate; scanning its QR code opens /verify/CODE directly."""
    typed = "".join(request.args.get("code", "").split()).upper()[:40]
    if typed:
        return redirect(url_for("lms_certificates.verify_page", code=typed))
    return render_template("lms/verify_form.html")


@bp.get("/verify/<code>")
@limiter.limit("60 per minute")
def verify_page(code: str) -> ResponseReturnValue:
    found = certificates.verify(db(), code, now=now())
    if found is None:
        return render_template("lms/verify.html", found=None, code=code[:40]), 404
    view = {"holder": found["holder"], "course": found["course"], "status": found["status"],
            "status_text": str(STATUS_TEXT[found["status"]]),
            "issued": long_date(_parse(found["issued_at"])),
            "expires": long_date(_parse(found["expires_at"])) if found["expires_at"] else None}
    return render_template("lms/verify.html", found=view, code=code[:40], credential=_credential_view(code))


def _credential_view(code: str) -> dict[str, str | None] | None:
    """The digital credential checked as an outside verifier would: signature, signer, status."""
    try:
        check = credentials.verify_credential(db(), code, where=credential_addresses(),
                                              signing=certificates.Signing.from_settings(state().settings), now=now())
    except (OSError, ValueError):  # the signing key unreadable: the record above still stands
        return None
    if not check.signature_ok or not check.our_key:
        state_, text = "invalid", _l("Chữ ký số của chứng nhận điện tử không hợp lệ.")
    elif check.revoked is None:
        state_, text = "unknown", _l("Chữ ký số hợp lệ; chưa đọc được danh sách thu hồi.")
    elif check.revoked:
        state_, text = "revoked", _l("Chữ ký số hợp lệ; danh sách thu hồi ghi chứng nhận này đã bị thu hồi.")
    else:
        state_, text = "valid", _l("Chữ ký số hợp lệ; chứng nhận không có trong danh sách thu hồi.")
    return {"state": state_, "text": str(text), "fingerprint": check.fingerprint, "signer": check.subject,
            "url": url_for("lms_api.certificate_credential_jwt", code=code.strip().upper())}


def _parse(value: str):  # type: ignore[no-untyped-def]
    return datetime.fromisoformat(value)
