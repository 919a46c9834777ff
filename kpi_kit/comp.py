"""Variable compensation: comp plans, payout curves, pay statements and pay forecasts.

A **comp plan** (``comp_plan.yaml``, see ``docs/comp_plan.md``) says how much a CSM earns:

* ``base`` — annual base salary; ``variable_target`` — annual variable pay at 100 % attainment;
  **OTE** (on-target earnings) = base + variable_target.
* ``metrics`` — the KPIs the variable pay depends on and their weights (summing to exactly 1).
  The seed's plan: retention 45 %, expansion (NRR) 35 %, activity 20 %.
* ``curve`` — points (attainment %, payout as % of variable_target), joined by straight lines;
  ``threshold_pct`` (nothing is paid below it), ``cap_pct``, ``accelerators`` (marginal or
  retroactive) and a ``decelerator``.

Conventions (the same everywhere in this module)

* **Attainment is a ratio** in the Python API: ``1.2`` means 120 %. Plan files and the CLI use
  percentages (``120``), and say so in their key names / help.
* **Money is exact**: every amount is a :class:`decimal.Decimal`. Floats are converted with
  :func:`as_decimal`, which rounds them to 10 decimal places first, so ``0.7 + 0.1`` (the float
  ``0.7999999999999999``) becomes exactly ``Decimal("0.8")`` and pays the 80 % threshold rate.
* **Rounding happens once, at the end**: payouts are computed unrounded and rounded half-up to cents
  (``ROUND_HALF_UP``) only when reported. Table rows are split from the rounded total with the
  largest-remainder rule so that they always add up to it exactly.

Examples
--------
>>> plan = load_plan()                    # the seed's plan
>>> plan.ote
Decimal('100000')
>>> [str(variable_payout(plan, a)) for a in (0.79, 0.8, 1.0, 1.2, 1.5, 2.0)]
['0.00', '10000.00', '20000.00', '30000.00', '40000.00', '40000.00']
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from kpi_kit import fmt
from kpi_kit.errors import KitError
from kpi_kit.fx import check_currency_code

__all__ = [
    "DEFAULT_PLAN",
    "CompPlan",
    "MetricSpec",
    "RateTier",
    "StatementLine",
    "PayStatement",
    "PayForecast",
    "as_decimal",
    "round_cents",
    "load_plan",
    "payout_multiple",
    "variable_payout",
    "metric_attainment",
    "pay_at",
    "statement",
    "no_statement_words",
    "forecast_pay",
    "payout_curve_table",
]

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
ONE = Decimal(1)
ZERO = Decimal(0)

#: The seed's plan, as it would be written in ``comp_plan.yaml`` (see ``docs/examples/comp_plan.yaml``).
#: 80 % attainment pays 50 % of the variable target, rising linearly to 100 % at 100 % attainment,
#: 150 % at 120 % and 200 % at 150 %; above 150 % the payout is capped at 200 % ($40,000).
DEFAULT_PLAN: dict[str, Any] = {
    "name": "Seed CSM plan",
    "currency": "USD",
    "base": 80000,
    "variable_target": 20000,
    "curve_applies_to": "overall",
    "metric_attainment_cap_pct": 200,
    "metrics": {
        "retention": {"weight": 0.45, "kpi": "grr_pct"},
        "expansion": {"weight": 0.35, "kpi": "nrr_pct"},
        "activity": {"weight": 0.20, "kpi": "calls"},
    },
    "curve": [[80, 50], [100, 100], [120, 150], [150, 200]],
    "threshold_pct": 80,
    "cap_pct": 200,
    "accelerators": [],
    "accelerator_mode": "marginal",
    "decelerator": None,
}

_PLAN_KEYS = (
    "name", "currency", "base", "variable_target", "curve_applies_to", "metric_attainment_cap_pct", "metrics", "curve",
    "threshold_pct", "cap_pct", "accelerators", "accelerator_mode", "decelerator",
)


# --------------------------------------------------------------------------------------------
# numbers
# --------------------------------------------------------------------------------------------

def as_decimal(value: Any, what: str = "value") -> Decimal:
    """Convert a number to an exact :class:`~decimal.Decimal`.

    Rule: integers and ``Decimal`` are kept exactly; strings are parsed as written (``"0.8"``);
    floats (and numpy floats) are **rounded to 10 decimal places** and then read from their shortest
    text form, i.e. ``Decimal(str(round(x, 10)))``. So a float that is the result of a sum, such as
    ``0.7 + 0.1 == 0.7999999999999999``, becomes exactly ``Decimal("0.8")``. Ten places are far
    below a cent for any realistic salary (an error of 1e-10 on a $1,000,000 target is 0.01 cents).

    Parameters
    ----------
    value
        int, float, ``Decimal``, numpy number or numeric string.
    what
        Name used in the error message.

    Raises
    ------
    KitError
        ``value`` is a bool, missing (None/NaN), infinite or not a number.

    Examples
    --------
    >>> as_decimal(0.7 + 0.1), as_decimal(120), as_decimal("1.25")
    (Decimal('0.8'), Decimal('120'), Decimal('1.25'))
    """
    if isinstance(value, bool) or value is None:
        raise KitError(f"{what}: expected a number, got {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, numbers.Integral):
        result = Decimal(int(value))
    elif isinstance(value, numbers.Real):
        x = float(value)
        if not math.isfinite(x):
            raise KitError(f"{what}: expected a finite number, got {value!r} (missing data cannot be paid on)")
        result = Decimal(repr(round(x, 10)))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip().replace(",", "").replace("_", ""))
        except InvalidOperation:
            raise KitError(f"{what}: expected a number, got {value!r}") from None
    else:
        raise KitError(f"{what}: expected a number, got {value!r} ({type(value).__name__})")
    if not result.is_finite():
        raise KitError(f"{what}: expected a finite number, got {value!r}")
    return result + 0  # normalises -0 and applies the context precision


def round_cents(amount: Decimal) -> Decimal:
    """Round a money amount half-up to cents (``Decimal("0.005")`` -> ``Decimal("0.01")``).

    Examples
    --------
    >>> round_cents(Decimal("1666.665")), round_cents(Decimal("0.004"))
    (Decimal('1666.67'), Decimal('0.00'))
    """
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _fmt_pct(x: Decimal) -> str:
    return f"{(x * HUNDRED).normalize():f} %"


# --------------------------------------------------------------------------------------------
# the plan
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MetricSpec:
    """One metric of a plan.

    Attributes
    ----------
    name
        Plan name of the metric (``retention``).
    weight
        Share of the variable target that depends on it (fraction; all weights sum to 1).
    kpi
        The scorecard KPI it is measured by (the ``kpi`` column of ``kpi_kit.scorecard``), e.g. ``grr_pct``.
    lower_is_better
        True for metrics such as churn, whose attainment uses the mirror rule (see :func:`metric_attainment`).
    """

    name: str
    weight: Decimal
    kpi: str
    lower_is_better: bool = False


@dataclass(frozen=True)
class RateTier:
    """A rate that applies above an attainment level (ratio): an accelerator (rate >= 1) or decelerator (rate < 1)."""

    above: Decimal
    rate: Decimal


@dataclass(frozen=True)
class CompPlan:
    """A validated variable-comp plan. Build it with :func:`load_plan`.

    Amounts are annual, in ``currency``; ``curve`` holds ``(attainment, multiple)`` ratios
    (``(1.2, 1.5)``: 120 % attainment pays 150 % of ``variable_target``); ``threshold`` and ``cap``
    are ratios too. See :func:`payout_multiple` for how the pieces combine.
    """

    name: str
    currency: str
    base: Decimal
    variable_target: Decimal
    metrics: tuple[MetricSpec, ...]
    curve: tuple[tuple[Decimal, Decimal], ...]
    threshold: Decimal
    cap: Decimal | None = None
    accelerators: tuple[RateTier, ...] = ()
    accelerator_mode: Literal["marginal", "retroactive"] = "marginal"
    decelerator: RateTier | None = None
    curve_applies_to: Literal["overall", "metric"] = "overall"
    metric_attainment_cap: Decimal = Decimal(2)
    source: str = "default plan"

    @property
    def ote(self) -> Decimal:
        """On-target earnings = base + variable_target (annual)."""
        return self.base + self.variable_target

    @property
    def weights(self) -> dict[str, Decimal]:
        """``{metric name: weight}``."""
        return {m.name: m.weight for m in self.metrics}

    def to_dict(self) -> dict[str, Any]:
        """The plan in the ``comp_plan.yaml`` layout (percentages as numbers); ``load_plan`` reads it back."""

        def num(d: Decimal) -> int | float:
            return int(d) if d == d.to_integral_value() else float(d)

        def pct(d: Decimal) -> int | float:
            return num(d * HUNDRED)

        return {
            "name": self.name,
            "currency": self.currency,
            "base": num(self.base),
            "variable_target": num(self.variable_target),
            "curve_applies_to": self.curve_applies_to,
            "metric_attainment_cap_pct": pct(self.metric_attainment_cap),
            "metrics": {
                m.name: {"weight": num(m.weight), "kpi": m.kpi, "lower_is_better": m.lower_is_better}
                for m in self.metrics
            },
            "curve": [[pct(a), pct(p)] for a, p in self.curve],
            "threshold_pct": pct(self.threshold),
            "cap_pct": None if self.cap is None else pct(self.cap),
            "accelerators": [{"above_pct": pct(t.above), "rate": num(t.rate)} for t in self.accelerators],
            "accelerator_mode": self.accelerator_mode,
            "decelerator": None if self.decelerator is None
            else {"above_pct": pct(self.decelerator.above), "rate": num(self.decelerator.rate)},
        }

    @property
    def table(self) -> pd.DataFrame:
        """The plan's metrics: columns ``metric, kpi, weight, lower_is_better, variable_share`` (money, annual)."""
        return pd.DataFrame(
            {
                "metric": [m.name for m in self.metrics],
                "kpi": [m.kpi for m in self.metrics],
                "weight": [float(m.weight) for m in self.metrics],
                "lower_is_better": [m.lower_is_better for m in self.metrics],
                "variable_share": [float(round_cents(m.weight * self.variable_target)) for m in self.metrics],
            }
        )

    def describe(self) -> list[str]:
        """Plain-language lines describing the plan."""
        lines = [
            f"{self.name} ({self.source})",
            f"base {fmt.money(self.base, self.currency, 2)}, variable target "
            f"{fmt.money(self.variable_target, self.currency, 2)}, OTE {fmt.money(self.ote, self.currency, 2)} (annual)",
            "weights: " + ", ".join(f"{m.name} ({m.kpi}) {_fmt_pct(m.weight)}" for m in self.metrics),
            f"curve applied to the {'weighted overall attainment' if self.curve_applies_to == 'overall' else 'attainment of each metric'}: "
            + ", ".join(f"{_fmt_pct(a)} -> {_fmt_pct(p)}" for a, p in self.curve),
            f"nothing paid below {_fmt_pct(self.threshold)}; "
            + ("no cap" if self.cap is None else f"capped at {_fmt_pct(self.cap)} of the variable target"),
        ]
        if self.accelerators:
            lines.append(
                f"accelerators ({self.accelerator_mode}): "
                + ", ".join(f"x{t.rate.normalize():f} above {_fmt_pct(t.above)}" for t in self.accelerators)
            )
        if self.decelerator is not None:
            lines.append(
                f"decelerator: x{self.decelerator.rate.normalize():f} above {_fmt_pct(self.decelerator.above)}"
            )
        return lines

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{fmt.text(line)}</li>" for line in self.describe())
        return f"<div><strong>Comp plan</strong><ul>{items}</ul>{self.table.to_html(index=False)}</div>"


