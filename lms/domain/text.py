"""Vietnamese text normalisation: NFC on the way in, folding for comparisons."""

from __future__ import annotations

import unicodedata

__all__ = ["fold", "nfc", "normalise_login", "strip_diacritics"]


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def strip_diacritics(text: str) -> str:
    """'Nguyễn Đức' -> 'Nguyen Duc'. đ/Đ are letters of their own, not a d with a mark."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def fold(text: str, *, case: bool = True, diacritics: bool = False) -> str:
    """A comparison key: NFC, spaces collapsed, and optionally case and diacritics folded."""
    out = " ".join(nfc(text).split())
    if diacritics:
        out = strip_diacritics(out)
    if case:
        out = out.casefold()
    return nfc(out)


def normalise_login(login: str) -> str:
    """Logins compare without case and surrounding spaces; phone numbers lose separators."""
    value = nfc(login).strip().casefold()
    compact = value.replace(" ", "").replace(".", "").replace("-", "")
    if compact.startswith("+84") and compact[3:].isdigit():
        return "0" + compact[3:]
    if compact.isdigit():
        return compact
    return value
