from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lms.domain.accounts import login_kind, validate_registration
from lms.domain.text import fold, nfc, normalise_login, strip_diacritics


def test_nfc_composes_decomposed_vietnamese() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Hồng Nhung")
    assert decomposed != "Nguyễn Thị Hồng Nhung"
    assert nfc(decomposed) == "Nguyễn Thị Hồng Nhung"


def test_strip_diacritics_handles_d_bar() -> None:
    assert strip_diacritics("Đặng Quỳnh Như đi học") == "Dang Quynh Nhu di hoc"


def test_fold_options() -> None:
    assert fold("  Phím   THĂNG ") == "phím thăng"
    assert fold("Phím Thăng", diacritics=True) == "phim thang"
    assert fold("Phím", case=False) == "Phím"


@given(st.text())
def test_fold_is_idempotent(text: str) -> None:
    once = fold(text, diacritics=True)
    assert fold(once, diacritics=True) == once


@pytest.mark.parametrize(("raw", "expected"), [
    ("0912 345 678", "0912345678"), ("+84912345678", "0912345678"), (" An@Example.VN ", "an@example.vn"),
    ("091.234.5678", "0912345678"),
])
def test_normalise_login(raw: str, expected: str) -> None:
    assert normalise_login(raw) == expected


def test_login_kind() -> None:
    assert login_kind("0912345678") == "phone"
    assert login_kind("an@example.vn") == "email"
    assert login_kind("12345") is None
    assert login_kind("not an email") is None


def _data(**over: object) -> dict[str, object]:
    base: dict[str, object] = {"full_name": "Lê Văn Tám", "login": "0912345678", "password": "Mat-khau-2026!",
                               "birth_year": 1960, "unit_code": "28756"}
    base.update(over)
    return base


def test_valid_registration_is_normalised() -> None:
    reg, errors = validate_registration(_data(full_name=unicodedata.normalize("NFD", " Lê Văn Tám ")),
                                        current_year=2026)
    assert errors == {}
    assert reg is not None and reg.full_name == "Lê Văn Tám" and reg.login == "0912345678"


@pytest.mark.parametrize(("field", "value", "key"), [
    ("full_name", "", "full_name.required"),
    ("full_name", "x" * 201, "full_name.too_long"),
    ("login", "abc", "login.invalid"),
    ("password", "short", "password.too_short"),
    ("password", "0912345678", "password.same_as_login"),
    ("birth_year", 1800, "birth_year.out_of_range"),
    ("birth_year", "năm", "birth_year.required"),
    ("birth_year", True, "birth_year.required"),
    ("unit_code", None, "unit_code.required"),
])
def test_invalid_registration_names_the_field(field: str, value: object, key: str) -> None:
    reg, errors = validate_registration(_data(**{field: value}), current_year=2026)
    assert reg is None
    assert errors == {field: key}
