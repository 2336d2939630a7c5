"""The digital competence framework (Circular 02/2025/TT-BGDĐT): codes and labels."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["Competence", "competences"]


@dataclass(frozen=True)
class Competence:
    code: str
    domain_code: str
    domain_vi: str
    label_en: str


@cache
def competences() -> dict[str, Competence]:
    text = resources.files("lms").joinpath("data/digital_competences.csv").read_text(encoding="utf-8")
    return {
        row["code"]: Competence(row["code"], row["domain_code"], row["domain_vi"], row["label_en"])
        for row in csv.DictReader(text.splitlines())
    }
