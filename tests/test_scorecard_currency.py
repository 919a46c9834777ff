"""Money in scorecards, gap sentences, report tables and 1:1 items is shown in the book's reporting currency."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import yaml

from kpi_kit import views
from kpi_kit.cascade import cascade, line_of_sight
from kpi_kit.data import SAMPLE_DIR, Book, load_book
from kpi_kit.scorecard import gap_sentence, scorecard


def test_gap_sentences_use_the_currency_given() -> None:
    # 92 % GRR target vs 90 % actual on a 200,000 beginning ARR: (92 - 90) / 100 * 200,000 = 4,000 short
    m = {"beginning_arr": 200_000.0}
    assert gap_sentence("grr_pct", "GRR", "pct", 90.0, 92.0, m, "EUR") == \
        "GRR 90.0 % vs 92.0 % target — €4,000 of ARR short of target"
    # pipeline 60,000 vs 100,000 target: 40,000 more
    assert gap_sentence("sql_pipeline", "SQL pipeline", "money", 60_000.0, 100_000.0, {}, "GBP") == \
        "SQL pipeline £60,000 vs £100,000 target — £40,000 more pipeline"
    assert "$40,000" in gap_sentence("sql_pipeline", "SQL pipeline", "money", 60_000.0, 100_000.0, {})


def test_table_html_money_columns_follow_the_currency() -> None:
    frame = pd.DataFrame({"account_name": ["<b>Acme</b>"], "arr": [1250.0]})
    html = views.table_html(frame, {"account_name": "account", "arr": "ARR"}, {"arr": "money"}, currency="CHF")
    assert "CHF 1,250" in html and "$" not in html and "&lt;b&gt;Acme&lt;/b&gt;" in html


@pytest.fixture(scope="module")
def euro_book(tmp_path_factory: pytest.TempPathFactory) -> Book:
    """The sample book declared as kept in euros (a single-currency EUR book)."""
    book_dir = tmp_path_factory.mktemp("eur") / "book"
    shutil.copytree(SAMPLE_DIR, book_dir)
    meta = yaml.safe_load((book_dir / "book.yaml").read_text(encoding="utf-8")) or {}
    meta["currency"] = "EUR"
    (book_dir / "book.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
    return load_book(book_dir)


def test_a_euro_book_scorecard_shows_no_dollar(euro_book: Book) -> None:
    book = euro_book
    assert book.reporting_currency == "EUR"
    card = scorecard(book, "csm_03", "2026-07", "2026-09")
    assert card.currency == "EUR"
    money_rows = card.table.loc[card.table["unit"] == "money"]
    assert len(money_rows) and all(t.startswith("€") for t in money_rows["actual_text"])
    assert not any("$" in g for g in card.table["gap"])


def test_the_cascade_and_line_of_sight_of_a_euro_book_show_no_dollar(euro_book: Book) -> None:
    los = line_of_sight(euro_book, "csm_01", "2026-07", "2026-09")
    text = " ".join(los.table["target_text"]) + " ".join(los.table["serves"]) + " ".join(los.table["explanation"])
    assert "€" in text and "$" not in text
    html = cascade(euro_book, "2026-07", "2026-09")._repr_html_()
    assert "€" in html and "$" not in html
    # the same on the USD sample book still shows dollars
    assert "$" in " ".join(line_of_sight(load_book(), "csm_01", "2026-07", "2026-09").table["explanation"])


def test_the_team_roll_up_of_a_euro_book_shows_no_dollar(euro_book: Book) -> None:
    from kpi_kit.team import team_rollup

    shown = team_rollup(euro_book, "2026-07", "2026-09").display_table().to_string()
    assert "€" in shown and "$" not in shown


def test_on_track_diagnosis_names_the_kpis_at_risk() -> None:
    import dataclasses

    card = scorecard(load_book(), "csm_01", "2026-07", "2026-09")
    # every KPI on track except NRR at 95 % attainment (at risk: 90-100 %) -> named in the diagnosis
    table = card.table.assign(attainment_pct=150.0, status="on track")
    table.loc[table["kpi"] == "nrr_pct", ["attainment_pct", "status"]] = [95.0, "at risk"]
    text = dataclasses.replace(card, table=table).diagnosis()
    assert text.startswith("Activity and outcomes are both on track") and "watch NRR" in text
    calm = dataclasses.replace(card, table=card.table.assign(attainment_pct=150.0, status="on track")).diagnosis()
    assert calm == "Activity and outcomes are both on track: keep the cadence and look for expansion."


def test_on_track_overall_names_the_activity_kpis_behind() -> None:
    import dataclasses

    card = scorecard(load_book(), "csm_01", "2026-07", "2026-09")
    leading = card.table["kind"] == "leading"
    n = int(leading.sum())
    # every KPI at 150 % except SQLs at 50 % (behind): leading mean (150 (n-1) + 50) / n >= 95, no lagging behind
    table = card.table.assign(attainment_pct=150.0, status="on track")
    table.loc[table["kpi"] == "sqls", ["attainment_pct", "status"]] = [50.0, "behind"]
    text = dataclasses.replace(card, table=table).diagnosis()
    label = table.loc[table["kpi"] == "sqls", "label"].item()
    mean = (150 * (n - 1) + 50) / n
    assert text == ("Activity and outcomes are both on track overall (no outcome behind; the activity KPIs average "
                    f"{mean:.0f} % of target, each counted up to 150 %), but {label} is behind: plan for it this week.")
    assert "nothing behind" not in text
