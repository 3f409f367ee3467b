"""`make bench`: speed and memory of signals as users load it, each figure beside its reference.

Every figure is measured in this run, next to a reference measured in the same run, and written
to reports/bench/ (bench.md, bench.json). Targets are checked here, never in unit tests.

    python -m benchmarks [--quick]      (--quick: smaller sizes, for a smoke run)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "reports" / "bench"
_SCRIPT = Path(sys.executable).with_name("signals")
SIGNALS = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "signals.cli"]


def vocabulary() -> list[str]:
    """Words of the shipped labelled statements: synthetic text is built from them."""
    from signals.store import labelled_statements

    frame = labelled_statements(REPO / "labels/statements.csv", REPO / "labels/labels.csv")
    return " ".join(frame["text"]).split()


def synthetic_texts(n: int, words: list[str], seed: int = 0) -> Iterator[str]:
    """Statements of 8 to 45 words drawn from the labelled vocabulary, reproducibly."""
    rng = random.Random(seed)
    for _ in range(n):
        yield " ".join(rng.choices(words, k=rng.randint(8, 45)))


def write_lines(path: Path, n: int, words: list[str], seed: int = 0) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for text in synthetic_texts(n, words, seed):
            handle.write(text + "\n")


def run_measured(argv: list[str], capture: Path | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of a child process, measured by a fresh wrapper.

    The child's output goes to `capture` (or nowhere), never into the measuring process.
    """
    wrapper = (
        "import os, resource, subprocess, sys, time\n"
        "target = open(sys.argv[1], 'w') if sys.argv[1] != '-' else subprocess.DEVNULL\n"
        "start = time.perf_counter()\n"
        "code = subprocess.call(sys.argv[2:], stdout=target)\n"
        "seconds = time.perf_counter() - start\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(seconds, peak, code)\n"
    )
    done = subprocess.run([sys.executable, "-c", wrapper, str(capture or "-"), *argv],
                          capture_output=True, text=True, cwd=REPO, check=True)
    seconds, peak, code = done.stdout.split()
    if code != "0":
        raise RuntimeError(f"{argv} exited {code}")
    return float(seconds), float(peak)


# ---------------------------------------------------------------- the measurements


def bench_throughput(model, words: list[str], n: int) -> dict:
    from signals.score import iter_scores

    texts = list(synthetic_texts(n, words, seed=1))
    start = time.perf_counter()
    for batch in range(0, n, 1000):
        model.predict_proba(texts[batch:batch + 1000])
    bare = n / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in iter_scores(model, ({"text": text} for text in texts), top=5):
        pass
    explained = n / (time.perf_counter() - start)
    return {"name": f"batch scoring with explanations ({n:,} statements)",
            "value": f"{explained:,.0f} statements/s",
            "reference": f"bare predict_proba {bare:,.0f} statements/s",
            "ratio": explained / bare, "target": "ratio ≥ 0.50", "ok": explained / bare >= 0.5}


def bench_cold_process(runs: int = 5) -> dict:
    statement = "If they strike our positions again, our response will know no limits."
    times = [run_measured([*SIGNALS, "score", statement])[0] for _ in range(runs)]
    bare = [run_measured([sys.executable, "-c", "pass"])[0] for _ in range(runs)]
    best, reference = min(times), min(bare)
    return {"name": "`signals score \"…\"` whole process, cold (best of 5)",
            "value": f"{best:.2f} s", "reference": f"bare python start {reference:.2f} s",
            "ratio": best / reference, "target": "< 1.5 s", "ok": best < 1.5}


def bench_warm_call(model, runs: int = 300) -> dict:
    from signals.score import score_texts

    statement = "We suspend our operations for now, but if the occupier strikes we will respond."
    score_texts(model, [statement])
    start = time.perf_counter()
    for _ in range(runs):
        score_texts(model, [statement])
    warm = (time.perf_counter() - start) / runs
    start = time.perf_counter()
    for _ in range(runs):
        model.predict_proba([statement])
    bare = (time.perf_counter() - start) / runs
    return {"name": "library call for one statement, warm (mean of 300)",
            "value": f"{warm * 1000:.2f} ms", "reference": f"bare predict_proba {bare * 1000:.2f} ms",
            "ratio": warm / bare, "target": "< 5 ms", "ok": warm < 0.005}


def bench_training(words: list[str], sizes: list[int], folder: Path) -> list[dict]:
    """Fit time and peak memory (fresh process each) as the labelled set grows."""
    rows, first = [], None
    for n in sizes:
        script = (
            "import time, pandas as pd\n"
            "from benchmarks.__main__ import synthetic_texts\n"
            "from signals.train import fit\n"
            f"words = open({str(folder / 'words.txt')!r}).read().split()\n"
            f"texts = list(synthetic_texts({n}, words))\n"
            "labels = [('escalatory', 'restraining', 'mixed')[i % 3] for i in range(len(texts))]\n"
            "frame = pd.DataFrame({'id': [str(i) for i in range(len(texts))], 'text': texts,"
            " 'label': labels})\n"
            "start = time.perf_counter(); fit(frame, {}); print(time.perf_counter() - start)\n"
        )
        (folder / "words.txt").write_text(" ".join(words))
        _, peak = run_measured([sys.executable, "-c", script], capture=folder / "fit.txt")
        seconds = float((folder / "fit.txt").read_text().strip())
        first = first or (n, seconds)
        rows.append({"name": f"training on {n:,} labelled statements (default parameters)",
                     "value": f"{seconds:.1f} s, peak {peak:,.0f} MiB",
                     "reference": f"{first[0]:,} statements: {first[1]:.1f} s",
                     "ratio": seconds / first[1], "target": "grows ~linearly", "ok": None})
    return rows


