"""What the CSM report shows a manager: the pay section explained, touchpoint windows, "no data" causes, chart alt text.

Each test pins one problem a new-user trial found in ``csm_report.html`` (pay table with internal ids and the
overall curve multiple on every row, pay in dollars under "Money in EUR" without a word, developer text, a
touchpoint list whose numbers could not be checked, "0 of 0 with data", charts without a description).
"""

from __future__ import annotations

import re
import shutil
from decimal import Decimal as D
from pathlib import Path

import nbformat
import pytest

from kpi_kit import comp, lifecycle, report, svg, views
from kpi_kit.data import load_book
from kpi_kit.scorecard import scorecard
from tests.conftest import PROJECT

SAMPLE = PROJECT / "data" / "sample"

# csm_03's story in the sample book, with round numbers: GRR and NRR behind, calls far above target.
# retention (grr_pct) 88 of 100 -> 88 %; expansion (nrr_pct) 90 of 100 -> 90 %; activity (calls) 130 of 60 ->
# 216.7 %, counted as 200 % (the plan's metric_attainment_cap_pct).
BEHIND_BUT_BUSY = {"retention": (100, 88), "expansion": (100, 90), "activity": (60, 130)}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#x27;", "'").replace("&amp;", "&")


# --------------------------------------------------------------------------------------------
# 1. the pay section explains itself
# --------------------------------------------------------------------------------------------

def test_pay_breakdown_shows_labels_capped_attainment_weighted_points_and_one_multiple() -> None:
    s = comp.statement(None, BEHIND_BUT_BUSY, months=3)
    # points = weight × attainment: 0.45 × 88 = 39.6, 0.35 × 90 = 31.5, 0.2 × 200 = 40.0 -> 111.1 overall
    assert s.attainment == D("1.111")
    # curve at 111.1 %: 100 + 2.5 × 11.1 = 127.75 % of the quarter's 5,000 = 6,387.50 (the pay math, unchanged)
    assert s.multiple == D("1.2775") and s.variable_payout == D("6387.50")
    b = s.breakdown()
    assert b["label"].tolist() == ["GRR (ARR retention)", "NRR", "Calls (call, meeting, QBR)", "Overall"]
    assert b["attainment"].tolist() == ["88.0 %", "90.0 %", "200.0 % (capped)", "111.1 %"]
    assert b["weight"].tolist() == ["45 %", "35 %", "20 %", "100 %"]
    assert b["points"].tolist() == ["39.6", "31.5", "40.0", "111.1"]
    # the overall curve is applied once: its multiple (127.75 % -> 127.8 %) only on the total row
    assert b["multiple"].tolist() == ["", "", "", "127.8 %"]
    # 6,387.50 split by weight: 2,874.375 / 2,235.625 / 1,277.50; the half cent goes to the first tie
    assert b["payout"].tolist() == ["$2,874.38", "$2,235.62", "$1,277.50", "$6,387.50"]
    assert b["target"].tolist()[:3] == ["100.0 %", "100.0 %", "60"] and b["actual"].tolist()[:3] == ["88.0 %", "90.0 %", "130"]


def test_pay_explanation_says_weighted_sum_cap_and_curve_on_the_whole() -> None:
    s = comp.statement(None, BEHIND_BUT_BUSY, months=3)
    first, metrics, curve = s.explain()
    assert first == ("Overall attainment 111.1 % is the sum of the points column: each metric's attainment, counted "
                     "up to 200 %, times its weight.")
    # against the weight each adds at target: calls 40.0 - 20 = +20.0, NRR 31.5 - 35 = -3.5, GRR 39.6 - 45 = -5.4;
    # largest gain first; 100 + 20.0 - 3.5 - 5.4 = 111.1
    assert metrics == ("Calls (call, meeting, QBR) at 200.0 % (capped) adds 40.0 points, 20.0 more than at target; "
                       "NRR at 90.0 % adds 31.5, 3.5 fewer than at target; "
                       "GRR (ARR retention) at 88.0 % adds 39.6, 5.4 fewer than at target — so 100 + 20.0 − 3.5 − 5.4 = 111.1.")
    assert curve == ("The payout curve applies to the overall attainment, not to each metric: 111.1 % pays 127.8 % of "
                     "the variable target, $6,387.50 of $5,000.00, split across the metrics by weight.")


def test_points_add_up_to_the_overall_attainment_shown() -> None:
    # 0.45 × 87.5 = 39.375, 0.35 × 89.9 = 31.465, 0.2 × 200 = 40 -> 110.84, shown 110.8. Rounded one by one the
    # points would be 39.4 + 31.5 + 40.0 = 110.9; by largest remainder (floors 39.3 / 31.4 / 40.0 = 110.7, the
    # missing 0.1 to the largest remainder, 0.075 of GRR) they are 39.4 + 31.4 + 40.0 = 110.8.
    s = comp.statement(None, {"retention": (100, 87.5), "expansion": (100, 89.9), "activity": (60, 122)}, months=3)
    assert s.overall_pct() == "110.8 %"
    assert [str(p) for p in s.points()] == ["39.4", "31.4", "40.0"]
    assert s.breakdown()["points"].iloc[-1] == "110.8"


