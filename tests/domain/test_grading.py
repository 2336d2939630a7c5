from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from lms.domain.grading import grade_attempt, grade_question, response_problem
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


def _choice(id: str, fraction: float = 0.0, feedback_html: str = "") -> Choice:
    return Choice(f"<p>{id}</p>", fraction, feedback_html, id=id)


SINGLE = ChoiceQuestion(id="s", type=QuestionType.SINGLE, points=2.0,
                        choices=(_choice("a", 1.0, "Đúng"), _choice("b", 0.0, "Sai"), _choice("c")))
MULTI = ChoiceQuestion(id="m", type=QuestionType.MULTIPLE, points=1.0,
                       choices=(_choice("a", 0.5), _choice("b", 0.5), _choice("c", -1.0)))
TF = TrueFalseQuestion(id="t", answer=False, feedback_false_html="Đúng rồi", feedback_true_html="Chưa đúng")
SHORT = ShortAnswerQuestion(id="sa", answers=(ShortAnswer("thăng"), ShortAnswer("phím thăng"),
                                              ShortAnswer("dấu *", 0.5)), accept_without_diacritics=True)
NUM = NumericQuestion(id="n", numbers=(NumericAnswer(10000, 0), NumericAnswer(9000, 500, 0.5)))
MATCH = MatchingQuestion(id="x", pairs=(Pair("L1", "R1", "l1", "r1"), Pair("L2", "R2", "l2", "r2"),
                                        Pair("L3", "R3", "l3", "r3"), Pair("", "R4", "", "r4")))
ORDER = ChoiceQuestion(id="o", type=QuestionType.ORDERING,
                       choices=(_choice("i1"), _choice("i2"), _choice("i3"), _choice("i4")))
ALL: tuple[Question, ...] = (SINGLE, MULTI, TF, SHORT, NUM, MATCH, ORDER)


def test_single_choice_and_feedback() -> None:
    r = grade_question(SINGLE, "a")
    assert (r.score, r.max_score, r.correct, r.feedback_html) == (2.0, 2.0, True, ("Đúng",))
    assert grade_question(SINGLE, "b").score == 0 and grade_question(SINGLE, None).score == 0


def test_multiple_partial_credit_never_negative_in_total() -> None:
    assert grade_question(MULTI, ["a", "b"]).score == 1.0
    assert grade_question(MULTI, ["a"]).score == 0.5
    assert grade_question(MULTI, ["a", "c"]).score == 0.0  # -0.5 raised to 0
    assert grade_question(MULTI, ["a", "c"], allow_negative=True).score == -0.5
    aon = ChoiceQuestion(id="m2", type=QuestionType.MULTIPLE, choices=MULTI.choices, scoring="all_or_nothing")
    assert grade_question(aon, ["a"]).score == 0.0 and grade_question(aon, ["b", "a"]).score == 1.0


def test_true_false_feedback_follows_the_response() -> None:
    assert grade_question(TF, False).feedback_html == ("Đúng rồi",) and grade_question(TF, False).correct
    assert grade_question(TF, True).score == 0 and grade_question(TF, True).feedback_html == ("Chưa đúng",)
    assert response_problem(TF, "false") == "response.boolean"


def test_short_answer_nfc_case_diacritics_and_wildcards() -> None:
    import unicodedata

    assert grade_question(SHORT, "  Thăng ").correct
    assert grade_question(SHORT, unicodedata.normalize("NFD", "PHÍM THĂNG")).correct
    assert grade_question(SHORT, "phim thang").correct  # typed without diacritics, allowed here
    assert grade_question(SHORT, "dấu thăng nhé").score == 0.5  # the wildcard answer, half credit
    strict = ShortAnswerQuestion(id="sa2", answers=(ShortAnswer("Hà Nội"),), case_sensitive=True)
    assert not grade_question(strict, "hà nội").correct and not grade_question(strict, "Ha Noi").correct
    assert grade_question(strict, "Hà Nội").correct