class _PlanReader:
    """Validates a plan mapping and produces error messages naming the file, key and value."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, value: Any, expected: str, todo: str = "") -> KitError:
        msg = f"{self.source}: key {key!r} has value {value!r}; expected {expected}"
        if todo:
            msg += f"; {todo}"
        return KitError(msg)

    def number(self, key: str, value: Any, *, minimum: Decimal | None = ZERO, strict: bool = False,
               expected: str = "a number") -> Decimal:
        if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
            raise self.fail(key, value, expected)
        try:
            d = as_decimal(value, key)
        except KitError:
            raise self.fail(key, value, expected) from None
        if minimum is not None and (d < minimum or (strict and d == minimum)):
            raise self.fail(key, value, expected)
        return d


def load_plan(path_or_dict: str | Path | Mapping[str, Any] | CompPlan | None = None, *,
              source: str | None = None) -> CompPlan:
    """Load and validate a comp plan.

    Parameters
    ----------
    path_or_dict
        ``None`` -> the seed's plan (:data:`DEFAULT_PLAN`); a path to a ``comp_plan.yaml``; a mapping
        in the same layout (keys missing from it take the seed plan's values, except that a plan
        with its own ``curve`` gets ``threshold_pct`` = its first point and no cap unless it sets
        them); or a ``CompPlan`` (returned unchanged).
    source
        Name used in error messages when a mapping is given (e.g. ``"book/comp_plan.yaml"``).

    Returns
    -------
    CompPlan

    Raises
    ------
    KitError
        The file is missing or not YAML, or a key is unknown or invalid. The message names the file,
        the key, the value and what is expected: e.g. weights not summing to 1, curve attainments not
        strictly increasing, payouts decreasing, a negative base.

    Examples
    --------
    >>> load_plan({"base": 90000}).ote
    Decimal('110000')
    """
    if isinstance(path_or_dict, CompPlan):
        return path_or_dict
    if path_or_dict is None:
        data: Mapping[str, Any] = {}
        src = source or "default plan"
    elif isinstance(path_or_dict, Mapping):
        data = path_or_dict
        src = source or "comp plan"
    else:
        path = Path(path_or_dict).expanduser()
        src = source or str(path)
        data = _read_plan_file(path, src)
    return _parse_plan(data, src)


def _read_plan_file(path: Path, src: str) -> Mapping[str, Any]:
    from kpi_kit.parsing import parse_yaml

    if not path.is_file():
        raise KitError(f"{src}: no such comp plan file; give the path of a comp_plan.yaml "
                       "(see docs/comp_plan.md) or omit --plan for the seed's plan")
    try:
        data = parse_yaml(path.read_text(encoding="utf-8-sig"), src)
    except UnicodeDecodeError:
        raise KitError(f"{src}: not UTF-8 text; save the file as UTF-8") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise KitError(f"{src}: expected a mapping of keys (base, variable_target, metrics, curve, ...) "
                       f"at the top level, got {type(data).__name__}")
    return data


def _parse_plan(data: Mapping[str, Any], src: str) -> CompPlan:
    r = _PlanReader(src)
    unknown = [k for k in data if k not in _PLAN_KEYS]
    if unknown:
        raise KitError(f"{src}: unknown key(s) {', '.join(map(repr, unknown))}; allowed keys: "
                       f"{', '.join(_PLAN_KEYS)} (see docs/comp_plan.md)")
    d = {**DEFAULT_PLAN, **data}
    if "curve" in data:  # a plan's own curve does not inherit the seed's threshold and cap
        d["threshold_pct"] = data.get("threshold_pct")
        d["cap_pct"] = data.get("cap_pct")

    name = str(d["name"] if d["name"] is not None else "comp plan")
    try:
        currency = check_currency_code(d["currency"] or "USD")  # " eur " -> "EUR"
    except ValueError as exc:
        raise KitError(f"{src}: currency: {exc}") from None
    base = r.number("base", d["base"], expected="a base salary >= 0 (annual, e.g. 80000)")
    variable = r.number("variable_target", d["variable_target"],
                        expected="a variable target >= 0 (annual pay at 100 % attainment, e.g. 20000)")

    applies = d["curve_applies_to"]
    if applies not in ("overall", "metric"):
        raise r.fail("curve_applies_to", applies, "'overall' (curve on the weighted attainment) or 'metric' (curve per metric)")

    metric_cap = r.number("metric_attainment_cap_pct", d["metric_attainment_cap_pct"], strict=True,
                          expected="an attainment % > 0: the most any one metric's attainment counts (e.g. 200)") / HUNDRED
    metrics = _parse_metrics(r, d["metrics"])
    curve = _parse_curve(r, d["curve"])

    if d["threshold_pct"] is None:
        threshold = curve[0][0]
    else:
        threshold = r.number("threshold_pct", d["threshold_pct"],
                             expected="an attainment % >= 0 below which nothing is paid (e.g. 80)") / HUNDRED
    cap = None
    if d["cap_pct"] is not None:
        cap = r.number("cap_pct", d["cap_pct"], expected="a payout % of the variable target >= 0 (e.g. 200), or null for no cap") / HUNDRED

    mode = d["accelerator_mode"]
    if mode not in ("marginal", "retroactive"):
        raise r.fail("accelerator_mode", mode, "'marginal' (the rate applies to attainment above the tier) "
                     "or 'retroactive' (the rate applies to the whole payout once the tier is reached)")
    accelerators = _parse_accelerators(r, d["accelerators"])
    decelerator = None
    if d["decelerator"] is not None:
        decelerator = _parse_tier(r, "decelerator", d["decelerator"])
        if not decelerator.rate < ONE:
            raise r.fail("decelerator.rate", d["decelerator"].get("rate"),
                         "a rate >= 0 and < 1 (e.g. 0.5 pays half the curve's rate above the tier)")
    return CompPlan(
        name=name, currency=currency, base=base, variable_target=variable, metrics=metrics, curve=curve,
        threshold=threshold, cap=cap, accelerators=accelerators, accelerator_mode=mode,
        decelerator=decelerator, curve_applies_to=applies, metric_attainment_cap=metric_cap, source=src,
    )


def _parse_metrics(r: _PlanReader, raw: Any) -> tuple[MetricSpec, ...]:
    if not isinstance(raw, Mapping) or not raw:
        raise r.fail("metrics", raw, "a mapping of metric name -> weight or {weight, kpi, lower_is_better}, "
                     "e.g. {retention: {weight: 0.45, kpi: grr_pct}}")
    specs = []
    for name, value in raw.items():
        key = f"metrics.{name}"
        if isinstance(value, Mapping):
            extra = [k for k in value if k not in ("weight", "kpi", "lower_is_better")]
            if extra:
                raise r.fail(key, dict(value), "only the keys weight, kpi, lower_is_better")
            weight_raw = value.get("weight")
            kpi = value.get("kpi", DEFAULT_PLAN["metrics"].get(name, {}).get("kpi", name))
            lower = value.get("lower_is_better", False)
        else:
            weight_raw, kpi, lower = value, DEFAULT_PLAN["metrics"].get(name, {}).get("kpi", name), False
        weight = r.number(f"{key}.weight", weight_raw, expected="a weight between 0 and 1 (e.g. 0.45)")
        if weight > ONE:
            raise r.fail(f"{key}.weight", weight_raw, "a weight between 0 and 1 (e.g. 0.45; weights are fractions, not percentages)")
        if not isinstance(kpi, str) or not kpi.strip():
            raise r.fail(f"{key}.kpi", kpi, "the name of a scorecard KPI, e.g. grr_pct")
        if not isinstance(lower, bool):
            raise r.fail(f"{key}.lower_is_better", lower, "true or false")
        specs.append(MetricSpec(str(name), weight, kpi.strip(), lower))
    total = sum((s.weight for s in specs), ZERO)
    if total != ONE:
        shown = {s.name: float(s.weight) for s in specs}
        raise r.fail("metrics", shown, f"weights summing to exactly 1 (they sum to {total.normalize():f})",
                     "adjust the weights, e.g. 0.45 / 0.35 / 0.20; write thirds as 0.34 / 0.33 / 0.33")
    return tuple(specs)


def _parse_curve(r: _PlanReader, raw: Any) -> tuple[tuple[Decimal, Decimal], ...]:
    expected = "a list of [attainment %, payout % of variable target] points, e.g. [[80, 50], [100, 100]]"
    if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
        raise r.fail("curve", raw, expected)
    points: list[tuple[Decimal, Decimal]] = []
    for i, item in enumerate(raw):
        key = f"curve[{i}]"
        if isinstance(item, Mapping):
            pair = (item.get("attainment_pct"), item.get("payout_pct"))
        elif isinstance(item, Sequence) and not isinstance(item, str) and len(item) == 2:
            pair = (item[0], item[1])
        else:
            raise r.fail(key, item, expected)
        a = r.number(key, pair[0], expected="an attainment % >= 0") / HUNDRED
        p = r.number(key, pair[1], expected="a payout % >= 0") / HUNDRED
        if points and a <= points[-1][0]:
            raise r.fail(key, list(item) if not isinstance(item, Mapping) else dict(item),
                         f"an attainment above the previous point's ({_fmt_pct(points[-1][0])}): "
                         "curve points must have strictly increasing attainment", "sort the points")
        if points and p < points[-1][1]:
            raise r.fail(key, list(item) if not isinstance(item, Mapping) else dict(item),
                         f"a payout % at least the previous point's ({_fmt_pct(points[-1][1])}): "
                         "pay must never fall as attainment rises")
        points.append((a, p))
    return tuple(points)


def _parse_tier(r: _PlanReader, key: str, raw: Any) -> RateTier:
    if not isinstance(raw, Mapping) or set(raw) != {"above_pct", "rate"}:
        raise r.fail(key, raw, "a mapping {above_pct: <attainment %>, rate: <multiplier>}, e.g. {above_pct: 100, rate: 1.5}")
    above = r.number(f"{key}.above_pct", raw["above_pct"], expected="an attainment % >= 0") / HUNDRED
    rate = r.number(f"{key}.rate", raw["rate"], expected="a rate >= 0")
    return RateTier(above, rate)


def _parse_accelerators(r: _PlanReader, raw: Any) -> tuple[RateTier, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise r.fail("accelerators", raw, "a list of {above_pct, rate} tiers, e.g. [{above_pct: 100, rate: 1.5}]")
    tiers: list[RateTier] = []
    for i, item in enumerate(raw):
        key = f"accelerators[{i}]"
        tier = _parse_tier(r, key, item)
        if tier.rate < ONE:
            raise r.fail(f"{key}.rate", item["rate"], "an accelerator rate >= 1 (use decelerator for rates below 1)")
        if tiers and tier.above <= tiers[-1].above:
            raise r.fail(f"{key}.above_pct", item["above_pct"], "tiers in strictly increasing order of above_pct")
        if tiers and tier.rate < tiers[-1].rate:
            raise r.fail(f"{key}.rate", item["rate"], f"a rate at least the previous tier's ({tiers[-1].rate}): "
                         "a higher tier must not pay less")
        tiers.append(tier)
    return tuple(tiers)


# --------------------------------------------------------------------------------------------
# the payout curve
# --------------------------------------------------------------------------------------------

def _curve_value(plan: CompPlan, a: Decimal) -> Decimal:
    """The plain curve (threshold applied, no accelerators/decelerator/cap) at attainment ``a``."""
    if a < plan.threshold:
        return ZERO
    pts = list(plan.curve)
    if pts[0][0] > ZERO:
        pts.insert(0, (ZERO, ZERO))  # below the first point: the straight line from (0, 0)
    if a <= pts[0][0]:
        return pts[0][1]
    for (a0, p0), (a1, p1) in zip(pts, pts[1:]):
        if a <= a1:
            return p0 + (p1 - p0) * (a - a0) / (a1 - a0)
    if len(pts) == 1:  # a single point at 0 % attainment: flat
        return pts[0][1]
    (a0, p0), (a1, p1) = pts[-2], pts[-1]
    return p1 + (p1 - p0) * (a - a1) / (a1 - a0)  # beyond the last point: the last slope continues


def _tiered(plan: CompPlan, a: Decimal, tiers: list[tuple[Decimal, Decimal]]) -> Decimal:
    """Integrate the curve with slope multipliers: ``tiers`` = sorted [(start, rate)], first start 0."""
    total = tiers[0][1] * _curve_value(plan, ZERO)
    for k, (start, rate) in enumerate(tiers):
        if a < start:
            break
        end = tiers[k + 1][0] if k + 1 < len(tiers) else None
        upper = a if end is None or a < end else end
        total += rate * (_curve_value(plan, upper) - _curve_value(plan, start))
    return total


def _rate_at(tiers: Iterable[RateTier], a: Decimal) -> Decimal:
    rate = ONE
    for t in tiers:
        if a >= t.above:
            rate = t.rate
    return rate


def payout_multiple(plan: CompPlan, attainment: Any) -> Decimal:
    """Variable pay as a multiple of the variable target, for one attainment (unrounded).

    Definition, in order:

    1. **Threshold**: attainment below ``plan.threshold`` pays 0; attainment *equal* to it pays the
       curve's value there.
    2. **Curve** ``c(a)``: straight lines between the plan's points. Below the first point (when the
       threshold is lower than it) the line runs from (0, 0) to the first point; above the last
       point the last segment's slope continues (the cap stops it).
    3. **Decelerator** (always marginal): above its level the curve's slope is multiplied by its rate.
    4. **Accelerators**: *marginal* — above each tier's level the slope is multiplied by that tier's
       rate (tiers do not stack: the highest tier reached applies, times the decelerator); *retroactive*
       — once a tier is reached its rate multiplies the whole payout (a jump at the tier).
    5. **Cap**: the result is at most ``plan.cap``.

    Parameters
    ----------
    plan
        The comp plan.
    attainment
        Attainment as a ratio (``1.2`` = 120 %), >= 0; floats are converted with :func:`as_decimal`.

    Returns
    -------
    Decimal
        Multiple of the variable target (``Decimal("1.5")`` = 150 % of it).

    Examples
    --------
    >>> plan = load_plan()
    >>> payout_multiple(plan, 0.9)      # halfway between 80 % (0.5) and 100 % (1.0)
    Decimal('0.75')
    """
    a = as_decimal(attainment, "attainment")
    if a < ZERO:
        raise KitError(f"attainment {attainment!r} is negative; attainment is a ratio >= 0 (1.2 = 120 %)")
    dec = plan.decelerator
    tiers: dict[Decimal, None] = {ZERO: None}
    for t in (plan.accelerators if plan.accelerator_mode == "marginal" else ()):
        tiers[t.above] = None
    if dec is not None:
        tiers[dec.above] = None
    starts = sorted(tiers)

    def rate(s: Decimal) -> Decimal:
        r = _rate_at([dec], s) if dec is not None else ONE
        if plan.accelerator_mode == "marginal":
            r *= _rate_at(plan.accelerators, s)
        return r

    value = _tiered(plan, a, [(s, rate(s)) for s in starts])
    if plan.accelerator_mode == "retroactive":
        value *= _rate_at(plan.accelerators, a)
    if plan.cap is not None:
        value = min(value, plan.cap)
    return value


def variable_payout(plan: CompPlan, attainment: Any, *, months: int = 12) -> Decimal:
    """Variable pay for one overall attainment, rounded half-up to cents.

    ``variable_target × months / 12 × payout_multiple(plan, attainment)``.

    Examples
    --------
    >>> str(variable_payout(load_plan(), 1.2)), str(variable_payout(load_plan(), 1.2, months=3))
    ('30000.00', '7500.00')
    """
    return round_cents(_period_amount(plan.variable_target, months) * payout_multiple(plan, attainment))


def _period_amount(annual: Decimal, months: int) -> Decimal:
    if isinstance(months, bool) or not isinstance(months, numbers.Integral) or months < 1:
        raise KitError(f"months {months!r}: expected a whole number of months >= 1 (12 = a year)")
    return annual * Decimal(int(months)) / Decimal(12)


def metric_attainment(target: Any, actual: Any, *, lower_is_better: bool = False, cap: Any = 2,
                      metric: str = "metric") -> Decimal:
    """Attainment (ratio) of one metric — the same rule as ``kpi_kit.scorecard``, computed exactly.

    * Higher is better: ``actual / target``.
    * Lower is better (churn): ``target / actual``; at target it is 100 %, half the allowed churn is
      200 %; an actual of 0 gets the cap.
    * Either way the result is at most ``cap`` (the plan's ``metric_attainment_cap_pct``, default
      200 %, so one runaway metric cannot carry the weighted attainment on its own).

    Parameters
    ----------
    target, actual
        Numbers >= 0 (floats are converted with :func:`as_decimal`).
    lower_is_better
        Direction of the metric.
    cap
        Largest attainment (ratio) counted.
    metric
        Name used in error messages.

    Raises
    ------
    KitError
        Missing or negative values, or a target of 0 (attainment undefined).

    Examples
    --------
    >>> metric_attainment(90, 99), metric_attainment(5, 4, lower_is_better=True), metric_attainment(20, 60)
    (Decimal('1.1'), Decimal('1.25'), Decimal('2'))
    """
    t = as_decimal(target, f"{metric} target")
    x = as_decimal(actual, f"{metric} actual")
    c = as_decimal(cap, "cap")
    if t < ZERO or x < ZERO:
        raise KitError(f"{metric}: target {target!r} and actual {actual!r} must be >= 0")
    if t == ZERO:
        raise KitError(f"{metric}: target is 0, so attainment is undefined; set a target > 0 or drop the metric from the plan")
    if lower_is_better:
        return c if x == ZERO else min(t / x, c)
    return min(x / t, c)


# --------------------------------------------------------------------------------------------
# statements
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StatementLine:
    """One metric row of a pay statement (exact values; ``payout`` is in cents)."""

    metric: str
    kpi: str
    target: Decimal | None
    actual: Decimal | None
    attainment: Decimal
    weight: Decimal
    multiple: Decimal
    payout: Decimal


@dataclass(frozen=True)
class PayStatement:
    """What a CSM earns for a period under a plan.

    Attributes
    ----------
    plan
        The plan used.
    months
        Length of the period; base and variable target are pro-rated as ``annual × months / 12``.
    lines
        One :class:`StatementLine` per metric (or a single ``overall`` line for :func:`pay_at`).
    attainment
        Weighted overall attainment ``Σ weight × attainment`` (ratio).
    multiple
        Variable payout / variable target for the period (unrounded).
    base, variable_target
        Pro-rated base and variable target, rounded to cents.
    variable_payout
        Variable pay, computed unrounded and rounded half-up to cents once.
    total_earnings
        ``base + variable_payout`` (both already in cents).
    label
        Free text shown in the notebook view.
    kpi_currency
        ISO code of money KPIs' targets and actuals (e.g. ``sql_pipeline``): the book's
        ``reporting_currency``, which may differ from the plan's pay ``currency``. Empty = the plan's
        currency. Display only.
    """

    plan: CompPlan
    months: int
    lines: tuple[StatementLine, ...]
    attainment: Decimal
    multiple: Decimal
    base: Decimal
    variable_target: Decimal
    variable_payout: Decimal
    total_earnings: Decimal
    label: str = ""
    kpi_currency: str = ""

    @property
    def ote(self) -> Decimal:
        """On-target earnings for the period (base + variable target)."""
        return self.base + self.variable_target

    @property
    def table(self) -> pd.DataFrame:
        """Columns ``metric, kpi, target, actual, attainment, weight, multiple, payout``.

        ``attainment`` and ``multiple`` are ratios (1.2 = 120 %), ``weight`` a fraction, ``payout``
        money rounded to cents (rows add up exactly to ``variable_payout``).
        """
        def opt(d: Decimal | None) -> float:
            return float("nan") if d is None else float(d)

        return pd.DataFrame(
            {
                "metric": pd.array([ln.metric for ln in self.lines], dtype="str"),
                "kpi": pd.array([ln.kpi for ln in self.lines], dtype="str"),
                "target": [opt(ln.target) for ln in self.lines],
                "actual": [opt(ln.actual) for ln in self.lines],
                "attainment": [float(ln.attainment) for ln in self.lines],
                "weight": [float(ln.weight) for ln in self.lines],
                "multiple": [float(ln.multiple) for ln in self.lines],
                "payout": [float(ln.payout) for ln in self.lines],
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (money as floats rounded to cents, attainment as ratio and %)."""
        return {
            "plan": self.plan.name,
            "currency": self.plan.currency,
            "months": self.months,
            "attainment": float(self.attainment),
            "attainment_pct": float(self.attainment * HUNDRED),
            "payout_multiple": float(self.multiple),
            "variable_payout": float(self.variable_payout),
            "total_earnings": float(self.total_earnings),
            "base": float(self.base),
            "variable_target": float(self.variable_target),
            "ote": float(self.ote),
            "metrics": [
                {
                    "metric": ln.metric, "kpi": ln.kpi,
                    "target": None if ln.target is None else float(ln.target),
                    "actual": None if ln.actual is None else float(ln.actual),
                    "attainment": float(ln.attainment), "weight": float(ln.weight),
                    "multiple": float(ln.multiple), "payout": float(ln.payout),
                }
                for ln in self.lines
            ],
        }

    def display_table(self) -> pd.DataFrame:
        """:attr:`table` as text for people: percentages and money instead of raw ratios.

        Same rows and column names as :attr:`table`. ``target`` / ``actual`` are in the KPI's own unit
        (:data:`kpi_kit.scorecard.KPIS`: ``"95.0 %"``, ``"$120,000"`` in :attr:`kpi_currency`, or a
        count); ``attainment`` and ``multiple`` (payout as a share of the variable target) are percent
        with one decimal (``0.952`` -> ``"95.2 %"``), ``weight`` is the exact percentage (``"45 %"``),
        ``payout`` is money in the plan's currency with cents (``"$2,446.88"``). A target or actual that
        does not exist (the single ``overall`` line of :func:`pay_at`) is ``"—"``. Display only: pay is
        computed from the exact values, never from this text.

        Examples
        --------
        >>> s = statement(None, {"retention": (90, 85.68), "expansion": (100, 100), "activity": (60, 60)}, months=3)
        >>> s.display_table().loc[0, ["target", "actual", "attainment", "weight"]].tolist()
        ['90.0 %', '85.7 %', '95.2 %', '45 %']
        """
        from kpi_kit.scorecard import KPIS

        units = {kpi: unit for kpi, _label, _kind, unit, _hib in KPIS}
        kpi_cur = self.kpi_currency or self.plan.currency

        def value(d: Decimal | None, kpi: str) -> str:
            if d is None:
                return "—"
            unit = units.get(kpi, "count")
            if unit == "pct":
                return fmt.pct(float(d))
            if unit == "money":
                return fmt.money(float(d), kpi_cur)
            return fmt.count(float(d))

        return pd.DataFrame({
            "metric": pd.array([ln.metric for ln in self.lines], dtype="str"),
            "kpi": pd.array([ln.kpi for ln in self.lines], dtype="str"),
            "target": pd.array([value(ln.target, ln.kpi) for ln in self.lines], dtype="str"),
            "actual": pd.array([value(ln.actual, ln.kpi) for ln in self.lines], dtype="str"),
            "attainment": pd.array([fmt.pct(float(ln.attainment * HUNDRED)) for ln in self.lines], dtype="str"),
            "weight": pd.array([_fmt_pct(ln.weight) for ln in self.lines], dtype="str"),
            "multiple": pd.array([fmt.pct(float(ln.multiple * HUNDRED)) for ln in self.lines], dtype="str"),
            "payout": pd.array([fmt.money(ln.payout, self.plan.currency, 2) for ln in self.lines], dtype="str"),
        })

    # ---- display only: everything below reads the exact values and never changes pay ----

    def _specs(self) -> dict[str, MetricSpec]:
        return {m.name: m for m in self.plan.metrics}

    def _uncapped(self, ln: StatementLine) -> Decimal | None:
        """``actual / target`` (``target / actual`` when lower is better) before the plan's cap; None without data."""
        if ln.target is None or ln.actual is None or ln.target == ZERO:
            return None
        spec = self._specs().get(ln.metric)
        if spec is not None and spec.lower_is_better:
            return None if ln.actual == ZERO else ln.target / ln.actual
        return ln.actual / ln.target

    def _capped(self, ln: StatementLine) -> bool:
        """True when the metric's attainment was cut to the plan's ``metric_attainment_cap``."""
        if ln.target is None or ln.actual is None:
            return False
        spec = self._specs().get(ln.metric)
        if spec is not None and spec.lower_is_better and ln.actual == ZERO:
            return True  # zero churn: no ratio, it gets the cap
        raw = self._uncapped(ln)
        return raw is not None and raw > self.plan.metric_attainment_cap

    def points(self) -> list[Decimal]:
        """Each line's share of the overall attainment, in percentage points, for display.

        ``weight × attainment × 100`` rounded to one decimal by the largest-remainder rule, so that the
        points add up exactly to the overall attainment shown (:meth:`overall_pct`, half-up to one
        decimal). Display only: pay uses the exact attainment.

        Examples
        --------
        >>> s = statement(None, {"retention": (90, 99), "expansion": (100, 120), "activity": (60, 30)})
        >>> [str(p) for p in s.points()], s.overall_pct()   # 49.5 + 42 + 10 = 101.5
        (['49.5', '42.0', '10.0'], '101.5 %')
        """
        exact = [ln.weight * ln.attainment * HUNDRED for ln in self.lines]
        return _allocate_step(_round_tenth(self.attainment * HUNDRED), exact, TENTH)

    def overall_pct(self) -> str:
        """The overall (weighted) attainment as text, half-up to one decimal (``"110.8 %"``)."""
        return _pct_tenth(self.attainment)

    def breakdown(self) -> pd.DataFrame:
        """How each metric counts toward pay, as text for people: one row per metric, then a ``total`` row.

        Columns

        * ``metric`` (plan name; ``total`` on the last row), ``kpi`` (KPI id), ``label`` (the scorecard's
          label, e.g. ``"GRR (ARR retention)"``; ``"Overall"`` on the total row);
        * ``target``, ``actual`` — as in :meth:`display_table` (the KPI's unit, money KPIs in
          :attr:`kpi_currency`); empty on the total row;
        * ``attainment`` — as counted for pay, i.e. at most the plan's ``metric_attainment_cap_pct``, one
          decimal, ``"200.0 % (capped)"`` when the cap cut it; on the total row the overall attainment;
        * ``weight`` (``"20 %"``, total ``"100 %"``);
        * ``points`` — weight × attainment in percentage points (:meth:`points`); they add up to the
          overall attainment on the total row;
        * ``multiple`` — the curve's payout multiple (``"127.1 %"``): per metric with
          ``curve_applies_to: metric``; with ``overall`` the curve is applied once, so only the total row
          has one and the metric rows are empty;
        * ``payout`` — money in the plan's currency with cents; with ``overall`` it is the variable payout
          split by weight (rows add up to the total).

        Display only: pay is computed from the exact values, never from this text.

        Examples
        --------
        >>> s = statement(None, {"retention": (90, 99), "expansion": (100, 120), "activity": (60, 30)})
        >>> s.breakdown()[["label", "attainment", "points", "multiple"]].values.tolist()[-1]
        ['Overall', '101.5 %', '101.5', '103.8 %']
        """
        from kpi_kit.scorecard import KPI_LABELS as labels
        shown = self.display_table()
        per_metric = self.plan.curve_applies_to == "metric"
        rows = []
        for i, (ln, pts) in enumerate(zip(self.lines, self.points())):
            rows.append({
                "metric": ln.metric, "kpi": ln.kpi, "label": labels.get(ln.kpi, ln.metric),
                "target": "" if ln.target is None else shown.loc[i, "target"],
                "actual": "" if ln.actual is None else shown.loc[i, "actual"],
                "attainment": _pct_tenth(ln.attainment) + (" (capped)" if self._capped(ln) else ""),
                "weight": _fmt_pct(ln.weight), "points": f"{pts:f}",
                "multiple": _pct_tenth(ln.multiple) if per_metric else "",
                "payout": fmt.money(ln.payout, self.plan.currency, 2),
            })
        rows.append({
            "metric": "total", "kpi": "", "label": "Overall", "target": "", "actual": "",
            "attainment": self.overall_pct(), "weight": "100 %", "points": f"{_round_tenth(self.attainment * HUNDRED):f}",
            "multiple": _pct_tenth(self.multiple), "payout": fmt.money(self.variable_payout, self.plan.currency, 2),
        })
        return pd.DataFrame(rows, dtype="str")

    def currency_note(self) -> str:
        """``"Pay is in USD, the comp plan's currency; KPIs are in EUR."`` when the two differ, else ``""``.

        >>> statement(None, {"retention": (90, 99), "expansion": (100, 120), "activity": (60, 30)},
        ...           kpi_currency="EUR").currency_note()
        "Pay is in USD, the comp plan's currency; KPIs are in EUR."
        """
        if not self.kpi_currency or self.kpi_currency == self.plan.currency:
            return ""
        return f"Pay is in {self.plan.currency}, the comp plan's currency; KPIs are in {self.kpi_currency}."

    def summary(self) -> str:
        """The statement's money in one sentence (plain text; amounts in the plan's currency, with cents).

        >>> pay_at(None, 1.2, months=3).summary()
        'Variable pay $7,500.00 (target $5,000.00) + base $20,000.00 = total earnings $27,500.00 for the 3 months; on-target earnings (OTE) $25,000.00.'
        """
        c = self.plan.currency

        def m(x: Decimal) -> str:
            return fmt.money(x, c, 2)

        return (f"Variable pay {m(self.variable_payout)} (target {m(self.variable_target)}) + base {m(self.base)} = total earnings "
                f"{m(self.total_earnings)} for the {self.months} month{'s' if self.months != 1 else ''}; "
                f"on-target earnings (OTE) {m(self.ote)}.")

    def explain(self) -> list[str]:
        """How the metrics make the overall attainment and how the curve turns it into pay, in words.

        Plain text (escape it for HTML). With ``curve_applies_to: overall`` (the seed's plan): the overall
        attainment is the sum of the points (each metric's attainment, capped, × its weight), each metric's
        points against what it adds at target, then the one curve multiple for the whole. Display only.

        Examples
        --------
        >>> s = statement(None, {"retention": (90, 99), "expansion": (100, 120), "activity": (60, 30)})
        >>> print("\\n".join(s.explain()))
        Overall attainment 101.5 % is the sum of the points column: each metric's attainment, counted up to 200 %, times its weight.
        NRR at 120.0 % adds 42.0 points, 7.0 more than at target; GRR (ARR retention) at 110.0 % adds 49.5, 4.5 more than at target; Calls (call, meeting, QBR) at 50.0 % adds 10.0, 10.0 fewer than at target — so 100 + 7.0 + 4.5 − 10.0 = 101.5.
        The payout curve applies to the overall attainment, not to each metric: 101.5 % pays 103.8 % of the variable target, $20,750.00 of $20,000.00, split across the metrics by weight.
        """
        from kpi_kit.scorecard import KPI_LABELS as labels
        c = self.plan.currency
        pay = f"{fmt.money(self.variable_payout, c, 2)} of {fmt.money(self.variable_target, c, 2)}"
        metric_lines = [ln for ln in self.lines if ln.target is not None]
        if not metric_lines:  # pay_at: one overall attainment
            return [f"The payout curve at {self.overall_pct()} overall attainment pays {_pct_tenth(self.multiple)} "
                    f"of the variable target, {pay}." + self._threshold_cap_note()]
        overall = self.overall_pct()
        cap = _fmt_pct(self.plan.metric_attainment_cap)
        per_metric = self.plan.curve_applies_to == "metric"
        first = (f"Overall attainment {overall} is the sum of the points column: each metric's attainment, counted up "
                 f"to {cap}, times its weight.")
        if per_metric:
            first = first[:-1] + "; in this plan it is for information only."
        pts = dict(zip((ln.metric for ln in self.lines), self.points()))
        order = sorted(metric_lines, key=lambda ln: -(pts[ln.metric] - ln.weight * HUNDRED))
        parts, diffs = [], []
        for k, ln in enumerate(order):
            capped = " (capped)" if self._capped(ln) else ""
            diff = pts[ln.metric] - _round_tenth(ln.weight * HUNDRED)
            diffs.append(diff)
            versus = ("as at target" if diff == ZERO else
                      f"{abs(diff):f} {'more' if diff > ZERO else 'fewer'} than at target")
            parts.append(f"{labels.get(ln.kpi, ln.metric)} at {_pct_tenth(ln.attainment)}{capped} adds "
                         f"{pts[ln.metric]:f}{' points' if k == 0 else ''}, {versus}")
        sentence = "; ".join(parts)
        total = _round_tenth(self.attainment * HUNDRED)
        if HUNDRED + sum(diffs, ZERO) == total:  # always, unless a weight has more than one decimal in %
            sentence += " — so 100 " + " ".join(f"{'+' if d >= ZERO else '−'} {abs(d):f}" for d in diffs) + f" = {total:f}"
        lines = [first, sentence + "."]
        if per_metric:
            lines.append(f"The payout curve applies to each metric on its own (the multiple column): a metric pays "
                         f"its weight × its multiple × the variable target; together {pay} "
                         f"({_pct_tenth(self.multiple)} of the variable target).")
        else:
            lines.append(f"The payout curve applies to the overall attainment, not to each metric: {overall} pays "
                         f"{_pct_tenth(self.multiple)} of the variable target, {pay}, split across the metrics by weight."
                         + self._threshold_cap_note())
        return lines

    def _threshold_cap_note(self) -> str:
        if self.attainment < self.plan.threshold:
            return f" Below the plan's {_fmt_pct(self.plan.threshold)} threshold nothing is paid."
        if self.plan.cap is not None and self.multiple == self.plan.cap:
            return f" That is the plan's cap ({_fmt_pct(self.plan.cap)} of the variable target)."
        return ""

    def _repr_html_(self) -> str:
        from kpi_kit.views import pay_html

        return pay_html(self)


