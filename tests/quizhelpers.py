"""Answer a served question correctly, from the stored spec (what only the server knows)."""

from __future__ import annotations

from typing import Any


def correct_response(snapshot: dict[str, Any]) -> Any:
    spec, kind = snapshot["spec"], snapshot["type"]
    if kind == "single":
        return max(spec["choices"], key=lambda c: c["fraction"])["id"]
    if kind == "multiple":
        return [c["id"] for c in spec["choices"] if c["fraction"] > 0]
    if kind == "true_false":
        return spec["answer"]
    if kind == "short_answer":
        return max(spec["answers"], key=lambda a: a["fraction"])["text"].replace("*", "x")
    if kind == "numeric":
        return max(spec["numbers"], key=lambda n: n["fraction"])["value"]
    if kind == "matching":
        return dict(spec["pairs"])
    if kind == "ordering":
        return [c["id"] for c in spec["choices"]]
    raise AssertionError(kind)
