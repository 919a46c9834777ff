"""Career ladder: promotion rules as data, eligibility, and a replay of a CSM's history.

The seed's ladder (``DEFAULT_LADDER``, documented in ``docs/career.md``):

============  ==========  ====================  ========  ==========================================
from          to          attainment (monthly)  months    plus
============  ==========  ====================  ========  ==========================================
CSM           Senior      >= 100 %              12        —
Senior        Lead        >= 110 %              12        1 strategic project (e.g. a playbook)
Lead          Manager     >= 120 %              12        mentoring 3 CSMs (team leadership)
============  ==========  ====================  ========  ==========================================

Rules, in plain words

* **Sustained** means *consecutive calendar months in the current level* at or above the bar. The
  seed says "12–18 months"; the kit uses 12 (the minimum) and a ladder file can say otherwise. A
  month below the bar, or a month with no attainment recorded, starts the count again. Months before
  the last promotion never count toward the next one.
* The seed's "110–120 %" for Lead is read as "110 % or more" (the lower edge).
* **Achievements** (projects, mentoring) are records ``(month, kind, description)``, one per project
  or per mentee. They count from the month they are recorded, whatever the level at the time.
* **Attainment is a ratio** (``1.1`` = 110 %), as in :mod:`kpi_kit.comp`; a DataFrame may instead
  carry an ``attainment_pct`` column in percent.

Examples
--------
>>> history = {f"2026-{m:02d}": 1.05 for m in range(1, 13)}
>>> s = career_status(history)
>>> s.eligible, s.next_level
(True, 'Senior')
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from kpi_kit import fmt
from kpi_kit.comp import as_decimal
from kpi_kit.errors import KitError
from kpi_kit.periods import parse_month

__all__ = [
    "Requirement",
    "CareerRule",
    "Achievement",
    "CareerStatus",
    "Promotion",
    "CareerPath",
    "DEFAULT_LADDER",
    "KIND_LABELS",
    "load_ladder",
    "career_status",
    "replay",
]

HUNDRED = Decimal(100)

#: Plain-language names of achievement kinds (singular, plural).
KIND_LABELS: dict[str, tuple[str, str]] = {
    "strategic_project": ("strategic project (e.g. a playbook)", "strategic projects (e.g. a playbook)"),
    "mentoring": ("CSM mentored", "CSMs mentored"),
}


def _kind_label(kind: str, count: int) -> str:
    singular, plural = KIND_LABELS.get(kind, (kind.replace("_", " "), kind.replace("_", " ")))
    return singular if count == 1 else plural


def _pct(d: Decimal) -> str:
    return f"{(d * HUNDRED).normalize():f} %"


@dataclass(frozen=True)
class Requirement:
    """At least ``count`` achievements of ``kind`` recorded (e.g. 3 × ``mentoring``)."""

    kind: str
    count: int

    @property
    def description(self) -> str:
        return f"{self.count} {_kind_label(self.kind, self.count)}"


@dataclass(frozen=True)
class CareerRule:
    """Promotion rule from ``from_level`` to ``to_level``.

    Attributes
    ----------
    min_attainment
        Monthly attainment bar (ratio, 1.1 = 110 %), met when attainment >= bar.
    months
        Consecutive months in ``from_level`` at or above the bar.
    requirements
        Achievements needed as well.
    """

    from_level: str
    to_level: str
    min_attainment: Decimal
    months: int
    requirements: tuple[Requirement, ...] = ()


#: The seed's ladder (see the module docstring and ``docs/career.md``).
DEFAULT_LADDER: tuple[CareerRule, ...] = (
    CareerRule("CSM", "Senior", Decimal("1.00"), 12),
    CareerRule("Senior", "Lead", Decimal("1.10"), 12, (Requirement("strategic_project", 1),)),
    CareerRule("Lead", "Manager", Decimal("1.20"), 12, (Requirement("mentoring", 3),)),
)


@dataclass(frozen=True)
class Achievement:
    """A recorded project or mentoring relationship (one record per project / per mentee)."""

    month: pd.Period
    kind: str
    description: str = ""


def load_ladder(path_or_data: str | Path | Sequence[Mapping[str, Any]] | None = None, *,
                source: str | None = None) -> tuple[CareerRule, ...]:
    """Load a ladder from YAML or a list of mappings (``None`` = :data:`DEFAULT_LADDER`).

    Each rule is ``{from: CSM, to: Senior, min_attainment_pct: 100, months: 12, requires: {kind: count}}``
    (``requires`` optional). Rules must chain: each ``from`` is the previous rule's ``to``.

    Raises
    ------
    KitError
        Naming the file, the rule number (1 = first), the key and the bad value.

    Examples
    --------
    >>> [r.to_level for r in load_ladder([{"from": "CSM", "to": "Senior", "min_attainment_pct": 105, "months": 18}])]
    ['Senior']
    """
    if path_or_data is None:
        return DEFAULT_LADDER
    if isinstance(path_or_data, (str, Path)):
        from kpi_kit.parsing import parse_yaml

        path = Path(path_or_data).expanduser()
        src = source or str(path)
        if not path.is_file():
            raise KitError(f"{src}: no such ladder file; give a YAML list of rules (see docs/career.md)")
        try:
            data = parse_yaml(path.read_text(encoding="utf-8-sig"), src)
        except UnicodeDecodeError:
            raise KitError(f"{src}: not UTF-8 text; save the file as UTF-8") from None
    else:
        data, src = path_or_data, source or "career ladder"
    if not isinstance(data, Sequence) or isinstance(data, str) or not data:
        raise KitError(f"{src}: expected a list of rules like "
                       "{from: CSM, to: Senior, min_attainment_pct: 100, months: 12}, got {data!r}")
    rules: list[CareerRule] = []
    for i, raw in enumerate(data, start=1):
        where = f"{src}: rule {i}"
        if not isinstance(raw, Mapping):
            raise KitError(f"{where}: expected a mapping, got {raw!r}")
        extra = set(raw) - {"from", "to", "min_attainment_pct", "months", "requires"}
        missing = {"from", "to", "min_attainment_pct", "months"} - set(raw)
        if extra or missing:
            raise KitError(f"{where}: keys must be from, to, min_attainment_pct, months and optionally requires "
                           f"(unknown: {sorted(extra)}, missing: {sorted(missing)})")
        frm, to = str(raw["from"]), str(raw["to"])
        if rules and frm != rules[-1].to_level:
            raise KitError(f"{where}: key 'from' has value {frm!r}; expected {rules[-1].to_level!r} "
                           "(rules must chain, each starting where the previous one ends)")
        try:
            bar = as_decimal(raw["min_attainment_pct"], "min_attainment_pct") / HUNDRED
        except KitError:
            bar = Decimal(-1)
        if bar < 0:
            raise KitError(f"{where}: key 'min_attainment_pct' has value {raw['min_attainment_pct']!r}; "
                           "expected an attainment % >= 0, e.g. 100")
        months = raw["months"]
        if isinstance(months, bool) or not isinstance(months, numbers.Integral) or months < 1:
            raise KitError(f"{where}: key 'months' has value {months!r}; expected a whole number of months >= 1")
        reqs = []
        requires = raw.get("requires") or {}
        if not isinstance(requires, Mapping):
            raise KitError(f"{where}: key 'requires' has value {requires!r}; expected a mapping kind -> count, "
                           "e.g. {mentoring: 3}")
        for kind, count in requires.items():
            if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 1:
                raise KitError(f"{where}: key 'requires.{kind}' has value {count!r}; expected a whole number >= 1")
            reqs.append(Requirement(str(kind), int(count)))
        rules.append(CareerRule(frm, to, bar, int(months), tuple(reqs)))
    return tuple(rules)


# --------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------

def _history(history: Any) -> dict[pd.Period, Decimal]:
    """Normalise a monthly attainment history to {month: ratio}."""
    pairs: list[tuple[Any, Any, str]] = []
    if isinstance(history, pd.DataFrame):
        if "month" not in history.columns or not ({"attainment", "attainment_pct"} & set(history.columns)):
            raise KitError("history: a DataFrame needs a 'month' column and an 'attainment' (ratio) "
                           "or 'attainment_pct' (percent) column")
        col = "attainment" if "attainment" in history.columns else "attainment_pct"
        scale = Decimal(1) if col == "attainment" else HUNDRED
        for i, (m, a) in enumerate(zip(history["month"], history[col]), start=2):
            pairs.append((m, (a, scale), f"history row {i}"))
    elif isinstance(history, (pd.Series, Mapping)):
        for m, a in history.items():
            pairs.append((m, (a, Decimal(1)), f"history[{m!s}]"))
    else:
        raise KitError(f"history: expected a mapping or Series month -> attainment (ratio), or a DataFrame; "
                       f"got {type(history).__name__}")
    out: dict[pd.Period, Decimal] = {}
    for m, (a, scale), where in pairs:
        month = parse_month(m if isinstance(m, pd.Period) else str(m)[:7] if isinstance(m, pd.Timestamp) else m,
                            f"{where} month")
        if month in out:
            raise KitError(f"{where}: month {month} appears twice; give one attainment per month")
        value = as_decimal(a, f"{where} attainment") / scale
        if value < 0:
            raise KitError(f"{where}: attainment {a!r} is negative; expected a ratio >= 0 (1.1 = 110 %)")
        out[month] = value
    return dict(sorted(out.items()))


def _achievements(achievements: Any, kinds: set[str]) -> list[Achievement]:
    if achievements is None:
        return []
    if isinstance(achievements, pd.DataFrame):
        items: Iterable[Any] = achievements.to_dict("records")
    else:
        items = achievements
    out = []
    for i, item in enumerate(items, start=1):
        where = f"achievement {i}"
        if isinstance(item, Achievement):
            month, kind, desc = item.month, item.kind, item.description
        elif isinstance(item, Mapping):
            if "month" not in item or "kind" not in item:
                raise KitError(f"{where}: {dict(item)!r} needs 'month' (YYYY-MM) and 'kind' ({', '.join(sorted(kinds))})")
            month, kind, desc = item["month"], item["kind"], item.get("description", "")
        elif isinstance(item, Sequence) and not isinstance(item, str) and len(item) in (2, 3):
            month, kind, desc = item[0], item[1], (item[2] if len(item) == 3 else "")
        else:
            raise KitError(f"{where}: {item!r}; expected (month, kind, description) or a mapping with those keys")
        if kind not in kinds:
            raise KitError(f"{where}: kind {kind!r} is not used by the ladder; expected one of "
                           f"{', '.join(sorted(kinds)) or '(none: the ladder needs no achievements)'}")
        out.append(Achievement(parse_month(month if isinstance(month, pd.Period) else str(month), f"{where} month"),
                               str(kind), "" if desc is None else str(desc)))
    return out


def _rule_from(ladder: Sequence[CareerRule], level: str) -> CareerRule | None:
    levels = [ladder[0].from_level] + [r.to_level for r in ladder]
    if level not in levels:
        raise KitError(f"level {level!r} is not on the ladder; levels: {', '.join(levels)}")
    return next((r for r in ladder if r.from_level == level), None)


# --------------------------------------------------------------------------------------------
# evaluation
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CareerStatus:
    """Where a CSM stands against the next promotion rule.

    Attributes
    ----------
    level, next_level
        Current level and the next one (None at the top of the ladder).
    as_of
        Last month of the history evaluated.
    eligible
        True when the attainment streak and every requirement are met.
    streak
        Consecutive months (ending at ``as_of``, within the current level) at or above the bar.
    months_remaining
        Months still needed **at the current pace**: if the latest month meets the bar, the months left
        to complete the streak assuming each coming month meets it too (0 once complete); None when the
        latest month is below the bar or missing (not on pace), or at the top of the ladder.
    missing
        Plain-language list of what is still missing (empty when eligible or at the top).
    """

    level: str
    next_level: str | None
    as_of: pd.Period | None
    eligible: bool
    streak: int
    months_remaining: int | None
    missing: tuple[str, ...]
    rule: CareerRule | None = None
    achieved: tuple[tuple[str, int], ...] = ()

    @property
    def table(self) -> pd.DataFrame:
        """One row per condition of the rule: ``requirement, needed, current, met``."""
        rows: list[dict[str, Any]] = []
        if self.rule is not None:
            rows.append({
                "requirement": f"consecutive months at >= {_pct(self.rule.min_attainment)}",
                "needed": self.rule.months, "current": self.streak, "met": self.streak >= self.rule.months,
            })
            have = dict(self.achieved)
            for req in self.rule.requirements:
                rows.append({"requirement": _kind_label(req.kind, 2), "needed": req.count,
                             "current": have.get(req.kind, 0), "met": have.get(req.kind, 0) >= req.count})
        return pd.DataFrame(rows, columns=["requirement", "needed", "current", "met"]).astype(
            {"requirement": "str", "needed": "int64", "current": "int64", "met": "bool"})

    def _repr_html_(self) -> str:
        if self.next_level is None:
            head = f"<p><strong>{fmt.text(self.level)}</strong>: top of the ladder.</p>"
        else:
            verdict = "eligible" if self.eligible else "not yet eligible"
            pace = ("" if self.months_remaining is None or self.eligible
                    else f" — {self.months_remaining} month(s) to go at the current pace")
            head = (f"<p><strong>{fmt.text(self.level)} → {fmt.text(self.next_level)}</strong> (as of {self.as_of}): "
                    f"{verdict}{pace}</p>")
        items = "".join(f"<li>{fmt.text(m)}</li>" for m in self.missing)
        return head + (f"<ul>{items}</ul>" if items else "") + self.table.to_html(index=False)


def _evaluate(rule: CareerRule | None, level: str, history: dict[pd.Period, Decimal],
              achievements: list[Achievement], since: pd.Period | None, as_of: pd.Period | None) -> CareerStatus:
    if rule is None:
        return CareerStatus(level, None, as_of, False, 0, None, ())
    streak = 0
    if as_of is not None:
        month = as_of
        while (since is None or month >= since) and month in history and history[month] >= rule.min_attainment:
            streak += 1
            month -= 1
    counts = {req.kind: sum(1 for a in achievements if a.kind == req.kind and (as_of is None or a.month <= as_of))
              for req in rule.requirements}
    missing: list[str] = []
    bar = _pct(rule.min_attainment)
    on_pace = streak > 0
    remaining = max(rule.months - streak, 0) if on_pace else None
    if streak < rule.months:
        if on_pace:
            missing.append(f"{rule.months} consecutive months at {bar} or more: {streak} so far, "
                           f"{remaining} to go at the current pace")
        else:
            latest = history.get(as_of) if as_of is not None else None
            why = ("no attainment recorded yet" if as_of is None else
                   f"{as_of} has no attainment recorded" if latest is None else
                   f"{as_of} was {_pct(latest.quantize(Decimal('0.0001'), rounding=ROUND_DOWN))}")
            missing.append(f"{rule.months} consecutive months at {bar} or more: not on pace ({why})")
    for req in rule.requirements:
        have = counts[req.kind]
        if have < req.count:
            missing.append(f"{req.description}: {have} recorded, {req.count - have} more needed")
    eligible = streak >= rule.months and all(counts[r.kind] >= r.count for r in rule.requirements)
    if eligible:
        remaining = 0
    return CareerStatus(level, rule.to_level, as_of, eligible, streak, remaining, tuple(missing), rule,
                        tuple(counts.items()))


def _kinds(ladder: Sequence[CareerRule]) -> set[str]:
    return {req.kind for r in ladder for req in r.requirements}


def career_status(history: Any, achievements: Any = (), *, level: str = "CSM", since: str | pd.Period | None = None,
                  as_of: str | pd.Period | None = None,
                  ladder: Sequence[CareerRule] | None = None) -> CareerStatus:
    """Eligibility for the next promotion from ``level``.

    Parameters
    ----------
    history
        Monthly attainment: a mapping or Series ``{"YYYY-MM": ratio}``, or a DataFrame with ``month`` and
        ``attainment`` (ratio) or ``attainment_pct`` (percent).
    achievements
        Records ``(month, kind, description)`` / mappings / :class:`Achievement` / a DataFrame with
        those columns; kinds must be ones the ladder uses (``strategic_project``, ``mentoring``).
    level
        The CSM's current level.
    since
        First month in ``level`` (months before it do not count); default: the whole history.
    as_of
        Month to evaluate (default: the last month of the history).
    ladder
        Rules (default :data:`DEFAULT_LADDER`).

    Returns
    -------
    CareerStatus

    Examples
    --------
    >>> h = {f"2026-{m:02d}": 1.15 for m in range(1, 13)}
    >>> s = career_status(h, level="Senior")
    >>> s.eligible, s.missing
    (False, ('1 strategic project (e.g. a playbook): 0 recorded, 1 more needed',))
    """
    rules = tuple(ladder) if ladder is not None else DEFAULT_LADDER
    hist = _history(history)
    ach = _achievements(achievements, _kinds(rules))
    rule = _rule_from(rules, level)
    since_p = parse_month(since, "since") if since is not None else None
    when = parse_month(as_of, "as_of") if as_of is not None else (max(hist) if hist else None)
    return _evaluate(rule, level, hist, ach, since_p, when)


@dataclass(frozen=True)
class Promotion:
    """A promotion at the end of ``month`` (the month the rule was first met)."""

    month: pd.Period
    from_level: str
    to_level: str
    months_in_level: int


@dataclass(frozen=True)
class CareerPath:
    """Result of :func:`replay`: the promotions in order and the status at the end of the history."""

    start_level: str
    promotions: tuple[Promotion, ...]
    status: CareerStatus

    @property
    def level(self) -> str:
        return self.status.level

    @property
    def table(self) -> pd.DataFrame:
        """Columns ``month, from_level, to_level, months_in_level``."""
        return pd.DataFrame(
            {
                "month": pd.array([p.month for p in self.promotions], dtype="period[M]"),
                "from_level": pd.array([p.from_level for p in self.promotions], dtype="str"),
                "to_level": pd.array([p.to_level for p in self.promotions], dtype="str"),
                "months_in_level": pd.array([p.months_in_level for p in self.promotions], dtype="int64"),
            }
        )

    def _repr_html_(self) -> str:
        return (f"<p><strong>Career path</strong> from {fmt.text(self.start_level)}: "
                f"{len(self.promotions)} promotion(s), now {fmt.text(self.level)}</p>"
                + self.table.to_html(index=False) + self.status._repr_html_())


def replay(history: Any, achievements: Any = (), *, start_level: str = "CSM",
           ladder: Sequence[CareerRule] | None = None) -> CareerPath:
    """Replay a monthly history and promote whenever a rule is met.

    Month by month from the first month of the history to the last (calendar months; a month with no
    attainment breaks the streak), the CSM is promoted at the end of the first month in which the
    current level's rule holds (:func:`career_status` with ``since`` = first month in the level and
    ``as_of`` = that month). The count for the next rule starts the month after.

    Returns
    -------
    CareerPath
        ``promotions`` with their months, and ``status`` for the level reached at the end.

    Examples
    --------
    The seed's four-year trajectory (98 %, 110 %, 115 % + a playbook, 120 % + mentoring 3 CSMs):

    >>> years = {2023: 0.98, 2024: 1.10, 2025: 1.15, 2026: 1.20}
    >>> h = {f"{y}-{m:02d}": a for y, a in years.items() for m in range(1, 13)}
    >>> ach = [("2025-06", "strategic_project", "renewal playbook")] + [
    ...     ("2026-03", "mentoring", n) for n in ("Ana", "Ben", "Chloe")]
    >>> [(str(p.month), p.to_level) for p in replay(h, ach).promotions]
    [('2024-12', 'Senior'), ('2025-12', 'Lead'), ('2026-12', 'Manager')]
    """
    rules = tuple(ladder) if ladder is not None else DEFAULT_LADDER
    hist = _history(history)
    ach = _achievements(achievements, _kinds(rules))
    level = start_level
    rule = _rule_from(rules, level)
    promotions: list[Promotion] = []
    if not hist:
        return CareerPath(start_level, (), _evaluate(rule, level, hist, ach, None, None))
    first, last = min(hist), max(hist)
    since = first
    month = first
    while month <= last:
        if rule is not None:
            status = _evaluate(rule, level, hist, ach, since, month)
            if status.eligible:
                promotions.append(Promotion(month, level, rule.to_level, (month - since).n + 1))
                level = rule.to_level
                rule = _rule_from(rules, level)
                since = month + 1
        month += 1
    final = _evaluate(rule, level, hist, ach, since, last)
    return CareerPath(start_level, tuple(promotions), final)