TENTH = Decimal("0.1")


def _round_tenth(x: Decimal) -> Decimal:
    return x.quantize(TENTH, rounding=ROUND_HALF_UP)


def _pct_tenth(ratio: Decimal) -> str:
    """A ratio as a percentage, half-up to one decimal: ``Decimal("1.1083")`` -> ``"110.8 %"`` (display only)."""
    return f"{_round_tenth(ratio * HUNDRED):f} %"


def _allocate_step(total: Decimal, parts: Sequence[Decimal], step: Decimal) -> list[Decimal]:
    """Round ``parts`` to multiples of ``step`` so that they add up to ``total`` (largest remainder; display only).

    >>> [str(x) for x in _allocate_step(Decimal("110.8"), [Decimal("39.374"), Decimal("31.457"), Decimal("40")], TENTH)]
    ['39.4', '31.4', '40.0']
    """
    floors = [(p / step).to_integral_value(rounding=ROUND_FLOOR) * step for p in parts]
    left = int(((total - sum(floors, ZERO)) / step).to_integral_value())
    order = sorted(range(len(parts)), key=lambda i: (-(parts[i] - floors[i]), i))
    out = list(floors)
    for i in order[: max(left, 0)]:
        out[i] += step
    return [x.quantize(step) for x in out]


def _allocate_cents(total: Decimal, parts: Sequence[Decimal]) -> list[Decimal]:
    """Split a rounded ``total`` over exact ``parts`` (summing to it unrounded) by largest remainder."""
    floors = [p.quantize(CENT, rounding=ROUND_FLOOR) for p in parts]
    left = int(((total - sum(floors, ZERO)) / CENT).to_integral_value())
    order = sorted(range(len(parts)), key=lambda i: (-(parts[i] - floors[i]), i))
    out = list(floors)
    for i in order[: max(left, 0)]:
        out[i] += CENT
    return out


