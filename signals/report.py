"""The REPORT stage: how the groups' tone moved, period by period, and which phrases moved it.

Scored statements (the JSON lines of `signals score --json`, or the statements table scored with
the current model) are read once, streaming, into compact columns: per row only the period, group,
label and tone are kept; phrase weights are summed per period on the fly and only the current most
escalatory and most restraining statement of each period is held. pandas then does the numbers.

Intervals are Student t intervals of the mean (mean ± t·s/√n, 95 %); a change of mean tone against
the previous non-empty period is flagged as a shift when the 95 % Welch interval of the difference
excludes 0. A period with a single statement has no interval and its change is never flagged.
"""

from __future__ import annotations

import base64
import heapq
import html
import io
import math
import os
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from signals import LABELS
from signals.errors import SignalsError, where
from signals.records import BadLine, json_object
from signals.store import atomic_write_bytes, atomic_write_text, read_statements

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FREQS = {"D": "day", "W": "week (Monday to Sunday)", "M": "month", "Q": "quarter"}
ALL = "all"
NO_GROUP = "(no group)"
TOP_PHRASES = 5
UNDATED_SHOWN = 200
GROUP_LINES = 10
CONFIDENCE = 0.95
INTERVAL_NOTE = (
    "95 % Student t interval of the mean tone (mean ± t·s/√n, clipped to [-1, 1]); "
    "none for a period with a single statement."
)
SHIFT_NOTE = (
    "A change against the previous period with statements is flagged as a shift when the 95 % "
    "Welch t interval of the difference of the two means excludes 0; changes involving a "
    "single-statement period are not flagged."
)
PHRASE_NOTE = (
    "Phrases that pushed the tone: the sum, over the period's statements, of each phrase's "
    "tone_weight (the contribution to P(escalatory) − P(restraining)) among the top phrases "
    "each statement was scored with, ignoring case."
)
COLORS = {"escalatory": "#c0392b", "restraining": "#2471a3", "mixed": "#95a5a6"}
CSV_COLUMNS = [
    "period_start", "period_end", "group", "count",
    *(f"share_{label}" for label in LABELS),
    "mean_tone", "ci_low", "ci_high",
    "previous_start", "change", "change_low", "change_high", "shift",
    "top_up", "top_down",
]
CHUNK_BYTES = 64 << 20
_NUMBERS = (int, float)
_UNSEEN = object()
_DATE_CACHE_LIMIT = 100_000
_FIRST_YEAR, _LAST_YEAR = pd.Timestamp.min.year + 1, pd.Timestamp.max.year - 1


# ---------------------------------------------------------------- input


class _BadRecord(ValueError):
    """A record the report cannot use; the caller adds where it came from."""


def check_freq(freq: str) -> str:
    """The pandas period code for a user's --freq, so a typo fails before any scoring starts."""
    code = str(freq).strip().upper()
    if code not in FREQS:
        raise SignalsError(f"unknown --freq {freq!r} (expected one of {', '.join(FREQS)})")
    return code


