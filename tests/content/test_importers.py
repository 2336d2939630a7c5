"""Quiz-file importers (GIFT, Aiken, Moodle XML) and the GIFT exporter: pure parsing, no database.

Moodle's own importer fixtures live beside the project in ../shared/fixtures.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms.content.aiken import parse_aiken
from lms.content.gift import parse_gift, plain_to_html, slug_local_id
from lms.content.gift_export import export_gift
from lms.content.importers import guess_format, read_questions
from lms.content.moodle_xml import parse_moodle_xml
from lms.content.questions import ImportResult, valid_moodle_fraction
from lms.content.rendering import sanitise_html
from lms.domain.grading import grade_question
from lms.domain.questions import (
    Choice,
    ChoiceQuestion,
    MatchingQuestion,
    NumericAnswer,
    NumericQuestion,
    Pair,
    Question,
    QuestionType,
    ShortAnswer,
    ShortAnswerQuestion,
    TrueFalseQuestion,
)
from tests.shared_dir import SHARED

FIXTURES = SHARED / "fixtures" / "moodle-question-formats"
GIFT = FIXTURES / "gift"
AIKEN = FIXTURES / "aiken"
XML = FIXTURES / "xml"
SAMPLE = SHARED / "accept" / "sample_quiz.gift"
QID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")  # the question ids quiz files accept


def gift(text: str) -> ImportResult:
    return parse_gift(text, "q.gift")


def only(text: str) -> Question:
    result = gift(text)
    assert result.problems == [] and result.skipped == []
    assert len(result.questions) == 1
    return result.questions[0]


def problem_lines(result: ImportResult) -> list[int]:
    return [p.line for p in result.problems]


# ---------------------------------------------------------------------------------------------
# GIFT: Moodle's fixtures and the Vietnamese sample


def test_gift_fixture_imports_every_supported_type_and_skips_the_essay_by_name() -> None:
    result = read_questions(GIFT / "questions.gift.txt")
    assert result.problems == []
    assert [q.type for q in result.questions] == [
        "matching", "single", "multiple", "numeric", "short_answer", "true_false", "true_false", "true_false"]
    assert [str(s) for s in result.skipped] == [
        f"{GIFT / 'questions.gift.txt'}:2: essay question 'Q8' is not supported and was not imported"]
    by_id = {q.local_id: q for q in result.questions}
    assert all(QID.match(q.local_id) for q in result.questions)
    assert len(by_id) == len(result.questions), "duplicate titles must get distinct ids"

    matching = by_id["moodle-activities"]
    assert matching.line == 5
    assert matching.text_html == "Match the <b>activity</b> to the description."
    assert [p.right_html for p in matching.pairs] == ["Forum", "Choice", "Database", "Wiki", "Chat"]
    assert matching.pairs[-1].left_html == ""  # '= -> Chat' is a distractor
    assert matching.pairs[0].left_html == "An activity supporting asynchronous discussions."

    single = by_id["Q2"]
    assert [(c.html, c.fraction) for c in single.choices] == [("yellow", 1.0), ("red", 0.0), ("blue", 0.0)]
    assert single.choices[0].feedback_html == "right; good!"
    assert single.choices[1].feedback_html == "wrong, it's yellow"

    multiple = by_id["colours"]
    assert [c.fraction for c in multiple.choices] == [0.5, -1.0, 0.5, -1.0]

    numeric = by_id["Q5"]
    assert [(n.value, n.tolerance, n.fraction) for n in numeric.numbers] == [(3.0, 2.0, 1.0)]

    short = by_id["Shortanswer"]
    assert [(a.text, a.fraction, a.feedback_html) for a in short.answers] == [
        ("Frog", 1.0, "Good!"), ("Cat", 0.5, "What is it with Moodlers and cats?"), ("*", 0.0, "Completely wrong")]

    tf = by_id["Q1"]
    assert tf.answer is False
    # The first feedback is for a wrong response (answering true), the second for a right one.
    assert tf.feedback_true_html == "42 is the Ultimate Answer."
    assert tf.feedback_false_html == "You gave the right answer."
    assert tf.feedback_html == "This is, of course, a Hitchiker's Guide to the Galaxy reference."
    assert by_id["2-08-tsl"].answer is True and by_id["2-08-tsl-2"].answer is True


def test_gift_fixture_in_category_decodes_escapes_and_sanitises_html() -> None:
    result = read_questions(GIFT / "questions_in_category.gift.txt")
    assert result.problems == [] and result.skipped == []
    assert [q.type for q in result.questions] == ["matching", "single", "short_answer", "true_false"]
    assert {q.category for q in result.questions} == {"Default for New Features"}
    greeting = result.questions[1]
    assert '<a href="http://demo.moodle.net/file.php/5/media/bonjour.mp3"' in greeting.text_html
    assert "Listen to this greeting:</a>" in greeting.text_html
    assert [c.fraction for c in greeting.choices] == [0.0, 1.0, 0.0, 0.0]
    acronym = result.questions[3]
    assert "style" not in acronym.text_html and "<span>Modular" in acronym.text_html
    assert result.questions[2].answers == (ShortAnswer("Moodler", 1.0, ""),)


def test_sample_quiz_imports_six_questions_with_escapes_decoded() -> None:
    result = read_questions(SAMPLE)
    assert result.problems == [] and result.skipped == []
    qs = result.questions
    assert [q.type for q in qs] == ["single", "true_false", "multiple", "short_answer", "numeric", "matching"]
    assert {q.category for q in qs} == {"Mẫu/Trí tuệ nhân tạo và an toàn"}
    assert all(q.competences == () and q.points == 1.0 for q in qs)
    assert [q.local_id for q in qs] == ["m1-du-lieu", "m2-kiem-tra", "m3-deepfake", "m4-phim", "m5-kha-nang",
                                        "m6-ghep-viec"]
    single, tf, multiple, short, numeric, matching = qs
    assert [c.fraction for c in single.choices] == [0.0, 1.0, 0.0]
    assert single.choices[1].feedback_html == "Đúng: chatbot không phải nơi cất giữ bí mật."
    assert tf.answer is False and tf.feedback_true_html == "Sai: AI có thể bịa thông tin."
    assert [c.fraction for c in multiple.choices] == [0.5, 0.5, -1.0]
    assert [a.text for a in short.answers] == ["thăng", "phím thăng"]
    assert "ký hiệu # thường" in short.text_html
    assert [(n.value, n.tolerance) for n in numeric.numbers] == [(10000.0, 0.0)]
    assert len(matching.pairs) == 3 and all(p.left_html for p in matching.pairs)
    assert "{đúng nhất}" in matching.text_html
    assert [q.line for q in qs] == [5, 11, 13, 19, 21, 23]


def _grading_question(doc: Question) -> Question:
    """The imported question with the ids a stored bank gives: c0, c1, ... for choices, l0/r0, ...
    for matching sides."""
    if isinstance(doc, ChoiceQuestion):
        return replace(doc, id=doc.local_id, choices=tuple(replace(c, id=f"c{i}") for i, c in enumerate(doc.choices)))
    if isinstance(doc, MatchingQuestion):
        return replace(doc, id=doc.local_id, pairs=tuple(
            replace(p, left_id=f"l{i}" if p.left_html else "", right_id=f"r{i}") for i, p in enumerate(doc.pairs)))
    return replace(doc, id=doc.local_id)


def _response(doc: Question, key: dict[str, object]) -> object:
    def choice_id(visible: object) -> str:
        assert isinstance(doc, ChoiceQuestion)
        return next(f"c{i}" for i, c in enumerate(doc.choices) if str(visible) in c.html)

    if "choice" in key:
        return choice_id(key["choice"])
    if "choices" in key:
        assert isinstance(key["choices"], list)
        return [choice_id(v) for v in key["choices"]]
    if "match" in key:
        assert isinstance(key["match"], dict) and isinstance(doc, MatchingQuestion)
        return {next(f"l{i}" for i, p in enumerate(doc.pairs) if left in p.left_html):
                next(f"r{i}" for i, p in enumerate(doc.pairs) if right in p.right_html)
                for left, right in key["match"].items()}
    return key["value"]


def test_sample_quiz_key_earns_full_marks() -> None:
    docs = read_questions(SAMPLE).questions
    keys = json.loads((SHARED / "accept" / "sample_quiz.key.json").read_text(encoding="utf-8"))["questions"]
    assert len(keys) == len(docs)
    for key in keys:
        doc = next(d for d in docs if key["when"] in d.text_html)
        result = grade_question(_grading_question(doc), _response(doc, key))
        assert result.correct, (doc.local_id, key)


# ---------------------------------------------------------------------------------------------
# GIFT: features


def test_gift_title_missing_gives_q_number_and_long_titles_stay_short() -> None:
    result = gift("What? {T}\n\n::" + "Một tiêu đề rất dài " * 6 + ":: Why? {F}\n\n::!!!:: How? {T}\n")
    assert result.problems == []
    ids = [q.local_id for q in result.questions]
    assert ids[0] == "q1" and ids[2] == "q3"
    assert ids[1].startswith("mot-tieu-de-rat-dai") and len(ids[1]) <= 40
    assert all(QID.match(i) for i in ids)


def test_slug_ids_are_unique_and_valid() -> None:
    taken: set[str] = set()
    assert slug_local_id("Q_8-b", 1, taken) == "Q_8-b"  # already an id: kept as it is
    assert slug_local_id("Q_8-b", 2, taken) == "Q_8-b-2"
    ids = [slug_local_id("Câu hỏi " + "x" * 50, 1, taken) for _ in range(3)]
    assert len(set(ids)) == 3 and all(QID.match(i) and len(i) <= 40 for i in ids)
    assert slug_local_id("日本語", 7, taken) == "q7"


def test_gift_comments_categories_and_tags() -> None:
    result = gift("// a comment\n$CATEGORY: $course$/Top/Sub\n\n// [tag:an-toàn] [tag:ai]\n::A:: Q? {T}\n"
                  "// inner comment\n\n$CATEGORY: Other\n::B:: R? {F}\n")
    assert result.problems == []
    a, b = result.questions
    assert (a.category, a.tags) == ("Top/Sub", ("an-toàn", "ai"))
    assert (b.category, b.tags) == ("Other", ())


@pytest.mark.parametrize(("marker", "expected"), [
    ("[html]", "<b>bold</b> &amp; x"),
    ("[markdown]", "<strong>bold</strong> &amp; x"),
    ("[plain]", "&lt;b&gt;bold&lt;/b&gt; &amp; x"),
    ("[moodle]", "&lt;b&gt;bold&lt;/b&gt; &amp; x"),
    ("", "&lt;b&gt;bold&lt;/b&gt; &amp; x"),
])
def test_gift_text_formats(marker: str, expected: str) -> None:
    text = "<b>bold</b> & x" if marker != "[markdown]" else "**bold** & x"
    q = only(f"::f::{marker}{text} {{T}}")
    assert q.text_html == expected


def test_gift_html_is_sanitised_and_answers_inherit_the_question_format() -> None:
    q = only("::h::[html]Pick <script>alert(1)</script><i>one</i> {=<u>yes</u>#<em>ok</em> ~[plain]<u>no</u>}")
    assert "script" not in q.text_html and "<i>one</i>" in q.text_html
    assert q.choices[0].html == "<u>yes</u>" and q.choices[0].feedback_html == "<em>ok</em>"
    assert q.choices[1].html == "&lt;u&gt;no&lt;/u&gt;"


def test_gift_escapes_and_line_breaks() -> None:
    q = only("::e:: a \\~ b \\= c \\# d \\{ e \\} f \\: g \\\\ h\\nnext\nline {=x\\=y\\#z}")
    assert q.text_html == "a ~ b = c # d { e } f : g \\ h<br>next<br>line"
    assert [a.text for a in q.answers] == ["x=y#z"]


def test_gift_missing_word_and_multi_line_blocks() -> None:
    q = only("Moodle costs {\n  ~lots\n  =nothing\n} because it's free.")
    assert q.text_html == "Moodle costs _____ because it's free."
    assert q.type == "single" and [c.fraction for c in q.choices] == [0.0, 1.0]


def test_gift_choice_types_follow_weights_and_equals_signs() -> None:
    assert only("Q {=a ~b ~c}").type == "single"
    two = only("Q {=a =b ~c}")
    assert two.type == "multiple" and [c.fraction for c in two.choices] == [1.0, 1.0, 0.0]
    weighted = only("Q {=a ~%-50%b ~c}")
    assert weighted.type == "multiple" and [c.fraction for c in weighted.choices] == [1.0, -0.5, 0.0]
    thirds = only("Q {~%33.33333%a ~%33.33333%b ~%33.33333%c ~%-100%d}")
    assert [c.fraction for c in thirds.choices][:3] == pytest.approx([1 / 3] * 3, abs=1e-6)


def test_gift_short_answers_keep_wildcards_and_weights() -> None:
    q = only("Q {=%100%Hà Nội =%50%Ha*Noi#gần đúng}")
    assert q.type == "short_answer"
    assert q.answers == (ShortAnswer("Hà Nội", 1.0, ""), ShortAnswer("Ha*Noi", 0.5, "gần đúng"))
    assert q.case_sensitive is False


def test_gift_true_false_feedback_goes_to_the_response_it_answers() -> None:
    q = only("Q {TRUE#wrong, it is true#right!}")
    assert q.answer is True
    assert q.feedback_false_html == "wrong, it is true"  # shown to a learner who answered false
    assert q.feedback_true_html == "right!"
    assert only("Q {t}").answer is True


def test_gift_numeric_forms() -> None:
    assert only("Q {#1..5}").numbers == (NumericAnswer(3.0, 2.0, 1.0, ""),)
    assert only("Q {#-2.5}").numbers == (NumericAnswer(-2.5, 0.0, 1.0, ""),)
    q = only("Q {#\n=%100%1822:0#exact\n=%50%1822:2#close\n~1800#no\n~#anything else}")
    assert [(n.value, n.tolerance, n.fraction, n.feedback_html) for n in q.numbers] == [
        (1822.0, 0.0, 1.0, "exact"), (1822.0, 2.0, 0.5, "close"), (1800.0, 0.0, 0.0, "no")]


def test_gift_matching_needs_two_real_pairs() -> None:
    result = gift("::m:: Match {\n=a -> 1\n= -> 2\n}")
    assert [(p.line, "at least 2 pairs" in p.message) for p in result.problems] == [(1, True)]
    assert result.questions == []


def test_gift_description_and_essay_are_skipped_by_name() -> None:
    result = gift("::Intro:: Just text\n\n::Essay:: Write {}\n\n::ok:: Q {T}")
    assert [q.local_id for q in result.questions] == ["ok"]
    assert result.problems == []
    assert [(s.line, s.message.split(" question")[0], "'" + name + "'" in s.message)
            for s, name in zip(result.skipped, ["Intro", "Essay"], strict=True)] == [
        (1, "description", True), (3, "essay", True)]


@pytest.mark.parametrize(("text", "line", "words"), [
    ("::a:: Q {T}\n\n::b:: Broken\n{\n=x\n", 4, "not closed"),
    ("::a:: Q {T}\n\n::b:: What {Paris}", 3, "not recognised"),
    ("::b:: Pick\n{\n=a\n~%33%b\n}", 4, "invalid grade 33%"),
    ("::b:: Pick {~a ~b}", 1, "needs one correct answer"),
    ("::b:: Pick {~%-50%a ~b}", 1, "positive weight"),
    ("::b:: Count\n{#\n=12\n=%50%abc:1\n}", 4, "'abc' is not a number"),
    ("::b:: Count {#3,5}", 1, "use a dot"),
    ("::b:: Count {#5..1}", 1, "starts above its end"),
    ("::b:: Count {#5:-1}", 1, "tolerance"),
    ("::b:: Pair {=a -> 1 =b}", 1, "not a pair"),
    ("::b:: Odd } text {T}", 1, "'}' without an opening"),
    ("::b:: Two {T} blocks {F}", 1, "second answer block"),
    ("::b:: Nested {=a {x} }", 1, "inside an answer block"),
    ("::b:: {T}", 1, "no text"),
    ("::b:: Q {=%0%x}", 1, "gives credit"),
])
def test_gift_errors_name_their_line(text: str, line: int, words: str) -> None:
    result = gift(text)
    assert len(result.problems) == 1, result.problems
    problem = result.problems[0]
    assert (problem.file, problem.line) == ("q.gift", line)
    assert words in problem.message
    assert "question 'b'" in problem.message
    assert all(q.local_id != "b" for q in result.questions)


def test_gift_unclosed_title_is_an_error() -> None:
    result = gift("::a:: Q {T}\n\n::b Q {T}")
    assert [(p.line, p.message) for p in result.problems] == [
        (3, "question 'q2': the title starts with '::' but is not closed with '::'")]


def test_gift_errors_do_not_stop_the_rest_of_the_file() -> None:
    result = gift("::a:: Q {~x ~y}\n\n::b:: Q {T}\n\n::c:: Q {~%7%x =y}")
    assert problem_lines(result) == [1, 5]
    assert [q.local_id for q in result.questions] == ["b"]


# ---------------------------------------------------------------------------------------------
# Aiken


def test_aiken_fixture_imports_without_problems_and_shows_text_literally() -> None:
    result = read_questions(AIKEN / "questions.aiken.txt")
    assert result.problems == [] and result.skipped == []
    first, second = result.questions
    assert first.type == second.type == "single"
    assert [(c.html, c.fraction) for c in first.choices] == [
        ("Petr Skoda", 0.0), ("Martin Dougiamas", 1.0), ("Eloy Lafuente", 0.0), ("Tim Hunt", 0.0)]
    assert second.text_html == ("Moodle's abilities include handling user input that includes "
                                "&lt;html class=\"cool\"&gt; &amp; images:")
    assert [c.fraction for c in second.choices] == [1.0, 0.0]
    assert (first.line, second.line) == (1, 8)


def test_aiken_error_fixture_reports_each_broken_question_on_its_line() -> None:
    result = read_questions(AIKEN / "aiken_errors.txt")
    lines = problem_lines(result)
    assert lines == [1, 5, 14]
    assert "at least 2" in result.problems[0].message
    assert "before any question" in result.problems[1].message
    assert "no 'ANSWER:'" in result.problems[2].message
    assert all(str(p).startswith(f"{AIKEN / 'aiken_errors.txt'}:{p.line}: ") for p in result.problems)
    # The good questions (no space after the delimiter in the second) still parse.
    assert [[c.fraction for c in q.choices] for q in result.questions] == [[1.0, 0.0], [0.0, 1.0]]


@pytest.mark.parametrize(("text", "line", "words"), [
    ("Q?\nA) x\nB) y\nANSWER: C\n", 4, "not one of the options A, B"),
    ("Q?\nANSWER: A\n", 2, "no options"),
    ("Q?\nA) x\nB) y\n", 1, "no 'ANSWER:'"),
    ("Q?\nA) x\nA) y\nANSWER: A\n", 3, "twice"),
    ("ANSWER: A\n", 1, "without a question"),
])
def test_aiken_errors(text: str, line: int, words: str) -> None:
    result = parse_aiken(text, "a.txt")
    assert [p.line for p in result.problems] == [line]
    assert words in result.problems[0].message
    assert result.questions == []


def test_aiken_multi_line_text_and_dot_delimiters() -> None:
    result = parse_aiken("First line\nsecond <line>\nA. one\nB.two\nANSWER: B\n", "a.txt")
    assert result.problems == []
    q = result.questions[0]
    assert q.text_html == "First line<br>second &lt;line&gt;"
    assert [(c.html, c.fraction) for c in q.choices] == [("one", 0.0), ("two", 1.0)]


# ---------------------------------------------------------------------------------------------
# Moodle XML


def test_xml_nested_categories_import_without_problems() -> None:
    result = read_questions(XML / "nested_categories_with_questions.xml")
    assert result.problems == []
    assert [(q.local_id, q.type, q.category, q.answer) for q in result.questions] == [
        ("iota-question", "true_false", "Iota", True),
        ("kappa-question", "true_false", "Iota/Kappa", True),
        ("lambda-question", "true_false", "Iota/Kappa/Lambda", True),
        ("mu-question", "true_false", "Iota/Mu", True),
    ]
    assert result.questions[0].text_html == "<p>Testing Iota Question</p>"
    assert result.questions[0].line == 15
    assert [(s.line, s.message) for s in result.skipped] == [
        (55, "essay question 'Kappa Essay Question' is not supported and was not imported")]


def test_xml_invalid_grade_is_a_problem_at_its_answer() -> None:
    result = read_questions(XML / "error_invalid_grades.xml")
    assert len(result.problems) == 1
    problem = result.problems[0]
    assert problem.line == 38  # the <answer fraction="33"> element
    assert "invalid grade 33% for an answer" in problem.message and "33.33333%" in problem.message
    assert result.questions == []


def _xml(body: str) -> ImportResult:
    return parse_moodle_xml(f'<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n{body}\n</quiz>\n'.encode(), "q.xml")


def _q(qtype: str, inner: str, name: str = "Câu 1", fmt: str = "html", text: str = "Question?") -> str:
    return (f'<question type="{qtype}"><name><text>{name}</text></name>'
            f'<questiontext format="{fmt}"><text><![CDATA[{text}]]></text></questiontext>{inner}</question>')


def test_xml_multichoice_single_and_multiple() -> None:
    single = _q("multichoice", '<single>true</single><defaultgrade>2</defaultgrade>'
                '<generalfeedback format="markdown"><text>**why**</text></generalfeedback>'
                '<answer fraction="100" format="plain_text"><text>a &lt; b</text>'
                '<feedback format="html"><text><![CDATA[<b>yes</b>]]></text></feedback></answer>'
                '<answer fraction="0"><text>c</text></answer>')
    multiple = _q("multichoice", '<single>false</single><answer fraction="50"><text>x</text></answer>'
                  '<answer fraction="50"><text>y</text></answer><answer fraction="-100"><text>z</text></answer>'
                  "<tags><tag><text>ai</text></tag></tags>", name="Câu 1")
    result = _xml(single + multiple)
    assert result.problems == []
    s, m = result.questions
    assert (s.local_id, s.type, s.points, s.feedback_html) == ("cau-1", "single", 2.0, "<strong>why</strong>")
    assert s.choices == (Choice("a &lt; b", 1.0, "<b>yes</b>"), Choice("c", 0.0, ""))
    assert (m.local_id, m.type, m.tags) == ("cau-1-2", "multiple", ("ai",))
    assert [c.fraction for c in m.choices] == [0.5, 0.5, -1.0]


def test_xml_truefalse_shortanswer_numerical_matching_ordering() -> None:
    body = "".join([
        _q("truefalse", '<answer fraction="0"><text>true</text><feedback><text>no</text></feedback></answer>'
                        '<answer fraction="100"><text>false</text><feedback><text>yes</text></feedback></answer>',
           name="TF"),
        _q("shortanswer", '<usecase>1</usecase><answer fraction="100"><text>Hà Nội</text></answer>'
                          '<answer fraction="50"><text>HN*</text></answer>', name="SA"),
        _q("numerical", '<answer fraction="100"><text>3.5</text><tolerance>0.1</tolerance></answer>'
                        '<answer fraction="0"><text>*</text><feedback><text>other</text></feedback></answer>',
           name="NUM"),
        _q("matching", '<subquestion format="html"><text>a</text><answer><text>1</text></answer></subquestion>'
                       '<subquestion format="html"><text>b</text><answer><text>2 &amp; 3</text></answer>'
                       "</subquestion><subquestion><text></text><answer><text>9</text></answer></subquestion>",
           name="MATCH"),
        _q("ordering", '<answer fraction="2"><text>second</text></answer>'
                       '<answer fraction="1"><text>first</text></answer>', name="ORD"),
    ])
    result = _xml(body)
    assert result.problems == [] and result.skipped == []
    tf, sa, num, match, order = result.questions
    assert (tf.type, tf.answer, tf.feedback_true_html, tf.feedback_false_html) == ("true_false", False, "no", "yes")
    assert (sa.type, sa.case_sensitive, [(a.text, a.fraction) for a in sa.answers]) == (
        "short_answer", True, [("Hà Nội", 1.0), ("HN*", 0.5)])
    assert num.numbers == (NumericAnswer(3.5, 0.1, 1.0, ""),)
    assert match.pairs == (Pair("a", "1"), Pair("b", "2 &amp; 3"), Pair("", "9"))
    assert (order.type, [c.html for c in order.choices]) == ("ordering", ["first", "second"])


def test_xml_text_formats() -> None:
    result = _xml(_q("truefalse", '<answer fraction="100"><text>true</text></answer>'
                                  '<answer fraction="0"><text>false</text></answer>', fmt="markdown", text="*hi*")
                  + _q("truefalse", '<answer fraction="100"><text>true</text></answer>'
                                    '<answer fraction="0"><text>false</text></answer>', fmt="plain_text",
                       text="<i>a</i>\nb")
                  + _q("truefalse", '<answer fraction="100"><text>true</text></answer>'
                                    '<answer fraction="0"><text>false</text></answer>',
                       text='<p onclick="x()">ok</p><script>bad()</script>'))
    assert result.problems == []
    assert [q.text_html for q in result.questions] == ["<em>hi</em>", "&lt;i&gt;a&lt;/i&gt;<br>b", "<p>ok</p>"]


def test_xml_unsupported_types_and_embedded_files_are_skipped() -> None:
    result = _xml(_q("multianswer", "", name="Cloze") + _q("description", "", name="Info")
                  + _q("multichoice", '<answer fraction="100"><text>a</text></answer>'
                                      '<answer fraction="0"><text>b</text></answer>', name="Pic",
                       text='<img src="@@PLUGINFILE@@/a.png">'))
    assert result.problems == [] and result.questions == []
    messages = [s.message for s in result.skipped]
    assert messages[0] == "cloze (multianswer) question 'Cloze' is not supported and was not imported"
    assert messages[1] == "description question 'Info' is not supported and was not imported"
    assert "@@PLUGINFILE@@" in messages[2] and "'Pic'" in messages[2]


@pytest.mark.parametrize(("inner", "qtype", "words"), [
    ('<answer fraction="abc"><text>a</text></answer><answer fraction="0"><text>b</text></answer>',
     "multichoice", "not a number"),
    ('<answer fraction="0"><text>a</text></answer><answer fraction="0"><text>b</text></answer>',
     "multichoice", "positive grade"),
    ('<answer fraction="100"><text>a</text></answer>', "multichoice", "at least 2"),
    ('<answer fraction="100"><text>three</text></answer>', "numerical", "not a number"),
    ('<answer fraction="100"><text>maybe</text></answer>', "truefalse", "'true' or 'false'"),
    ('<subquestion><text>a</text><answer><text>1</text></answer></subquestion>', "matching", "at least 2"),
    ('<defaultgrade>-1</defaultgrade><answer fraction="100"><text>x</text></answer>', "shortanswer",
     "positive number"),
])
def test_xml_question_errors_point_into_the_question(inner: str, qtype: str, words: str) -> None:
    result = _xml(_q(qtype, "\n" + inner))
    assert len(result.problems) == 1, result.problems
    assert words in result.problems[0].message and "'Câu 1'" in result.problems[0].message
    assert result.problems[0].line in (3, 4)
    assert result.questions == []


def test_xml_malformed_is_a_problem_at_the_parser_line() -> None:
    result = parse_moodle_xml(b"<quiz>\n<question type='truefalse'>\n<name><text>x</name>\n</quiz>", "bad.xml")
    assert len(result.problems) == 1
    assert result.problems[0].line == 3 and result.problems[0].message.startswith("malformed XML:")
    wrong_root = parse_moodle_xml(b"<html/>", "x.xml")
    assert [p.message for p in wrong_root.problems] == ["the root element must be <quiz>, not <html>"]


def test_xml_does_not_resolve_external_entities(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    data = (f'<?xml version="1.0"?>\n<!DOCTYPE quiz [<!ENTITY x SYSTEM "{secret.as_uri()}">]>\n<quiz>'
            + _q("truefalse", '<answer fraction="100"><text>true</text></answer>'
                              '<answer fraction="0"><text>false</text></answer>', text="see &x;")
            .replace("<![CDATA[see &x;]]>", "see &x;") + "</quiz>").encode()
    result = parse_moodle_xml(data, "x.xml")
    assert "TOP-SECRET" not in repr(result)


# ---------------------------------------------------------------------------------------------
# Reading files and guessing the format


@pytest.mark.parametrize(("path", "expected"), [
    (GIFT / "questions.gift.txt", "gift"),
    (GIFT / "questions_in_category.gift.txt", "gift"),
    (SAMPLE, "gift"),
    (AIKEN / "questions.aiken.txt", "aiken"),
    (AIKEN / "aiken_errors.txt", "aiken"),
    (XML / "nested_categories_with_questions.xml", "moodle-xml"),
    (XML / "error_invalid_grades.xml", "moodle-xml"),
])
def test_guess_format_of_the_fixtures(path: Path, expected: str) -> None:
    assert guess_format(path, path.read_bytes()) == expected


def test_guess_format_by_content() -> None:
    assert guess_format(Path("x.txt"), b"\xef\xbb\xbf  <?xml version='1.0'?><quiz/>") == "moodle-xml"
    assert guess_format(Path("x.txt"), b"<quiz></quiz>") == "moodle-xml"
    assert guess_format(Path("x.txt"), b"Q\nA) a\nB) b\nANSWER: A\n") == "aiken"
    assert guess_format(Path("x.txt"), b"Q {=a ~b}\nANSWER: A\n") == "gift"


def test_read_questions_handles_bom_forced_format_and_bad_bytes(tmp_path: Path) -> None:
    with_bom = tmp_path / "bom.gift"
    with_bom.write_bytes(b"\xef\xbb\xbf::A:: Q {T}\r\n\r\n::B:: R {F}\r\n")
    assert [q.local_id for q in read_questions(with_bom).questions] == ["A", "B"]

    aiken = tmp_path / "quiz.txt"
    aiken.write_bytes(b"\xef\xbb\xbfQ?\nA) x\nB) y\nANSWER: B\n")
    assert read_questions(aiken, "aiken").questions[0].type == "single"
    forced = read_questions(aiken, "gift")  # the forced format wins over the guess
    assert forced.questions == [] and [s.message.split()[0] for s in forced.skipped] == ["description"]

    latin = tmp_path / "latin.gift"
    latin.write_bytes(b"::A:: Q {T}\n\n::B:: Caf" + b"\xe9 {T}\n")
    result = read_questions(latin)
    assert [(p.line, "UTF-8" in p.message) for p in result.problems] == [(3, True)]
    assert result.questions == []

    missing = read_questions(tmp_path / "nope.gift")
    assert len(missing.problems) == 1 and missing.problems[0].line == 1
    assert read_questions(with_bom, "qti").problems[0].message.startswith("unknown quiz format")


# ---------------------------------------------------------------------------------------------
# Robustness: arbitrary input yields problems, never exceptions

_GIFT_BITS = st.sampled_from([
    "::", "{", "}", "~", "=", "#", "####", "%", "%50%", "%-100%", "%33%", "->", "\\", "\\{", "\\n", ":", "..",
    "[html]", "[markdown]", "[plain]", "T", "FALSE", "\n", "\n\n", "//", "$CATEGORY:", " ", "a", "Đúng",
    "1", "-2.5", "<b>", "&", "*", "\r", "\t", "[tag:x]", "_____"])
_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _well_formed(result: ImportResult) -> None:
    assert isinstance(result, ImportResult)
    for q in result.questions:
        assert q.type in ("single", "multiple", "true_false", "short_answer", "numeric", "matching", "ordering")
        assert q.line >= 1 and QID.match(q.local_id)
    for p in result.problems + result.skipped:
        assert p.line >= 1 and p.message


@_SETTINGS
@given(st.one_of(st.text(), st.lists(_GIFT_BITS, max_size=40).map("".join)))
def test_parse_gift_never_raises(text: str) -> None:
    _well_formed(parse_gift(text, "fuzz.gift"))


@_SETTINGS
@given(st.one_of(st.text(), st.lists(st.sampled_from(
    ["Q", "A)", "B.", "C)x", "ANSWER:", " A", " Z", "\n", "\n\n", "<x>", "ANSWER: B", "\r\n"]), max_size=30)
    .map("".join)))
def test_parse_aiken_never_raises(text: str) -> None:
    _well_formed(parse_aiken(text, "fuzz.txt"))


@_SETTINGS
@given(st.one_of(st.binary(), st.lists(st.sampled_from([
    "<quiz>", "</quiz>", '<question type="multichoice">', '<question type="truefalse">',
    '<question type="numerical">', '<question type="matching">', '<question type="ordering">',
    '<question type="category">', "<question>", "</question>", '<answer fraction="100">', '<answer fraction="x">',
    "</answer>", "<text>", "</text>", "true", "3", "<subquestion>", "</subquestion>", "<category>",
    "</category>", "<tolerance>", "</tolerance>", "<single>false</single>", "<!DOCTYPE quiz>", "&amp;", "&x;",
    "<name>", "</name>", "\n"]), max_size=40).map(lambda parts: "".join(parts).encode())))
def test_parse_moodle_xml_never_raises(data: bytes) -> None:
    _well_formed(parse_moodle_xml(data, "fuzz.xml"))


# ---------------------------------------------------------------------------------------------
# GIFT export round trip

_GRADES = [g for g in (100, 90, 83.33333, 80, 75, 70, 66.66667, 60, 50, 40, 33.33333, 30, 25, 20, 16.66667,
                       14.28571, 12.5, 11.11111, 10, 5, 0)]
_WORDS = st.text(alphabet=st.sampled_from(list("abcxyz ĐđếữÁ019.,;!?'\"&<>~=#{}:\\%*-[]/")), min_size=1,
                 max_size=20).map(lambda s: " ".join(s.split())).filter(bool)


def _html_text() -> st.SearchStrategy[str]:
    return _WORDS.map(plain_to_html)


def _fraction() -> st.SearchStrategy[float]:
    return st.sampled_from(_GRADES).flatmap(lambda g: st.sampled_from([g / 100, -g / 100]))


@st.composite
def _question(draw: st.DrawFn) -> Question:
    qtype = draw(st.sampled_from(["single", "multiple", "true_false", "short_answer", "numeric", "matching"]))
    common: dict[str, Any] = {"local_id": draw(st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True).filter(
        lambda s: not s.endswith("-"))),
        "text_html": draw(_html_text()), "source": "x", "line": 1,
        "feedback_html": draw(st.one_of(st.just(""), _html_text())),
        "category": draw(st.one_of(st.just(""), st.sampled_from(["Top", "Top/Sub đề"]))),
        "tags": tuple(draw(st.lists(st.sampled_from(["ai", "an-toan", "vneid"]), unique=True, max_size=2)))}
    if qtype == "single":
        n = draw(st.integers(2, 5))
        right = draw(st.integers(0, n - 1))
        choices = tuple(Choice(draw(_html_text()), 1.0 if i == right else 0.0,
                                  draw(st.one_of(st.just(""), _html_text()))) for i in range(n))
        return ChoiceQuestion(type=QuestionType.SINGLE, choices=choices, **common)
    if qtype == "multiple":
        fractions = draw(st.lists(_fraction(), min_size=2, max_size=5).filter(lambda fs: any(f > 0 for f in fs)))
        choices = tuple(Choice(draw(_html_text()), f, draw(st.one_of(st.just(""), _html_text())))
                        for f in fractions)
        return ChoiceQuestion(type=QuestionType.MULTIPLE, choices=choices, **common)
    if qtype == "true_false":
        return TrueFalseQuestion(answer=draw(st.booleans()),
                           feedback_true_html=draw(st.one_of(st.just(""), _html_text())),
                           feedback_false_html=draw(st.one_of(st.just(""), _html_text())), **common)
    if qtype == "short_answer":
        plain = _WORDS.filter(lambda w: "->" not in w)  # GIFT cannot write '->' in an answer (tested below)
        answers = draw(st.lists(st.builds(ShortAnswer, plain, _fraction(), st.one_of(st.just(""), _html_text())),
                                min_size=1, max_size=3).filter(lambda a: any(x.fraction > 0 for x in a)))
        return ShortAnswerQuestion(answers=tuple(answers), **common)
    if qtype == "numeric":
        value = st.floats(-1e12, 1e12, allow_nan=False) | st.integers(-10**6, 10**6).map(float)
        numbers = draw(st.lists(st.builds(NumericAnswer, value, st.floats(0, 1e6), _fraction(),
                                          st.one_of(st.just(""), _html_text())), min_size=1, max_size=3)
                       .filter(lambda ns: any(n.fraction > 0 for n in ns)))
        return NumericQuestion(numbers=tuple(numbers), **common)
    pairs = [Pair(draw(_html_text()), draw(_html_text())) for _ in range(draw(st.integers(2, 4)))]
    pairs += [Pair("", draw(_html_text())) for _ in range(draw(st.integers(0, 2)))]
    return MatchingQuestion(pairs=tuple(pairs), **common)


def _grading_view(q: Question) -> tuple[object, ...]:
    """Every field that grading or presentation reads; a field another type has is its default."""
    choices = q.choices if isinstance(q, ChoiceQuestion) else ()
    answers = q.answers if isinstance(q, ShortAnswerQuestion) else ()
    numbers = q.numbers if isinstance(q, NumericQuestion) else ()
    pairs = q.pairs if isinstance(q, MatchingQuestion) else ()
    tf = q if isinstance(q, TrueFalseQuestion) else None
    return (q.type, tf.answer if tf else None, q.category, q.tags, sanitise_html(q.text_html),
            sanitise_html(q.feedback_html),
            [(sanitise_html(c.html), round(c.fraction, 5), sanitise_html(c.feedback_html)) for c in choices],
            [(a.text, round(a.fraction, 5), sanitise_html(a.feedback_html)) for a in answers],
            [(n.value, n.tolerance, round(n.fraction, 5), sanitise_html(n.feedback_html)) for n in numbers],
            [(sanitise_html(p.left_html), sanitise_html(p.right_html)) for p in pairs],
            sanitise_html(tf.feedback_true_html if tf else ""), sanitise_html(tf.feedback_false_html if tf else ""))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_question(), min_size=1, max_size=5, unique_by=lambda q: q.local_id))
def test_gift_export_round_trip_grades_the_same(questions: list[Question]) -> None:
    text = export_gift(questions, title="Đề kiểm tra")
    result = parse_gift(text, "export.gift")
    assert result.problems == [] and result.skipped == [], text
    assert [q.local_id for q in result.questions] == [q.local_id for q in questions]
    for before, after in zip(questions, result.questions, strict=True):
        assert _grading_view(after) == _grading_view(before), text


def test_gift_export_round_trips_the_fixtures_and_comments_ordering() -> None:
    originals = read_questions(SAMPLE).questions + read_questions(GIFT / "questions.gift.txt").questions
    ordering = ChoiceQuestion(local_id="steps", type=QuestionType.ORDERING, text_html="Order", source="x", line=1,
                              choices=(Choice("a"), Choice("b")))
    text = export_gift([*originals[:2], ordering, *originals[2:]])
    assert "// ordering question 'steps' cannot be written in GIFT" in text
    again = parse_gift(text, "export.gift")
    assert again.problems == [] and again.skipped == []
    assert [_grading_view(q) for q in again.questions] == [_grading_view(q) for q in originals]


def test_gift_export_notes_what_gift_cannot_say() -> None:
    partial = ChoiceQuestion(local_id="p", type=QuestionType.SINGLE, text_html="Q", source="x", line=1, points=2.0,
                             choices=(Choice("a", 1.0), Choice("b", 0.5)))
    strict = ShortAnswerQuestion(local_id="s", text_html="Q", source="x", line=1, case_sensitive=True,
                                 answers=(ShortAnswer("Ab"),))
    text = export_gift([partial, strict])
    assert "// single-choice question 'p' gives partial credit" in text
    assert "// question 'p' is worth 2 points" in text
    assert "// question 's': case-sensitive answers cannot be written in GIFT" in text
    back = parse_gift(text, "e.gift").questions
    assert [c.fraction for c in back[0].choices] == [1.0, 0.5] and valid_moodle_fraction(50)

    arrow = ShortAnswerQuestion(local_id="arrow", text_html="Q", source="x", line=1, answers=(ShortAnswer("a->b"),))
    raw = TrueFalseQuestion(local_id="raw", text_html="Q", source="x", line=1, answer=True, feedback_true_html="a->b")
    text = export_gift([arrow, raw])
    assert "// short_answer question 'arrow' cannot be written in GIFT" in text
    reread = parse_gift(text, "e.gift")
    assert reread.problems == [] and [(q.local_id, q.feedback_true_html) for q in reread.questions] == [
        ("raw", "a-&gt;b")]


def test_gift_export_writes_matching_distractors_after_the_pairs() -> None:
    # A bank keeps right items where they were written; the export lists the pairs first, as it always has.
    q = MatchingQuestion(local_id="m", text_html="Ghép", pairs=(Pair("a", "1"), Pair("", "9"), Pair("b", "2")))
    text = export_gift([q])
    assert text.index("=a -> 1") < text.index("=b -> 2") < text.index("= -> 9"), text
    back = parse_gift(text, "e.gift").questions[0]
    assert isinstance(back, MatchingQuestion) and back.pairs == (Pair("a", "1"), Pair("b", "2"), Pair("", "9"))
