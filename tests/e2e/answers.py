"""Answer an attempt correctly in the browser. The right answers are read from the attempt's
layout in the database (what the server grades against), never from the page, which does not
carry them."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.site import LiveSite

__all__ = ["answer_correctly", "attempt_id_of"]


def attempt_id_of(page: Page) -> str:
    path = page.url.split("?")[0].rstrip("/")
    assert "/attempts/" in path, page.url
    return path.rsplit("/", 1)[1]


def _best(items: list[dict[str, Any]], key: str = "fraction") -> dict[str, Any]:
    return max(items, key=lambda item: float(item.get(key, 0)))


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def answer_correctly(page: Page, site: LiveSite, attempt_id: str) -> int:
    """Fill in every question of the attempt shown on ``page``; returns how many were answered."""
    from lms.store import Attempt

    with site.session() as s:
        attempt = s.get(Attempt, attempt_id)
        assert attempt is not None, attempt_id
        layout: list[dict[str, Any]] = list(attempt.layout)
    for number, snap in enumerate(layout, start=1):
        name, spec, kind = f"q-{number}", snap["spec"], snap["type"]
        if kind == "single":
            page.check(f'input[name="{name}"][value="{_best(spec["choices"])["id"]}"]')
        elif kind == "multiple":
            for choice in spec["choices"]:
                if float(choice.get("fraction", 0)) > 0:
                    page.check(f'input[name="{name}"][value="{choice["id"]}"]')
        elif kind == "true_false":
            page.check(f'input[name="{name}"][value="{"true" if spec["answer"] else "false"}"]')
        elif kind in ("short_answer", "numeric"):
            box = page.locator(f"#{name}-input")
            box.fill(_best(spec["answers"])["text"] if kind == "short_answer" else
                     _number(_best(spec["numbers"])["value"]))
            box.blur()  # the answer is "given" (a change event) when the learner leaves the box
        elif kind == "matching":
            right_of = dict(spec["pairs"])
            for i, left in enumerate(snap["order"]):
                page.select_option(f"#{name}-{i}", right_of[left])
        elif kind == "ordering":
            correct = [c["id"] for c in spec["choices"]]
            for i, item in enumerate(snap["order"]):
                page.select_option(f"#{name}-{i}", str(correct.index(item) + 1))
        else:
            raise AssertionError(f"question type {kind} has no answering rule in the e2e tests")
    if page.locator("form[data-autosave]").count():
        # The page's script saves each answer as it is given and reports it beside the question;
        # submitting while those lines still change would move the button under the click.
        expect(page.locator('[data-save-state][data-state="saved"]')).to_have_count(len(layout))
    return len(layout)
