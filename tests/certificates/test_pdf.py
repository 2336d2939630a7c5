from __future__ import annotations

import io
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature

from lms.certificates.render import CertificateView, FetchRefused, render_pdf, safe_fetcher, template_dir
from lms.certificates.signing import ensure_dev_signer, sign_pdf

NAMES = ["Nguyễn Thị Hồng Nhung", "Đặng Quỳnh Như", "Lê Văn Tám"]


def _view(holder: str) -> CertificateView:
    return CertificateView(holder=holder, course="An toàn trên không gian mạng", version="2026.1",
                           competences=[{"code": "4.2", "label": "An toàn"}], issuer="Sở KH&CN",
                           place="Vĩnh Long", signatory="Giám đốc", date="ngày 25 tháng 11 năm 2026",
                           expires=None, code="ABCDEFGHJKLMNPQRSTUV", verify_url="http://127.0.0.1:5000/verify/X")


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    key, cert = ensure_dev_signer(tmp_path_factory.mktemp("signing"), "Thử nghiệm")
    evil = "Lê Văn Tám <link rel=attachment href='file:///etc/passwd'><img src='http://127.0.0.1:9/x.png'>"
    return sign_pdf(render_pdf(_view(evil)), key_path=key, cert_path=cert, reason="Chứng nhận", location="VN")


def _fonts(reader: PdfFileReader) -> list[tuple[str, bool]]:
    out = []
    for page in reader.root["/Pages"]["/Kids"]:
        for font in page.get_object()["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"] if "/DescendantFonts" in font \
                else font["/FontDescriptor"]
            descriptor = descriptor.get_object()
            embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            out.append((str(font["/BaseFont"]), embedded))
    return out


def test_vietnamese_names_are_embedded_with_their_fonts() -> None:
    for name in NAMES:
        reader = PdfFileReader(io.BytesIO(render_pdf(_view(name))))
        fonts = _fonts(reader)
        assert fonts and all(embedded for _, embedded in fonts), fonts
        info = reader.trailer["/Info"].get_object()
        assert str(info["/Title"]) == "Giấy chứng nhận ABCDEFGHJKLMNPQRSTUV"
        assert name in str(info["/Subject"]) if "/Subject" in info else True


def test_signature_validates_and_one_changed_byte_breaks_it(signed: bytes) -> None:
    sigs = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    assert len(sigs) == 1 and validate_pdf_signature(sigs[0]).intact
    # change one byte inside the signed content (the page stream near the start of the file)
    index = signed.index(b"stream") + 20
    tampered = signed[:index] + bytes([signed[index] ^ 0x01]) + signed[index + 1:]
    status = validate_pdf_signature(PdfFileReader(io.BytesIO(tampered), strict=False).embedded_signatures[0])
    assert not status.intact


def test_markup_in_a_name_fetches_and_attaches_nothing(signed: bytes) -> None:
    assert b"root:x:0:0" not in signed and b"/EmbeddedFiles" not in signed and b"/FileAttachment" not in signed


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://127.0.0.1/", "https://example.com/a.png",
                                 "ftp://x/y", "file:///work/../etc/passwd"])
def test_fetcher_refuses_everything_but_data_and_template_files(url: str) -> None:
    fetcher = safe_fetcher(template_dir())
    with pytest.raises(FetchRefused):
        fetcher.fetch(url)


def test_fetcher_reads_its_own_template_files_and_data_urls() -> None:
    folder = template_dir()
    fetcher = safe_fetcher(folder)
    css = fetcher.fetch((folder / "style.css").as_uri())
    assert b"@page" in css.read()
    assert fetcher.fetch("data:text/plain,xin%20chao").read() == b"xin chao"
    assert template_dir("../../etc") == template_dir("default") == template_dir("no-such-unit")
    assert isinstance(Path(folder), Path)


def test_a_province_has_its_own_template() -> None:
    from lms.certificates.render import template_settings

    assert template_dir("86").name == "86" and template_dir("01").name == "default"
    assert template_settings("86")["place"] == "Vĩnh Long" and template_settings("default") == {}
    own = render_pdf(_view("Lê Văn Tám"), template="86")
    assert own.startswith(b"%PDF") and own != render_pdf(_view("Lê Văn Tám"))
