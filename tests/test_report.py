"""The report stage: period numbers, gaps, phrases, extremes, shift rule, files, escaping, errors."""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from signals import SignalsError
from signals.cli import main
from signals.report import ALL, build_report, report_scores_file, write_report

FIXTURES = Path(__file__).parent / "fixtures" / "report"
SCORES = FIXTURES / "scores.jsonl"


def record(tone: float, day: str, label: str = "mixed", **extra: object) -> dict:
    """A minimal scored statement of the score contract."""
    return {"text": f"statement on {day}", "label": label, "tone": tone, "date": day, **extra}


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def weekly():
    return report_scores_file(SCORES, "W", by_group=True)


def rows(report, group: str = ALL) -> pd.DataFrame:
    return report.table[report.table["group"] == group].reset_index(drop=True)


# ---------------------------------------------------------------- numbers


def test_weekly_counts_means_shares_and_t_interval(weekly):
    table = rows(weekly)
    assert [str(day) for day in table["period_start"]] == ["2024-08-05", "2024-08-12", "2024-08-26"]
    assert [str(day) for day in table["period_end"]] == ["2024-08-11", "2024-08-18", "2024-09-01"]
    assert table["count"].tolist() == [3, 3, 2]  # the Sunday-evening datetime is in week one
    assert table["mean_tone"].tolist() == pytest.approx([0.8, -0.483333, -0.6], abs=1e-6)
    assert table.loc[1, ["share_escalatory", "share_restraining", "share_mixed"]].tolist() == (
        pytest.approx([0, 2 / 3, 1 / 3])
    )
    # tones 0.8, 0.7, 0.9: sd 0.1, t(0.975, 2) = 4.302653; the upper end is clipped to +1
    assert table.loc[0, "ci_low"] == pytest.approx(0.8 - 4.302653 * 0.1 / math.sqrt(3), abs=1e-6)
    assert table.loc[0, "ci_high"] == 1.0


def test_empty_periods_are_gaps_not_zeros(weekly):
    series = weekly.series()
    assert len(series) == 4
    gap = series.loc[pd.Period("2024-08-19", "W")]
    assert math.isnan(gap["count"]) and math.isnan(gap["mean_tone"])
    assert len(rows(weekly)) == 3


def test_change_is_flagged_when_its_welch_interval_excludes_zero(weekly):
    table = rows(weekly)
    assert math.isnan(table.loc[0, "change"]) and not table.loc[0, "shift"]
    assert table.loc[1, "change"] == pytest.approx(-1.283333, abs=1e-6)
    assert table.loc[1, "shift"] and table.loc[1, "change_high"] < 0
    assert not table.loc[2, "shift"] and table.loc[2, "change_low"] < 0 < table.loc[2, "change_high"]
    assert str(table.loc[2, "previous_start"]) == "2024-08-12"  # the empty week is skipped


@pytest.mark.parametrize("seed", range(6))
def test_shift_rule_agrees_with_welch_test(seed):
    rng = np.random.default_rng(seed)
    before = rng.uniform(-0.4, 0.4, 6)
    after = np.clip(rng.uniform(-0.4, 0.4, 5) + rng.choice([0.0, 0.3, 0.6]), -1, 1)
    records = [record(float(t), "2024-03-04") for t in before]
    records += [record(float(t), "2024-03-11") for t in after]
    row = rows(build_report(records)).iloc[1]
    assert bool(row["shift"]) == (stats.ttest_ind(after, before, equal_var=False).pvalue < 0.05)


def test_single_statement_periods_have_no_interval_and_no_shift(weekly):
    nujaba = rows(weekly, "Harakat al-Nujaba")
    assert nujaba["count"].tolist() == [1, 1, 1]
    assert nujaba["ci_low"].isna().all() and not nujaba["shift"].any()
    assert nujaba.loc[1, "change"] == pytest.approx(-1.4)


def test_groups_come_largest_first_with_their_own_rows(weekly):
    assert weekly.groups() == ["Kataib Hezbollah", "Harakat al-Nujaba"]
    assert rows(weekly, "Kataib Hezbollah")["count"].tolist() == [2, 2, 1]
    assert weekly.table["group"].tolist()[:3] == [ALL, ALL, ALL]


def test_other_frequencies():
    monthly = rows(report_scores_file(SCORES, "m"))
    assert [str(day) for day in monthly["period_start"]] == ["2024-08-01", "2024-09-01"]
    assert monthly["count"].tolist() == [7, 1]
    assert rows(report_scores_file(SCORES, "Q"))["count"].tolist() == [8]
    assert len(report_scores_file(SCORES, "D").span) == 28


# ---------------------------------------------------------------- why: phrases and extremes


def test_phrases_sum_tone_weights_per_period_ignoring_case(weekly):
    up, down = weekly.phrases[(ALL, pd.Period("2024-08-05", "W").ordinal)]
    assert up == [("death to", pytest.approx(0.6)), ("know no limits", pytest.approx(0.5)),
                  ("strike", pytest.approx(0.5))]
    assert down == [("for now", pytest.approx(-0.1))]
    table = rows(weekly)
    assert table.loc[1, "top_down"].startswith("give the government a chance (-0.60); suspension")
    assert table.loc[2, "top_up"] == ""
    kataib = rows(weekly, "Kataib Hezbollah")
    assert kataib.loc[0, "top_up"] == "death to (+0.60); know no limits (+0.50); strike (+0.20)"


def test_most_escalatory_and_restraining_statement_per_period(weekly):
    high, low = weekly.extremes[pd.Period("2024-08-12", "W").ordinal]
    assert (high.id, high.tone, high.date) == ("s6", -0.15, "2024-08-18")
    assert (low.id, low.speaker, low.source) == ("s5", "Akram al-Kaabi", "Telegram")


