"""The console entry point: exit codes, complete output and files, no teardown noise."""

from __future__ import annotations

import csv
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENTRY = [sys.executable, "-c", "from signals.cli import run; run()"]


def call(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*ENTRY, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_error_gives_one_line_and_a_non_zero_exit(tmp_path):
    done = call("extract", str(tmp_path / "missing.txt"), "--out", str(tmp_path / "s.csv"),
                cwd=tmp_path)
    assert done.returncode != 0
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("signals: error:")


def test_files_and_output_are_complete_when_the_process_leaves(tmp_path):
    out = tmp_path / "statements.csv"
    done = call("extract", str(REPO / "seeds"), "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
    with out.open(encoding="utf-8", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 9


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path):
    """`signals score … | head`: the broken pipe is the reader's choice, not an error."""
    statements = tmp_path / "many.txt"
    statements.write_text("We will strike back at every base.\n" * 3000, encoding="utf-8")
    command = shlex.join(ENTRY)
    pipeline = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command} score --json --file {statements} | head -c 1"],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert pipeline.returncode == 0, pipeline.stderr
    assert pipeline.stdout == "{"
    assert "Traceback" not in pipeline.stderr and "Exception ignored" not in pipeline.stderr


def test_leaves_early_only_when_no_worker_threads_remain(monkeypatch):
    """Worker pools left by training shut down the normal way; skipping that once hung train."""
    import threading

    import pytest

    from signals import cli

    calls = []
    monkeypatch.setattr(cli, "main", lambda: 3)
    monkeypatch.setattr(cli.atexit, "_run_exitfuncs", lambda: calls.append("exit handlers"))

    def fast_exit(code):
        raise SystemExit(("fast", code))

    monkeypatch.setattr(cli.os, "_exit", fast_exit)
    with pytest.raises(SystemExit) as fast:
        cli.run()
    assert fast.value.code == ("fast", 3) and calls == ["exit handlers"]

    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    try:
        with pytest.raises(SystemExit) as normal:
            cli.run()
    finally:
        stop.set()
        worker.join()
    assert normal.value.code == 3 and calls == ["exit handlers"]
