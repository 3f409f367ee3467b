"""The `signals` command: parse arguments, call the library, print. The only place that exits.

One short verb per workflow step: extract → label → agree → train → evaluate → score → report.
Errors users can cause arrive as SignalsError and leave as `signals: error: …` with exit 1
(argparse usage errors exit 2); no traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from signals.errors import SignalsError

DEFAULT_MODEL = Path("training/model.joblib")


def cmd_extract(args: argparse.Namespace) -> int:
    raise SignalsError("extract is not implemented yet")


def cmd_label(args: argparse.Namespace) -> int:
    raise SignalsError("label is not implemented yet")


def cmd_agree(args: argparse.Namespace) -> int:
    raise SignalsError("agree is not implemented yet")


def cmd_train(args: argparse.Namespace) -> int:
    raise SignalsError("train is not implemented yet")


def cmd_evaluate(args: argparse.Namespace) -> int:
    raise SignalsError("evaluate is not implemented yet")


def cmd_score(args: argparse.Namespace) -> int:
    raise SignalsError("score is not implemented yet")


def cmd_report(args: argparse.Namespace) -> int:
    raise SignalsError("report is not implemented yet")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="signals",
        description="Extract, label, train on, score and report militia statements.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    extract = commands.add_parser("extract", help="quoted militia statements from article texts")
    extract.add_argument("paths", nargs="*", type=Path, default=[Path("seeds")],
                         help="article files or folders (default: seeds/)")
    extract.add_argument("--out", type=Path, default=Path("labels/statements.csv"),
                         help="statements table to add to (default: labels/statements.csv)")
    extract.set_defaults(handler=cmd_extract)

    label = commands.add_parser("label", help="label statements at the keyboard (e/r/m, s, u, q)")
    label.add_argument("--annotator", required=True, help="your name, recorded with each label")
    label.add_argument("--order", choices=["file", "random", "uncertain"], default="file",
                       help="which statements come first (uncertain: least confident model first)")
    label.add_argument("--statements", type=Path, default=Path("labels/statements.csv"))
    label.add_argument("--labels", type=Path, default=Path("labels/labels.csv"))
    label.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    label.add_argument("--seed", type=int, default=0, help="shuffle seed for --order random")
    label.set_defaults(handler=cmd_label)

    agree = commands.add_parser("agree", help="agreement among annotators")
    agree.add_argument("--statements", type=Path, default=Path("labels/statements.csv"))
    agree.add_argument("--labels", type=Path, default=Path("labels/labels.csv"))
    agree.add_argument("--json", action="store_true", help="print one JSON object")
    agree.set_defaults(handler=cmd_agree)

    train = commands.add_parser("train", help="train the model and write its card to training/")
    train.add_argument("--statements", type=Path, default=Path("labels/statements.csv"))
    train.add_argument("--labels", type=Path, default=Path("labels/labels.csv"))
    train.add_argument("--out", type=Path, default=Path("training"))
    train.add_argument("--no-exemplars", action="store_true",
                       help="train on article and user statements only")
    train.add_argument("--quick", action="store_true",
                       help="skip the grid search and learning curve (default parameters)")
    train.add_argument("--seed", type=int, default=0)
    train.set_defaults(handler=cmd_train)

    evaluate = commands.add_parser("evaluate", help="score a labelled file (text,label columns)")
    evaluate.add_argument("file", type=Path)
    evaluate.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(handler=cmd_evaluate)

    score = commands.add_parser("score", help="label, probabilities, tone and phrases")
    score.add_argument("texts", nargs="*", help="statements to score (or use --file / stdin)")
    score.add_argument("--file", type=Path, help="text (one per line), CSV or JSONL with `text`")
    score.add_argument("--json", action="store_true", help="one JSON object per line")
    score.add_argument("--top", type=int, default=5, help="phrases to show (default 5)")
    score.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    score.set_defaults(handler=cmd_score)

    report = commands.add_parser("report", help="weekly tone report with charts")
    report.add_argument("--scores", type=Path, help="output of `signals score --json`")
    report.add_argument("--freq", default="W", help="period: W (week, default), M, Q, D")
    report.add_argument("--by", choices=["group"], help="one line per group")
    report.add_argument("--out", type=Path, help="report folder (default reports/<date>)")
    report.add_argument("--statements", type=Path, default=Path("labels/statements.csv"))
    report.add_argument("--include-exemplars", action="store_true",
                        help="also report the written exemplars (left out by default)")
    report.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    report.set_defaults(handler=cmd_report)
    return parser


def fail(message: str) -> int:
    print(f"signals: error: {message}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except SignalsError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        print("signals: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