def _build(plan: CompPlan, months: int, rows: list[tuple[MetricSpec, Decimal | None, Decimal | None, Decimal]],
           label: str) -> PayStatement:
    var_period = _period_amount(plan.variable_target, months)
    base_period = _period_amount(plan.base, months)
    overall = sum((spec.weight * att for spec, _, _, att in rows), ZERO)
    if plan.curve_applies_to == "overall":
        m_all = payout_multiple(plan, overall)
        multiples = [m_all] * len(rows)
    else:
        multiples = [payout_multiple(plan, att) for _, _, _, att in rows]
    exact = [spec.weight * var_period * m for (spec, *_), m in zip(rows, multiples)]
    exact_total = sum(exact, ZERO)
    variable = round_cents(exact_total)
    cents = _allocate_cents(variable, exact)
    lines = tuple(
        StatementLine(spec.name, spec.kpi, t, x, att, spec.weight, m, c)
        for (spec, t, x, att), m, c in zip(rows, multiples, cents)
    )
    base_r, var_r = round_cents(base_period), round_cents(var_period)
    multiple = exact_total / var_period if var_period else (multiples[0] if rows else ZERO)
    return PayStatement(plan, int(months), lines, overall, multiple, base_r, var_r, variable, base_r + variable, label)


def pay_at(plan: CompPlan | None, attainment: Any, *, months: int = 12, label: str = "") -> PayStatement:
    """Pay statement for a single overall attainment (ratio; ``1.2`` = 120 %).

    The table has one row, ``overall``, weight 1. In ``curve_applies_to: metric`` plans this equals
    every metric attaining the same value (Σ weight × curve(a) = curve(a)).

    Examples
    --------
    >>> s = pay_at(load_plan(), 1.2)
    >>> str(s.variable_payout), str(s.total_earnings), str(s.ote)
    ('30000.00', '110000.00', '100000.00')
    """
    plan = load_plan(plan)
    a = as_decimal(attainment, "attainment")
    if a < ZERO:
        raise KitError(f"attainment {attainment!r} is negative; attainment is a ratio >= 0 (1.2 = 120 %)")
    spec = MetricSpec("overall", ONE, "overall")
    return _build(plan, months, [(spec, None, None, a)], label)


