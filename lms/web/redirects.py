"""Where a ``next=`` parameter may send a visitor: only to a path on this site.

Browsers forgive a lot in a URL: they drop tabs and newlines (``/\\t/evil.com`` becomes
``//evil.com``), read ``\\`` as ``/``, and treat ``//host`` as another site. So a target is kept
only when it is a plain absolute path: it starts with exactly one ``/``, holds no control
character, space or backslash, and parses with neither a scheme nor a host.
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["safe_next"]


def safe_next(target: str | None) -> str | None:
    if not target or len(target) > 2000 or not target.startswith("/"):
        return None
    if any(ch <= " " or ch == "\x7f" or ch == "\\" for ch in target):
        return None
    if target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
