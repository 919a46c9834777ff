"""Benchmark: the team's metrics for one quarter, pandas (kpi_kit) vs DuckDB SQL, at two sizes.

    .venv/bin/python benchmarks/bench_metrics.py            # 10k / 0.5M and 100k / 5M
    .venv/bin/python benchmarks/bench_metrics.py --small    # 10k / 0.5M only

Books are generated with ``kpi_kit.sample.generate_book`` at a larger size and written once to
``benchmarks/_books/`` (git-ignored). Each measurement runs in a fresh subprocess so that its peak
memory (ru_maxrss) is its own. The DuckDB query implements the same definitions (data/README.md) and
its results are compared with kpi_kit's: the benchmark fails if any figure differs.

Targets (issue 2): pandas ≤ 2× DuckDB at 100k / 5M, peak memory < 2 GB, 10× the data ≤ 11× the time.
Not a test: numbers go to benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BOOKS = HERE / "_books"
START, END = "2026-07", "2026-09"
SIZES = {"10k": (10_000, 500_000), "100k": (100_000, 5_000_000)}
REPEAT = 3

SQL = """
WITH
acc AS (SELECT account_id, csm_id FROM accounts),
arr_b AS (SELECT account_id, arr FROM arr_monthly WHERE month = '{before}'),
arr_e AS (SELECT account_id, arr FROM arr_monthly WHERE month = '{end}'),
ab AS (
  SELECT acc.account_id, acc.csm_id, coalesce(arr_b.arr, 0) AS b, coalesce(arr_e.arr, 0) AS e
  FROM acc LEFT JOIN arr_b USING (account_id) LEFT JOIN arr_e USING (account_id)
),
bk AS (SELECT * FROM ab WHERE b > 0 OR e > 0),
arr_k AS (
  SELECT csm_id,
    count(*) AS book_accounts,
    count(*) FILTER (WHERE b > 0) AS cohort_accounts,
    count(*) FILTER (WHERE b > 0 AND e = 0) AS churned_accounts,
    sum(b) AS beginning_arr,
    sum(CASE WHEN b > 0 THEN least(b, e) ELSE 0 END) AS retained_arr,
    sum(CASE WHEN b > 0 THEN e ELSE 0 END) AS ending_arr,
    sum(CASE WHEN b > 0 THEN greatest(e - b, 0) ELSE 0 END) AS expansion_arr,
    sum(CASE WHEN b > 0 AND e > 0 THEN greatest(b - e, 0) ELSE 0 END) AS contraction_arr,
    sum(CASE WHEN b > 0 AND e = 0 THEN b ELSE 0 END) AS churned_arr,
    sum(CASE WHEN b = 0 THEN e ELSE 0 END) AS new_arr
  FROM bk GROUP BY csm_id
),
act_p AS (SELECT * FROM activities WHERE date >= DATE '{start_date}' AND date <= DATE '{end_date}'),
act_k AS (
  SELECT csm_id,
    count(*) FILTER (WHERE type IN ('call', 'meeting', 'qbr')) AS calls,
    count(*) AS touchpoints,
    count(*) FILTER (WHERE type = 'qbr') AS qbrs
  FROM act_p GROUP BY csm_id
),
touched AS (SELECT DISTINCT account_id FROM act_p),
cov_k AS (
  SELECT bk.csm_id, count(*) AS covered_accounts FROM bk JOIN touched USING (account_id) GROUP BY bk.csm_id
),
sql_k AS (
  SELECT csm_id,
    count(*) FILTER (WHERE created_date BETWEEN DATE '{start_date}' AND DATE '{end_date}') AS sqls,
    coalesce(sum(expansion_arr) FILTER (WHERE created_date BETWEEN DATE '{start_date}' AND DATE '{end_date}'), 0) AS sql_pipeline,
    count(*) FILTER (WHERE closed_date BETWEEN DATE '{start_date}' AND DATE '{end_date}' AND status = 'won') AS sqls_won,
    count(*) FILTER (WHERE closed_date BETWEEN DATE '{start_date}' AND DATE '{end_date}' AND status = 'lost') AS sqls_lost
  FROM sqls GROUP BY csm_id
),
al_k AS (
  SELECT bk.csm_id,
    count(*) FILTER (WHERE outcome = 'saved') AS alerts_saved,
    count(*) FILTER (WHERE outcome = 'churned') AS alerts_churned
  FROM risk_alerts r JOIN bk USING (account_id)
  WHERE r.flagged_date BETWEEN DATE '{start_date}' AND DATE '{end_date}'
  GROUP BY bk.csm_id
),
bka AS (SELECT a.* FROM accounts a JOIN bk USING (account_id)),
due AS (
  SELECT account_id, csm_id, p AS purpose, customer_since + d * INTERVAL 1 DAY AS due,
         customer_since + w0 * INTERVAL 1 DAY AS ws, customer_since + w1 * INTERVAL 1 DAY AS we, NULL::DATE AS fa
  FROM bka, (VALUES ('onboarding_welcome', 1, 0, 3), ('onboarding_checkin', 7, 4, 10),
                    ('onboarding_review', 30, 23, 37), ('adoption_assessment', 60, 53, 67)) t(p, d, w0, w1)
  UNION ALL
  SELECT account_id, csm_id, 'renewal_' || k, renewal_date - k * INTERVAL 1 DAY,
         renewal_date - (k + 14) * INTERVAL 1 DAY, renewal_date - (k - 7) * INTERVAL 1 DAY, NULL::DATE
  FROM bka, (VALUES (180), (90), (60), (30)) t(k) WHERE renewal_date IS NOT NULL
  UNION ALL
  SELECT r.account_id, bka.csm_id, 'risk_intervention', r.flagged_date + INTERVAL 7 DAY, r.flagged_date,
         r.flagged_date + INTERVAL 7 DAY, r.first_action_date
  FROM risk_alerts r JOIN bka USING (account_id)
),
due_p AS (SELECT row_number() OVER () AS k, * FROM due WHERE due BETWEEN DATE '{start_date}' AND DATE '{end_date}'),
met AS (
  SELECT DISTINCT d.k FROM due_p d JOIN activities a
    ON a.account_id = d.account_id AND a.purpose = d.purpose AND a.date BETWEEN d.ws AND d.we AND a.date <= DATE '{end_date}'
  UNION
  SELECT k FROM due_p WHERE fa BETWEEN ws AND we AND fa <= DATE '{end_date}'
),
lc_a AS (
  SELECT csm_id,
    count(*) FILTER (WHERE k IN (SELECT k FROM met)) AS met_n,
    count(*) FILTER (WHERE k NOT IN (SELECT k FROM met) AND we < DATE '{end_date}') AS overdue_n
  FROM due_p GROUP BY csm_id
),
esc AS (
  SELECT bka.csm_id, e.opened_at + INTERVAL 24 HOUR AS lim,
         (e.csm_engaged_at IS NOT NULL AND e.csm_engaged_at <= e.opened_at + INTERVAL 24 HOUR) AS ok
  FROM escalations e JOIN bka USING (account_id)
  WHERE e.opened_at >= TIMESTAMP '{start_date}' AND e.opened_at < TIMESTAMP '{end_date}' + INTERVAL 1 DAY
),
lc_e AS (
  SELECT csm_id, count(*) FILTER (WHERE ok) AS met_n,
         count(*) FILTER (WHERE NOT ok AND lim < TIMESTAMP '{end_date}') AS overdue_n
  FROM esc GROUP BY csm_id
),
lc AS (
  SELECT csm_id, sum(met_n) AS lifecycle_met, sum(overdue_n) AS lifecycle_overdue
  FROM (SELECT * FROM lc_a UNION ALL SELECT * FROM lc_e) GROUP BY csm_id
)
SELECT c.csm_id,
  coalesce(calls, 0) AS calls, coalesce(touchpoints, 0) AS touchpoints, coalesce(qbrs, 0) AS qbrs,
  100.0 * coalesce(covered_accounts, 0) / nullif(book_accounts, 0) AS coverage_pct,
  coalesce(sqls, 0) AS sqls, coalesce(sql_pipeline, 0) AS sql_pipeline,
  100.0 * sqls_won / nullif(sqls_won + sqls_lost, 0) AS sql_conversion_pct,
  100.0 * lifecycle_met / nullif(lifecycle_met + lifecycle_overdue, 0) AS lifecycle_compliance_pct,
  100.0 * retained_arr / nullif(beginning_arr, 0) AS grr_pct,
  100.0 * ending_arr / nullif(beginning_arr, 0) AS nrr_pct,
  100.0 * churned_accounts / nullif(cohort_accounts, 0) AS logo_churn_pct,
  100.0 * alerts_saved / nullif(alerts_saved + alerts_churned, 0) AS closed_alert_pct,
  coalesce(beginning_arr, 0) AS beginning_arr, coalesce(ending_arr, 0) AS ending_arr,
  coalesce(expansion_arr, 0) AS expansion_arr, coalesce(contraction_arr, 0) AS contraction_arr,
  coalesce(churned_arr, 0) AS churned_arr, coalesce(new_arr, 0) AS new_arr