def statement(plan: CompPlan | None, metrics: Any, *, months: int = 12, label: str = "",
              kpi_currency: str | None = None) -> PayStatement:
    """Per-metric attainment -> weighted variable payout -> total earnings.

    Parameters
    ----------
    plan
        The plan (``None`` = the seed's plan).
    metrics
        Either a mapping ``{metric: (target, actual)}`` keyed by the plan's metric names (or their
        KPI names), covering every plan metric; or a scorecard-like object — a ``Scorecard`` (its
        ``.table``) or a DataFrame with columns ``kpi, target, actual`` — whose rows are matched to the
        plan's metrics through ``MetricSpec.kpi``. Attainment is recomputed from target and actual with
        :func:`metric_attainment` (exactly, in Decimal), so a scorecard's rounded ``attainment_pct``
        does not change pay.
    months
        Length of the period: base and variable target are ``annual × months / 12``.
    label
        Free text shown in the notebook view (e.g. ``"csm_01 2026-07..2026-09"``).
    kpi_currency
        ISO code of money KPIs (``book.reporting_currency``) for :meth:`PayStatement.display_table`;
        default: the plan's currency. Display only.

    Returns
    -------
    PayStatement
        With ``curve_applies_to: overall`` (the seed's plan) the curve is applied once to the weighted
        attainment ``Σ wᵢ·aᵢ`` and the ``payout`` column splits the result by weight. With
        ``metric`` each metric is paid ``wᵢ × variable × curve(aᵢ)``.

    Raises
    ------
    KitError
        A plan metric is missing, has no data (None/NaN) or a target of 0 (higher-is-better).

    Examples
    --------
    >>> s = statement(None, {"retention": (90, 99), "expansion": (100, 110), "activity": (40, 44)})
    >>> float(s.attainment), str(s.variable_payout)     # all three at 110 % -> 125 % of $20,000
    (1.1, '25000.00')
    """
    plan = load_plan(plan)
    pairs = _metric_pairs(plan, metrics)
    rows = []
    for spec in plan.metrics:
        t, x = pairs[spec.name]
        att = metric_attainment(t, x, lower_is_better=spec.lower_is_better, cap=plan.metric_attainment_cap,
                                metric=f"{spec.name} ({spec.kpi})")
        rows.append((spec, as_decimal(t), as_decimal(x), att))
    built = _build(plan, months, rows, label)
    return dataclasses.replace(built, kpi_currency=str(kpi_currency).strip().upper()) if kpi_currency else built


