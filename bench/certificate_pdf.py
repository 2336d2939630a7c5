"""How long one certificate PDF takes, against a baseline measured in the same run.

Baseline: WeasyPrint rendering a one-line HTML page with the same fonts, as a plain
``HTML(string=...).write_pdf()`` does it (a font configuration of its own per page). Measured: the
full certificate (template, QR code, embedded subset fonts) and its PAdES signature, with what
the renderer and the signer keep between certificates already loaded, as in a running worker.
Goals (issue 14): render + sign at most 2x the baseline, the signature at most 10 ms.
Run: .venv/bin/python bench/certificate_pdf.py [N]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration

from lms.certificates.render import CertificateView, render_pdf
from lms.certificates.signing import ensure_dev_signer, sign_pdf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import timed


def main(n: int) -> None:
    view = CertificateView(holder="Nguyễn Thị Hồng Nhung", course="Dịch vụ công trực tuyến và định danh điện tử",
                           version="2026.1", competences=[{"code": "2.3", "label": "Giao tiếp"}],
                           issuer="Sở KH&CN", place="Vĩnh Long", signatory="Giám đốc",
                           date="ngày 25 tháng 11 năm 2026", expires=None, code="ABCDEFGHJKLMNPQRSTUV",
                           verify_url="https://hoc.example.vn/verify/ABCDEFGHJKLMNPQRSTUV")
    key, cert = ensure_dev_signer(Path(tempfile.mkdtemp()), "Bench")
    render_pdf(view)  # warm fonts and caches
    line = "<p style='font-family:DejaVu Sans'>Xin chào</p>"
    base = timed(lambda: HTML(string=line).write_pdf(), n)
    fonts = FontConfiguration()
    base_kept = timed(lambda: HTML(string=line).write_pdf(font_config=fonts), n)
    pdf = render_pdf(view)
    sign_pdf(pdf, key_path=key, cert_path=cert, reason="bench", location="VN")  # load the signer
    render = timed(lambda: render_pdf(view), n)
    sign = timed(lambda: sign_pdf(pdf, key_path=key, cert_path=cert, reason="bench", location="VN"), n)
    b, k, r, s = (statistics.median(x) for x in (base, base_kept, render, sign))
    print(f"baseline one-line page: {b * 1000:.1f} ms (median of {n})")
    print(f"  (the same page with its font configuration kept: {k * 1000:.1f} ms, for reference)")
    print(f"certificate render:     {r * 1000:.1f} ms ({r / b:.1f}x baseline)")
    print(f"PAdES signature:        {s * 1000:.1f} ms ({s / b:.1f}x baseline; goal 10 ms: "
          f"{'met' if s <= 0.010 else f'{s / 0.010:.1f}x the goal'})")
    print(f"render + sign:          {(r + s) * 1000:.1f} ms = {(r + s) / b:.1f}x baseline (goal 2x: "
          f"{'met' if r + s <= 2 * b else 'not met'})")
    print(f"one worker: about {1 / (r + s):.1f} certificates/s, {3600 / (r + s):.0f} per hour")

if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