def test_short_answer_ignores_trailing_punctuation_only() -> None:
    otp = ShortAnswerQuestion(id="otp", answers=(ShortAnswer("OTP"),))
    for typed in ("OTP.", "otp!", " OTP? ", "OTP,", "OTP..."):
        assert grade_question(otp, typed).correct, typed
    assert not grade_question(otp, ".OTP").correct and not grade_question(otp, "O.T.P").correct
    assert not grade_question(otp, "OTP:").correct  # only . , ! ? are dropped
    strict = ShortAnswerQuestion(id="sa3", answers=(ShortAnswer("Hà Nội"),), case_sensitive=True)
    assert grade_question(strict, "Hà Nội.").correct and not grade_question(strict, "hà nội.").correct
    bang = ShortAnswerQuestion(id="bang", answers=(ShortAnswer("!"),))  # punctuation alone stays an answer
    assert grade_question(bang, "!").correct and not grade_question(bang, "?").correct


def test_numeric_tolerance_and_vietnamese_number_formats() -> None:
    assert grade_question(NUM, 10000).correct
    assert grade_question(NUM, "10.000").correct and grade_question(NUM, "10000,0").correct
    assert grade_question(NUM, 9400).score == 0.5
    assert grade_question(NUM, 8000).score == 0
    assert response_problem(NUM, "mười") == "response.number" and response_problem(NUM, True) == "response.number"


def test_matching_and_ordering_partial() -> None:
    assert grade_question(MATCH, {"l1": "r1", "l2": "r2", "l3": "r3"}).correct
    assert grade_question(MATCH, {"l1": "r1", "l2": "r4"}).score == round(1 / 3, 6)
    assert response_problem(MATCH, {"l1": "zz"}) == "response.matching"
    assert grade_question(ORDER, ["i1", "i2", "i3", "i4"]).correct
    assert grade_question(ORDER, ["i2", "i1", "i3", "i4"]).score == 0.5
    assert response_problem(ORDER, ["i1", "i2"]) == "response.ordering"


def test_attempt_total_and_pass_mark() -> None:
    full = {"s": "a", "m": ["a", "b"], "t": False, "sa": "thăng", "n": 10000,
            "x": {"l1": "r1", "l2": "r2", "l3": "r3"}, "o": ["i1", "i2", "i3", "i4"]}
    result = grade_attempt(ALL, full, pass_mark=70)
    assert result.score == result.max_score == 8.0 and result.percent == 100.0 and result.passed
    half = grade_attempt(ALL, {"s": "a", "m": ["a", "b"]}, pass_mark=50)
    assert half.score == 3.0 and half.percent == 37.5 and not half.passed
    assert grade_attempt(ALL, {"m": ["c"]}, pass_mark=50, allow_negative=True).score < 0
    assert grade_attempt(ALL, {"m": ["c"]}, pass_mark=50).score == 0


responses = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=30),
                      st.lists(st.sampled_from(["a", "b", "c", "i1", "i2", "i3", "i4", "zz"]), max_size=5),
                      st.dictionaries(st.sampled_from(["l1", "l2", "l3", "q"]),
                                      st.sampled_from(["r1", "r2", "r4", "x"])))


@settings(max_examples=300)
@given(st.sampled_from(ALL), responses, st.booleans())
def test_scores_stay_within_bounds_and_never_raise(q: Question, response: object, negative: bool) -> None:
    r = grade_question(q, response, allow_negative=negative)
    low = -q.points if negative else 0.0
    assert low <= r.score <= q.points
    if response_problem(q, response) is not None:
        assert r.score == 0


@given(st.sampled_from([MULTI, ORDER, MATCH, SINGLE]), st.randoms(use_true_random=False), responses)
def test_score_does_not_depend_on_the_order_choices_are_listed(q: Question, rnd: random.Random,
                                                                response: object) -> None:
    shuffled: Question
    if q.type == "ordering":  # the listed order *is* the answer for ordering: shuffle the presentation only
        shuffled = q
    elif isinstance(q, ChoiceQuestion):
        shuffled_choices = list(q.choices)
        rnd.shuffle(shuffled_choices)
        shuffled = replace(q, choices=tuple(shuffled_choices))
    else:
        assert isinstance(q, MatchingQuestion)
        shuffled_pairs = list(q.pairs)  # the right items (distractor included) in another order
        rnd.shuffle(shuffled_pairs)
        shuffled = replace(q, pairs=tuple(shuffled_pairs))
    assert grade_question(q, response).score == grade_question(shuffled, response).score
    if isinstance(response, list):
        reordered = list(response)
        rnd.shuffle(reordered)
        if q.type in ("multiple",):
            assert grade_question(q, response).score == grade_question(q, reordered).score
