"""Does `grader check` name each typical mistake, in both languages? One real submission per known mistake."""

from __future__ import annotations

import pytest

from helpers import feedback_text, spec
from grader.commands import check as checking

# (scenario, exercise, misconception key, words the English hint must contain, words the Chinese hint must contain)
MISTAKES = [
    ("ex01_no_backward", "ex01", "grad_none", ["requires_grad", "backward"], ["requires_grad", "backward"]),
    ("ex01_no_requires_grad", "ex01", "no_requires_grad", ["requires_grad"], ["requires_grad", "计算图"]),
    ("ex01_returns_item", "ex01", "returned_number", ["return the tensor"], ["返回张量本身"]),
    ("ex01_double_backward", "ex01", "hint.retain_graph_twice", ["ACCUMULATE", "without retain_graph"],
     ["累积", "不要用 retain_graph"]),
    ("ex02_no_zero", "ex02", "hint.not_zeroed", ["ACCUMULATE", "x.grad.zero_()"], ["累积", "x.grad.zero_()"]),
    ("ex03_nonscalar_backward", "ex03", "nonscalar_backward", ["scalar", "sum()", "ones_like"], ["标量", "sum()", "ones_like"]),
    ("ex03_weighted", "ex03", "hint.weighted_backward", ["weights each element", "ones"], ["加权", "全 1"]),
    ("ex04_no_detach", "ex04", "hint.through_detach", ["3x²", "detach"], ["3x²", "detach"]),
    ("ex04_no_detach", "ex04", "not_detached", ["detach"], ["detach"]),
    ("ex04_detach_after", "ex04", "not_detached.requires_grad", ["requires grad again", "requires_grad_"], ["又需要梯度"]),
    ("ex05_item", "ex05", "no_grad_fn.call_backward", ["graph is broken", "tensor operations"], ["计算图断了", "张量运算"]),
    ("ex06_uses_cos", "ex06", "hint.cos_outside_backward.line", ["WITHOUT cos", "backward"], ["不用 cos"]),
    ("ex06_method_cos", "ex06", "hint.cos_outside_backward.line", ["Line 9"], ["第 9 行"]),
    ("ex06_alias_cos", "ex06", "hint.cos_outside_backward.line", ["cosine"], ["余弦"]),
    ("ex06_math_cos", "ex06", "hint.cos_outside_backward.line", ["cosine"], ["余弦"]),
    ("ex06_numpy_cos", "ex06", "hint.cos_outside_backward.line", ["cosine"], ["余弦"]),
    ("stubs", "ex03", "not_attempted", ["Not attempted"], ["尚未作答"]),
    ("syntax_error", "ex03", "syntax_error", ["line 7", "SyntaxError"], ["第 7 行", "语法错误"]),
    ("import_error", "ex03", "import_error", ["torchh"], ["torchh"]),
    ("missing_function", "ex03", "missing_function", ["sum_backward", "sum_backwards"], ["sum_backward"]),
]


@pytest.mark.parametrize("scenario, exercise_id, key, english, chinese", MISTAKES,
                         ids=[f"{m[0]}-{m[2]}" for m in MISTAKES])
def test_typical_mistake_is_named_in_both_languages(check_submission, scenario, exercise_id, key, english, chinese):
    """The mistake is recognised, costs points, and its hint says what to fix in English and in Chinese."""
    result = check_submission(scenario, exercise_id)
    assert result.status != "passed"
    assert result.score < result.max_score
    assert key in result.misconceptions
    for words, lang in ((english, "en"), (chinese, "zh")):
        text = feedback_text(result, lang)
        for word in words:
            assert word in text, f"{lang} feedback lacks {word!r}:\n{text}"


@pytest.mark.parametrize("scenario, exercise_id", [
    ("ex02_grad_none", "ex02"),
    ("ex03_ones_like", "ex03"),
    ("ex06_autograd_grad", "ex06"),
    ("chatty", "ex03"),
] + [("correct", f"ex0{n}") for n in range(1, 7)])
def test_correct_idioms_pass(check_submission, scenario, exercise_id):
    """Every correct way of writing the exercise earns every point check can give: the public share of each check
    (hidden cases decide the rest when an instructor grades)."""
    result = check_submission(scenario, exercise_id)
    assert result.status == "passed", feedback_text(result, "en")
    assert all(c.passed and c.score == c.max_score for c in result.checks)
    assert result.score == sum(c.max_score for c in result.checks) > 0


@pytest.mark.parametrize("exercise_id", [f"ex0{n}" for n in range(1, 7)])
def test_untouched_stub_is_not_attempted(check_submission, exercise_id):
    """A stub still raising NotImplementedError is 'not started' with zero points, not an error."""
    result = check_submission("stubs", exercise_id)
    assert result.status == "not_attempted"
    assert result.score == 0
    assert result.problem is not None and result.problem.key == "not_attempted"


