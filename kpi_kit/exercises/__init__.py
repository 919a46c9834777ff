"""Exercises that check the learner's answer (nbgrader / Kaggle learntools style).

A notebook exercise has three cells::

    ### Exercise 6.1 — ARR retention for your book          (markdown prompt)

    ### BEGIN SOLUTION
    answer = 100 * cohort.apply(...).sum() / ...          (solution region; learner copies get
    ### END SOLUTION                                       `# YOUR CODE HERE` / `raise NotImplementedError()`)

    q6_1.check(answer)                                     (friendly verdict; q6_1.hint(), q6_1.solution())

The checker computes the right answer from the learner's own book with the kit, so an exercise
works for any CSM and any book. Typical wrong answers are recognised (:class:`Mistake`) and get
specific feedback ("you included new logos in NRR"). Exercise factories live in the topic modules
of this package (``kpi_kit.exercises.retention`` …); each takes ``(book, csm_id, period, ...)`` and
returns a :class:`Checker`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Checker", "Mistake", "NOT_ANSWERED"]

NOT_ANSWERED = "You have not answered yet: assign your result to `answer` in the cell above and run it."


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer and what to say when the learner gives it."""

    value: Any
    message: str


@dataclass(frozen=True)
class Checker:
    """Checks one exercise answer against the value the kit computes.

    Parameters
    ----------
    name
        Exercise number, e.g. ``"6.1"``.
    prompt
        One-line statement of the task (shown by ``repr``).
    expected
        The right answer (number, string, set, sequence, or None for "no data").
    tolerance
        Absolute tolerance for numbers (default 0.01: percentages to two decimals, money to the cent).
    hint_text, solution_text
        Shown by :meth:`hint` and :meth:`solution` (solution is code the learner can paste).
    mistakes
        Typical wrong answers with a specific message each.
    compare
        Optional custom comparison ``(answer, expected) -> bool`` for non-numeric answers.
    """

    name: str
    prompt: str
    expected: Any
    hint_text: str
    solution_text: str
    tolerance: float = 0.01
    mistakes: Sequence[Mistake] = field(default_factory=tuple)
    compare: Callable[[Any, Any], bool] | None = None

    # -- checking -------------------------------------------------------------------------------------
    def _matches(self, answer: Any, target: Any) -> bool:
        if self.compare is not None:
            return bool(self.compare(answer, target))
        if target is None or answer is None:
            return answer is None and target is None
        if isinstance(target, (int, float)) and not isinstance(target, bool):
            try:
                value = float(answer)
            except (TypeError, ValueError):
                return False
            return not math.isnan(value) and abs(value - float(target)) <= self.tolerance
        if isinstance(target, (set, frozenset)):
            return set(answer) == set(target)
        if isinstance(target, str):
            return str(answer).strip().lower() == target.strip().lower()
        return answer == target

    def verdict(self, answer: Any) -> tuple[bool, str]:
        """``(correct, message)`` for ``answer`` without printing."""
        if answer is None and self.expected is not None:
            return False, NOT_ANSWERED
        if answer is Ellipsis:
            return False, NOT_ANSWERED
        if self._matches(answer, self.expected):
            return True, f"Correct ✅  Exercise {self.name}: {self._show(self.expected)}."
        for mistake in self.mistakes:
            if mistake.value is not None and self._matches(answer, mistake.value):
                return False, f"Not quite ❌  {mistake.message}"
        if isinstance(self.expected, (int, float)) and not isinstance(answer, (int, float)):
            try:
                float(answer)
            except (TypeError, ValueError):
                return False, (f"Not quite ❌  Expected a number, got {type(answer).__name__} {answer!r}. "
                               "If you have a pandas Series, take one value (e.g. `.sum()` or `.iloc[0]`).")
        return False, (f"Not quite ❌  Your answer {self._show(answer)} is not the kit's figure for this book. "
                       f"Run `q{self.name.replace('.', '_')}.hint()` for a hint.")

    def check(self, answer: Any) -> bool:
        """Print a friendly verdict and return whether ``answer`` is right."""
        ok, message = self.verdict(answer)
        print(message)
        return ok

    def hint(self) -> None:
        print(f"Hint for {self.name}: {self.hint_text}")

    def solution(self) -> None:
        print(f"Solution for {self.name}:\n{self.solution_text}\n\nThe kit's answer for this book: {self._show(self.expected)}")

    @staticmethod
    def _show(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:,.2f}"
        return repr(value)

    def __repr__(self) -> str:
        return f"Exercise {self.name}: {self.prompt} (check with .check(answer); .hint(), .solution())"
