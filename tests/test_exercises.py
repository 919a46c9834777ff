"""The exercise checker and learner copies."""

from __future__ import annotations

import nbformat
import pytest

from kpi_kit.cli import main
from kpi_kit.errors import KitError
from kpi_kit.exercises import NOT_ANSWERED, Checker, Mistake
from kpi_kit.learner import learner_notebook, strip_solutions, write_learner_copies

NRR = Checker("7.1", "NRR for your book", 110.0, hint_text="ending / beginning over the cohort",
              solution_text="answer = 100 * end / begin", mistakes=(Mistake(135.0, "you included new logos in NRR"),))


def test_checker_verdicts(capsys):
    assert NRR.check(110.004) is True                     # within 0.01
    assert "Correct" in capsys.readouterr().out
    assert NRR.check(110.02) is False                     # outside 0.01
    assert NRR.verdict(135.0) == (False, "Not quite ❌  you included new logos in NRR")
    assert NRR.verdict(None) == (False, NOT_ANSWERED)
    ok, msg = NRR.verdict("lots")
    assert not ok and "Expected a number" in msg
    NRR.hint()
    NRR.solution()
    out = capsys.readouterr().out
    assert "ending / beginning" in out and "answer = 100 * end / begin" in out and "110.00" in out


def test_none_is_a_right_answer_when_there_is_no_data():
    empty = Checker("6.2", "GRR of an empty book", None, hint_text="", solution_text="")
    assert empty.verdict(None)[0] is True
    assert empty.verdict(0)[0] is False                   # no data is not 0


def test_set_and_string_answers():
    accounts = Checker("5.1", "overdue accounts", frozenset({"A1", "A2"}), hint_text="", solution_text="")
    assert accounts.verdict(["A2", "A1"])[0] and not accounts.verdict(["A1"])[0]


SOURCE = '''x = 1
### BEGIN SOLUTION
answer = secret_formula(x)
### END SOLUTION
q.check(answer)'''


def test_strip_solutions_replaces_the_region():
    out = strip_solutions(SOURCE)
    assert "secret_formula" not in out and "BEGIN SOLUTION" not in out
    assert out.splitlines() == ["x = 1", "# YOUR CODE HERE", "raise NotImplementedError()", "q.check(answer)"]


@pytest.mark.parametrize("bad", ["### BEGIN SOLUTION\nx", "x\n### END SOLUTION", "### BEGIN SOLUTION\n### BEGIN SOLUTION"])
def test_unbalanced_markers_are_errors(bad):
    with pytest.raises(KitError, match="cell"):
        strip_solutions(bad)


def test_learner_copies_command_leaves_originals_alone(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("### Exercise\n<!-- BEGIN SOLUTION -->\nThe answer is 42.\n<!-- END SOLUTION -->"),
        nbformat.v4.new_code_cell(SOURCE)])
    nbformat.write(nb, src / "01_demo.ipynb")
    before = (src / "01_demo.ipynb").read_bytes()
    written = write_learner_copies(tmp_path / "out", src)
    text = written[0].read_text()
    assert "secret_formula" not in text and "The answer is 42" not in text and "NotImplementedError" in text
    assert (src / "01_demo.ipynb").read_bytes() == before
    learner = learner_notebook(nb, "x")
    assert learner.cells[1].source.count("YOUR CODE HERE") == 1
    assert main(["learner-copies", "--out", str(tmp_path / "cli")]) == 0
    assert "learner notebook(s)" in capsys.readouterr().out
