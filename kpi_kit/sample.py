"""The seeded sample book: a realistic CS team whose CSMs have stories a trainer can teach from.

``python -m kpi_kit.sample`` writes ``data/sample/`` (next to the package, whatever the working
directory) from the fixed seed :data:`SEED`; running it again gives byte-identical files. The book
follows ``data/README.md``: ``csms, accounts, arr_monthly, activities, sqls, risk_alerts`` plus the
optional ``escalations`` and ``usage`` and a ``book.yaml`` (``name: Sample CS team``). It has no
``targets.yaml``, so the kit's default targets (the seed's typical targets) apply.

The team (7 CSMs, 300 accounts, monthly ARR 2025-01..2026-09, data as of 2026-09-30)
------------------------------------------------------------------------------------
Look at the quarter 2026-07..2026-09 (``team_metrics(book, "2026-07", "2026-09")``) and at the
trailing year 2025-10..2026-09. Default targets apply (the book has no ``targets.yaml``).

``csm_01`` Maya Chen (Mid-Market, New York) -- **the benchmark.**
    On target on every KPI of the scorecard: 20-25 calls a month, QBRs with her larger accounts,
    every renewal in the next 90 days contacted, 8-10 SQLs a quarter with well-qualified
    checklists, lifecycle touches on time, risk alerts acted on within days and saved, GRR close to
    100 % and NRR above 105 % in the quarter (won SQLs and expansions at renewal).
``csm_02`` Daniel Okafor (Mid-Market, Chicago) -- **behind on SQLs, fine otherwise.**
    The same cadence, coverage, lifecycle compliance and retention as a solid CSM, but he raises
    one or two SQLs a year: the fewest SQLs and the smallest pipeline of the team. His accounts
    grow at renewal anyway, which hides the gap. Teaches: expansion is a leading KPI that has to be
    worked on purpose; a scorecard shows it before NRR does.
``csm_03`` Sofia Alvarez (Mid-Market, Denver) -- **strong activity, weak outcome.**
    The seed's diagnosis case. The most calls of the team (well above csm_01's), coverage 100 %,
    lifecycle touches on time, alerts acted on fast -- yet GRR below 90 % in the quarter and far
    below it over the year, with accounts churning every quarter and more in 2026 than in 2025.
    Her accounts' feature adoption is the lowest of the mid-market team: the touches are not about
    value. The scorecard diagnosis reads "strong activity but weak outcomes". Teaches: activity is
    necessary, not sufficient; look at execution quality and adoption.
``csm_04`` Tom Becker (Enterprise, London) -- **at-risk renewals ahead.**
    More than half of his accounts renew in Oct-Dec 2026; most of those have an open risk alert
    with no first action, a health score below 50, missed renewal_90/60/30 touches and no contact
    since July, so "renewals in 90 days contacted", coverage, calls and lifecycle compliance are
    the team's lowest. Retention so far looks perfect (GRR 100 %): the problem is ahead. Teaches:
    read the leading KPIs before the lagging ones move.
``csm_05`` Priya Nair (Scale, Los Angeles) -- ordinary SMB book.
    Fair activity, slack lifecycle compliance (~75 %), SMB-typical churn, few QBRs.
``csm_06`` Kwame Mensah (Scale, Dublin) -- ordinary SMB book.
    Fewer calls than the mid-market CSMs but on target, good lifecycle compliance, churn below
    the SMB norm, a small pipeline (SMB deals are small).
``csm_07`` Elena Petrova (Enterprise, Berlin) -- ordinary enterprise book.
    A QBR with every account every quarter, calls below target, a few late touches, NRR below
    the enterprise target.

Teams: ``Mid-Market`` (csm_01-03), ``Enterprise`` (csm_04, csm_07), ``Scale`` (csm_05, csm_06).
``tests/test_sample.py`` checks these stories on the committed book.

How the book is built (all vectorized with ``numpy.random.default_rng(seed)``)
----------------------------------------------------------------------------
* Accounts: 14 % enterprise, 36 % mid-market, 50 % SMB; about 22 % are new logos that start during
  2025-01..2026-09, the rest were customers before 2025. Annual contracts renew on the anniversary
  of ``customer_since`` (some SMB accounts are month-to-month: blank ``renewal_date``).
  ``renewal_date`` is the next renewal after 2026-09-30, or for a churned account the renewal at
  which it left. ``health_score`` comes from the last month's adoption and seat use, minus a penalty
  for an open risk alert.
* ARR: a month-by-month simulation. At each renewal an account churns, contracts, expands or
  renews flat (with a price uplift); won SQLs add their ``expansion_arr`` in the month they close;
  month-to-month SMB accounts can leave any month. Each account has a latent risk that drives churn,
  alerts, adoption and seat use, so the signals agree with what happens.
* Activities (about 2.5 per account-month; an exact total with ``n_activities`` or
  ``activities_per_account_month``): ordinary touches at the segment's cadence -- enterprise
  ~0.5 calls/meetings + ~4 emails a month plus a QBR a quarter, mid-market ~0.35 calls + ~2.6
  emails and an occasional QBR, SMB a quarterly automated email plus reactive touches -- and
  lifecycle touches with a ``purpose``: onboarding on days 1/7/30/60 after ``customer_since``,
  renewal_180/90/60/30 before each renewal, risk_intervention on an alert's ``first_action_date``
  and escalation_response when an escalation is engaged. Each CSM does them on time (inside the
  windows of ``kpi_kit.lifecycle``), late or not at all with their own probabilities.
* SQLs (with the need/budget/timeline/stakeholder checklist; more boxes ticked, more often won),
  risk alerts (before most churns; random ones that are saved; open ones on renewals ahead),
  escalations (engaged within 24 h mostly) and monthly usage.
* SQL raising and churn at renewal run at a steady pace per CSM (each month's count is the
  expected count rounded up or down at random, the accounts drawn in proportion to their risk), so
  a 300-account book shows the stories reliably rather than by luck of the seed.

Scaling: ``generate_book(n_accounts=100_000, n_activities=5_000_000)`` keeps the same seven CSMs and
stories with proportionally larger books (extra CSMs beyond seven, if asked for, are ordinary).
Nothing loops over accounts or activities (only over the 21 months, the CSMs and other short lists);
on a 2-core machine that size takes about 10 s of CPU to generate and 1.3 GB at most, and about
17 s more to write (``python -m kpi_kit.sample --out DIR --accounts 100000 --activities 5000000``).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

from kpi_kit.errors import KitError

#: The fixed seed of the bundled sample book.
SEED: int = 20260930
#: First and last month of ARR history, and the date the data speaks from.
FIRST_MONTH: str = "2025-01"
LAST_MONTH: str = "2026-09"
AS_OF: str = "2026-09-30"
N_MONTHS: int = 21
BOOK_NAME: str = "Sample CS team"
#: Where ``python -m kpi_kit.sample`` writes by default (relative to the package, not the cwd).
DEFAULT_OUT: Path = Path(__file__).resolve().parent.parent / "data" / "sample"

SEGMENTS: tuple[str, str, str] = ("enterprise", "mid-market", "smb")
SEGMENT_SHARE: tuple[float, float, float] = (0.14, 0.36, 0.50)
NEW_LOGO_SHARE: float = 0.22
MONTHLY_PLAN_SHARE_SMB: float = 0.08

ACTIVITY_TYPES: tuple[str, ...] = ("call", "meeting", "qbr", "email", "check_in", "webinar", "automated_email", "other")
PURPOSES: tuple[str, ...] = (
    "", "onboarding_welcome", "onboarding_checkin", "onboarding_review", "adoption_assessment",
    "renewal_180", "renewal_90", "renewal_60", "renewal_30", "risk_intervention", "escalation_response",
)

#: Column order of every generated file (the contract's columns, then the optional ones).
COLUMNS: dict[str, tuple[str, ...]] = {
    "csms": ("csm_id", "csm_name", "team", "time_zone"),
    "accounts": ("account_id", "account_name", "csm_id", "segment", "customer_since", "renewal_date", "health_score"),
    "arr_monthly": ("month", "account_id", "arr"),
    "activities": ("activity_id", "date", "account_id", "csm_id", "type", "purpose"),
    "sqls": ("sql_id", "created_date", "account_id", "csm_id", "expansion_arr", "status", "closed_date",
             "need", "budget", "timeline", "stakeholder"),
    "risk_alerts": ("alert_id", "account_id", "flagged_date", "outcome", "first_action_date", "resolved_date"),
    "escalations": ("escalation_id", "account_id", "opened_at", "csm_engaged_at"),
    "usage": ("month", "account_id", "feature_adoption_pct", "seats_purchased", "seats_used"),
}
#: Sort keys of every file (rows are written in this order).
SORT_KEYS: dict[str, tuple[str, ...]] = {
    "csms": ("csm_id",), "accounts": ("account_id",), "arr_monthly": ("account_id", "month"),
    "activities": ("activity_id",), "sqls": ("sql_id",), "risk_alerts": ("alert_id",),
    "escalations": ("escalation_id",), "usage": ("account_id", "month"),
}
#: Decimals written for float columns (money is whole dollars and written as integers).
FLOAT_DECIMALS: dict[str, int] = {"feature_adoption_pct": 1}


@dataclass(frozen=True)
class CsmStory:
    """The knobs that give one CSM their story (multipliers are relative to the segment's norm)."""

    csm_id: str
    name: str
    team: str
    time_zone: str
    segment: str
    calls: float = 1.0            # ordinary calls/meetings
    emails: float = 1.0           # ordinary emails
    others: float = 1.0           # check-ins, webinars, other
    sqls: float = 1.0             # SQLs raised per account-month
    sql_size: float = 1.0         # expansion_arr of an SQL
    qualified: float = 0.72       # chance each qualification box is ticked
    on_time: float = 0.92         # lifecycle touch done inside its window
    late: float = 0.05            # done late (outside the window); the rest is missed
    churn_2025: float = 1.0       # churn at renewal, 2025
    churn_2026: float = 1.0       # churn at renewal, 2026
    contraction: float = 1.0
    expansion: float = 1.0
    risk: tuple[float, float] = (2.0, 5.0)   # beta parameters of the accounts' latent risk
    alerts: float = 1.0           # random (non-churn) alerts
    action_fast: float = 0.88     # first action within 0-5 days of an alert
    action_missing: float = 0.04  # no first action at all
    qbr: float = 1.0              # QBR propensity
    escalation_late: float = 0.06  # engaged after more than 24 h
    renewal_months: tuple[int, ...] = ()  # months of the year this book's renewals cluster in
    renewal_share: float = 0.0    # share of pre-2025 accounts moved to those months
    at_risk_alert: float = 0.10   # open alert on a renewal in the 90 days after AS_OF
    at_risk_quiet: float = 0.0    # such an account has gone quiet (no touches since July)
    adoption: float = 0.0         # shift of feature adoption (points)


#: The seven story CSMs (see the module docstring for what each one teaches).
STORIES: tuple[CsmStory, ...] = (
    CsmStory("csm_01", "Maya Chen", "Mid-Market", "America/New_York", "mid-market",
             calls=1.15, sqls=1.9, sql_size=1.2, qualified=0.88, on_time=0.97, late=0.02,
             churn_2025=0.25, churn_2026=0.15, contraction=0.3, expansion=2.2, risk=(1.6, 6.0), alerts=3.0,
             action_fast=0.97, action_missing=0.0, qbr=1.6, escalation_late=0.0, at_risk_alert=0.05, adoption=6.0),
    CsmStory("csm_02", "Daniel Okafor", "Mid-Market", "America/Chicago", "mid-market",
             calls=1.15, sqls=0.08, sql_size=0.7, on_time=0.95, late=0.03,
             churn_2025=0.7, churn_2026=0.7, contraction=0.8, expansion=3.0, risk=(2.0, 5.5), adoption=2.0),
    CsmStory("csm_03", "Sofia Alvarez", "Mid-Market", "America/Denver", "mid-market",
             calls=2.3, emails=1.4, others=1.6, sqls=1.4, sql_size=1.3, on_time=0.95, late=0.03,
             churn_2025=1.4, churn_2026=3.4, contraction=3.0, expansion=0.45, risk=(2.6, 4.2), alerts=1.4,
             action_fast=0.95, action_missing=0.0, qbr=1.3, renewal_months=(7, 8, 9), renewal_share=0.4,
             adoption=-10.0),
    CsmStory("csm_04", "Tom Becker", "Enterprise", "Europe/London", "enterprise",
             calls=1.2, on_time=0.65, late=0.15, contraction=1.2, risk=(2.2, 4.8), action_fast=0.5,
             action_missing=0.35, qbr=0.8, escalation_late=0.15, renewal_months=(10, 11, 12), renewal_share=0.5,
             at_risk_alert=0.85, at_risk_quiet=0.9, adoption=-3.0),
    CsmStory("csm_05", "Priya Nair", "Scale", "America/Los_Angeles", "smb",
             on_time=0.74, late=0.12, churn_2025=1.1, churn_2026=1.15, action_fast=0.75, action_missing=0.1),
    CsmStory("csm_06", "Kwame Mensah", "Scale", "Europe/Dublin", "smb",
             calls=0.75, others=0.8, churn_2025=0.75, churn_2026=0.8, risk=(1.8, 5.5), sqls=1.1),
    CsmStory("csm_07", "Elena Petrova", "Enterprise", "Europe/Berlin", "enterprise",
             on_time=0.86, late=0.08, expansion=0.7, sqls=0.9, escalation_late=0.1),
)

_EXTRA_FIRST = ("Alex", "Jordan", "Sam", "Taylor", "Chris", "Morgan", "Jamie", "Casey", "Riley", "Avery",
                "Noor", "Lucia", "Mateo", "Aisha", "Hiro", "Ingrid", "Tariq", "Zoe", "Omar", "Lena")
_EXTRA_LAST = ("Garcia", "Kim", "Schmidt", "Rossi", "Nguyen", "Silva", "Cohen", "Haddad", "Larsen", "Moreau",
               "Ivanova", "Tanaka", "Walsh", "Adeyemi", "Novak", "Brooks", "Sato", "Costa", "Jansen", "Ali")
_EXTRA_ZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London", "Europe/Berlin")
_TEAM_OF_SEGMENT = {"enterprise": "Enterprise", "mid-market": "Mid-Market", "smb": "Scale"}

# --- per-segment norms (index 0 enterprise, 1 mid-market, 2 smb) --------------------------------------
_ARR_MEDIAN = np.array([160_000.0, 42_000.0, 9_000.0])
_ARR_SIGMA = np.array([0.55, 0.5, 0.6])
_ARR_FLOOR = np.array([40_000.0, 12_000.0, 1_800.0])
_CHURN = np.array([0.05, 0.09, 0.15])          # at renewal
_CONTRACTION = np.array([0.10, 0.12, 0.10])    # at renewal
_EXPANSION = np.array([0.30, 0.28, 0.18])      # at renewal (on top of a price uplift)
_SQL = np.array([0.1, 0.045, 0.02])            # SQLs per account-month
_CALLS = np.array([0.55, 0.35, 0.12])          # ordinary calls + meetings per account-month
_MEETING_SHARE = np.array([0.45, 0.25, 0.08])
_EMAILS = np.array([4.2, 2.6, 0.8])
_OTHERS = np.array([0.35, 0.3, 0.2])
_ALERTS = np.array([0.025, 0.022, 0.012])      # random alerts per account-month (at average risk)
_ESCALATIONS = np.array([0.03, 0.015, 0.005])  # per account-month
_SEAT_PRICE = np.array([1_400.0, 900.0, 450.0])
_QBR = np.array([0.97, 0.22, 0.03])            # chance of a QBR per account-quarter
_ADOPTION = np.array([68.0, 63.0, 57.0])

_BRANDS = (
    "Acme", "Alder", "Amberly", "Apex", "Arbor", "Argent", "Aspen", "Atlas", "Aurora", "Azurite", "Basalt",
    "Beacon", "Birchwood", "Blackwood", "Bluefin", "Bramble", "Brightwater", "Brookline", "Cardinal", "Cascade",
    "Cedar", "Cinder", "Citadel", "Clearwater", "Cobalt", "Compass", "Copperline", "Coral", "Cornerstone",
    "Crescent", "Crestline", "Cypress", "Deltaview", "Driftwood", "Eastgate", "Echo", "Elmstead", "Ember",
    "Evergreen", "Fairview", "Falconer", "Fernwood", "Flint", "Foxglove", "Frontier", "Garnet", "Glacier",
    "Granite", "Greenfield", "Harbor", "Hawthorn", "Heron", "Highland", "Horizon", "Indigo", "Ironwood",
    "Ivywood", "Juniper", "Keystone", "Kestrel", "Lakeshore", "Lantern", "Larkspur", "Laurel", "Linden",
    "Lumen", "Magnolia", "Maplecrest", "Marble", "Meadow", "Meridian", "Mesa", "Milestone", "Monarch",
    "Moonstone", "Northfield", "Northstar", "Oakridge", "Obsidian", "Onyx", "Orchid", "Osprey", "Pacifica",
    "Pebble", "Pinecrest", "Pioneer", "Polaris", "Prairie", "Quartz", "Quill", "Ravenwood", "Redwood",
    "Ridgeway", "Riverbend", "Rockport", "Saffron", "Sagebrush", "Sandstone", "Sapphire", "Sequoia",
    "Shoreline", "Sierra", "Silverline", "Skyline", "Sparrow", "Spruce", "Stonebridge", "Summit", "Sunridge",
    "Tamarack", "Thistle", "Timberline", "Topaz", "Trillium", "Tundra", "Umber", "Vantage", "Verdant", "Vista",
    "Willow", "Windward", "Wren", "Zephyr",
)
_INDUSTRIES = (
    "Aerospace", "Agritech", "Analytics", "Apparel", "Architects", "Automation", "Bank", "Bioscience", "Brewing",
    "Builders", "Cloud", "Clinics", "Consulting", "Credit Union", "Dental", "Design", "Devices", "Diagnostics",
    "Education", "Electric", "Engineering", "Farms", "Fintech", "Fitness", "Foods", "Freight", "Furniture",
    "Games", "Genomics", "Health", "Hospitality", "Imaging", "Industries", "Insurance", "Interiors", "Learning",
    "Legal", "Logistics", "Machines", "Marine", "Materials", "Media", "Medical", "Metals", "Mobility", "Motors",
    "Networks", "Nutrition", "Optics", "Outdoors", "Packaging", "Pharma", "Plastics", "Power", "Printing",
    "Properties", "Realty", "Recycling", "Renewables", "Retail", "Robotics", "Security", "Semiconductors",
    "Software", "Solar", "Staffing", "Studios", "Supply", "Telecom", "Textiles", "Therapeutics", "Tools",
    "Travel", "Utilities", "Ventures", "Water", "Wellness",
)
_SUFFIXES = ("", " Group", " Inc.", " Co.", " Partners", " Holdings", " International", " Systems",
             " Solutions", " Collective", " Works", " Global", " Corp.", " LLC", " Labs")


# ---------------------------------------------------------------------------------------------------
# small vectorized helpers (dates are int64 day numbers since 1970-01-01)
# ---------------------------------------------------------------------------------------------------
def _day(text: str) -> int:
    return int(np.datetime64(text, "D").astype(np.int64))


_M0 = int(np.datetime64(FIRST_MONTH, "M").astype(np.int64))            # months since 1970-01
_MONTH_ABS = _M0 + np.arange(N_MONTHS)
_MONTH_START = np.array(_MONTH_ABS, dtype="datetime64[M]").astype("datetime64[D]").astype(np.int64)
_MONTH_END = np.array(_MONTH_ABS + 1, dtype="datetime64[M]").astype("datetime64[D]").astype(np.int64) - 1
_WINDOW_START = int(_MONTH_START[0])
_AS_OF = _day(AS_OF)


def _month_start(month_abs: np.ndarray) -> np.ndarray:
    return month_abs.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _anniversary(month_abs: np.ndarray, dom: np.ndarray) -> np.ndarray:
    """Day number of day-of-month ``dom`` in ``month_abs`` (clipped to the month's last day)."""
    start = _month_start(month_abs)
    dim = _month_start(month_abs + 1) - start
    return start + np.minimum(dom, dim) - 1


def _month_index(days: np.ndarray) -> np.ndarray:
    """0-based index into the 21 history months of each day number."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) - _M0


def _weekday(days: np.ndarray) -> np.ndarray:
    return (days + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday


def _off_weekend(days: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Move Saturdays to Friday and Sundays to Monday when that stays inside [lo, hi]."""
    wd = _weekday(days)
    shift = np.where(wd == 5, -1, np.where(wd == 6, 1, 0))
    moved = days + shift
    ok = (moved >= lo) & (moved <= hi)
    return np.where(ok, moved, days)


def _uniform_day(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    span = np.maximum(hi - lo + 1, 1)
    return lo + np.floor(rng.random(lo.shape[0]) * span).astype(np.int64)


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    """``prefix`` + zero-padded 1..n as an object array of Python strings."""
    digits = np.arange(1, n + 1).astype(np.dtypes.StringDType())
    return np.strings.add(prefix, np.strings.zfill(digits, width)).astype(object)


def _str(values: np.ndarray) -> pd.Series:
    return pd.Series(values, dtype="str")


def _dates(days: np.ndarray) -> pd.Series:
    """Day numbers (with -1 = missing) as a datetime64[s] Series."""
    out = days.astype("datetime64[D]").astype("datetime64[s]")
    out[days < 0] = np.datetime64("NaT")
    return pd.Series(out)


def _round_to(values: np.ndarray, step: float) -> np.ndarray:
    return np.round(values / step) * step


# ---------------------------------------------------------------------------------------------------
# the team
# ---------------------------------------------------------------------------------------------------
def _team(n_csms: int) -> list[CsmStory]:
    if n_csms < 1:
        raise KitError(f"n_csms = {n_csms}: the sample needs at least one CSM")
    team = list(STORIES[:n_csms])
    width = max(2, len(str(n_csms)))
    cycle = ("smb", "mid-market", "enterprise")
    for i in range(len(team), n_csms):
        seg = cycle[(i - len(STORIES)) % 3]
        first = _EXTRA_FIRST[i % len(_EXTRA_FIRST)]
        last = _EXTRA_LAST[(i // len(_EXTRA_FIRST) + 7 * i) % len(_EXTRA_LAST)]
        zone = _EXTRA_ZONES[i % len(_EXTRA_ZONES)]
        team.append(CsmStory(f"csm_{i + 1:0{width}d}", f"{first} {last}", _TEAM_OF_SEGMENT[seg], zone, seg))
    if width > 2:  # keep every id the same width ("csm_001" ... when there are 100+ CSMs)
        team = [CsmStory(**{**s.__dict__, "csm_id": f"csm_{int(s.csm_id[4:]):0{width}d}"}) for s in team]
    return team


def _knob(team: Sequence[CsmStory], name: str) -> np.ndarray:
    return np.array([getattr(s, name) for s in team], dtype=np.float64)


# ---------------------------------------------------------------------------------------------------
# the generator
# ---------------------------------------------------------------------------------------------------
def generate_book(n_accounts: int = 300, n_csms: int = 7, seed: int = SEED,
                  activities_per_account_month: float | None = None, *,
                  n_activities: int | None = None) -> dict[str, pd.DataFrame]:
    """Generate a book of business following ``data/README.md``.

    Parameters
    ----------
    n_accounts
        Number of accounts (rows of ``accounts``), churned and new logos included.
    n_csms
        Number of CSMs. The first seven are the story CSMs of the module docstring; more are ordinary.
    seed
        Seed of ``numpy.random.default_rng``; the same arguments always give the same book.
    activities_per_account_month
        ``None``: activity counts follow each segment's cadence (about 2.5 per account-month).
        A number ``r``: exactly ``round(r * n_accounts * 21)`` activity rows: the lifecycle touches,
        QBRs and automated emails first, then ordinary touches spread over the account-months in
        proportion to each segment's and CSM's cadence (so the stories keep their shape).
    n_activities
        The exact number of activity rows instead (keyword only; do not give both).

    Returns
    -------
    dict[str, pandas.DataFrame]
        Keys are file stems (``csms, accounts, arr_monthly, activities, sqls, risk_alerts,
        escalations, usage``), columns as in :data:`COLUMNS`, rows sorted as in :data:`SORT_KEYS`.
        Ids and text use the ``str`` dtype, dates ``datetime64[s]``, months ``period[M]``, money
        ``int64`` (whole dollars), qualification flags ``boolean``; ``escalations.opened_at`` /
        ``csm_engaged_at`` are ISO strings with the CSM's UTC offset.

    Examples
    --------
    >>> book = generate_book(n_accounts=60)
    >>> sorted(book)[:3], len(book["accounts"])
    (['accounts', 'activities', 'arr_monthly'], 60)
    """
    if n_accounts < 1:
        raise KitError(f"n_accounts = {n_accounts}: the sample needs at least one account")
    if activities_per_account_month is not None and n_activities is not None:
        raise KitError("give activities_per_account_month or n_activities, not both")
    if activities_per_account_month is not None and not activities_per_account_month >= 0:
        raise KitError(f"activities_per_account_month = {activities_per_account_month} must be a number >= 0")
    if n_activities is not None and n_activities < 0:
        raise KitError(f"n_activities = {n_activities} must be >= 0")
    rng = np.random.default_rng(seed)
    team = _team(n_csms)
    sim = _Simulation(rng, team, n_accounts)
    sim.accounts()
    sim.arr()
    sim.alerts()
    sim.escalations()
    sim.usage_and_health()
    target = n_activities if activities_per_account_month is None else \
        round(activities_per_account_month * n_accounts * N_MONTHS)
    sim.activities(target)
    return sim.frames(team)


class _Simulation:
    """Working arrays of one generated book (one instance per :func:`generate_book` call)."""

    def __init__(self, rng: np.random.Generator, team: Sequence[CsmStory], n: int) -> None:
        self.rng = rng
        self.team = team
        self.n = n
        self.k = {name: _knob(team, name) for name in CsmStory.__dataclass_fields__
                  if name not in ("csm_id", "name", "team", "time_zone", "segment", "risk", "renewal_months")}
        self.csm_segment = np.array([SEGMENTS.index(s.segment) for s in team])

    # -- accounts -----------------------------------------------------------------------------------
    def accounts(self) -> None:
        rng, n, team = self.rng, self.n, self.team
        present = np.unique(self.csm_segment)
        share = np.array(SEGMENT_SHARE)[present]
        pick = np.searchsorted(np.cumsum(share / share.sum()), rng.random(n), side="right")
        seg = present[pick.clip(0, len(present) - 1)]
        # owners: balanced round-robin over the segment's CSMs, in a random order
        csm = np.empty(n, dtype=np.int64)
        order = rng.permutation(n)
        for s in present:  # loop over the three segments
            members = np.flatnonzero(self.csm_segment == s)
            idx = order[seg[order] == s]
            csm[idx] = members[np.arange(idx.size) % members.size]
        self.seg, self.csm = seg, csm

        # latent risk: beta per CSM (a loop over CSMs)
        risk = np.empty(n)
        for i, story in enumerate(team):
            mine = csm == i
            risk[mine] = rng.beta(story.risk[0], story.risk[1], int(mine.sum()))
        self.risk = risk
        self.risk_factor = np.clip(risk / 0.286, 0.15, 3.5)  # 0.286 = mean of beta(2, 5)

        # customer since: new logos start inside the window, the others 2019-01..2024-12
        new = rng.random(n) < NEW_LOGO_SHARE
        start_m = np.where(new, rng.integers(0, N_MONTHS, n), -1)
        old_days = rng.integers(_day("2019-01-01"), _day("2024-12-31") + 1, n)
        # renewal clustering of some stories: move the anniversary month, keep the year
        share_move = self.k["renewal_share"][csm]
        move = (~new) & (rng.random(n) < share_move)
        if move.any():
            choice = rng.random(n)
            target_moy = np.zeros(n, dtype=np.int64)
            for i, story in enumerate(team):  # loop over CSMs
                if story.renewal_months:
                    pick = np.array(story.renewal_months)[np.floor(choice * len(story.renewal_months)).astype(np.int64)]
                    target_moy = np.where(csm == i, pick, target_moy)
            year = old_days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64)
            old_month = old_days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
            dom = np.minimum(old_days - _month_start(old_month) + 1, 28)
            moved = _month_start(year * 12 + target_moy - 1) + dom - 1
            old_days = np.where(move, np.minimum(moved, _day("2024-12-31")), old_days)
        new_lo = _MONTH_START[np.maximum(start_m, 0)]
        new_hi = _MONTH_END[np.maximum(start_m, 0)]
        new_days = _off_weekend(_uniform_day(rng, new_lo, new_hi), new_lo, new_hi)
        self.since = np.where(new, new_days, old_days)
        since_m = self.since.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        self.since_month_abs = since_m
        self.since_dom = self.since - _month_start(since_m) + 1
        self.start_m = np.where(new, start_m, -1)
        self.monthly_plan = (seg == 2) & (rng.random(n) < MONTHLY_PLAN_SHARE_SMB)

        arr0 = np.exp(np.log(_ARR_MEDIAN[seg]) + _ARR_SIGMA[seg] * rng.standard_normal(n))
        arr0 = np.where(new, arr0 * 0.8, arr0)
        self.arr0 = np.maximum(_round_to(arr0, 100), _ARR_FLOOR[seg])
        self.seat_price = _SEAT_PRICE[seg] * rng.uniform(0.8, 1.2, n)
        util0 = np.clip(0.97 - 0.55 * risk + 0.07 * rng.standard_normal(n), 0.25, 1.0)
        self.util0 = util0
        adopt0 = _ADOPTION[seg] + self.k["adoption"][csm] + 30 * (0.286 - risk) + 7 * rng.standard_normal(n)
        self.adopt0 = np.clip(adopt0, 5, 97)

    # -- ARR month by month (loop over the 21 months) ----------------------------------------------
    def arr(self) -> None:
        rng, n, k, seg, csm = self.rng, self.n, self.k, self.seg, self.csm
        arr = np.zeros((n, N_MONTHS), dtype=np.float64)
        add = np.zeros((n, N_MONTHS + 1), dtype=np.float64)   # won-SQL expansions, by close month
        cur = np.where(self.start_m < 0, self.arr0, 0.0)
        churn_m = np.full(n, -1)
        churn_day = np.full(n, -1, dtype=np.int64)
        sql_parts: list[tuple[np.ndarray, ...]] = []
        sql_base = _SQL[seg] * k["sqls"][csm] * (0.6 + 0.8 * (self.util0 > 0.85))
        members = [np.flatnonzero(csm == i) for i in range(len(self.team))]
        for m in range(N_MONTHS):
            year_mult = np.where(m < 12, k["churn_2025"][csm], k["churn_2026"][csm])
            cur = np.where(self.start_m == m, self.arr0, cur)
            active = cur > 0
            age = _MONTH_ABS[m] - self.since_month_abs
            renew = active & (age >= 12) & (age % 12 == 0) & ~self.monthly_plan & (self.start_m != m)
            u = rng.random((4, n))
            p_churn = np.clip(_CHURN[seg] * year_mult * self.risk_factor, 0, 0.9)
            churn = np.zeros(n, dtype=bool)
            churn[self._steady_pick(np.where(renew, p_churn, 0.0), members)] = True
            p_contr = np.clip(_CONTRACTION[seg] * k["contraction"][csm] * (0.5 + 0.5 * self.risk_factor), 0, 0.8)
            contract = renew & ~churn & (u[1] < p_contr)
            p_exp = np.clip(_EXPANSION[seg] * k["expansion"][csm] * (1.3 - 0.5 * self.risk_factor.clip(0, 2)), 0, 0.9)
            expand = renew & ~churn & ~contract & (u[2] < p_exp)
            size = rng.uniform(0.1, 0.3, n)
            cur = np.where(contract, cur * (1 - size), cur)
            cur = np.where(expand, cur * (1 + size + 0.05), cur)
            uplift = renew & ~churn & ~contract & ~expand & (u[3] < 0.5)
            cur = np.where(uplift, cur * 1.04, cur)
            monthly_churn = active & self.monthly_plan & (self.start_m != m) & \
                (rng.random(n) < 0.018 * year_mult * self.risk_factor)
            churn |= monthly_churn
            # SQLs raised this month by active accounts that do not churn now (a steady pace per CSM)
            can = active & ~churn & (self.start_m != m)
            idx = self._steady_pick(np.where(can, sql_base, 0.0), members)
            if idx.size:
                sql_parts.append(self._sqls(idx, m, cur[idx]))
                won = sql_parts[-1][5] == 1
                close_m = sql_parts[-1][6]
                hit = won & (close_m >= m) & (close_m < N_MONTHS)
                np.add.at(add, (idx[hit], close_m[hit]), sql_parts[-1][4][hit].astype(np.float64))
            cur = np.where(cur > 0, cur + add[:, m], cur)
            day_in = _anniversary(np.full(n, _MONTH_ABS[m]), self.since_dom)
            rand_day = _uniform_day(rng, np.full(n, _MONTH_START[m]), np.full(n, _MONTH_END[m]))
            churn_day = np.where(churn, np.where(monthly_churn & ~renew, rand_day, day_in), churn_day)
            churn_m = np.where(churn, m, churn_m)
            cur = np.where(churn, 0.0, _round_to(cur, 10))
            arr[:, m] = cur
        self.arr_m = arr
        self.churn_m = churn_m
        self.churn_day = churn_day
        # the last day an account is a customer (inclusive): the day before it leaves, or AS_OF
        self.end_day = np.where(churn_m >= 0, churn_day - 1, _AS_OF)
        self._finish_sqls(sql_parts)

    def _steady_pick(self, hazard: np.ndarray, members: list[np.ndarray]) -> np.ndarray:
        """Sorted indices of the accounts picked this month (for an SQL, or to churn).

        Each CSM's count is steady: their accounts' summed ``hazard`` rounded up or down at random so
        the mean is exact (far less noise than one coin per account, so a 300-account book shows the
        stories reliably). The accounts are drawn in proportion to ``hazard`` (weighted sampling
        without replacement with Efraimidis-Spirakis keys).
        """
        rng = self.rng
        expected = np.array([hazard[mem].sum() for mem in members])  # loop over CSMs
        count = np.floor(expected + rng.random(len(members))).astype(np.int64)
        with np.errstate(divide="ignore"):
            keys = np.where(hazard > 0, np.log(rng.random(hazard.size)) / np.where(hazard > 0, hazard, 1.0), -np.inf)
        chosen = []
        for mem, c in zip(members, count):  # loop over CSMs
            c = min(int(c), int((hazard[mem] > 0).sum()))
            if c > 0:
                chosen.append(mem[np.argpartition(-keys[mem], c - 1)[:c]])
        return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)

    def _sqls(self, idx: np.ndarray, m: int, arr_now: np.ndarray) -> tuple[np.ndarray, ...]:
        rng, k, csm = self.rng, self.k, self.csm[idx]
        n = idx.size
        lo = np.maximum(np.full(n, _MONTH_START[m]), self.since[idx])
        created = _off_weekend(_uniform_day(rng, lo, np.full(n, _MONTH_END[m])), lo, np.full(n, _MONTH_END[m]))
        size = arr_now * rng.uniform(0.12, 0.5, n) * k["sql_size"][csm]
        expansion = np.maximum(_round_to(size, 500), 500).astype(np.int64)
        boxes = rng.random((4, n)) < k["qualified"][csm]
        ticked = boxes.sum(axis=0)
        p_win = np.array([0.05, 0.1, 0.2, 0.38, 0.6])[ticked]
        won = (rng.random(n) < p_win).astype(np.int64)
        delay = 12 + rng.gamma(2.0, 22.0, n).astype(np.int64)
        closed = created + delay
        close_m = _month_index(closed)
        return idx, created, closed, boxes, expansion, won, close_m

    def _finish_sqls(self, parts: list[tuple[np.ndarray, ...]]) -> None:
        if parts:
            idx = np.concatenate([p[0] for p in parts])
            created = np.concatenate([p[1] for p in parts])
            closed = np.concatenate([p[2] for p in parts])
            boxes = np.concatenate([p[3] for p in parts], axis=1)
            expansion = np.concatenate([p[4] for p in parts])
            won = np.concatenate([p[5] for p in parts]) == 1
        else:
            idx = created = closed = expansion = np.zeros(0, dtype=np.int64)
            boxes = np.zeros((4, 0), dtype=bool)
            won = np.zeros(0, dtype=bool)
        # an account that left before the SQL closed cannot buy the expansion: lost on the day it left
        left_first = (self.churn_m[idx] >= 0) & (closed > self.end_day[idx])
        closed = np.where(left_first, np.maximum(self.churn_day[idx], created), closed)
        won = won & ~left_first
        is_open = closed > _AS_OF
        status = np.where(is_open, "open", np.where(won, "won", "lost"))
        closed = np.where(is_open, -1, closed)
        self.sql = {"idx": idx, "created": created, "closed": closed, "boxes": boxes,
                    "expansion": expansion, "status": status}

    # -- risk alerts --------------------------------------------------------------------------------
    def alerts(self) -> None:
        rng, n, k, seg, csm = self.rng, self.n, self.k, self.seg, self.csm
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []  # idx, flagged, outcome, resolved
        # 1. most churns are preceded by an alert (flagged 10-75 days before the account leaves)
        churned = np.flatnonzero((self.churn_m >= 0) & (rng.random(n) < 0.85))
        lead = rng.integers(10, 76, churned.size)
        flagged = np.maximum(self.churn_day[churned] - lead, np.maximum(self.since[churned] + 14, _WINDOW_START))
        ok = flagged < self.churn_day[churned]
        churned, flagged = churned[ok], flagged[ok]
        parts.append((churned, flagged, np.full(churned.size, 2), self.churn_day[churned]))
        # 2. random alerts on active account-months; resolved (saved) after 10-60 days unless still open
        active = self.arr_m > 0
        rate = _ALERTS[seg] * k["alerts"][csm] * self.risk_factor
        hit = active & (rng.random(active.shape) < rate[:, None])
        a_idx, m_idx = np.nonzero(hit)
        lo = np.maximum(_MONTH_START[m_idx], self.since[a_idx])
        hi = np.minimum(_MONTH_END[m_idx], self.end_day[a_idx])
        keep = lo <= hi
        a_idx, lo, hi = a_idx[keep], lo[keep], hi[keep]
        flagged = _off_weekend(_uniform_day(rng, lo, hi), lo, hi)
        resolved = flagged + rng.integers(10, 61, a_idx.size)
        open_ = resolved > np.minimum(_AS_OF, self.end_day[a_idx])
        # a random alert on an account that later left within the resolution time counts as churned
        outcome = np.where(open_, np.where(self.churn_m[a_idx] >= 0, 2, 0), 1)
        resolved = np.where(outcome == 2, self.churn_day[a_idx], np.where(outcome == 0, -1, resolved))
        parts.append((a_idx, flagged, outcome, resolved))
        # 3. open alerts on renewals in the 90 days after AS_OF (csm_04's story)
        self.next_renewal = self._next_renewal()
        soon = (self.churn_m < 0) & (self.next_renewal > _AS_OF) & (self.next_renewal <= _AS_OF + 90)
        at_risk = soon & (rng.random(n) < k["at_risk_alert"][csm])
        self.at_risk = at_risk
        self.quiet = at_risk & (rng.random(n) < k["at_risk_quiet"][csm])
        r_idx = np.flatnonzero(at_risk)
        flagged = rng.integers(_day("2026-07-01"), _day("2026-09-26"), r_idx.size)
        flagged = np.maximum(flagged, self.since[r_idx])
        parts.append((r_idx, flagged, np.zeros(r_idx.size, dtype=np.int64), np.full(r_idx.size, -1)))

        idx = np.concatenate([p[0] for p in parts])
        flagged = np.concatenate([p[1] for p in parts])
        outcome = np.concatenate([p[2] for p in parts])
        resolved = np.concatenate([p[3] for p in parts])
        # first action: fast (0-5 days), slow (8-25 days) or none
        u = rng.random(idx.size)
        fast = u < k["action_fast"][csm[idx]]
        missing = u > 1 - k["action_missing"][csm[idx]]
        quiet = self.quiet[idx] & (outcome == 0)
        missing |= quiet & (rng.random(idx.size) < 0.8)
        delay = np.where(fast, rng.integers(0, 6, idx.size), rng.integers(8, 26, idx.size))
        first = flagged + delay
        limit = np.minimum(np.where(resolved >= 0, resolved, _AS_OF), np.minimum(self.end_day[idx], _AS_OF))
        first = np.where(missing | (first > limit), -1, first)
        self.alert = {"idx": idx, "flagged": flagged, "outcome": outcome, "resolved": resolved, "first": first}

    def _next_renewal(self) -> np.ndarray:
        """Next renewal after AS_OF (active accounts), the renewal at which it left (churned), -1 (monthly)."""
        y2026 = (2026 - 1970) * 12 + (self.since_month_abs % 12)
        a2026 = _anniversary(y2026, self.since_dom)
        a2027 = _anniversary(y2026 + 12, self.since_dom)
        nxt = np.where(a2026 > _AS_OF, a2026, a2027)
        nxt = np.where(self.churn_m >= 0, self.churn_day, nxt)
        return np.where(self.monthly_plan, -1, nxt)

    # -- escalations ----------------------------------------------------------------------------------
    def escalations(self) -> None:
        rng, k, seg, csm = self.rng, self.k, self.seg, self.csm
        active = self.arr_m > 0
        rate = _ESCALATIONS[seg] * (0.6 + 0.4 * self.risk_factor)
        a_idx, m_idx = np.nonzero(active & (rng.random(active.shape) < rate[:, None]))
        lo = np.maximum(_MONTH_START[m_idx], self.since[a_idx])
        hi = np.minimum(_MONTH_END[m_idx], self.end_day[a_idx])
        keep = lo <= hi
        a_idx, lo, hi = a_idx[keep], lo[keep], hi[keep]
        day = _uniform_day(rng, lo, hi)
        opened_min = day * 1440 + rng.integers(7 * 60, 19 * 60, a_idx.size)     # local minutes
        late = rng.random(a_idx.size) < k["escalation_late"][csm[a_idx]]
        fast_h = np.minimum(np.exp(np.log(3.0) + 0.9 * rng.standard_normal(a_idx.size)), 22.0)
        hours = np.where(late, rng.uniform(26, 70, a_idx.size), fast_h)
        engaged_min = opened_min + np.round(hours * 60).astype(np.int64)
        engaged_min = np.where(engaged_min // 1440 > _AS_OF, -1, engaged_min)
        self.esc = {"idx": a_idx, "opened": opened_min, "engaged": engaged_min}

    # -- usage and health -----------------------------------------------------------------------------
    def usage_and_health(self) -> None:
        rng, n = self.rng, self.n
        months = np.arange(N_MONTHS)
        tenure = np.clip((_MONTH_ABS[None, :] - self.since_month_abs[:, None]), 0, 36)
        # decline before a churn and, for the at-risk renewals, through 2026
        to_churn = np.where(self.churn_m[:, None] >= 0, self.churn_m[:, None] - months[None, :], 99)
        decline = np.where((to_churn >= 0) & (to_churn < 6), (6 - to_churn) * 3.5, 0.0)
        decline += np.where(self.at_risk[:, None] & (months[None, :] >= 15), (months[None, :] - 14) * 3.0, 0.0)
        adopt = self.adopt0[:, None] + 0.5 * tenure - decline + 2.5 * rng.standard_normal((n, N_MONTHS))
        adopt = np.clip(np.round(adopt, 1), 1.0, 100.0)
        util = self.util0[:, None] - decline / 100 + 0.04 * rng.standard_normal((n, N_MONTHS))
        util = np.clip(util, 0.1, 1.0)
        active = self.arr_m > 0
        seats = np.maximum(np.round(self.arr_m / self.seat_price[:, None]), 1)
        used = np.minimum(np.round(seats * util), seats)
        self.usage = {"active": active, "adopt": adopt, "seats": seats, "used": used}
        # health: last active month's adoption and seat use, minus an open-alert penalty
        last = np.where(self.churn_m >= 0, np.maximum(self.churn_m - 1, 0), N_MONTHS - 1)
        rows = np.arange(n)
        open_alert = np.zeros(n, dtype=bool)
        open_alert[self.alert["idx"][self.alert["outcome"] == 0]] = True
        health = 0.55 * adopt[rows, last] + 38 * util[rows, last] + 4 - 20 * open_alert \
            + 6 * rng.standard_normal(n)
        health = np.where(self.churn_m >= 0, rng.uniform(5, 35, n), health)
        self.health = np.clip(np.round(health), 1, 99).astype(np.int64)

    # -- activities -----------------------------------------------------------------------------------
    def activities(self, target: int | None) -> None:
        rng = self.rng
        structured = self._structured()
        n_struct = structured[0].size
        if target is not None and target < n_struct:
            keep = np.sort(rng.choice(n_struct, size=target, replace=False))
            structured = tuple(col[keep] for col in structured)
            ordinary = self._ordinary(0)
        else:
            ordinary = self._ordinary(None if target is None else target - n_struct)
        acc = np.concatenate([structured[0], ordinary[0]])
        day = np.concatenate([structured[1], ordinary[1]])
        typ = np.concatenate([structured[2], ordinary[2]])
        pur = np.concatenate([structured[3], ordinary[3]])
        # one int64 sort key: day, then account, type, purpose (stable, so ties keep their order)
        key = ((day - (day.min() if day.size else 0)) * self.n + acc) * (len(ACTIVITY_TYPES) * len(PURPOSES)) \
            + typ.astype(np.int64) * len(PURPOSES) + pur
        order = np.argsort(key, kind="stable")
        del key
        self.act = {"idx": acc[order], "day": day[order], "type": typ[order], "purpose": pur[order]}

    def _ordinary(self, total: int | None) -> tuple[np.ndarray, ...]:
        rng, n, k, seg, csm = self.rng, self.n, self.k, self.seg, self.csm
        lo = np.maximum(_MONTH_START[None, :], self.since[:, None])
        hi = np.minimum(_MONTH_END[None, :], self.end_day[:, None])
        # share of each month the account was a customer (0 before it started and after it left)
        frac = np.clip(hi - lo + 1, 0, None) / (_MONTH_END - _MONTH_START + 1)[None, :]
        quiet = np.where(self.quiet[:, None] & (np.arange(N_MONTHS)[None, :] >= 18), 0.0, 1.0)
        busy = (0.75 + 0.5 * self.risk_factor.clip(0, 2))[:, None]  # riskier accounts need more touches
        lam = np.stack([
            frac * quiet * busy * (_CALLS[seg] * k["calls"][csm])[:, None],
            frac * quiet * (_EMAILS[seg] * k["emails"][csm])[:, None],
            frac * quiet * (_OTHERS[seg] * k["others"][csm])[:, None],
        ])  # kind x account x month
        if total is None:
            counts = rng.poisson(lam).ravel()
        else:
            flat = lam.ravel()
            s = flat.sum()
            if total > 0 and s <= 0:
                raise KitError("no account-month is active, so no ordinary activity can be placed")
            counts = rng.multinomial(total, flat / s) if total > 0 else np.zeros(flat.size, dtype=np.int64)
        del lam
        cell = np.repeat(np.arange(counts.size), counts)
        del counts
        kind, rest = np.divmod(cell, n * N_MONTHS)
        del cell
        a, m = np.divmod(rest, N_MONTHS)
        del rest
        lo_a, hi_a = lo[a, m], hi[a, m]
        del m
        day = _off_weekend(_uniform_day(rng, lo_a, hi_a), lo_a, hi_a)
        del lo_a, hi_a
        u = rng.random(a.size)
        t = ACTIVITY_TYPES.index
        typ = np.full(a.size, t("email"), dtype=np.int8)
        calls = kind == 0
        typ[calls] = np.where(u[calls] < _MEETING_SHARE[seg[a[calls]]], t("meeting"), t("call"))
        other = kind == 2
        typ[other] = np.where(u[other] < 0.55, t("check_in"), np.where(u[other] < 0.85, t("webinar"), t("other")))
        return a, day, typ, np.zeros(a.size, dtype=np.int8)

    def _structured(self) -> tuple[np.ndarray, ...]:
        """Lifecycle touches, QBRs, automated emails, risk interventions and escalation responses."""
        rng, n, k, seg, csm = self.rng, self.n, self.k, self.seg, self.csm
        t, p = ACTIVITY_TYPES.index, PURPOSES.index
        out: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        on_time, late = k["on_time"][csm], k["late"][csm]

        def lifecycle(acc: np.ndarray, due: np.ndarray, jitter: tuple[int, int], late_by: tuple[int, int],
                      purpose: str, types: np.ndarray, extra_miss: np.ndarray | None = None) -> None:
            u = rng.random(acc.size)
            ok = u < on_time[acc]
            slow = (u >= on_time[acc]) & (u < on_time[acc] + late[acc])
            if extra_miss is not None:
                ok &= ~extra_miss
                slow &= ~extra_miss
            day = np.where(ok, due + rng.integers(jitter[0], jitter[1] + 1, acc.size),
                           due + rng.integers(late_by[0], late_by[1] + 1, acc.size))
            keep = (ok | slow) & (day >= _WINDOW_START) & (day <= np.minimum(_AS_OF, self.end_day[acc])) & \
                (day >= self.since[acc])
            out.append((acc[keep], day[keep], types[keep], np.full(int(keep.sum()), p(purpose))))

        # onboarding: day 1, 7, 30, 60 after customer_since
        everyone = np.arange(n)
        recent = everyone[self.since >= _WINDOW_START - 70]
        smb = seg[recent] == 2
        lifecycle(recent, self.since[recent] + 1, (-1, 1), (5, 12), "onboarding_welcome",
                  np.where(smb, t("email"), t("call")))
        lifecycle(recent, self.since[recent] + 7, (-1, 2), (12, 20), "onboarding_checkin",
                  np.where(smb, t("check_in"), t("call")))
        lifecycle(recent, self.since[recent] + 30, (-4, 4), (40, 50), "onboarding_review",
                  np.where(smb, t("call"), t("meeting")))
        lifecycle(recent, self.since[recent] + 60, (-4, 4), (70, 80), "adoption_assessment",
                  np.where(smb, t("call"), t("meeting")))

        # renewal touches before every renewal up to the next one (or the one at which the account left)
        rows = []
        for year in (2025, 2026, 2027):  # loop over three renewal years
            ym = (year - 1970) * 12 + (self.since_month_abs % 12)
            when = _anniversary(ym, self.since_dom)
            valid = (ym - self.since_month_abs >= 12) & ~self.monthly_plan & \
                ((self.churn_m < 0) | (when <= self.churn_day))
            rows.append((everyone[valid], when[valid]))
        r_acc = np.concatenate([r[0] for r in rows])
        r_day = np.concatenate([r[1] for r in rows])
        upcoming = r_day == self.next_renewal[r_acc]
        neglected = self.quiet[r_acc] & upcoming
        for days, ent, mid, small in ((180, "email", "email", "email"), (90, "meeting", "call", "call"),
                                      (60, "call", "call", "email"), (30, "meeting", "call", "call")):
            types = np.select([seg[r_acc] == 0, seg[r_acc] == 1], [t(ent), t(mid)], t(small))
            miss = neglected & (rng.random(r_acc.size) < (0.5 if days == 180 else 0.95))
            lifecycle(r_acc, r_day - days, (-7, 3), (9, 20), f"renewal_{days}", types, miss)

        # QBRs: one a quarter (enterprise), now and then for larger mid-market accounts and a few SMB
        q_start = _MONTH_START[0::3]
        q_end = _MONTH_END[2::3]
        big = self.arr0 >= np.median(self.arr0[seg == 1]) if (seg == 1).any() else np.zeros(n, dtype=bool)
        p_qbr = _QBR[seg] * k["qbr"][csm] * np.where((seg == 1) & big, 1.6, np.where(seg == 1, 0.5, 1.0))
        mid_active = self.arr_m[:, 1::3] > 0
        hit = mid_active & (rng.random(mid_active.shape) < np.clip(p_qbr, 0, 0.99)[:, None])
        hit &= ~(self.quiet[:, None] & (np.arange(7)[None, :] == 6))
        a_idx, q_idx = np.nonzero(hit)
        lo = np.maximum(q_start[q_idx], self.since[a_idx] + 14)
        hi = np.minimum(q_end[q_idx], np.minimum(self.end_day[a_idx], _AS_OF))
        keep = lo <= hi
        a_idx, lo, hi = a_idx[keep], lo[keep], hi[keep]
        day = _off_weekend(_uniform_day(rng, lo, hi), lo, hi)
        out.append((a_idx, day, np.full(a_idx.size, t("qbr")), np.zeros(a_idx.size, dtype=np.int64)))

        # SMB: an automated email in the first week of every quarter (8 % of accounts opted out)
        opted_in = (seg == 2) & (rng.random(n) < 0.92)
        a_idx, q_idx = np.nonzero(opted_in[:, None] & (self.arr_m[:, 0::3] > 0))
        lo = np.maximum(q_start[q_idx] + 1, self.since[a_idx])
        hi = np.minimum(q_start[q_idx] + 7, self.end_day[a_idx])
        keep = lo <= hi
        a_idx, lo, hi = a_idx[keep], lo[keep], hi[keep]
        day = _off_weekend(_uniform_day(rng, lo, hi), lo, hi)
        out.append((a_idx, day, np.full(a_idx.size, t("automated_email")), np.zeros(a_idx.size, dtype=np.int64)))

        # risk interventions on the alerts' first action dates
        al = self.alert
        has = al["first"] >= 0
        a_idx, day = al["idx"][has], al["first"][has]
        types = np.where(rng.random(a_idx.size) < 0.7, t("call"), t("meeting"))
        out.append((a_idx, day, types, np.full(a_idx.size, p("risk_intervention"))))

        # escalation responses on the day the CSM engaged
        es = self.esc
        has = es["engaged"] >= 0
        a_idx, day = es["idx"][has], es["engaged"][has] // 1440
        keep = day <= np.minimum(_AS_OF, self.end_day[a_idx])
        a_idx, day = a_idx[keep], day[keep]
        types = np.where(rng.random(a_idx.size) < 0.6, t("call"), t("email"))
        out.append((a_idx, day, types, np.full(a_idx.size, p("escalation_response"))))

        dtypes = (np.int64, np.int64, np.int8, np.int8)  # account, day, type code, purpose code
        return tuple(np.concatenate([o[i] for o in out]).astype(dtypes[i]) for i in range(4))

    # -- frames ---------------------------------------------------------------------------------------
    def frames(self, team: Sequence[CsmStory]) -> dict[str, pd.DataFrame]:
        n = self.n
        csm_ids = np.array([s.csm_id for s in team], dtype=object)
        acc_ids = _ids("acc_", n, max(4, len(str(n))))
        seg_names = np.array(SEGMENTS, dtype=object)
        out: dict[str, pd.DataFrame] = {}
        out["csms"] = pd.DataFrame({
            "csm_id": _str(csm_ids), "csm_name": _str(np.array([s.name for s in team], dtype=object)),
            "team": _str(np.array([s.team for s in team], dtype=object)),
            "time_zone": _str(np.array([s.time_zone for s in team], dtype=object)),
        })
        out["accounts"] = pd.DataFrame({
            "account_id": _str(acc_ids), "account_name": _str(_account_names(self.rng, n)),
            "csm_id": _str(csm_ids[self.csm]), "segment": _str(seg_names[self.seg]),
            "customer_since": _dates(self.since), "renewal_date": _dates(self.next_renewal),
            "health_score": pd.Series(self.health, dtype="int64"),
        })
        a_idx, m_idx = np.nonzero(self.arr_m > 0)
        months = pd.period_range(FIRST_MONTH, periods=N_MONTHS, freq="M")
        out["arr_monthly"] = pd.DataFrame({
            "month": pd.Series(months[m_idx]), "account_id": _str(acc_ids[a_idx]),
            "arr": pd.Series(self.arr_m[a_idx, m_idx].astype(np.int64)),
        })
        act = self.act
        purposes = np.array([None if p == "" else p for p in PURPOSES], dtype=object)
        out["activities"] = pd.DataFrame({
            "activity_id": _str(_ids("act_", act["idx"].size, max(6, len(str(act["idx"].size))))),
            "date": _dates(act["day"]), "account_id": _str(acc_ids[act["idx"]]),
            "csm_id": _str(csm_ids[self.csm[act["idx"]]]),
            "type": _str(np.array(ACTIVITY_TYPES, dtype=object)[act["type"]]),
            "purpose": _str(purposes[act["purpose"]]),
        })
        sq = self.sql
        order = np.lexsort((sq["idx"], sq["created"]))
        boxes = sq["boxes"][:, order]
        out["sqls"] = pd.DataFrame({
            "sql_id": _str(_ids("sql_", order.size, max(4, len(str(order.size))))),
            "created_date": _dates(sq["created"][order]), "account_id": _str(acc_ids[sq["idx"][order]]),
            "csm_id": _str(csm_ids[self.csm[sq["idx"][order]]]),
            "expansion_arr": pd.Series(sq["expansion"][order].astype(np.int64)),
            "status": _str(sq["status"][order].astype(object)), "closed_date": _dates(sq["closed"][order]),
            **{name: pd.Series(boxes[i], dtype="boolean")
               for i, name in enumerate(("need", "budget", "timeline", "stakeholder"))},
        })
        al = self.alert
        order = np.lexsort((al["idx"], al["flagged"]))
        outcome_names = np.array(["open", "saved", "churned"], dtype=object)
        out["risk_alerts"] = pd.DataFrame({
            "alert_id": _str(_ids("alert_", order.size, max(4, len(str(order.size))))),
            "account_id": _str(acc_ids[al["idx"][order]]), "flagged_date": _dates(al["flagged"][order]),
            "outcome": _str(outcome_names[al["outcome"][order]]),
            "first_action_date": _dates(al["first"][order]), "resolved_date": _dates(al["resolved"][order]),
        })
        es = self.esc
        order = np.lexsort((es["idx"], es["opened"]))
        zones = np.array([s.time_zone for s in team], dtype=object)[self.csm[es["idx"][order]]]
        out["escalations"] = pd.DataFrame({
            "escalation_id": _str(_ids("esc_", order.size, max(4, len(str(order.size))))),
            "account_id": _str(acc_ids[es["idx"][order]]),
            "opened_at": _str(_iso_local(es["opened"][order], zones)),
            "csm_engaged_at": _str(_iso_local(es["engaged"][order], zones)),
        })
        us = self.usage
        a_idx, m_idx = np.nonzero(us["active"])
        out["usage"] = pd.DataFrame({
            "month": pd.Series(months[m_idx]), "account_id": _str(acc_ids[a_idx]),
            "feature_adoption_pct": pd.Series(us["adopt"][a_idx, m_idx]),
            "seats_purchased": pd.Series(us["seats"][a_idx, m_idx].astype(np.int64)),
            "seats_used": pd.Series(us["used"][a_idx, m_idx].astype(np.int64)),
        })
        # every frame was built in its SORT_KEYS order (ids are assigned after sorting)
        return {stem: frame[list(COLUMNS[stem])] for stem, frame in out.items()}


def _iso_local(minutes: np.ndarray, zones: np.ndarray) -> np.ndarray:
    """Local wall-clock minutes (since 1970; -1 = missing) -> ISO strings with the zone's UTC offset.

    ``2026-03-04T09:15:00-05:00``; missing values become ``None``. A wall-clock time that does not
    exist (spring-forward gap) is shifted forward; an ambiguous one (fall-back) is read as DST.
    """
    out = np.full(minutes.size, None, dtype=object)
    for zone in np.unique(zones.astype(str)):  # loop over the team's time zones
        sel = np.flatnonzero((zones == zone) & (minutes >= 0))
        if not sel.size:
            continue
        naive = pd.DatetimeIndex(minutes[sel].astype("datetime64[m]").astype("datetime64[s]"))
        local = naive.tz_localize(zone, ambiguous=np.ones(sel.size, dtype=bool), nonexistent="shift_forward")
        wall = local.tz_localize(None).to_numpy().astype("datetime64[s]")
        utc = local.tz_convert("UTC").tz_localize(None).to_numpy().astype("datetime64[s]")
        offset = ((wall - utc).astype(np.int64) // 60)
        uniq, inv = np.unique(offset, return_inverse=True)
        labels = np.array([f"{'-' if o < 0 else '+'}{abs(o) // 60:02d}:{abs(o) % 60:02d}" for o in uniq.tolist()],
                          dtype=np.dtypes.StringDType())  # loop over the few distinct offsets
        text = np.strings.add(np.datetime_as_string(wall, unit="s").astype(np.dtypes.StringDType()), labels[inv])
        out[sel] = text.astype(object)
    return out


def _account_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` unique, realistic-looking company names ("Acme Robotics", "Cobalt Freight Group", ...)."""
    nb, ni = len(_BRANDS), len(_INDUSTRIES)
    per_block = nb * ni
    blocks = max(1, math.ceil(1.25 * n / per_block))
    pick = rng.choice(blocks * per_block, size=n, replace=False)
    block, rest = np.divmod(pick, per_block)
    brand, industry = np.divmod(rest, ni)
    suffix = np.array([_SUFFIXES[b % len(_SUFFIXES)] + (f" {b // len(_SUFFIXES) + 1}" if b >= len(_SUFFIXES) else "")
                       for b in range(blocks)], dtype=object)  # loop over name blocks (a handful)
    brands = np.array(_BRANDS, dtype=object)
    industries = np.array(_INDUSTRIES, dtype=object)
    return brands[brand] + " " + industries[industry] + suffix[block]


# ---------------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------------
_STR = np.dtypes.StringDType()
_CHUNK = 500_000  # rows per write when streaming a big file


def _labels(codes: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``labels[codes]`` with code -1 (missing) -> ``""``."""
    return np.append(labels.astype(_STR), np.array([""], dtype=_STR))[codes]


def _fixed(values: np.ndarray, decimals: int) -> np.ndarray:
    """Floats as text with exactly ``decimals`` decimals (NaN -> blank), without a Python loop."""
    missing = np.isnan(values)
    scaled = np.round(np.where(missing, 0.0, values) * 10**decimals).astype(np.int64)
    whole, frac = np.divmod(np.abs(scaled), 10**decimals)
    text = np.strings.add(np.where(scaled < 0, "-", "").astype(_STR), whole.astype(_STR))
    if decimals > 0:
        text = np.strings.add(np.strings.add(text, "."), np.strings.zfill(frac.astype(_STR), decimals))
    return np.where(missing, "", text).astype(_STR)


def _text_column(series: pd.Series, decimals: int) -> np.ndarray:
    """One column as the exact text written to CSV (blank for missing), quoted where CSV needs it."""
    if isinstance(series.dtype, pd.PeriodDtype):
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        return _labels(codes, np.asarray(pd.PeriodIndex(uniques).strftime("%Y-%m"), dtype=object))
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        return _labels(codes, np.asarray(pd.DatetimeIndex(uniques).strftime("%Y-%m-%d"), dtype=object))
    if pd.api.types.is_bool_dtype(series.dtype):
        flags = series.astype("boolean")
        codes = np.where(flags.isna().to_numpy(), -1, flags.fillna(False).to_numpy(dtype=bool).astype(np.int64))
        return _labels(codes, np.array(["false", "true"], dtype=object))
    if pd.api.types.is_float_dtype(series.dtype):
        return _fixed(series.to_numpy(dtype=np.float64, na_value=np.nan), decimals)
    if pd.api.types.is_integer_dtype(series.dtype) and not series.hasnans:
        return series.to_numpy(dtype=np.int64).astype(_STR)
    words: list[str] = series.astype("str").to_numpy(dtype=object, na_value="").tolist()
    text = np.array(words, dtype=_STR)
    blob = "\x00".join(words)  # one C-level scan instead of four per-element searches
    if any(ch in blob for ch in (",", '"', "\n", "\r")):
        special = np.zeros(text.size, dtype=bool)
        for ch in (",", '"', "\n", "\r"):  # loop over the four characters CSV must quote
            special |= np.strings.find(text, ch) >= 0
        quoted = np.strings.add(np.strings.add('"', np.strings.replace(text, '"', '""')), '"')
        text = np.where(special, quoted, text).astype(_STR)
    return text


def _sorted(table: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """``table`` sorted by ``keys`` (checked in one pass first: generate_book's frames already are)."""
    if not keys or len(table) < 2:
        return table
    tie = np.ones(len(table) - 1, dtype=bool)
    for key in keys:  # loop over the sort keys
        column = table[key]
        values = column.array.asi8 if isinstance(column.dtype, pd.PeriodDtype) else column.to_numpy()
        before, after = values[:-1], values[1:]
        equal = np.asarray(before == after, dtype=bool)
        if (tie & ~equal & ~np.asarray(before < after, dtype=bool)).any():
            return table.sort_values(list(keys), kind="stable")
        tie &= equal
    return table


def write_book(frames: dict[str, pd.DataFrame], out_dir: str | Path, name: str = BOOK_NAME) -> None:
    """Write ``frames`` (as returned by :func:`generate_book`) to ``out_dir`` as a book.

    Deterministic bytes: the columns of :data:`COLUMNS` in that order (extra columns after them),
    rows sorted by :data:`SORT_KEYS`, ``\\n`` line ends, UTF-8 without BOM, ISO dates, whole-dollar
    money, floats with the fixed decimals of :data:`FLOAT_DECIMALS` (2 otherwise), booleans as
    ``true``/``false``, blanks for missing values, CSV quoting only where a value needs it. Each
    file is streamed to a temporary file in ``out_dir`` and renamed over the target, so a reader
    never sees half a file. ``book.yaml`` gets ``name``; other files in ``out_dir`` (for example a
    ``targets.yaml``) are left alone.

    Parameters
    ----------
    frames
        File stem -> DataFrame (any subset of the book's files; unknown stems are written as they are).
    out_dir
        Folder to write; created if missing.
    name
        The book's display name, written to ``book.yaml``.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> write_book(generate_book(n_accounts=20), folder)
    >>> sorted(p.name for p in Path(folder).iterdir())[:3]
    ['accounts.csv', 'activities.csv', 'arr_monthly.csv']
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    for stem, frame in frames.items():
        order = [c for c in COLUMNS.get(stem, ()) if c in frame.columns]
        order += [c for c in frame.columns if c not in order]
        table = _sorted(frame[order], [c for c in SORT_KEYS.get(stem, ()) if c in frame.columns])
        with _atomic_file(folder / f"{stem}.csv") as fh:
            fh.write(",".join(order) + "\n")
            for lo in range(0, len(table), _CHUNK):  # loop over chunks of 500,000 rows
                part = table.iloc[lo:lo + _CHUNK]
                line = _text_column(part[order[0]], FLOAT_DECIMALS.get(order[0], 2))
                for col in order[1:]:
                    cell = _text_column(part[col], FLOAT_DECIMALS.get(col, 2))
                    line = np.strings.add(np.strings.add(line, ","), cell)
                fh.write("\n".join(line.tolist()))
                fh.write("\n")
    with _atomic_file(folder / "book.yaml") as fh:
        fh.write(f"# Generated by `python -m kpi_kit.sample` (seed {SEED}); "
                 "the CSMs' stories are in kpi_kit/sample.py.\n"
                 f"name: {name}\n")


@contextmanager
def _atomic_file(path: Path) -> Iterator[TextIO]:
    """Open a temporary file next to ``path`` for writing; on success rename it over ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
        os.chmod(tmp, 0o644)  # mkstemp makes the file private; a book is an ordinary readable file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """``python -m kpi_kit.sample [--out DIR] [--accounts N] [--activities N] [--csms N] [--seed S]``.

    Without options it rewrites the bundled sample book (:data:`DEFAULT_OUT`). ``--activities`` is
    the exact number of activity rows (default: each segment's cadence). Returns the exit code.
    """
    parser = argparse.ArgumentParser(prog="python -m kpi_kit.sample", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"folder to write (default: {DEFAULT_OUT})")
    parser.add_argument("--accounts", type=int, default=300, help="number of accounts (default 300)")
    parser.add_argument("--activities", type=int, default=None,
                        help="exact number of activity rows (default: each segment's natural cadence)")
    parser.add_argument("--csms", type=int, default=7, help="number of CSMs (default 7, the story CSMs)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    args = parser.parse_args(argv)
    if args.accounts < 1:
        parser.error("--accounts must be at least 1")
    if args.activities is not None and args.activities < 0:
        parser.error("--activities must be 0 or more")
    try:
        frames = generate_book(args.accounts, args.csms, args.seed, n_activities=args.activities)
        write_book(frames, args.out)
    except KitError as exc:
        print(f"kpi_kit.sample: {exc}", file=sys.stderr)
        return 1
    sizes = ", ".join(f"{stem} {len(frame):,}" for stem, frame in frames.items())
    print(f"wrote {args.out}: {sizes}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