def test_pay_html_uses_the_kit_table_without_internal_ids() -> None:
    s = comp.statement(None, BEHIND_BUT_BUSY, months=3, label="csm_03 2026-07..2026-09")
    html = views.pay_html(s)
    assert "class='kpi-table'" in html and "<th>KPI</th>" in html and "<th>curve multiple</th>" in html
    for internal in ("grr_pct", "nrr_pct", "calls<", ">retention<", ">expansion<", ">activity<", "1.2775", "0.45"):
        assert internal not in html, internal
    assert html.count("127.8 %") == 2  # the sentence and the total row, never once per metric
    text = _text(html)
    assert ("Variable pay $6,387.50 (target $5,000.00) + base $20,000.00 = total earnings $26,387.50 for the "
            "3 months; on-target earnings (OTE) $25,000.00.") in text
    assert s._repr_html_() == html  # notebooks show the same view


def test_pay_html_per_metric_curve_shows_each_metrics_multiple() -> None:
    s = comp.statement(comp.load_plan({"curve_applies_to": "metric"}), BEHIND_BUT_BUSY, months=3)
    # curve(88 %) = 50 + 2.5 × 8 = 70 %, curve(90 %) = 75 %, curve(200 %) = 200 % (the plan's cap)
    assert s.breakdown()["multiple"].tolist()[:3] == ["70.0 %", "75.0 %", "200.0 %"]
    assert "applies to each metric on its own" in s.explain()[-1]
    assert "<th>payout</th>" in views.pay_html(s)


def test_pay_at_has_one_row_and_no_points() -> None:
    html = views.pay_html(comp.pay_at(None, 1.2))
    assert html.count("<tr>") == 2 and "points" not in html  # header + the one overall row
    assert "The payout curve at 120.0 % overall attainment pays 150.0 % of the variable target, $30,000.00 of $20,000.00." in _text(html)


# --------------------------------------------------------------------------------------------
# 2. pay currency vs KPI currency
# --------------------------------------------------------------------------------------------

def test_pay_section_says_when_pay_and_kpis_are_in_different_currencies() -> None:
    euro_kpis = comp.statement(None, BEHIND_BUT_BUSY, months=3, kpi_currency="EUR")
    assert euro_kpis.currency_note() == "Pay is in USD, the comp plan's currency; KPIs are in EUR."
    assert "Pay is in USD, the comp plan's currency; KPIs are in EUR." in _text(views.pay_html(euro_kpis))
    for same in (comp.statement(None, BEHIND_BUT_BUSY, kpi_currency="USD"), comp.statement(None, BEHIND_BUT_BUSY)):
        assert same.currency_note() == "" and "Pay is in" not in views.pay_html(same)
    euro_plan = comp.statement(comp.load_plan({"currency": "EUR"}), BEHIND_BUT_BUSY, months=3, kpi_currency="EUR")
    assert euro_plan.currency_note() == "" and "€6,387.50" in views.pay_html(euro_plan)


# --------------------------------------------------------------------------------------------
# 4. missed touchpoints: names in words, windows a reader can check
# --------------------------------------------------------------------------------------------

def test_touchpoint_labels_and_window_sentence_come_from_the_rules() -> None:
    assert lifecycle.touchpoint_label("renewal_90") == "renewal touch 90 days before renewal"
    assert lifecycle.touchpoint_label("onboarding_welcome") == "onboarding welcome, day 1 after the customer start"
    assert lifecycle.touchpoint_label("adoption_assessment") == "adoption assessment, day 60 after the customer start"
    assert lifecycle.touchpoint_label("risk_intervention") == "risk intervention within 7 days of the alert"
    assert lifecycle.touchpoint_label("something_else") == "something_else"
    text = lifecycle.describe_windows()
    # renewal windows: 14 days before the due date to 7 days after (lifecycle.RENEWAL_EARLY / RENEWAL_LATE)
    assert "renewal touches 180, 90, 60 and 30 days before renewal, each done from 14 days before to 7 days after" in text
    assert "review days 23–37" in text and "kpi_kit" not in text and ".py" not in text