def _shown(value: Any) -> str:
    """A target or actual as a reader writes it in a message: ``60``, ``97.4``, ``no data`` (never ``np.float64(nan)``).

    >>> import numpy as np
    >>> _shown(np.float64(60.0)), _shown(np.float64("nan")), _shown(None), _shown(97.40037)
    ('60', 'no data', 'no data', '97.4')
    """
    if _is_missing(value):
        return "no data"
    try:
        return f"{float(value):,.4g}" if abs(float(value)) < 1e4 else f"{float(value):,.0f}"
    except (TypeError, ValueError):
        return str(value)


def _is_missing(v: Any) -> bool:
    if v is None or v is pd.NA:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _metric_pairs(plan: CompPlan, metrics: Any) -> dict[str, tuple[Any, Any]]:
    table = getattr(metrics, "table", metrics)
    out: dict[str, tuple[Any, Any]] = {}
    if isinstance(table, pd.DataFrame):
        missing_cols = [c for c in ("kpi", "target", "actual") if c not in table.columns]
        if missing_cols:
            raise KitError(f"the scorecard table lacks column(s) {missing_cols}; expected columns kpi, target, actual")
        keys = table["kpi"].astype("str").str.strip().str.lower()
        for spec in plan.metrics:
            hit = table.loc[keys == spec.kpi.lower()]
            if hit.empty:
                raise KitError(f"metric {spec.name!r} is measured by KPI {spec.kpi!r}, which is not in the scorecard "
                               f"(it has: {', '.join(map(str, table['kpi']))}); change metrics.{spec.name}.kpi in the plan")
            t, x = hit["target"].iloc[0], hit["actual"].iloc[0]
            if "higher_is_better" in hit.columns and bool(hit["higher_is_better"].iloc[0]) == spec.lower_is_better:
                card_says = "higher" if spec.lower_is_better else "lower"
                raise KitError(f"metric {spec.name!r}: the scorecard says {spec.kpi} is {card_says}-is-better but the "
                               f"plan says otherwise; set metrics.{spec.name}.lower_is_better: "
                               f"{'false' if spec.lower_is_better else 'true'} in the plan")
            if _is_missing(t) or _is_missing(x):
                raise KitError(f"metric {spec.name!r} ({spec.kpi}) has no data (target {_shown(t)}, actual {_shown(x)}), so it "
                               f"cannot be paid on; record the data or use a plan without {spec.name!r}")
            out[spec.name] = (t, x)
        return out
    if not isinstance(metrics, Mapping):
        raise KitError(f"metrics: expected a mapping {{metric: (target, actual)}} or a scorecard, got {type(metrics).__name__}")
    by_key = {}
    for spec in plan.metrics:
        by_key[spec.name] = spec.name
        by_key.setdefault(spec.kpi, spec.name)
    for key, value in metrics.items():
        if key not in by_key:
            raise KitError(f"metrics: {key!r} is not a metric of the plan; expected keys: "
                           f"{', '.join(s.name for s in plan.metrics)}")
        name = by_key[key]
        if name in out:
            raise KitError(f"metrics: {name!r} given twice (as {key!r})")
        if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
            raise KitError(f"metrics[{key!r}] = {value!r}: expected a pair (target, actual)")
        if _is_missing(value[0]) or _is_missing(value[1]):
            raise KitError(f"metric {name!r} has no data (target {_shown(value[0])}, actual {_shown(value[1])}), so it cannot "
                           f"be paid on; record the data or use a plan without {name!r}")
        out[name] = (value[0], value[1])
    lacking = [s.name for s in plan.metrics if s.name not in out]
    if lacking:
        raise KitError(f"metrics: no (target, actual) for {', '.join(lacking)}; every plan metric is needed")
    return out


