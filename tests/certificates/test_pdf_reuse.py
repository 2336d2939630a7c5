"""The renderer keeps WeasyPrint's font configuration and parsed stylesheets between documents, and
the signer its key and constant signed attribute: each certificate must still carry its own text,
drawn with glyphs its own embedded fonts hold, and a signature that verifies, also when two threads
render at once."""

from __future__ import annotations

import io
import re
import threading
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature

from lms.certificates.render import CertificateView, render_pdf
from lms.certificates.signing import ensure_dev_signer, sign_pdf

PEOPLE = [("Nguyễn Thị Hồng Nhung", "An toàn trên không gian mạng"),
          ("Đặng Quỳnh Như", "Dịch vụ công trực tuyến"),
          ("Lê Văn Tám", "Thương mại điện tử cho hộ kinh doanh"),
          ("Hoàng Đức Phước", "Khai thác thông tin số")]


def _view(holder: str, course: str) -> CertificateView:
    return CertificateView(holder=holder, course=course, version="2026.1",
                           competences=[{"code": "4.2", "label": "An toàn"}], issuer="Sở KH&CN",
                           place="Vĩnh Long", signatory="Giám đốc", date="ngày 25 tháng 11 năm 2026",
                           expires=None, code="ABCDEFGHJKLMNPQRSTUV", verify_url="http://127.0.0.1:5000/verify/X")


def _drawn(pdf: bytes) -> tuple[str, list[str]]:
    """The text the first page draws (through each font's ToUnicode map) and, per font, the
    problems found: a glyph drawn that its embedded subset font does not hold."""
    page = PdfFileReader(io.BytesIO(pdf)).root["/Pages"]["/Kids"][0].get_object()
    unicode: dict[str, dict[str, str]] = {}
    outlines: dict[str, TTFont] = {}
    for name, ref in page["/Resources"]["/Font"].items():
        font = ref.get_object()
        cmap = font["/ToUnicode"].get_object().data.decode("latin-1")
        unicode[name] = {gid.lower(): bytes.fromhex(u).decode("utf-16-be")
                         for gid, u in re.findall(r"<([0-9a-fA-F]{4})>\s*<([0-9a-fA-F]+)>", cmap)}
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        outlines[name] = TTFont(io.BytesIO(descriptor["/FontFile2"].get_object().data))
    text, problems, font_name = [], [], ""
    for token in re.finditer(rb"/(\S+) [\d.]+ Tf|\[([^\]]*)\] TJ", page["/Contents"].get_object().data):
        if token.group(1):
            font_name = "/" + token.group(1).decode()
            continue
        for gid in re.findall(rb"<([0-9a-f]{4})>", token.group(2)):
            char = unicode[font_name].get(gid.decode(), "\ufffd")
            text.append(char)
            glyphs = outlines[font_name]
            glyph_name = glyphs.getGlyphOrder()[int(gid, 16)] if int(gid, 16) < len(glyphs.getGlyphOrder()) else None
            if glyph_name is None or (not char.isspace() and glyphs["glyf"][glyph_name].numberOfContours == 0):
                problems.append(f"{font_name}: {char!r} (glyph {int(gid, 16)}) is not in the embedded font")
    return "".join(text), problems


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return ensure_dev_signer(tmp_path_factory.mktemp("signing"), "Thử nghiệm")


def _verifies(signed: bytes) -> bool:
    sigs = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    return len(sigs) == 1 and validate_pdf_signature(sigs[0]).intact


def test_certificates_rendered_in_sequence_each_show_their_own_text(signer: tuple[Path, Path]) -> None:
    # a province's template between two default ones: the kit holds both templates' stylesheets
    made = [(holder, course, render_pdf(_view(holder, course), template=template))
            for (holder, course), template in zip(PEOPLE[:3], ["default", "86", "default"], strict=True)]
    for holder, course, pdf in made:
        text, problems = _drawn(pdf)
        assert not problems, problems
        assert _squeezed(holder) in _squeezed(text) and _squeezed(course) in _squeezed(text), text
        others = [h for h, _, _ in made if h != holder]
        assert not any(_squeezed(other) in _squeezed(text) for other in others), text
        key, cert = signer
        assert _verifies(sign_pdf(pdf, key_path=key, cert_path=cert, reason="Chứng nhận", location="VN"))
    # the province's own colour still applies on top of the default style, and only there
    assert b"0.043137 0.32549 0.580392" in _page_content(made[1][2])
    assert b"0.043137 0.32549 0.580392" not in _page_content(made[2][2])


def _page_content(pdf: bytes) -> bytes:
    page = PdfFileReader(io.BytesIO(pdf)).root["/Pages"]["/Kids"][0].get_object()
    data: bytes = page["/Contents"].get_object().data
    return data


def test_two_threads_render_and_sign_at_once(signer: tuple[Path, Path]) -> None:
    key, cert = signer
    start = threading.Barrier(2)
    results: dict[str, list[bytes]] = {}
    errors: list[BaseException] = []

    def work(people: list[tuple[str, str]]) -> None:
        try:
            start.wait(timeout=30)
            for holder, course in people:
                pdf = render_pdf(_view(holder, course))
                results.setdefault(holder, []).append(
                    sign_pdf(pdf, key_path=key, cert_path=cert, reason="Chứng nhận", location="VN"))
        except BaseException as e:  # reported below, in the test's own thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(PEOPLE[i::2],)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert sorted(results) == sorted(h for h, _ in PEOPLE)
    for (holder, course), signed in ((p, results[p[0]][0]) for p in PEOPLE):
        text, problems = _drawn(signed)
        assert not problems, problems
        assert _squeezed(holder) in _squeezed(text) and _squeezed(course) in _squeezed(text)
        assert _verifies(signed)


def _unfiltered(data: bytes, width: int, bpp: int) -> list[bytes]:
    """Rows of an image stored with PNG predictors (PDF /Predictor 15)."""
    stride, rows, prior = width * bpp, [], bytes(width * bpp)
    for at in range(0, len(data), stride + 1):
        kind, row = data[at], bytearray(data[at + 1:at + 1 + stride])
        for i in range(stride):
            left, up = row[i - bpp] if i >= bpp else 0, prior[i]
            corner = prior[i - bpp] if i >= bpp else 0
            if kind == 1:
                row[i] = (row[i] + left) & 0xFF
            elif kind == 2:
                row[i] = (row[i] + up) & 0xFF
            elif kind == 3:
                row[i] = (row[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                row[i] = (row[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(bytes(row))
        prior = row
    return rows


def test_the_qr_code_is_the_verify_address_drawn_without_smoothing() -> None:
    import zlib

    import segno

    view = _view(*PEOPLE[0])
    page = PdfFileReader(io.BytesIO(render_pdf(view))).root["/Pages"]["/Kids"][0].get_object()
    images = [x.get_object() for x in page["/Resources"]["/XObject"].values()]
    assert len(images) == 1
    image = images[0]
    assert bool(image["/Interpolate"]) is False  # sharp module edges however far a viewer zooms
    qr = segno.make(view.verify_url, error="m")
    side = (qr.symbol_size(scale=1, border=1)[0]) * 4
    assert (image["/Width"], image["/Height"]) == (side, side) and image["/ColorSpace"] == "/DeviceRGB"
    rows = _unfiltered(zlib.decompress(image.encoded_data), side, 3)
    drawn = [[rows[y * 4][x * 12] < 128 for x in range(side // 4)] for y in range(side // 4)]
    expected = [[False] * (side // 4)] + [[False, *map(bool, r), False] for r in qr.matrix] + [[False] * (side // 4)]
    assert drawn == expected
