"""Issue 15 at the page level: plain GIFT in the bank editor, Vietnamese order, dates and numbers."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask

from lms.content.gift import parse_gift
from lms.content.gift_export import export_gift
from lms.content.rendering import render_markdown
from lms.services.collation import sorted_by_name


def test_plain_questions_are_exported_without_markup_and_read_back_the_same() -> None:
    text = ("::q1:: Mật khẩu an toàn có ít nhất mấy ký tự? {=8 ~4 ~6}\n\n"
            "::q2:: [html]Chọn ý <b>đúng</b> {=Có ~Không}\n")
    questions = parse_gift(text, "bank.gift").questions
    exported = export_gift(questions)
    first, second = exported.split("\n\n")[:2]
    assert "[html]" not in first and "Mật khẩu an toàn" in first
    assert "[html]" in second  # markup stays marked
    again = parse_gift(exported, "again.gift").questions
    assert [q.text_html for q in again] == [q.text_html for q in questions]
    assert [[c.html for c in q.choices] for q in again] == [[c.html for c in q.choices] for q in questions]


def test_names_sort_in_vietnamese_alphabetical_order() -> None:
    names = ["Thành phố Huế", "Tỉnh An Giang", "Thành phố Hà Nội", "Tỉnh Đồng Nai", "Tỉnh Dak Lak", "Tỉnh Ân Thi"]
    assert sorted_by_name(names, str) == ["Thành phố Hà Nội", "Thành phố Huế", "Tỉnh An Giang", "Tỉnh Ân Thi",
                                          "Tỉnh Dak Lak", "Tỉnh Đồng Nai"]


def test_an_untitled_tip_box_gets_a_vietnamese_title() -> None:
    html = render_markdown("!!! tip\n    Gọi lại số tổng đài.\n")
    assert "Mẹo" in html and "Tip" not in html


def test_dates_on_certificate_pages_follow_the_language(app: Flask) -> None:
    from lms.web.pages import long_date

    moment = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    with app.test_request_context("/?lang=en"):
        assert long_date(moment) == "2 December 2026"
    with app.test_request_context("/?lang=vi"):
        assert long_date(moment) == "ngày 02 tháng 12 năm 2026"


def test_scores_are_written_the_vietnamese_way(app: Flask) -> None:
    from lms.web.learning_path import score_text

    with app.test_request_context("/?lang=vi"):
        assert score_text(8.0, 12.0) == {"score": "8", "max": "12", "percent": "67%"}
        assert score_text(7.5, 12.0)["score"] == "7,5"
    with app.test_request_context("/?lang=en"):
        assert score_text(7.5, 12.0)["score"] == "7.5"
