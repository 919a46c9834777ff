"""Targets: the seed's typical targets as defaults, overridden by the book's ``targets.yaml``.

``targets.yaml`` (all keys optional)::

    company:            # company goals (the top of the cascade)
      nrr_pct: 110
      grr_pct: 92
      logo_churn_monthly_pct: 5
      sql_pipeline_per_quarter: 400000   # optional (see "Cascade keys" below)
    defaults:           # every CSM's leading and lagging targets unless overridden
      calls_per_month: 20
      touchpoints_per_quarter: 90
      qbrs_per_quarter: 3
      coverage_pct: 90
      renewals_90d_contacted_pct: 100
      sqls_per_quarter: 4
      sql_pipeline_per_quarter: 100000
      sql_conversion_pct: 25
      lifecycle_compliance_pct: 90
      closed_alert_pct: 80
      logo_churn_monthly_pct: 5
    segments:           # retention targets by segment (blended by each CSM's beginning ARR)
      enterprise: {grr_pct: 98, nrr_pct: 120}
      mid-market: {grr_pct: 90, nrr_pct: 105}
      smb:        {grr_pct: 80, nrr_pct: 100}
    csms:               # per-CSM overrides of any key above
      csm_03: {calls_per_month: 25}

Where the numbers come from (the seed's "typical targets"): calls 15–25 a month (20 used),
touchpoints 80–100 a quarter (90), QBRs 3–5 a quarter for strategic accounts (3), coverage 90 %,
every renewal in the next 90 days contacted, 4 SQLs a quarter, closed-alert rate 85 % in the seed's
example (80 % used as the bar), segment GRR 98 / 90 / 80 % and NRR 120 % enterprise, 100–110 %
mid-market (105 used), company NRR 110 %. Kit defaults not given by the seed (documented as such):
SQL pipeline $100,000 a quarter, SQL conversion 25 %, lifecycle compliance 90 %, SMB NRR 100 %,
company GRR 92 %, logo churn below 5 % a month (the issue's company goal).

Count targets are per month or per quarter and scale with the length of the period
(a 3-month period: calls target 60, touchpoints 90, QBRs 3, SQLs 4).

Cascade keys (read by :func:`company_goals` and ``kpi_kit.cascade``; see ``docs/cascade.md``)
    ``company.sql_pipeline_per_quarter`` — the company's SQL pipeline goal in USD a quarter (scaled
    to the period like the count targets). Optional; when absent the goal is the activity standard
    ``defaults.sql_pipeline_per_quarter`` times the number of CSMs in ``csms.csv`` (so the roll-up
    check then only shows what per-CSM overrides take away). It is not in ``DEFAULT_TARGETS``.
    The ``defaults`` section doubles as the company's *activity standards*: the leading targets every
    CSM inherits, and the company goal the CSMs' leading targets are rolled up against.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from kpi_kit.errors import KitError

DEFAULT_TARGETS: dict[str, Any] = {
    "company": {"nrr_pct": 110.0, "grr_pct": 92.0, "logo_churn_monthly_pct": 5.0},
    "defaults": {
        "calls_per_month": 20.0,
        "touchpoints_per_quarter": 90.0,
        "qbrs_per_quarter": 3.0,
        "coverage_pct": 90.0,
        "renewals_90d_contacted_pct": 100.0,
        "sqls_per_quarter": 4.0,
        "sql_pipeline_per_quarter": 100_000.0,
        "sql_conversion_pct": 25.0,
        "lifecycle_compliance_pct": 90.0,
        "closed_alert_pct": 80.0,
        "logo_churn_monthly_pct": 5.0,
    },
    "segments": {
        "enterprise": {"grr_pct": 98.0, "nrr_pct": 120.0},
        "mid-market": {"grr_pct": 90.0, "nrr_pct": 105.0},
        "smb": {"grr_pct": 80.0, "nrr_pct": 100.0},
    },
    "csms": {},
}

SECTIONS = tuple(DEFAULT_TARGETS)


def _merge(base: dict[str, Any], override: dict[str, Any], where: str) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict):
            out[key] = _merge(out.get(key, {}) if isinstance(out.get(key), dict) else {}, value, f"{where}.{key}")
        else:
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise KitError(f"targets.yaml: {where}.{key} = {value!r} must be a number >= 0")
            out[key] = float(value)
    return out


def load_targets(path: Path | None) -> dict[str, Any]:
    """Defaults merged with ``path`` (``targets.yaml``) when it exists; unknown sections are errors."""
    from kpi_kit.data import read_yaml

    user = read_yaml(path) if path is not None else None
    if not user:
        return copy.deepcopy(DEFAULT_TARGETS)
    unknown = set(user) - set(SECTIONS)
    if unknown:
        raise KitError(f"targets.yaml: unknown section(s) {sorted(unknown)}; allowed: {', '.join(SECTIONS)}")
    for section, value in user.items():
        if not isinstance(value, dict):
            raise KitError(f"targets.yaml: {section} must be a mapping of keys to numbers")
    return _merge(DEFAULT_TARGETS, user, "targets")


def period_rate(annual_pct: float, months: int) -> float:
    """The share of an annual retention rate that a period of ``months`` months must reach.

    >>> round(period_rate(120, 3), 2), round(period_rate(98, 3), 2), period_rate(110, 12)
    (104.66, 99.5, 110.0)
    """
    if months == 12:
        return float(annual_pct)
    return 100.0 * (annual_pct / 100.0) ** (months / 12.0)


def csm_targets(targets: dict[str, Any], csm_id: str, months: int,
                begin_arr_by_segment: dict[str, float] | None = None) -> dict[str, float | None]:
    """The targets of one CSM for a period of ``months`` months.

    Count targets are scaled to the period. GRR and NRR targets are the segment targets blended
    by the CSM's beginning ARR in each segment (weights = beginning ARR); with no beginning ARR
    they fall back to the company goal. Per-CSM overrides in ``csms:`` win. The blended annual
    rate is then held to the period's share (:func:`period_rate`); ``*_annual_pct`` keeps it.

    >>> t = csm_targets(DEFAULT_TARGETS, "x", 12, {"enterprise": 1_000_000, "smb": 1_000_000})
    >>> t["calls"], t["grr_pct"], t["nrr_pct"]
    (240.0, 89.0, 110.0)
    >>> q = csm_targets(DEFAULT_TARGETS, "x", 3, {"enterprise": 1_000_000, "smb": 1_000_000})
    >>> q["calls"], round(q["grr_pct"], 2), round(q["nrr_pct"], 2), q["nrr_annual_pct"]
    (60.0, 97.13, 102.41, 110.0)
    """
    base = dict(targets["defaults"])
    base.update(targets.get("csms", {}).get(csm_id, {}))
    out: dict[str, float | None] = {
        "calls": base["calls_per_month"] * months,
        "touchpoints": base["touchpoints_per_quarter"] * months / 3,
        "qbrs": base["qbrs_per_quarter"] * months / 3,
        "coverage_pct": base["coverage_pct"],
        "renewals_90d_contacted_pct": base["renewals_90d_contacted_pct"],
        "sqls": base["sqls_per_quarter"] * months / 3,
        "sql_pipeline": base["sql_pipeline_per_quarter"] * months / 3,
        "sql_conversion_pct": base["sql_conversion_pct"],
        "lifecycle_compliance_pct": base["lifecycle_compliance_pct"],
        "closed_alert_pct": base["closed_alert_pct"],
        "logo_churn_monthly_pct": base["logo_churn_monthly_pct"],
    }
    weights = {k: v for k, v in (begin_arr_by_segment or {}).items() if v > 0}
    total = sum(weights.values())
    for key in ("grr_pct", "nrr_pct"):
        if key in base:
            annual = base[key]
        elif total > 0:
            annual = sum(targets["segments"][seg][key] * w for seg, w in weights.items()) / total
        else:
            annual = targets["company"][key]
        out[key.replace("_pct", "_annual_pct")] = annual
        out[key] = period_rate(annual, months)
    return out


#: Keys a ``csms:`` override may set: every ``defaults`` key plus the two retention targets.
OVERRIDE_KEYS: tuple[str, ...] = (*DEFAULT_TARGETS["defaults"], "grr_pct", "nrr_pct")


def company_goals(targets: dict[str, Any], months: int, n_csms: int) -> dict[str, float]:
    """The company goals for a period of ``months`` months (the top of the cascade).

    ``grr_pct``, ``nrr_pct`` and ``logo_churn_monthly_pct`` come from the ``company`` section.
    ``sql_pipeline`` is ``company.sql_pipeline_per_quarter`` × months / 3 when set, else the activity
    standard ``defaults.sql_pipeline_per_quarter`` × months / 3 × ``n_csms``. The leading standards
    (count standards per CSM scaled to the period, percentage standards as they are) are returned
    under their KPI names with the suffix ``_standard`` (e.g. ``calls_standard``: calls per CSM).

    >>> g = company_goals(DEFAULT_TARGETS, 3, 4)
    >>> round(g["nrr_pct"], 2), g["nrr_annual_pct"], g["sql_pipeline"], g["calls_standard"], g["coverage_pct_standard"]
    (102.41, 110.0, 400000.0, 60.0, 90.0)
    """
    company = targets["company"]
    standards = csm_targets({**targets, "csms": {}}, "", months)
    pipeline = company.get("sql_pipeline_per_quarter")
    out: dict[str, float] = {
        "grr_pct": period_rate(float(company["grr_pct"]), months),
        "nrr_pct": period_rate(float(company["nrr_pct"]), months),
        "grr_annual_pct": float(company["grr_pct"]),
        "nrr_annual_pct": float(company["nrr_pct"]),
        "logo_churn_monthly_pct": float(company["logo_churn_monthly_pct"]),
        "sql_pipeline": float(pipeline) * months / 3 if pipeline is not None
        else float(standards["sql_pipeline"] or 0.0) * n_csms,
    }
    for key, value in standards.items():
        if key not in ("grr_pct", "nrr_pct", "grr_annual_pct", "nrr_annual_pct") and value is not None:
            out[f"{key}_standard"] = float(value)
    return out


def override_problems(targets: dict[str, Any], csm_ids: list[str]) -> list[str]:
    """Plain-language problems with the ``csms:`` overrides of ``targets.yaml`` (empty when fine).

    An override for a CSM id that is not in ``csms.csv``, or of a key no target reads, is otherwise
    ignored without a word; the cascade shows these messages so a typo is seen.

    >>> for line in override_problems({"csms": {"csm_9": {}, "csm_1": {"call_per_month": 5}}}, ["csm_1"]):
    ...     print(line[:60])
    targets.yaml csms.csm_9: no CSM 'csm_9' in csms.csv, so thes
    targets.yaml csms.csm_1.call_per_month: not a target key, so
    """
    problems: list[str] = []
    known = set(csm_ids)
    for csm_id, keys in (targets.get("csms") or {}).items():
        if str(csm_id) not in known:
            problems.append(f"targets.yaml csms.{csm_id}: no CSM {str(csm_id)!r} in csms.csv, so these overrides "
                            "are ignored; fix the id")
            continue
        for key in keys:
            if key not in OVERRIDE_KEYS:
                problems.append(f"targets.yaml csms.{csm_id}.{key}: not a target key, so it is ignored; "
                                f"use one of {', '.join(OVERRIDE_KEYS)}")
    return problems
