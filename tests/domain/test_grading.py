from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from lms.domain.grading import (
    Choice,
    NumericAnswer,
    Question,
    ShortAnswer,
    grade_attempt,
    grade_question,
    response_problem,
)

SINGLE = Question("s", "single", 2.0, choices=(Choice("a", 1.0, "Đúng"), Choice("b", 0.0, "Sai"), Choice("c")))
MULTI = Question("m", "multiple", 1.0, choices=(Choice("a", 0.5), Choice("b", 0.5), Choice("c", -1.0)))
TF = Question("t", "true_false", answer=False, feedback_false_html="Đúng rồi", feedback_true_html="Chưa đúng")
SHORT = Question("sa", "short_answer", answers=(ShortAnswer("thăng"), ShortAnswer("phím thăng"),
                                                 ShortAnswer("dấu *", 0.5)), accept_without_diacritics=True)
NUM = Question("n", "numeric", numbers=(NumericAnswer(10000, 0), NumericAnswer(9000, 500, 0.5)))
MATCH = Question("x", "matching", lefts=("l1", "l2", "l3"), rights=("r1", "r2", "r3", "r4"),
                 pairs=(("l1", "r1"), ("l2", "r2"), ("l3", "r3")))
ORDER = Question("o", "ordering", choices=(Choice("i1"), Choice("i2"), Choice("i3"), Choice("i4")))
ALL = (SINGLE, MULTI, TF, SHORT, NUM, MATCH, ORDER)


def test_single_choice_and_feedback() -> None:
    r = grade_question(SINGLE, "a")
    assert (r.score, r.max_score, r.correct, r.feedback_html) == (2.0, 2.0, True, ("Đúng",))
    assert grade_question(SINGLE, "b").score == 0 and grade_question(SINGLE, None).score == 0


def test_multiple_partial_credit_never_negative_in_total() -> None:
    assert grade_question(MULTI, ["a", "b"]).score == 1.0
    assert grade_question(MULTI, ["a"]).score == 0.5
    assert grade_question(MULTI, ["a", "c"]).score == 0.0  # -0.5 raised to 0
    assert grade_question(MULTI, ["a", "c"], allow_negative=True).score == -0.5
    aon = Question("m2", "multiple", choices=MULTI.choices, scoring="all_or_nothing")
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
    strict = Question("sa2", "short_answer", answers=(ShortAnswer("Hà Nội"),), case_sensitive=True)
    assert not grade_question(strict, "hà nội").correct and not grade_question(strict, "Ha Noi").correct
    assert grade_question(strict, "Hà Nội").correct


def test_short_answer_ignores_trailing_punctuation_only() -> None:
    otp = Question("otp", "short_answer", answers=(ShortAnswer("OTP"),))
    for typed in ("OTP.", "otp!", " OTP? ", "OTP,", "OTP..."):
        assert grade_question(otp, typed).correct, typed
    assert not grade_question(otp, ".OTP").correct and not grade_question(otp, "O.T.P").correct
    assert not grade_question(otp, "OTP:").correct  # only . , ! ? are dropped
    strict = Question("sa3", "short_answer", answers=(ShortAnswer("Hà Nội"),), case_sensitive=True)
    assert grade_question(strict, "Hà Nội.").correct and not grade_question(strict, "hà nội.").correct
    bang = Question("bang", "short_answer", answers=(ShortAnswer("!"),))  # punctuation alone stays an answer
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
    shuffled_choices = list(q.choices)
    rnd.shuffle(shuffled_choices)
    shuffled_rights = list(q.rights)
    rnd.shuffle(shuffled_rights)
    if q.type == "ordering":  # the listed order *is* the answer for ordering: shuffle the presentation only
        shuffled = q
    else:
        shuffled = Question(q.id, q.type, q.points, choices=tuple(shuffled_choices), lefts=q.lefts,
                            rights=tuple(shuffled_rights), pairs=q.pairs, scoring=q.scoring)
    assert grade_question(q, response).score == grade_question(shuffled, response).score
    if isinstance(response, list):
        reordered = list(response)
        rnd.shuffle(reordered)
        if q.type in ("multiple",):
            assert grade_question(q, response).score == grade_question(q, reordered).score