def no_statement_words(plan: CompPlan | Mapping[str, Any] | str | Path | None, card: Any,
                       book: Any = None) -> str | None:
    """Why ``card`` (a :class:`kpi_kit.scorecard.Scorecard`) cannot be paid on, in words for a manager.

    :func:`statement` refuses a scorecard in which a plan metric's KPI has no target or no actual, with a
    precise :class:`~kpi_kit.errors.KitError` for the API and the CLI (metric names, values). A report
    reader needs the same fact without the plan's keys as the subject: which KPI the plan pays on, and
    why it has no data — with ``book``, the files the book does not record (``book.yaml``
    ``not_recorded``, :func:`kpi_kit.views.unrecorded_sources`), else "no data for this CSM in the period".
    Every such metric is named, not only the first. ``None`` when every plan metric has a target and an
    actual (the statement fails for another reason: show its error).

    Examples
    --------
    >>> from kpi_kit.data import load_book
    >>> from kpi_kit.scorecard import scorecard
    >>> card = scorecard(load_book(), "csm_03", "2026-07", "2026-09")
    >>> no_statement_words(None, card) is None
    True
    """
    from kpi_kit.views import SOURCE_WORDS, unrecorded_sources

    plan = load_plan(plan)
    table = getattr(card, "table", None)
    if not isinstance(table, pd.DataFrame) or not {"kpi", "target", "actual"} <= set(table.columns):
        return None
    keys = table["kpi"].astype("str").str.strip().str.lower()
    clauses = []
    for spec in plan.metrics:
        hit = table.loc[keys == spec.kpi.lower()]
        if hit.empty:
            continue
        label = str(hit["label"].iloc[0]) if "label" in hit.columns else spec.kpi
        t, x = hit["target"].iloc[0], hit["actual"].iloc[0]
        if _is_missing(x):
            files = [SOURCE_WORDS.get(f, f) for f in unrecorded_sources(card, book, [spec.kpi])]
            why = (f"which this book cannot measure: it does not record {' or '.join(files)}" if files
                   else "which has no data for this CSM in the period")
        elif _is_missing(t):
            why = "which has no target for this CSM"
        else:
            continue
        clauses.append(f"{label} — its '{spec.name}' metric — {why}")
    if not clauses:
        return None
    return "No pay statement: the comp plan pays on " + "; it also pays on ".join(clauses) + "."