FROM csms c
LEFT JOIN arr_k USING (csm_id) LEFT JOIN act_k USING (csm_id) LEFT JOIN cov_k USING (csm_id)
LEFT JOIN sql_k USING (csm_id) LEFT JOIN al_k USING (csm_id) LEFT JOIN lc USING (csm_id)
ORDER BY c.csm_id
"""

COMPARE = ("calls", "touchpoints", "qbrs", "coverage_pct", "sqls", "sql_pipeline", "sql_conversion_pct",
           "lifecycle_compliance_pct", "grr_pct", "nrr_pct", "logo_churn_pct", "closed_alert_pct",
           "beginning_arr", "ending_arr", "expansion_arr", "contraction_arr", "churned_arr", "new_arr")


def make_book(name: str) -> Path:
    """Generate and write the book of size ``name`` once (cached in benchmarks/_books)."""
    from kpi_kit import sample

    n_accounts, n_activities = SIZES[name]
    folder = BOOKS / name
    if (folder / "activities.csv").exists():
        return folder
    t0 = time.perf_counter()
    frames = sample.generate_book(n_accounts=n_accounts, n_activities=n_activities)
    sample.write_book(frames, folder)
    print(f"  generated {name}: {n_accounts:,} accounts, {len(frames['activities']):,} activities "
          f"in {time.perf_counter() - t0:.1f} s", flush=True)
    return folder


def measure(engine: str, folder: Path) -> dict:
    """Run in a child process: load the book, time the metrics REPEAT times, report best time and peak RSS."""
    import pandas as pd

    from kpi_kit.data import load_book
    from kpi_kit.metrics import team_metrics
    from kpi_kit.periods import Period

    t0 = time.perf_counter()
    book = load_book(folder)
    load_s = time.perf_counter() - t0
    rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    period = Period.parse(START, END)
    times = []
    if engine == "pandas":
        for _ in range(REPEAT):
            t = time.perf_counter()
            table = team_metrics(book, period)
            times.append(time.perf_counter() - t)
        result = table.set_index("csm_id")[list(COMPARE)]
    else:
        import duckdb

        con = duckdb.connect()
        frames = {
            "csms": book.csms, "accounts": book.accounts, "activities": book.activities, "sqls": book.sqls,
            "risk_alerts": book.risk_alerts, "escalations": book.escalations,
            "arr_monthly": book.arr_monthly.assign(month=book.arr_monthly["month"].astype(str)),
        }
        for name, frame in frames.items():
            con.register(name, frame)
        query = SQL.format(before=str(period.before), end=str(period.end),
                           start_date=period.start_date.date(), end_date=period.end_date.date())
        for _ in range(REPEAT):
            t = time.perf_counter()
            table = con.execute(query).df()
            times.append(time.perf_counter() - t)
        result = table.set_index("csm_id")[list(COMPARE)]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"engine": engine, "best_s": min(times), "load_s": load_s, "peak_mb": peak / 1024,
            "loaded_mb": rss_loaded / 1024, "result": json.loads(result.to_json(orient="split"))}


def child(engine: str, folder: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", engine, folder], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def same(a: dict, b: dict) -> list[str]:
    import math

    bad = []
    for i, csm in enumerate(a["index"]):
        j = b["index"].index(csm)
        for k, col in enumerate(a["columns"]):
            x, y = a["data"][i][k], b["data"][j][b["columns"].index(col)]
            if (x is None) != (y is None) or (x is not None and not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-6)):
                bad.append(f"{csm} {col}: pandas {x} vs duckdb {y}")
    return bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="only the 10k book")
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], Path(args.child[1]))))
        return 0
    rows = {}
    for name in (["10k"] if args.small else ["10k", "100k"]):
        folder = make_book(name)
        pd_run, db_run = child("pandas", str(folder)), child("duckdb", str(folder))
        diff = same(pd_run["result"], db_run["result"])
        if diff:
            print("MISMATCH between kpi_kit and DuckDB:\n  " + "\n  ".join(diff[:20]))
            return 1
        rows[name] = (pd_run, db_run)
        print(f"{name:>5}: pandas {pd_run['best_s']:.3f} s (peak {pd_run['peak_mb']:.0f} MB, book loaded in "
              f"{pd_run['load_s']:.1f} s) | duckdb {db_run['best_s']:.3f} s | pandas/duckdb "
              f"{pd_run['best_s'] / db_run['best_s']:.2f} | results identical", flush=True)
    if "100k" in rows:
        small, big = rows["10k"][0]["best_s"], rows["100k"][0]["best_s"]
        print(f"scaling: 10x the data costs {big / small:.1f}x the time (target <= 11x); "
              f"pandas/duckdb at 100k: {rows['100k'][0]['best_s'] / rows['100k'][1]['best_s']:.2f} (target <= 2); "
              f"peak memory {rows['100k'][0]['peak_mb']:.0f} MB (target < 2048)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