def report_scores_file(
    path: Path, freq: str = "W", by_group: bool = False, workers: int | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> Report:
    """Report on a JSON-lines scores file (`signals score --json`), naming the line of any problem.

    Parsing JSON dominates the cost of a large report, so a file bigger than `chunk_bytes` is cut
    into byte ranges at line boundaries, one per worker process, and the parts merged in order.
    """
    code = check_freq(freq)
    path = Path(path)
    if not path.exists():
        raise SignalsError(f"{path}: no such file")
    if path.is_dir():
        raise SignalsError(f"{path}: is a folder, expected a JSON-lines file")
    size = path.stat().st_size
    parts = max(1, min(workers or _cpus(), math.ceil(size / chunk_bytes)))
    bounds = [size * part // parts for part in range(parts + 1)]
    if parts == 1:
        pieces = [_scan(path, 0, size, code, by_group)]
    else:
        with ProcessPoolExecutor(max_workers=parts) as pool:
            pieces = list(pool.map(
                _scan, repeat(path), bounds[:-1], bounds[1:], repeat(code), repeat(by_group)
            ))
    accumulator = pieces[0]
    for piece in pieces[1:]:
        accumulator.merge(piece)
    if not accumulator.total:
        raise SignalsError(f"{path}: empty file, expected the JSON lines of `signals score --json`")
    return accumulator.finish(f"scores file {path}")


def _cpus() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def _scan(path: Path, start: int, end: int, freq: str, by_group: bool) -> _Accumulator:
    """Read the lines that begin in bytes [start, end) of a scores file."""
    accumulator = _Accumulator(freq, by_group)
    with open(path, "rb") as handle:
        if start:
            handle.seek(start - 1)
            start += len(handle.readline()) - 1
        position, number = start, 0
        while position < end:
            line = handle.readline()
            if not line:
                break
            position += len(line)
            number += 1
            if line.isspace():
                continue
            try:
                accumulator.add(json_object(line))
            except (BadLine, _BadRecord) as exc:
                line_number = _lines_before(path, start) + number
                raise SignalsError(f"{where(path, line_number)}: {exc}") from None
    return accumulator


def _lines_before(path: Path, offset: int) -> int:
    """How many lines precede byte `offset`: only needed to name the line of an error."""
    count = 0
    with open(path, "rb") as handle:
        while offset > 0:
            block = handle.read(min(offset, 1 << 20))
            count += block.count(b"\n")
            offset -= len(block)
    return count


def score_statements(
    statements_path: Path, model_path: Path, labels_path: Path, include_exemplars: bool = False
) -> tuple[Iterator[dict], bool]:
    """Score the statements table with the current model; True when the model was trained now."""
    from signals.model import ensure_model
    from signals.score import iter_scores

    statements = read_statements(statements_path)
    if not include_exemplars:
        statements = statements[statements["origin"] != "exemplar"]
    if statements.empty:
        hint = "" if include_exemplars else " (exemplars are left out; see --include-exemplars)"
        raise SignalsError(f"{statements_path}: no statements to report{hint}")
    model, trained_now = ensure_model(model_path, statements_path, labels_path)
    columns = ["id", "text", "speaker", "group", "date", "source"]
    return iter_scores(model, statements[columns].to_dict("records")), trained_now


# ---------------------------------------------------------------- aggregation


@dataclass(frozen=True)
class Quote:
    """A statement kept for display: a period's extreme, or one that could not be dated."""

    text: str
    speaker: str
    group: str
    date: str
    source: str
    id: str
    tone: float
    note: str = ""


@dataclass
class Report:
    """Everything the report shows, computed once; writing it needs no more data."""

    freq: str
    source: str
    by_group: bool
    table: pd.DataFrame
    span: pd.PeriodIndex
    extremes: dict[int, tuple[Quote, Quote]]
    phrases: dict[tuple[str, int], tuple[list[tuple[str, float]], list[tuple[str, float]]]]
    undated: list[Quote]
    undated_count: int
    total: int

    def series(self, group: str = ALL) -> pd.DataFrame:
        """One row per period of the whole span: empty periods are NaN (gaps), never zeros."""
        rows = self.table[self.table["group"] == group].set_index("period")
        rows.index = pd.PeriodIndex.from_ordinals(rows.index, freq=self.freq)
        return rows.reindex(self.span)

    def groups(self) -> list[str]:
        """The groups reported one by one, largest first ("all" excluded)."""
        return [name for name in self.table["group"].unique() if name != ALL]


def build_report(
    records: Iterable[dict], freq: str = "W", by_group: bool = False, source: str = ""
) -> Report:
    """Aggregate scored statements (dicts of the score contract) by period, and group."""
    accumulator = _Accumulator(check_freq(freq), by_group)
    for number, record in enumerate(records, start=1):
        try:
            accumulator.add(record)
        except _BadRecord as exc:
            raise SignalsError(f"{source or 'input'}: statement {number}: {exc}") from None
    return accumulator.finish(source)


class _Accumulator:
    """Streaming columns of period, group, label and tone; phrase sums and extremes on the fly."""

    def __init__(self, freq: str, by_group: bool) -> None:
        self.freq = freq
        self.by_group = by_group
        self.periods = array("q")
        self.group_codes = array("i")
        self.labels = array("b")
        self.tones = array("d")
        self.group_index: dict[str, int] = {}
        self.group_names: list[str] = []
        self.raw_groups: dict[object, int] = {}
        self.label_index = {label: code for code, label in enumerate(LABELS)}
        self.date_cache: dict[str, int | None] = {}
        self.day_cache: dict[int, int] = {}
        self.phrase_sums: dict[tuple[str, int], defaultdict[str, float]] = {}
        self.highest: dict[int, Quote] = {}
        self.lowest: dict[int, Quote] = {}
        self.undated: list[Quote] = []
        self.undated_count = 0

    @property
    def total(self) -> int:
        return len(self.tones) + self.undated_count

    def add(self, record: dict) -> None:
        """Take one scored statement, keeping only its compact columns (hot path: no checks
        beyond what the operations themselves do; `_problem` explains a failure)."""
        try:
            tone = record["tone"]
            label = self.label_index[record["label"]]
            if "text" not in record or tone.__class__ not in _NUMBERS or not -1 <= tone <= 1:
                raise TypeError
            value = record.get("date")
            period = self.date_cache.get(value, _UNSEEN) if value.__class__ is str else None
            if period is _UNSEEN:
                period = self._period_of(value)
            if period is None:
                self._add_undated(record, tone, value)
                return
            raw_group = record.get("group")
            group = self.raw_groups.get(raw_group)
            if group is None:
                group = self.raw_groups[raw_group] = self._group_code(_group_name(raw_group))
            self.periods.append(period)
            self.group_codes.append(group)
            self.labels.append(label)
            self.tones.append(tone)
            key = (self.group_names[group] if self.by_group else ALL, period)
            sums = self.phrase_sums.get(key)
            if sums is None:
                sums = self.phrase_sums[key] = defaultdict(float)
            for item in record.get("phrases") or ():
                sums[item["phrase"].lower()] += item["tone_weight"]
        except (KeyError, TypeError, AttributeError):
            raise _BadRecord(_problem(record)) from None
        high = self.highest.get(period)
        if high is None or tone > high.tone:
            self.highest[period] = _quote(record, tone, self.group_names[group])
        low = self.lowest.get(period)
        if low is None or tone < low.tone:
            self.lowest[period] = _quote(record, tone, self.group_names[group])

    def _group_code(self, name: str) -> int:
        code = self.group_index.get(name)
        if code is None:
            code = self.group_index[name] = len(self.group_names)
            self.group_names.append(name)
        return code

    def _period_of(self, value: str) -> int | None:
        """The period ordinal of an ISO date or datetime string; None when it is not one."""
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            period = None
        else:
            if _FIRST_YEAR <= moment.year <= _LAST_YEAR:
                day = moment.toordinal()
                period = self.day_cache.get(day)
                if period is None:
                    period = pd.Period(date.fromordinal(day), freq=self.freq).ordinal
                    self.day_cache[day] = period
            else:
                period = None
        if len(self.date_cache) < _DATE_CACHE_LIMIT:
            self.date_cache[value] = period
        return period

    def _add_undated(self, record: dict, tone: float, value: object) -> None:
        self.undated_count += 1
        if len(self.undated) < UNDATED_SHOWN:
            note = "no date" if value in (None, "") else "unparseable date"
            self.undated.append(_quote(record, tone, _group_name(record.get("group")), note))

    def merge(self, other: _Accumulator) -> None:
        """Append the rows of a later part of the same input."""
        if other.group_codes:
            codes = np.array([self._group_code(name) for name in other.group_names], np.int32)
            self.group_codes.frombytes(codes[np.frombuffer(other.group_codes, np.int32)].tobytes())
        self.periods.extend(other.periods)
        self.labels.extend(other.labels)
        self.tones.extend(other.tones)
        for key, sums in other.phrase_sums.items():
            mine = self.phrase_sums.get(key)
            if mine is None:
                self.phrase_sums[key] = sums
                continue
            for phrase, weight in sums.items():
                mine[phrase] += weight
        for period, quote in other.highest.items():
            if period not in self.highest or quote.tone > self.highest[period].tone:
                self.highest[period] = quote
        for period, quote in other.lowest.items():
            if period not in self.lowest or quote.tone < self.lowest[period].tone:
                self.lowest[period] = quote
        self.undated.extend(other.undated[: UNDATED_SHOWN - len(self.undated)])
        self.undated_count += other.undated_count

    def finish(self, source: str) -> Report:
        """Turn the columns into the per-period table; refuse input with nothing dated."""
        if not self.total:
            raise SignalsError(f"{source or 'input'}: no statements to report")
        if not self.tones:
            raise SignalsError(
                f"{source or 'input'}: no dated statements to report "
                f"({self.undated_count} without a usable ISO date)"
            )
        frame = pd.DataFrame(
            {
                "period": np.frombuffer(self.periods, dtype=np.int64),
                "group": pd.Categorical.from_codes(
                    np.frombuffer(self.group_codes, dtype=np.int32), categories=self.group_names
                ),
                "tone": np.frombuffer(self.tones, dtype=np.float64),
            }
        )
        label_codes = np.frombuffer(self.labels, dtype=np.int8)
        for code, label in enumerate(LABELS):
            frame[f"share_{label}"] = label_codes == code
        table = _stats(frame, ["period"])
        table.insert(0, "group", ALL)
        phrases = self._top_phrases()
        if self.by_group:
            per_group = _stats(frame, ["group", "period"])
            sizes = per_group.groupby("group", observed=True)["count"].sum()
            largest_first = sizes.sort_values(ascending=False, kind="stable").index
            per_group["group"] = per_group["group"].cat.set_categories(largest_first, ordered=True)
            per_group = per_group.sort_values(["group", "period"])
            table = pd.concat([table, per_group.astype({"group": str})], ignore_index=True)
        table = _with_intervals(table.reset_index(drop=True), self.freq)
        tops = [phrases.get(key, ([], [])) for key in zip(table["group"], table["period"].tolist())]
        table["top_up"] = [_phrase_text(up) for up, _ in tops]
        table["top_down"] = [_phrase_text(down) for _, down in tops]
        first, last = int(table["period"].min()), int(table["period"].max())
        span = pd.period_range(
            pd.Period(ordinal=first, freq=self.freq), pd.Period(ordinal=last, freq=self.freq),
            freq=self.freq,
        )
        extremes = {period: (self.highest[period], self.lowest[period]) for period in self.highest}
        return Report(
            freq=self.freq, source=source, by_group=self.by_group, table=table, span=span,
            extremes=extremes, phrases=phrases, undated=self.undated,
            undated_count=self.undated_count, total=self.total,
        )

    def _top_phrases(self) -> dict[tuple[str, int], tuple[list, list]]:
        """Top phrases pushing up and down per (group, period), with "all" merged from groups."""
        sums = dict(self.phrase_sums)
        if self.by_group:
            for (_, period), phrase_sums in self.phrase_sums.items():
                target = sums.setdefault((ALL, period), defaultdict(float))
                for phrase, weight in phrase_sums.items():
                    target[phrase] += weight
        return {key: _top_of(values) for key, values in sums.items()}


def _problem(record: object) -> str:
    """Say what is wrong with a record that failed on the hot path."""
    if not isinstance(record, dict):
        return "expected a JSON object"
    missing = [key for key in ("text", "label", "tone") if key not in record]
    if missing:
        return f"missing key(s) {', '.join(missing)}"
    tone = record["tone"]
    if tone.__class__ not in _NUMBERS or not -1 <= tone <= 1:
        return f"tone must be a number in [-1, 1], got {tone!r}"
    if record["label"] not in LABELS:
        return f"unknown label {record['label']!r} (expected one of {', '.join(LABELS)})"
    if not isinstance(record.get("group"), (str, type(None))):
        return f"group must be a string, got {record['group']!r}"
    return "phrases must be a list of objects with a phrase and a numeric tone_weight"


def _group_name(raw: object) -> str:
    return ("" if raw is None else str(raw)).strip() or NO_GROUP


def _quote(record: dict, tone: float, group: str, note: str = "") -> Quote:
    def text(key: str) -> str:
        value = record.get(key)
        return "" if value is None else str(value)

    return Quote(
        text=text("text"), speaker=text("speaker"), group=group, date=text("date"),
        source=text("source"), id=text("id"), tone=tone, note=note,
    )


def _top_of(sums: dict[str, float]) -> tuple[list, list]:
    up = [item for item in heapq.nlargest(TOP_PHRASES, sums.items(), key=itemgetter(1))
          if item[1] > 0]
    down = [item for item in heapq.nsmallest(TOP_PHRASES, sums.items(), key=itemgetter(1))
            if item[1] < 0]
    return up, down


def _phrase_text(items: list[tuple[str, float]]) -> str:
    return "; ".join(f"{phrase} ({weight:+.2f})" for phrase, weight in items)


def _stats(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Count, mean, sd and label shares per non-empty period (and group)."""
    shares = {f"share_{label}": (f"share_{label}", "mean") for label in LABELS}
    stats = frame.groupby(by, observed=True, sort=True).agg(
        count=("tone", "size"), mean_tone=("tone", "mean"), sd=("tone", "std"), **shares
    )
    return stats.reset_index()


def _with_intervals(table: pd.DataFrame, freq: str) -> pd.DataFrame:
    """Add the t interval of each mean and the Welch interval of its change (see module doc)."""
    from scipy.stats import t as student

    quantile = (1 + CONFIDENCE) / 2
    count = table["count"].astype(float)
    variance = table["sd"] ** 2 / count
    half = student.ppf(quantile, count - 1) * np.sqrt(variance)
    table["ci_low"] = (table["mean_tone"] - half).clip(-1, 1)
    table["ci_high"] = (table["mean_tone"] + half).clip(-1, 1)
    periods = pd.PeriodIndex.from_ordinals(table["period"], freq=freq)
    table["period_start"] = periods.start_time.date
    table["period_end"] = periods.end_time.date
    previous = table.groupby("group", sort=False)[["period_start", "mean_tone", "count"]].shift(1)
    previous_variance = variance.groupby(table["group"], sort=False).shift(1)
    pooled = variance + previous_variance
    df = pooled**2 / (variance**2 / (count - 1) + previous_variance**2 / (previous["count"] - 1))
    change_half = student.ppf(quantile, df) * np.sqrt(pooled)
    table["change"] = table["mean_tone"] - previous["mean_tone"]
    table["change_low"] = table["change"] - change_half
    table["change_high"] = table["change"] + change_half
    table["shift"] = (table["change_low"] > 0) | (table["change_high"] < 0)
    table["previous_start"] = previous["period_start"]
    return table.drop(columns="sd")


# ---------------------------------------------------------------- charts


def charts(report: Report) -> dict[str, bytes]:
    """The report's charts as PNG bytes, by file name (drawn off-screen, no display needed)."""
    images = {"tone.png": _tone_chart(report), "labels.png": _label_chart(report)}
    if report.by_group:
        images["groups.png"] = _group_chart(report)
    return images


def _figure(rows: int = 1, **grid: object) -> tuple[Figure, list[Axes]]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 3 + 2 * rows), layout="constrained")
    return figure, list(figure.subplots(rows, 1, sharex=True, squeeze=False, **grid)[:, 0])


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _centres(report: Report) -> pd.DatetimeIndex:
    """Where each period is drawn: its middle, so points and bars sit inside their period."""
    return report.span.start_time + (report.span.end_time - report.span.start_time) / 2


def _bar_width(report: Report) -> float:
    """Bar width in days: most of one period, so neighbouring periods stay apart."""
    first = report.span[0]
    return 0.8 * (first.end_time - first.start_time).total_seconds() / 86400


def _tone_chart(report: Report) -> bytes:
    figure, (tone_axis, count_axis) = _figure(2, height_ratios=[3, 1])
    series = report.series()
    x = _centres(report)
    dated = series["count"].notna().to_numpy()
    tone_axis.axhline(0, color="#888888", linewidth=0.8)
    tone_axis.fill_between(x, series["ci_low"], series["ci_high"], color="#7f8c8d", alpha=0.25,
                           linewidth=0, label="95 % interval")
    tone_axis.vlines(x[dated], series["ci_low"][dated], series["ci_high"][dated],
                     color="#7f8c8d", linewidth=1)
    tone_axis.plot(x, series["mean_tone"], marker="o", markersize=3, color="#2c3e50",
                   label="mean tone")
    shifted = series["shift"].eq(True).to_numpy()
    if shifted.any():
        tone_axis.scatter(x[shifted], series["mean_tone"][shifted], marker="*", s=120,
                          color="#e67e22", zorder=3, label="shift")
    tone_axis.set_ylim(-1.05, 1.05)
    tone_axis.set_ylabel("tone (escalatory +, restraining −)")
    tone_axis.set_title(f"Mean tone per {FREQS[report.freq]}; gaps are periods without statements")
    tone_axis.legend(loc="upper left", fontsize="small")
    count_axis.bar(x[dated], series["count"][dated], width=_bar_width(report), color="#34495e")
    count_axis.set_ylabel("statements")
    return _png(figure)


def _label_chart(report: Report) -> bytes:
    figure, (axis,) = _figure()
    series = report.series()
    dated = series["count"].notna().to_numpy()
    x = _centres(report)[dated]
    bottom = np.zeros(int(dated.sum()))
    for label in LABELS:
        share = series[f"share_{label}"][dated].to_numpy()
        axis.bar(x, share, bottom=bottom, width=_bar_width(report), color=COLORS[label],
                 label=label)
        bottom += share
    axis.set_ylim(0, 1)
    axis.set_ylabel("share of statements")
    axis.set_title(f"Predicted labels per {FREQS[report.freq]}")
    axis.legend(loc="upper left", fontsize="small")
    return _png(figure)


def _group_chart(report: Report) -> bytes:
    figure, (axis,) = _figure()
    groups = report.groups()
    axis.axhline(0, color="#888888", linewidth=0.8)
    for group in groups[:GROUP_LINES]:
        axis.plot(_centres(report), report.series(group)["mean_tone"], marker="o",
                  markersize=3, label=_plain(group))
    axis.set_ylim(-1.05, 1.05)
    axis.set_ylabel("mean tone")
    hidden = len(groups) - GROUP_LINES
    extra = f" ({hidden} smaller groups not drawn)" if hidden > 0 else ""
    axis.set_title(f"Mean tone per {FREQS[report.freq]} and group{extra}")
    axis.legend(loc="upper left", fontsize="small")
    return _png(figure)


def _plain(label: str) -> str:
    """A legend label shown as typed: no mathtext, not hidden by a leading underscore."""
    return label.replace("$", r"\$").lstrip("_") or label


# ---------------------------------------------------------------- writing


def write_report(report: Report, out: Path) -> Path:
    """Write report.html, report.md, the PNG charts and weekly.csv into `out`; return the HTML."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise SignalsError(f"{out}: is a file, expected a report folder")
    try:
        images = charts(report)
        for name, data in images.items():
            atomic_write_bytes(out / name, data)
        atomic_write_text(out / "weekly.csv", weekly_csv(report))
        atomic_write_text(out / "report.md", render_markdown(report, list(images)))
        atomic_write_text(out / "report.html", render_html(report, images))
    except OSError as exc:
        raise SignalsError(f"{out}: cannot write the report ({exc.strerror or exc})") from None
    return out / "report.html"


def weekly_csv(report: Report) -> str:
    """The per-period table as CSV: one row per non-empty period and group ("all" first)."""
    return report.table[CSV_COLUMNS].to_csv(index=False, float_format="%.4f", lineterminator="\n")


def _period_name(report: Report, row: pd.Series) -> str:
    if report.freq == "W":
        return f"{row['period_start']} – {row['period_end']}"
    return str(pd.Period(ordinal=int(row["period"]), freq=report.freq))


def _number(value: float) -> str:
    return "–" if pd.isna(value) else f"{value:+.2f}"


def _interval(low: float, high: float) -> str:
    return "–" if pd.isna(low) else f"[{low:+.2f}, {high:+.2f}]"


def _change(row: pd.Series) -> str:
    if pd.isna(row["change"]):
        return "–"
    flag = " ⚑ shift" if row["shift"] else ""
    return f"{row['change']:+.2f} {_interval(row['change_low'], row['change_high'])}{flag}"


def _shares(row: pd.Series) -> str:
    return ", ".join(f"{label} {row[f'share_{label}']:.0%}" for label in LABELS)


def _summary_lines(report: Report) -> list[str]:
    """Plain-text facts shown at the top of both renderings (escaped by the caller)."""
    rows = report.table[report.table["group"] == ALL]
    dated = report.total - report.undated_count
    lines = [
        f"Source: {report.source or 'scored statements'}",
        (
            f"Period: {FREQS[report.freq]}, from {rows['period_start'].iloc[0]} "
            f"to {rows['period_end'].iloc[-1]}"
        ),
        f"Statements: {report.total} ({dated} dated, {report.undated_count} without a usable date)",
        f"Periods with statements: {len(rows)} of {len(report.span)}",
    ]
    if report.by_group:
        lines.append(f"Groups: {len(report.groups())}")
    latest = rows.iloc[-1]
    lines.append(
        f"Latest period ({_period_name(report, latest)}): mean tone {_number(latest['mean_tone'])}"
        f" {_interval(latest['ci_low'], latest['ci_high'])}, change {_change(latest)}"
    )
    return lines


def _methods() -> list[str]:
    return [
        "Tone = P(escalatory) − P(restraining), from −1 (restraining) to +1 (escalatory).",
        f"Interval: {INTERVAL_NOTE}",
        f"Shift rule: {SHIFT_NOTE}",
        PHRASE_NOTE,
        "Periods without statements are gaps in the charts and are left out of the tables.",
    ]


def _quote_parts(quote: Quote) -> tuple[str, str]:
    meta = ", ".join(part for part in (
        quote.speaker or "unknown speaker", quote.group, quote.date, quote.source) if part)
    return quote.text, f"tone {quote.tone:+.2f} — {meta}"


# -- HTML

_STYLE = """
body{font-family:sans-serif;margin:2em auto;max-width:1100px;color:#222;line-height:1.4}
table{border-collapse:collapse;margin:1em 0;font-size:.9em;width:100%}
th,td{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left}
th{background:#f3f3f3} img{max-width:100%} .shift{color:#c0392b;font-weight:bold}
.quote{font-style:italic} .meta{color:#666;font-size:.85em} .num{white-space:nowrap}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _html_quote(quote: Quote) -> str:
    text, meta = _quote_parts(quote)
    return f'<div class="quote">{_e(text)}</div><div class="meta">{_e(meta)}</div>'


def _html_phrases(report: Report, key: tuple[str, int]) -> str:
    up, down = report.phrases.get(key, ([], []))
    return (f"<div>↑ {_e(_phrase_text(up) or '–')}</div>"
            f"<div>↓ {_e(_phrase_text(down) or '–')}</div>")


def _html_change(row: pd.Series) -> str:
    css = ' class="shift"' if row["shift"] else ""
    return f'<span{css}>{_e(_change(row))}</span>'


def render_html(report: Report, images: dict[str, bytes]) -> str:
    """A self-contained page: inline style, charts as data URIs, every user string escaped."""
    rows = report.table[report.table["group"] == ALL]
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        "<title>signals tone report</title>", f"<style>{_STYLE}</style></head><body>",
        "<h1>Tone report</h1>",
        "<ul>", *(f"<li>{_e(line)}</li>" for line in _summary_lines(report)), "</ul>",
        "<h2>Method</h2><ul>", *(f"<li>{_e(line)}</li>" for line in _methods()), "</ul>",
        "<h2>Charts</h2>",
    ]
    for name, data in images.items():
        encoded = base64.b64encode(data).decode("ascii")
        parts.append(f'<p><img alt="{_e(name)}" src="data:image/png;base64,{encoded}"></p>')
    shifts = report.table[report.table["shift"]]
    parts.append("<h2>Shifts</h2>")
    if shifts.empty:
        parts.append("<p>No change between consecutive periods passes the shift rule.</p>")
    else:
        parts.append("<table><tr><th>Group</th><th>Period</th><th>Since</th><th>Change</th>"
                     "<th>Phrases that pushed</th></tr>")
        for _, row in shifts.iterrows():
            parts.append(
                f"<tr><td>{_e(row['group'])}</td><td>{_e(_period_name(report, row))}</td>"
                f"<td>{_e(row['previous_start'])}</td><td class=num>{_html_change(row)}</td>"
                f"<td>{_html_phrases(report, (row['group'], int(row['period'])))}</td></tr>"
            )
        parts.append("</table>")
    parts.append("<h2>Periods</h2><table><tr><th>Period</th><th>Statements</th>"
                 "<th>Mean tone [95 %]</th><th>Change</th><th>Labels</th>"
                 "<th>Phrases that pushed</th><th>Most escalatory</th>"
                 "<th>Most restraining</th></tr>")
    for _, row in rows.iterrows():
        period = int(row["period"])
        high, low = report.extremes[period]
        parts.append(
            f"<tr><td class=num>{_e(_period_name(report, row))}</td><td>{row['count']}</td>"
            f"<td class=num>{_e(_number(row['mean_tone']))} "
            f"{_e(_interval(row['ci_low'], row['ci_high']))}</td>"
            f"<td class=num>{_html_change(row)}</td><td>{_e(_shares(row))}</td>"
            f"<td>{_html_phrases(report, (ALL, period))}</td>"
            f"<td>{_html_quote(high)}</td><td>{_html_quote(low)}</td></tr>"
        )
    parts.append("</table>")
    if report.by_group:
        parts.append("<h2>By group</h2><table><tr><th>Group</th><th>Period</th>"
                     "<th>Statements</th><th>Mean tone [95 %]</th><th>Change</th>"
                     "<th>Phrases that pushed</th></tr>")
        for _, row in report.table[report.table["group"] != ALL].iterrows():
            parts.append(
                f"<tr><td>{_e(row['group'])}</td><td class=num>{_e(_period_name(report, row))}"
                f"</td><td>{row['count']}</td><td class=num>{_e(_number(row['mean_tone']))} "
                f"{_e(_interval(row['ci_low'], row['ci_high']))}</td>"
                f"<td class=num>{_html_change(row)}</td>"
                f"<td>{_html_phrases(report, (row['group'], int(row['period'])))}</td></tr>"
            )
        parts.append("</table>")
    parts.append(f"<h2>Statements without a usable date ({report.undated_count})</h2>")
    if report.undated:
        shown = len(report.undated)
        if shown < report.undated_count:
            parts.append(f"<p>The first {shown} are listed.</p>")
        parts.append("<table><tr><th>Id</th><th>Date given</th><th>Problem</th><th>Speaker</th>"
                     "<th>Group</th><th>Source</th><th>Tone</th><th>Text</th></tr>")
        for quote in report.undated:
            parts.append(
                f"<tr><td>{_e(quote.id)}</td><td>{_e(quote.date)}</td><td>{_e(quote.note)}</td>"
                f"<td>{_e(quote.speaker)}</td><td>{_e(quote.group)}</td><td>{_e(quote.source)}"
                f"</td><td>{quote.tone:+.2f}</td><td>{_e(quote.text)}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p>None: every statement had a date.</p>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


# -- Markdown


def _m(value: object) -> str:
    """A Markdown table cell: HTML-escaped, pipes escaped, on one line."""
    return " ".join(html.escape(str(value), quote=False).replace("|", r"\|").split())


def _md_quote(quote: Quote) -> str:
    text, meta = _quote_parts(quote)
    return f"“{_m(text)}” ({_m(meta)})"


def _md_phrases(report: Report, key: tuple[str, int]) -> str:
    up, down = report.phrases.get(key, ([], []))
    return f"↑ {_m(_phrase_text(up) or '–')}<br>↓ {_m(_phrase_text(down) or '–')}"


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
    ]


def render_markdown(report: Report, image_names: list[str]) -> str:
    """The same report in Markdown, linking to the PNG files written beside it."""
    lines = ["# Tone report", ""]
    lines += [f"- {_m(line)}" for line in _summary_lines(report)] + ["", "## Method", ""]
    lines += [f"- {_m(line)}" for line in _methods()] + ["", "## Charts", ""]
    lines += [f"![{name}]({name})" for name in image_names] + ["", "## Shifts", ""]
    shifts = report.table[report.table["shift"]]
    if shifts.empty:
        lines += ["No change between consecutive periods passes the shift rule.", ""]
    else:
        lines += _md_table(
            ["Group", "Period", "Since", "Change", "Phrases that pushed"],
            [[_m(row["group"]), _m(_period_name(report, row)), _m(row["previous_start"]),
              _m(_change(row)), _md_phrases(report, (row["group"], int(row["period"])))]
             for _, row in shifts.iterrows()],
        )
    lines += ["## Periods", ""]
    rows = []
    for _, row in report.table[report.table["group"] == ALL].iterrows():
        period = int(row["period"])
        high, low = report.extremes[period]
        rows.append([
            _m(_period_name(report, row)), str(row["count"]),
            _m(f"{_number(row['mean_tone'])} {_interval(row['ci_low'], row['ci_high'])}"),
            _m(_change(row)), _m(_shares(row)), _md_phrases(report, (ALL, period)),
            _md_quote(high), _md_quote(low),
        ])
    lines += _md_table(["Period", "Statements", "Mean tone [95 %]", "Change", "Labels",
                        "Phrases that pushed", "Most escalatory", "Most restraining"], rows)
    if report.by_group:
        lines += ["## By group", ""]
        lines += _md_table(
            ["Group", "Period", "Statements", "Mean tone [95 %]", "Change", "Phrases that pushed"],
            [[_m(row["group"]), _m(_period_name(report, row)), str(row["count"]),
              _m(f"{_number(row['mean_tone'])} {_interval(row['ci_low'], row['ci_high'])}"),
              _m(_change(row)), _md_phrases(report, (row["group"], int(row["period"])))]
             for _, row in report.table[report.table["group"] != ALL].iterrows()],
        )
    lines += [f"## Statements without a usable date ({report.undated_count})", ""]
    if report.undated:
        if len(report.undated) < report.undated_count:
            lines += [f"The first {len(report.undated)} are listed.", ""]
        lines += _md_table(
            ["Id", "Date given", "Problem", "Speaker", "Group", "Source", "Tone", "Text"],
            [[_m(q.id), _m(q.date), _m(q.note), _m(q.speaker), _m(q.group), _m(q.source),
              f"{q.tone:+.2f}", _m(q.text)] for q in report.undated],
        )
    else:
        lines += ["None: every statement had a date.", ""]
    return "\n".join(lines)