# --------------------------------------------------------------------------------------------
# forecasting
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PayForecast:
    """Distribution of pay over simulated attainments.

    ``.table`` has one row per percentile (``P10, P50, P90``) with columns ``percentile,
    variable_payout, total_earnings`` (money, cents). ``samples`` holds every simulated variable
    payout (float, cents) for charts.
    """

    plan: CompPlan
    months: int
    n_samples: int
    percentiles: tuple[int, ...]
    variable_payout: tuple[Decimal, ...]
    total_earnings: tuple[Decimal, ...]
    samples: pd.Series = field(repr=False)

    def at(self, p: int) -> Decimal:
        """Total earnings at percentile ``p`` (one of ``percentiles``)."""
        return self.total_earnings[self.percentiles.index(p)]

    @property
    def p10(self) -> Decimal:
        return self.at(10)

    @property
    def p50(self) -> Decimal:
        return self.at(50)

    @property
    def p90(self) -> Decimal:
        return self.at(90)

    @property
    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "percentile": pd.array([f"P{p}" for p in self.percentiles], dtype="str"),
                "variable_payout": [float(v) for v in self.variable_payout],
                "total_earnings": [float(v) for v in self.total_earnings],
            }
        )

    def _repr_html_(self) -> str:
        return (f"<p><strong>Pay forecast</strong> ({fmt.text(self.plan.name)}, {self.months} months, "
                f"{self.n_samples} simulations)</p>" + self.table.to_html(index=False))


def forecast_pay(plan: CompPlan | None, attainment_samples: Any, *, months: int = 12,
                 percentiles: Sequence[int] = (10, 50, 90)) -> PayForecast:
    """Year-end (or period) pay distribution from simulated attainments.

    Pure and deterministic: the simulation is done by the caller (e.g. ``kpi_kit.forecast`` with its
    fixed seed); this function only prices each simulated outcome.

    Parameters
    ----------
    plan
        The plan (``None`` = the seed's plan).
    attainment_samples
        Either ``{metric: array of attainments}`` keyed by the plan's metric names, all arrays the same
        length, sample *k* of every metric forming one simulated outcome (each capped at the plan's
        ``metric_attainment_cap`` exactly as in :func:`statement`); or a single array of **overall**
        attainments. Attainments are ratios (1.2 = 120 %).
    months
        Pro-rating as in :func:`statement`.
    percentiles
        Percentiles to report (integers 0–100).

    Returns
    -------
    PayForecast
        Percentile *p* is the **inverted-CDF** value: the smallest simulated payout such that at least
        *p* % of the simulations pay that much or less (sorted payouts, index ``ceil(p/100 × n) − 1``,
        at least 0). It is always a payout some simulation produced; no interpolation of money.

    Examples
    --------
    >>> f = forecast_pay(None, [0.7, 0.9, 1.0, 1.2, 1.5])
    >>> [str(v) for v in f.variable_payout]
    ['0.00', '20000.00', '40000.00']
    """
    plan = load_plan(plan)
    pct = tuple(int(p) for p in percentiles)
    if any(p < 0 or p > 100 for p in pct):
        raise KitError(f"percentiles {list(percentiles)}: expected whole numbers between 0 and 100")
    payouts: list[Decimal] = []
    if isinstance(attainment_samples, Mapping):
        names = [m.name for m in plan.metrics]
        if set(attainment_samples) != set(names):
            raise KitError(f"attainment_samples: keys {sorted(map(str, attainment_samples))} must be the plan's "
                           f"metrics {sorted(names)}")
        arrays = {k: list(attainment_samples[k]) for k in names}
        lengths = {len(v) for v in arrays.values()}
        if len(lengths) != 1:
            raise KitError(f"attainment_samples: every metric needs the same number of samples, got "
                           f"{ {k: len(v) for k, v in arrays.items()} }")
        n = lengths.pop()
        for k in range(n):
            rows = []
            for spec in plan.metrics:
                a = as_decimal(arrays[spec.name][k], f"attainment_samples[{spec.name!r}][{k}]")
                if a < ZERO:
                    raise KitError(f"attainment_samples[{spec.name!r}][{k}] = {a}: attainment must be >= 0")
                rows.append((spec, None, None, min(a, plan.metric_attainment_cap)))
            payouts.append(_build(plan, months, rows, "").variable_payout)
    else:
        values = list(attainment_samples)
        n = len(values)
        for k, v in enumerate(values):
            payouts.append(variable_payout(plan, as_decimal(v, f"attainment_samples[{k}]"), months=months))
    if n == 0:
        raise KitError("attainment_samples is empty: give at least one simulated attainment")
    ordered = sorted(payouts)
    picks = [ordered[max(math.ceil(p * n / 100) - 1, 0)] for p in pct]
    base = round_cents(_period_amount(plan.base, months))
    return PayForecast(
        plan=plan, months=int(months), n_samples=n, percentiles=pct,
        variable_payout=tuple(picks), total_earnings=tuple(base + v for v in picks),
        samples=pd.Series([float(v) for v in payouts], name="variable_payout", dtype="float64"),
    )


def payout_curve_table(plan: CompPlan | None = None, attainment_pcts: Iterable[Any] | None = None) -> pd.DataFrame:
    """The payout curve as a table for charts: columns ``attainment_pct, multiple_pct, variable_payout, total_earnings``.

    ``attainment_pcts`` defaults to 0, 1, ..., 200 (percent). Money is annual, rounded to cents.

    Examples
    --------
    >>> payout_curve_table(None, [80, 100]).variable_payout.tolist()
    [10000.0, 20000.0]
    """
    plan = load_plan(plan)
    pcts = list(range(0, 201)) if attainment_pcts is None else list(attainment_pcts)
    ratios = [as_decimal(p, "attainment_pct") / HUNDRED for p in pcts]
    pay = [variable_payout(plan, r) for r in ratios]
    return pd.DataFrame(
        {
            "attainment_pct": [float(r * HUNDRED) for r in ratios],
            "multiple_pct": [float(payout_multiple(plan, r) * HUNDRED) for r in ratios],
            "variable_payout": [float(p) for p in pay],
            "total_earnings": [float(plan.base + p) for p in pay],
        }
    )
