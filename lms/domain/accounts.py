"""Rules for accounts: what a valid registration is. Errors are message keys per field."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from lms.domain.text import nfc, normalise_login

__all__ = ["MAX_PASSWORD", "MIN_PASSWORD", "ROLES", "Registration", "common_passwords", "login_kind",
           "password_problem", "validate_registration"]

ROLES = ("citizen", "official", "trainer", "manager", "admin")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^0\d{9}$")  # Vietnamese mobile numbers: 10 digits starting with 0
MIN_PASSWORD = 8
MAX_PASSWORD = 128
MAX_NAME = 200


@dataclass(frozen=True)
class Registration:
    full_name: str
    login: str
    password: str
    birth_year: int
    unit_code: str


def login_kind(login: str) -> str | None:
    """'email', 'phone', or None when it is neither."""
    value = normalise_login(login)
    if _PHONE.match(value):
        return "phone"
    if len(value) <= 254 and _EMAIL.match(value):
        return "email"
    return None


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-case (see bench/make_common_passwords.py).
    Package data read once per process: a constant table, like a time-zone database."""
    text = resources.files("lms").joinpath("data/common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def password_problem(password: str, login: str = "") -> str | None:
    """ASVS 5.0 6.2: 8-128 characters, not a known common password (compared without case), and
    not built on the login."""
    if len(password) < MIN_PASSWORD:
        return "password.too_short"
    if len(password) > MAX_PASSWORD:
        return "password.too_long"
    folded = nfc(password).casefold()
    if folded in common_passwords() or folded.strip() in common_passwords():
        return "password.common"
    clean_login = normalise_login(login).casefold() if login else ""
    if clean_login:
        local = clean_login.split("@", 1)[0]
        if folded == clean_login:
            return "password.same_as_login"
        if clean_login in folded or (len(local) >= 4 and local in folded):
            return "password.contains_login"
    return None


def validate_registration(data: dict[str, object], *, current_year: int) -> tuple[Registration | None, dict[str, str]]:
    """Check raw input (from a form or JSON). Returns the clean registration or field -> key."""
    errors: dict[str, str] = {}
    full_name = data.get("full_name")
    if not isinstance(full_name, str) or not full_name.strip():
        errors["full_name"] = "full_name.required"
    elif len(nfc(full_name).strip()) > MAX_NAME:
        errors["full_name"] = "full_name.too_long"
    login = data.get("login")
    if not isinstance(login, str) or not login.strip():
        errors["login"] = "login.required"
    elif login_kind(login) is None:
        errors["login"] = "login.invalid"
    password = data.get("password")
    if not isinstance(password, str) or not password:
        errors["password"] = "password.required"
    else:
        problem = password_problem(password, login if isinstance(login, str) else "")
        if problem:
            errors["password"] = problem
    birth_year = data.get("birth_year")
    year: int | None = None
    if isinstance(birth_year, bool):
        year = None
    elif isinstance(birth_year, int):
        year = birth_year
    elif isinstance(birth_year, str) and birth_year.strip().isdecimal():  # isdigit() passes "¹⁹⁹⁰", int() not
        year = int(birth_year.strip())
    if year is None:
        errors["birth_year"] = "birth_year.required"
    elif not (current_year - 120 <= year <= current_year - 6):
        errors["birth_year"] = "birth_year.out_of_range"
    unit_code = data.get("unit_code")
    if not isinstance(unit_code, str) or not unit_code.strip():
        errors["unit_code"] = "unit_code.required"
    if errors:
        return None, errors
    assert isinstance(full_name, str) and isinstance(login, str) and isinstance(password, str)
    assert isinstance(unit_code, str) and year is not None
    return (
        Registration(
            full_name=nfc(full_name).strip(),
            login=normalise_login(login),
            password=password,
            birth_year=year,
            unit_code=unit_code.strip(),
        ),
        {},
    )
