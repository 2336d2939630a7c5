"""A unit's target report as a PDF a department can attach to its submission (WeasyPrint, with
the same sandboxed fetcher as the certificates: nothing outside the template folder is read)."""

from __future__ import annotations

from typing import Any

import jinja2

from lms.certificates.render import TEMPLATES, safe_fetcher

__all__ = ["render_report_pdf"]


def render_report_pdf(view: dict[str, Any]) -> bytes:
    """``view`` holds ready-made values (see lms.services.report_export); text is escaped."""
    from weasyprint import HTML

    folder = (TEMPLATES / "report").resolve()
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(folder), autoescape=True)
    html = env.get_template("report.html").render(**view)
    document = HTML(string=html, base_url=folder.as_uri() + "/", url_fetcher=safe_fetcher(folder))
    pdf: bytes = document.write_pdf(attachments=[])
    return pdf