def test_undated_statements_are_kept_apart_not_dropped(weekly):
    assert weekly.total == 10 and weekly.undated_count == 2
    assert [(q.id, q.note, q.group) for q in weekly.undated] == [
        ("s9", "no date", "Kataib Hezbollah"), ("s10", "unparseable date", "(no group)"),
    ]


def test_parallel_parts_give_the_same_report(weekly):
    split = report_scores_file(SCORES, "W", by_group=True, workers=3, chunk_bytes=500)
    pd.testing.assert_frame_equal(split.table, weekly.table)
    assert split.undated == weekly.undated and split.extremes == weekly.extremes


# ---------------------------------------------------------------- files


def test_report_files_are_self_contained_and_escaped(tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["report", "--scores", str(SCORES), "--by", "group", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"report written to {out / 'report.html'}"
    names = {path.name for path in out.iterdir()}
    assert names == {"report.html", "report.md", "weekly.csv", "tone.png", "labels.png",
                     "groups.png"}  # no temporary files left behind
    for chart in ("tone.png", "labels.png", "groups.png"):
        assert (out / chart).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Death to the occupiers" in page
    assert "&lt;b&gt;Anon&lt;/b&gt;" in page and "X &lt;channel&gt;" in page
    assert page.count('src="data:image/png;base64,') == 3
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:)""", page)
    assert "<link" not in page and "@import" not in page
    assert "Student t interval" in page and "Welch" in page
    assert "sometime in August" in page and "Statements without a usable date (2)" in page
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert all(f"]({chart})" in markdown for chart in ("tone.png", "labels.png", "groups.png"))
    assert "<script" not in markdown
    with open(out / "weekly.csv", encoding="utf-8", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 9 and table[0]["group"] == ALL and table[3]["group"] == "Kataib Hezbollah"
    assert {"period_start", "period_end", "count", "share_escalatory", "mean_tone", "ci_low",
            "ci_high", "top_up", "top_down"} <= set(table[0])


def test_default_folder_is_todays_date(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--scores", str(SCORES)]) == 0
    assert (tmp_path / "reports" / date.today().isoformat() / "report.html").exists()


def test_few_statements_years_apart(tmp_path):
    records = [record(0.5, "2021-03-02", "escalatory"), record(0.1, "2021-03-03"),
               record(-0.4, "2024-08-12", "restraining", group="Kataib Hezbollah")]
    report = build_report(records, "W", by_group=True)
    assert len(report.span) > 170 and len(rows(report)) == 2
    page = write_report(report, tmp_path / "demo").read_text(encoding="utf-8")
    assert page.count("<tr><td class=num>") == 2  # only periods with statements are listed


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "empty file"),
        (["", "   "], "empty file"),
        ([json.dumps(record(0.1, "2024-01-01")), "{not json"], r"bad\.jsonl:2: malformed JSON"),
        (["[1, 2]"], "expected a JSON object"),
        ([json.dumps({"label": "mixed", "tone": 0.1})], "missing key.*text"),
        ([json.dumps({"text": "x", "label": "mixed"})], "missing key.*tone"),
        ([json.dumps(record("high", "2024-01-01"))], r"tone must be a number in \[-1, 1\]"),
        ([json.dumps(record(1.5, "2024-01-01"))], r"tone must be a number"),
        ([json.dumps(record(0.1, "2024-01-01", label="angry"))], "unknown label 'angry'"),
        ([json.dumps(record(0.1, "2024-01-01", phrases=[{"phrase": "x"}]))], "phrases must be"),
        ([json.dumps(record(0.1, "")), json.dumps(record(0.2, "last week"))],
         r"no dated statements to report \(2 without a usable ISO date\)"),
    ],
)
def test_bad_scores_file_is_one_clear_error(tmp_path, lines, message):
    path = write_lines(tmp_path / "bad.jsonl", lines) if lines else tmp_path / "bad.jsonl"
    path.touch()
    with pytest.raises(SignalsError, match=message) as caught:
        report_scores_file(path)
    assert "\n" not in str(caught.value)


def test_error_in_a_later_part_names_its_line(tmp_path):
    lines = [json.dumps(record(0.1, "2024-01-01")) for _ in range(20)]
    lines[16] = '{"text": "broken'
    path = write_lines(tmp_path / "scores.jsonl", lines)
    with pytest.raises(SignalsError, match=r"scores\.jsonl:17: malformed JSON"):
        report_scores_file(path, workers=4, chunk_bytes=100)


def test_records_from_code_name_the_statement():
    with pytest.raises(SignalsError, match="statement 2: missing key"):
        build_report([record(0.1, "2024-01-01"), {"text": "no tone"}])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--scores", "missing.jsonl"], "missing.jsonl: no such file"),
        (["--scores", str(SCORES), "--freq", "fortnight"], "unknown --freq 'fortnight'"),
    ],
)
def test_cli_errors_are_one_line(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(["report", *argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith("signals: error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "reports").exists()


# ---------------------------------------------------------------- the default path, with a model


@pytest.mark.skipif(importlib.util.find_spec("signals.score") is None,
                    reason="signals.score is not written yet")
def test_default_path_scores_the_statements_table(tmp_path, capsys):
    out = tmp_path / "report"
    argv = ["report", "--statements", str(FIXTURES / "statements.csv"),
            "--labels", str(FIXTURES / "labels.csv"), "--model", str(tmp_path / "model.joblib"),
            "--out", str(out)]
    assert main(argv) == 0
    assert "report written to" in capsys.readouterr().out
    with open(out / "weekly.csv", encoding="utf-8", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert sum(int(row["count"]) for row in table) == 10  # 11 statements, 1 undated, 0 exemplars
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Our patience is running out" in page  # the undated one, listed apart
    assert "Exemplar only" not in page