# --------------------------------------------------------------------------------------------
# 5. "no data" says why
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def unrecorded_books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The sample book three times, each declaring one file not recorded, and once declaring all three."""
    books = {}
    for name, listed in (("activities", "[activities]"), ("sqls", "[sqls]"), ("risk_alerts", "[risk_alerts]"),
                         ("all", "[activities, sqls, risk_alerts]")):
        folder = tmp_path_factory.mktemp(name) / "book"
        shutil.copytree(SAMPLE, folder)
        with (folder / "book.yaml").open("a", encoding="utf-8") as fh:
            fh.write(f"\nnot_recorded: {listed}\n")
        books[name] = load_book(folder)
    return books


def test_kpi_source_names_exactly_the_kpis_a_missing_file_empties(unrecorded_books) -> None:
    # csm_03 has data for every KPI in the sample book; dropping one file must empty exactly its KPIs
    assert (scorecard(load_book(), "csm_03", "2026-07", "2026-09").table["status"] != "no data").all()
    for source in ("activities", "sqls", "risk_alerts"):
        card = scorecard(unrecorded_books[source], "csm_03", "2026-07", "2026-09")
        empty = set(card.table.loc[card.table["status"] == "no data", "kpi"])
        assert empty == {k for k, s in views.KPI_SOURCE.items() if s == source}, source


def test_no_data_note_and_on_track_lines_name_the_files_the_book_does_not_record(unrecorded_books) -> None:
    book = unrecorded_books["all"]
    card = scorecard(book, "csm_03", "2026-07", "2026-09")
    note = _text(views.no_data_html(card, book))
    assert ("this book does not record CSM activities (activities.csv), SQLs (sqls.csv) or risk alerts "
            "(risk_alerts.csv), so these KPIs cannot be measured.") in note
    assert "nothing to measure" not in note
    assert views.on_track_lines(card, book)[0] == ("Leading KPIs: no leading KPI has data in this book — it does not "
                                                   "record CSM activities (activities.csv) or SQLs (sqls.csv)")
    assert views.on_track_lines(card, book)[1].startswith("Lagging KPIs on track: ")
    assert "0 of 0" not in " ".join(views.on_track_lines(card, book))
    # without the book (or for a KPI whose file is recorded) the note keeps the general cause
    assert "or the book does not record it" in _text(views.no_data_html(card))


def test_on_track_lines_count_kpis_with_data() -> None:
    book = load_book()
    card = scorecard(book, "csm_03", "2026-07", "2026-09")
    # csm_03: leading 7 of 9 on track (SQLs raised and SQL pipeline behind), lagging 0 of 4
    assert views.on_track_lines(card, book) == ["Leading KPIs on track: 7 of 9 with data",
                                                "Lagging KPIs on track: 0 of 4 with data"]
    assert views.no_data_html(card, book) == ""


# --------------------------------------------------------------------------------------------
# 6. charts have a description as alt text
# --------------------------------------------------------------------------------------------

def test_deferred_chart_gets_its_title_as_alt_text_in_the_html() -> None:
    spec = {"title": "ARR bridge: beginning to ending ARR", "mark": "bar",
            "data": {"values": [{"x": "a", "y": 1}]}, "encoding": {"x": {"field": "x", "type": "nominal"}}}
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output("display_data", data={svg.SPEC_MIME: spec})])]
    assert svg.render_deferred(nb) == 1
    output = nb.cells[0].outputs[0]
    assert output.metadata == {svg.SVG_MIME: {"alt": "ARR bridge: beginning to ending ARR"}}
    nbformat.validate(nb)
    html = report.render_html(nb, "t")
    assert 'alt="ARR bridge: beginning to ending ARR"' in html
    assert "No description has been provided" not in html


# --------------------------------------------------------------------------------------------
# 3. and the whole report, as a manager reads it
# --------------------------------------------------------------------------------------------

def _visible_text(html: str) -> str:
    body = html[html.index("<body"):]
    body = re.sub(r"<style.*?</style>", " ", body, flags=re.S)
    return _text(body)


def test_template_markdown_shown_to_managers_names_no_module() -> None:
    nb = nbformat.read(report.TEMPLATE, as_version=4)
    shown = [c.source for c in nb.cells
             if c.cell_type == "markdown" and "remove-cell" not in c.metadata.get("tags", [])]
    assert shown and not [s for s in shown if "kpi_kit" in s or ".py" in s]


@pytest.mark.slow
def test_report_html_reads_for_a_manager(tmp_path: Path) -> None:
    euro = tmp_path / "euro"
    shutil.copytree(SAMPLE, euro)
    with (euro / "book.yaml").open("a", encoding="utf-8") as fh:
        fh.write("\ncurrency: EUR\n")
    texts = {}
    for name, data in (("usd", None), ("eur", euro)):
        run = report.run_reports(data_dir=data, csm_ids=["csm_03"], out_dir=tmp_path / name, workers=1,
                                 progress=False, team_report=False)
        assert run.exit_code == 0, run.summary()
        html = run.results[0].html.read_text(encoding="utf-8")
        assert "kpi_kit" not in html and "No description has been provided" not in html
        assert len(re.findall(r'<img [^>]*alt="[^"]+"', html)) == 3  # touches, ARR bridge, coverage
        texts[name] = _visible_text(html)
    usd = texts["usd"]
    assert "Calls (call, meeting, QBR) at 200.0 % (capped) adds 40.0 points" in usd
    assert "The payout curve applies to the overall attainment, not to each metric: 110.8 % pays 127.1 %" in usd
    assert "grr_pct" not in usd and "Pay is in" not in usd
    # the missed renewal touch: due 24 Jul, window 10–31 Jul, 61 days from 31 Jul to 30 Sep (31 + 30)
    assert ("Ridgeway Health renewal touch 90 days before renewal 2026-07-24 2026-07-10 2026-07-31 61") in usd
    assert "Money in EUR" in texts["eur"] and "Pay is in USD, the comp plan's currency; KPIs are in EUR." in texts["eur"]
