"""Every HTML view of the kit shows data and config text as text, never as markup.

The promise (README): an account named ``<img src=x onerror=alert(1)>`` appears as text in the HTML.
``test_safety`` checks the report runner and the data-quality report; this file checks the
``_repr_html_`` of every result a notebook displays, the explorers' HTML and :mod:`kpi_kit.views`.

Each case builds one result from hostile input and checks its HTML twice: the raw markup is absent,
and the payload the view shows (a CSM's name or id, a plan or ladder name, a path...) is there with
``<`` and ``>`` escaped — so a view that dropped the name, or escaped it twice, fails too.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from kpi_kit.data import SAMPLE_DIR, Book, load_book
from kpi_kit.periods import Period
from tests.conftest import write_book
from tests.test_safety import XSS

NAME, CSM_ID, ACCOUNT = XSS["csm"], XSS["id"], XSS["account"]
HOSTILE = "<img src=x onerror=alert(1)>"            # config text: plan, ladder, tier and column names, paths
PERIOD = Period.parse("2026-07", "2026-09")           # a quarter of the sample book's history
AS_OF = "2026-08-15"                                  # mid-period, for the pacing and forecast views


@dataclass(frozen=True)
class Hostile:
    """The sample book with csm_01 renamed: its id, its name and one of its accounts carry markup."""

    book: Book
    plan_yaml: Path


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Hostile:
    folder = tmp_path_factory.mktemp("hostile") / "book"
    shutil.copytree(SAMPLE_DIR, folder)
    for path in folder.glob("*.csv"):
        text = path.read_text(encoding="utf-8")
        assert "," not in HOSTILE + NAME + CSM_ID + ACCOUNT and '"' not in NAME + CSM_ID + ACCOUNT  # plain CSV cells
        text = text.replace("csm_01,Maya Chen,", f"csm_01,{NAME},").replace("csm_01", CSM_ID)
        text = text.replace("acc_0002,Juniper Fitness,", f"acc_0002,{ACCOUNT},")
        path.write_text(text, encoding="utf-8")
    (folder / "comp_plan.yaml").write_text(f'name: "{HOSTILE}"\n', encoding="utf-8")
    book = load_book(folder)
    assert book.csm_name(CSM_ID) == NAME and book.comp_plan == {"name": HOSTILE}
    return Hostile(book, folder / "comp_plan.yaml")


def lt_gt(payload: str) -> str:
    """``payload`` with only ``<`` and ``>`` escaped (pandas' ``to_html`` leaves quotes as they are)."""
    return payload.replace("<", "&lt;").replace(">", "&gt;")


# ------------------------------------------------------------------------------------------------ the views
# id -> (build the HTML from the hostile book and a fresh folder, payloads the view shows)
View = Callable[[Hostile, Path], str]
CASES: dict[str, tuple[View, tuple[str, ...]]] = {}


def case(name: str, *shown: str) -> Callable[[View], View]:
    def register(fn: View) -> View:
        CASES[name] = (fn, shown)
        return fn
    return register


# --- one CSM's book: the caption names the CSM (name and id, or id only)
@case("scorecard.scorecard", NAME, CSM_ID)
def _scorecard(h: Hostile, tmp: Path) -> str:
    from kpi_kit.scorecard import scorecard
    return scorecard(h.book, CSM_ID, PERIOD)._repr_html_()


@case("retention.retention", CSM_ID)
def _retention(h: Hostile, tmp: Path) -> str:
    from kpi_kit.retention import retention
    return retention(h.book, CSM_ID, PERIOD)._repr_html_()


@case("one_on_one.one_on_one", NAME, CSM_ID)
def _one_on_one(h: Hostile, tmp: Path) -> str:
    from kpi_kit.one_on_one import one_on_one
    return one_on_one(h.book, CSM_ID, PERIOD)._repr_html_()


@case("coverage.coverage_rota", CSM_ID)
def _coverage_rota(h: Hostile, tmp: Path) -> str:
    from kpi_kit.coverage import coverage_rota
    return coverage_rota(h.book, CSM_ID, PERIOD)._repr_html_()


@case("sqls.sql_quality", CSM_ID)
def _sql_quality(h: Hostile, tmp: Path) -> str:
    from kpi_kit.sqls import sql_quality
    return sql_quality(h.book, CSM_ID, PERIOD)._repr_html_()


@case("engagement.tier_minimums", CSM_ID)
def _tier_minimums(h: Hostile, tmp: Path) -> str:
    from kpi_kit.engagement import tier_minimums
    return tier_minimums(h.book, CSM_ID, PERIOD)._repr_html_()


@case("engagement.cadence_retention", CSM_ID)
def _cadence_retention(h: Hostile, tmp: Path) -> str:
    from kpi_kit.engagement import cadence_retention
    return cadence_retention(h.book, PERIOD, csm_id=CSM_ID)._repr_html_()


@case("alerts.save_predictors", NAME)
def _save_predictors(h: Hostile, tmp: Path) -> str:
    from kpi_kit.alerts import save_predictors
    return save_predictors(h.book, "2026-09-30", csm_id=CSM_ID)._repr_html_()


@case("forecast.pace_board", NAME, CSM_ID)
def _pace_board(h: Hostile, tmp: Path) -> str:
    from kpi_kit.forecast import pace_board
    return pace_board(h.book, CSM_ID, PERIOD, AS_OF)._repr_html_()


@case("forecast.forecast_retention", NAME, CSM_ID)
def _forecast_retention(h: Hostile, tmp: Path) -> str:
    from kpi_kit.forecast import forecast_retention
    return forecast_retention(h.book, CSM_ID, PERIOD, AS_OF, n=200, seed=1)._repr_html_()


@case("forecast.weekly_tracking", NAME, CSM_ID)
def _weekly_tracking(h: Hostile, tmp: Path) -> str:
    from kpi_kit.forecast import weekly_tracking
    return weekly_tracking(h.book, CSM_ID, PERIOD, AS_OF)._repr_html_()


@case("forecast.attainment_samples", CSM_ID)
def _attainment_samples(h: Hostile, tmp: Path) -> str:
    from kpi_kit.forecast import attainment_samples
    return attainment_samples(h.book, CSM_ID, PERIOD, AS_OF, n=200, seed=1)._repr_html_()


@case("exercises.comp.pay_outlook", CSM_ID)
def _pay_outlook(h: Hostile, tmp: Path) -> str:
    from kpi_kit.exercises.comp import pay_outlook
    return pay_outlook(h.book, CSM_ID, PERIOD, AS_OF, n=200)._repr_html_()


# --- the team: tables list every CSM
@case("team.team_rollup", NAME, CSM_ID)
def _team_rollup(h: Hostile, tmp: Path) -> str:
    from kpi_kit.team import team_rollup
    return team_rollup(h.book, PERIOD)._repr_html_()


@case("cascade.cascade_targets", NAME, CSM_ID)
def _cascade_targets(h: Hostile, tmp: Path) -> str:
    from kpi_kit.cascade import cascade_targets
    return cascade_targets(h.book, PERIOD)._repr_html_()


@case("cascade.line_of_sight", NAME, CSM_ID)
def _line_of_sight(h: Hostile, tmp: Path) -> str:
    from kpi_kit.cascade import line_of_sight
    return line_of_sight(h.book, CSM_ID, PERIOD)._repr_html_()


@case("cascade.cascade_tree", NAME, CSM_ID)
def _cascade_tree(h: Hostile, tmp: Path) -> str:
    from kpi_kit.cascade import cascade_tree
    return cascade_tree(h.book, PERIOD)._repr_html_()


@case("cascade.cascade", NAME, CSM_ID)
def _cascade(h: Hostile, tmp: Path) -> str:
    from kpi_kit.cascade import cascade
    return cascade(h.book, PERIOD)._repr_html_()


@case("cascade.forecast_vs_goal", NAME)
def _forecast_vs_goal(h: Hostile, tmp: Path) -> str:
    from kpi_kit.cascade import forecast_vs_goal
    return forecast_vs_goal(h.book, PERIOD, n=200, seed=1)._repr_html_()


# --- comp plan (comp_plan.yaml named "<img ...>"), pay and the career ladder
@case("comp.CompPlan", HOSTILE)
def _comp_plan(h: Hostile, tmp: Path) -> str:
    from kpi_kit.comp import load_plan
    return load_plan(h.plan_yaml)._repr_html_()


@case("comp.pay_at", HOSTILE, NAME)
def _pay_at(h: Hostile, tmp: Path) -> str:
    from kpi_kit.comp import load_plan, pay_at
    return pay_at(load_plan(h.book.comp_plan), 1.0, label=NAME)._repr_html_()


@case("comp.forecast_pay", HOSTILE)
def _forecast_pay(h: Hostile, tmp: Path) -> str:
    from kpi_kit.comp import forecast_pay, load_plan
    return forecast_pay(load_plan(h.plan_yaml), [0.9, 1.0, 1.1])._repr_html_()


LADDER = [{"from": HOSTILE, "to": HOSTILE.replace("1", "2"), "min_attainment_pct": 100, "months": 2,
           "requires": {HOSTILE.replace("1", "3"): 1}}]


@case("career.career_status", HOSTILE, HOSTILE.replace("1", "2"), HOSTILE.replace("1", "3"))
def _career_status(h: Hostile, tmp: Path) -> str:
    from kpi_kit.career import career_status, load_ladder
    # one month at the bar of two and no achievement: not eligible, both conditions listed as missing
    return career_status({"2026-01": 1.2}, level=HOSTILE, ladder=load_ladder(LADDER))._repr_html_()


@case("career.replay", HOSTILE, HOSTILE.replace("1", "2"), HOSTILE.replace("1", "3"))
def _career_replay(h: Hostile, tmp: Path) -> str:
    from kpi_kit.career import load_ladder, replay
    return replay({"2026-01": 1.2}, start_level=HOSTILE, ladder=load_ladder(LADDER))._repr_html_()


# --- files and cleaning
@case("tz.activity_days", HOSTILE)
def _activity_days(h: Hostile, tmp: Path) -> str:
    from kpi_kit.tz import activity_days
    # 02:30 on 9 March 2025 does not exist in Los Angeles: a daylight-saving note quotes the row label
    return activity_days(pd.Series(["2025-03-09 02:30"], index=[HOSTILE]), "America/Los_Angeles")._repr_html_()


@case("parsing.find_duplicates", HOSTILE)
def _find_duplicates(h: Hostile, tmp: Path) -> str:
    from kpi_kit.parsing import find_duplicates
    frame = pd.DataFrame({"account_id": [HOSTILE, HOSTILE + " "], "arr": [10.0, 10.0]}, index=[2, 3])
    return find_duplicates(frame, "account_id", file="arr.csv")._repr_html_()


@case("parsing.clean_arr_lines", HOSTILE)
def _clean_arr_lines(h: Hostile, tmp: Path) -> str:
    from kpi_kit.parsing import clean_arr_lines
    frame = pd.DataFrame({"account_id": [HOSTILE, "B", "C"], "arr": [10.0, -5.0, None]}, index=[2, 3, 4])
    return clean_arr_lines(frame, file="arr.csv")._repr_html_()


@case("fx.fx_bridge", HOSTILE)
def _fx_bridge(h: Hostile, tmp: Path) -> str:
    from kpi_kit.fx import fx_bridge
    frame = pd.DataFrame({"account_id": [HOSTILE], "currency": ["USD"], "start": [1.0], "end": [2.0]})
    return fx_bridge(frame, None, "2025-01-01", "2025-12-31", start_col="start", end_col="end")._repr_html_()


@case("importer.import_csv", HOSTILE)
def _import_csv(h: Hostile, tmp: Path) -> str:
    from kpi_kit.importer import import_csv
    from tests.test_importer import base_book
    accounts = "Account ID,Name,Owner,Tier,Since,Renewal,ARR\nA-1,Acme,csm_ana,Enterprise,2024-01-15,2026-06-30,1000\n"
    return import_csv(base_book(tmp / "src", accounts), tmp / HOSTILE)._repr_html_()  # a folder named like markup


@case("report.run_reports", CSM_ID)
def _run_reports(h: Hostile, tmp: Path) -> str:
    from kpi_kit.report import run_reports
    book = write_book(tmp / "book", csms=[{"csm_id": "c1", "csm_name": "Ana", "team": "T"}],
                      accounts=[{"account_id": "A1", "account_name": "Acme", "csm_id": "c1", "segment": "smb",
                                 "customer_since": "2025-01-01", "renewal_date": ""}],
                      arr_monthly=[{"month": "2025-03", "account_id": "A1", "arr": 10}])
    # an unknown id runs no notebook: the run lists it as failed, with an error quoting it
    run = run_reports(data_dir=book, csm_ids=[CSM_ID], out_dir=tmp / "reports", progress=False)
    return run._repr_html_()


@case("journal.journal_patterns", HOSTILE)
def _journal_patterns(h: Hostile, tmp: Path) -> str:
    from kpi_kit.journal import journal_patterns
    weeks = pd.to_datetime(["2026-07-06", "2026-07-13", "2026-07-20", "2026-07-27"])
    journal = pd.DataFrame({"week": weeks, "root_cause": pd.array([None] * 4, dtype="str"),
                            HOSTILE: [0.0, 3.0, 1.0, 4.0]})  # the escalation count's column, named in the header
    weekly = pd.DataFrame({"week": weeks, "sqls": [1, 0, 2, 1]})
    return journal_patterns(journal, weekly, HOSTILE, indicators=("sqls",))._repr_html_()


@case("coverage.tiered_coverage", HOSTILE)
def _tiered_coverage(h: Hostile, tmp: Path) -> str:
    from kpi_kit.coverage import Tier, tiered_coverage
    return tiered_coverage([Tier(HOSTILE, 10, 90.0)])._repr_html_()


# --- explorers (the HTML widget each one rewrites) and kpi_kit.views
@case("widgets.scorecard_explorer", NAME, CSM_ID)
def _scorecard_explorer(h: Hostile, tmp: Path) -> str:
    from kpi_kit.widgets import scorecard_explorer
    return scorecard_explorer(h.book, CSM_ID, PERIOD).output.value


@case("widgets.coverage_explorer", HOSTILE)
def _coverage_explorer(h: Hostile, tmp: Path) -> str:
    from kpi_kit.coverage import Tier
    from kpi_kit.widgets import coverage_explorer
    return coverage_explorer([Tier(HOSTILE, 10, 90.0)]).output.value


@case("views.table_html", ACCOUNT, HOSTILE)
def _table_html(h: Hostile, tmp: Path) -> str:
    from kpi_kit.views import table_html
    mine = h.book.accounts.loc[h.book.accounts["csm_id"] == CSM_ID]
    return table_html(mine, {"account_name": HOSTILE, "segment": "segment"})  # a header from config, names from data


@case("views.bullet_list", HOSTILE)
def _bullet_list(h: Hostile, tmp: Path) -> str:
    from kpi_kit.views import bullet_list
    return bullet_list(["plain", HOSTILE])


@pytest.mark.parametrize("name", list(CASES))
def test_view_shows_hostile_text_as_text(name: str, hostile: Hostile, tmp_path: Path) -> None:
    build, shown = CASES[name]
    html = build(hostile, tmp_path)
    assert "<img src=x" not in html, f"{name}: raw markup in the HTML"
    assert "&amp;lt;" not in html, f"{name}: escaped twice"
    text = html.replace("&#x27;", "'").replace("&#39;", "'")   # html.escape writes ' as &#x27;, pandas keeps it
    for payload in shown:
        assert lt_gt(payload) in text, f"{name}: {payload!r} is not shown as text"
