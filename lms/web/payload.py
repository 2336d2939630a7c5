"""The request's JSON body, parsed so that no input can crash the parser."""

from __future__ import annotations

from typing import Any

from flask import request

__all__ = ["json_payload"]


def json_payload() -> Any:
    """The parsed JSON body, or None when it is missing or not JSON. Nesting deep enough to
    exhaust the parser's recursion (``[[[[...``) counts as not JSON, not as a server error."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None