@pytest.mark.slow
def test_endless_loop_in_f_is_stopped_and_explained(check_submission):
    """ex05's f that never returns is killed at its time budget, and the hint quotes the student's own loop and
    its line, not the book's."""
    result = check_submission("ex05_infinite", "ex05")
    assert result.status == "error" and result.score == 0
    assert result.problem is not None and result.problem.key == "hint.endless_loop.loop_case"
    assert "your loop on line 8, `while True`" in feedback_text(result, "en")
    assert "第 8 行的循环 `while True`" in feedback_text(result, "zh")
    first = spec("ex05").case(spec("ex05").public[0])
    assert f"on the case {first.show}," in feedback_text(result, "en")  # it hangs on every case: the first one


@pytest.mark.slow
def test_the_case_a_loop_hangs_on_is_named(course, pool):
    """`while b.sum() < 1000` ends for a positive a and never for a negative one: the feedback names the public
    case that hung (found by running each public case alone), and quotes the student's condition."""
    from helpers import FIXTURES

    path = FIXTURES / "mistakes" / "ex05_sum_condition_loop" / course.config.exercise("ex05").filename
    result = checking.check(course, ("ex05",), {"ex05": path}, pool).result.exercises[0]
    public = [spec("ex05").case(name) for name in spec("ex05").public]
    hung = [case for case in public if case.param("value") < 0]
    assert hung and len(hung) < len(public)  # the course has a public case on each side of 0
    assert result.problem is not None and result.problem.key == "hint.endless_loop.loop_case"
    assert f"on the case {hung[0].show}," in feedback_text(result, "en")
    assert "`while b.sum() < 1000`" in feedback_text(result, "en")


@pytest.mark.parametrize("scenario, folder", [("correct", "solutions"), ("stubs", "exercises")])
def test_fixture_copies_stay_in_step(scenario, folder):
    """Are the 'correct' and 'stubs' fixtures still byte-identical to solutions/ and exercises/?"""
    from helpers import REPO, SUBMISSIONS

    for path in sorted((REPO / folder).glob("ex*.py")):
        assert (SUBMISSIONS / scenario / path.name).read_bytes() == path.read_bytes(), path.name


# --- ex06 judged by behaviour (the facts the child recorded), names and comments never count -------------

EX06_BEHAVIOUR = [
    ("correct", None),
    ("ex06_autograd_grad", None),
    ("ex06_label_cos", None),
    ("ex06_getattr_cos", "cos_outside_backward"),
    ("ex06_shifted_sin", "cos_outside_backward"),
    ("ex06_complex_exp", "cos_outside_backward"),
    ("ex06_method_cos", "cos_outside_backward"),
    ("ex06_uses_cos", "cos_outside_backward"),
]


@pytest.fixture(scope="module")
def ex06_plan(course):
    from grader.core import pipeline

    return pipeline.plan(course, ("ex06",), include_hidden=True)[0]


def ex06_run(ex06_plan, pool, scenario):
    """The sandboxed run of one fixture (all cases, hidden too) and its source, skipping when the child's recorder
    reported no facts (then the source scan decides, tested in test_misconceptions.py)."""
    from grader.core import pipeline, sources
    from helpers import SUBMISSIONS

    spec = ex06_plan.spec
    source = sources.read(spec, SUBMISSIONS / scenario / spec.filename, spec.filename)
    run = pool.run(pipeline._request(ex06_plan, source))
    assert run.status == "ok", run
    if any(case.facts is None for case in run.cases):
        pytest.skip("the child reported no facts for this run")
    return run, source


@pytest.mark.parametrize("scenario, misconception", EX06_BEHAVIOUR, ids=[s for s, _ in EX06_BEHAVIOUR])
def test_ex06_autograd_only_is_judged_by_what_the_code_did(ex06_plan, pool, scenario, misconception):
    """Does the autograd_only check pass exactly the answers whose result came out of autograd over sin of x with
    no cosine computed outside backward, however the source spells it?"""
    from grader.core import behaviour

    run, source = ex06_run(ex06_plan, pool, scenario)
    check = next(c for c in ex06_plan.spec.checks if c.kind == "autograd_only")
    result = behaviour.autograd_only(ex06_plan.spec, check, ex06_plan.cases, run.cases, source, True, 1.0)
    if misconception is None:
        assert result.passed and result.score == 1.0, [f.problem for f in result.findings]
    else:
        assert not result.passed and result.score == 0
        keys = {f.problem.key.removeprefix("hint.").split(".")[0] for f in result.findings}
        assert keys == {misconception}, keys


@pytest.mark.parametrize("scenario", ["ex06_label_cos", "ex06_getattr_cos"])
def test_ex06_scores_by_behaviour(check_submission, ex06_plan, pool, scenario):
    """Through `grader check`: the label-cos answer earns every point, the getattr cheat none for its result."""
    ex06_run(ex06_plan, pool, scenario)
    result = check_submission(scenario, "ex06")
    check = next(c for c in result.checks if c.check_id == "no_cosine")
    if scenario == "ex06_label_cos":
        assert result.status == "passed" and all(c.passed for c in result.checks), feedback_text(result, "en")
    else:
        assert not check.passed and "cos_outside_backward" in {k.removeprefix("hint.") for k in result.misconceptions}
        assert "cosine" in feedback_text(result, "en") and "余弦" in feedback_text(result, "zh")