def bench_report(n: int, folder: Path) -> dict:
    path = folder / "scores.jsonl"
    rng = random.Random(2)
    start_day = date(2021, 1, 1)
    groups = ["Kataib Hezbollah", "Hezbollah", "Ansar Allah", "Asaib Ahl al-Haq"]
    labels = ["escalatory", "restraining", "mixed"]
    phrases = ["will respond", "for now", "truce", "all your bases", "revenge", "calm"]
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(n):
            p = [rng.random() for _ in labels]
            total = sum(p)
            p = [x / total for x in p]
            phrase = rng.choice(phrases)
            record = {
                "id": f"s{i}", "text": f"synthetic statement {i} with {phrase}",
                "speaker": "spokesman", "group": rng.choice(groups),
                "date": (start_day + timedelta(days=rng.randrange(5 * 365))).isoformat(),
                "source": "bench", "label": labels[max(range(3), key=p.__getitem__)],
                "probabilities": dict(zip(labels, p)), "tone": p[0] - p[1],
                "phrases": [{"phrase": phrase, "weight": 0.5, "class": "escalatory",
                             "tone_weight": rng.uniform(-1, 1)}],
                "known_terms": 5, "warning": None,
            }
            handle.write(json.dumps(record) + "\n")
    seconds, peak = run_measured([*SIGNALS, "report", "--scores", str(path), "--by", "group",
                                  "--out", str(folder / "report")])
    reference, _ = run_measured(["wc", "-l", str(path)])
    return {"name": f"`signals report` on {n:,} scored statements over five years",
            "value": f"{seconds:.1f} s, peak {peak:,.0f} MiB",
            "reference": f"reading the file with wc -l {reference:.2f} s",
            "ratio": seconds / max(reference, 1e-3), "target": "< 30 s and < 2048 MiB",
            "ok": seconds < 30 and peak < 2048}


def bench_scoring_memory(words: list[str], sizes: list[int], folder: Path) -> list[dict]:
    rows, first = [], None
    for n in sizes:
        path = folder / f"statements_{n}.txt"
        write_lines(path, n, words, seed=3)
        seconds, peak = run_measured([*SIGNALS, "score", "--json", "--file", str(path)])
        first = first or (n, peak)
        rows.append({"name": f"batch scoring memory, {n:,} statements",
                     "value": f"peak {peak:,.0f} MiB ({seconds:.0f} s)",
                     "reference": f"{first[0]:,} statements: peak {first[1]:,.0f} MiB",
                     "ratio": peak / first[1], "target": "flat (ratio ≤ 1.2)",
                     "ok": peak / first[1] <= 1.2})
        path.unlink()
    return rows


# ---------------------------------------------------------------- table


def render(rows: list[dict]) -> str:
    lines = ["| measurement | value | reference (same run) | ratio | target | met |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        met = {True: "yes", False: "**no**", None: "—"}[row["ok"]]
        lines.append(f"| {row['name']} | {row['value']} | {row['reference']} | "
                     f"{row['ratio']:.2f} | {row['target']} | {met} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    args = parser.parse_args()
    os.chdir(REPO)
    from signals.model import ensure_model

    model, _ = ensure_model(REPO / "training/model.joblib", REPO / "labels/statements.csv",
                            REPO / "labels/labels.csv")
    words = vocabulary()
    scale = 100 if args.quick else 1
    rows = []
    with tempfile.TemporaryDirectory(prefix="signals-bench-") as scratch:
        folder = Path(scratch)
        steps = [
            lambda: [bench_throughput(model, words, 100_000 // scale)],
            lambda: [bench_cold_process()],
            lambda: [bench_warm_call(model)],
            lambda: bench_training(words, [1_000, 10_000, 100_000 // scale], folder),
            lambda: [bench_report(1_000_000 // scale, folder)],
            lambda: bench_scoring_memory(words, [100_000 // scale, 1_000_000 // scale], folder),
        ]
        for step in steps:
            for row in step():
                rows.append(row)
                print(f"{row['name']}: {row['value']} (reference {row['reference']}, "
                      f"ratio {row['ratio']:.2f}, target {row['target']})", flush=True)
    table = render(rows)
    print("\n" + table)
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    (OUT / "bench.md").write_text(f"# Benchmarks ({stamp}, {os.cpu_count()} cores)\n\n{table}\n\n"
                                  f"Bench driver peak RSS {peak:,.0f} MiB.\n", encoding="utf-8")
    (OUT / "bench.json").write_text(json.dumps({"date": stamp, "rows": rows}, indent=1) + "\n",
                                    encoding="utf-8")
    return 0 if all(row["ok"] is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
