"""The `signals` command: parse arguments, call the library, print. The only place that exits.

One short verb per workflow step: extract → label → agree → train → evaluate → score → report.
Errors users can cause arrive as SignalsError and leave as `signals: error: …` with exit 1
(argparse usage errors exit 2); no traceback.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import sys
import threading
from pathlib import Path

from signals.errors import SignalsError

DEFAULT_MODEL = Path("training/model.joblib")


def cmd_extract(args: argparse.Namespace) -> int:
    """Extract statements from every readable article; warn about the others.

    Exit 0 when at least one article was read (unreadable ones are warned about on stderr);
    fail only when nothing could be read, leaving the statements table untouched.
    """
    from signals.extract import extract_paths
    from signals.store import merge_statements

    result = extract_paths(args.paths)
    if not result.files:
        raise SignalsError("nothing to extract: " + "; ".join(result.problems))
    for problem in result.problems:
        print(f"signals: warning: skipped {problem}", file=sys.stderr)
    added, present = merge_statements(args.out, result.rows)
    print(f"extracted {len(result.rows)} statements from {len(result.files)} files: "
          f"{added} added, {present} already present → {args.out}")
    return 0


def cmd_label(args: argparse.Namespace) -> int:
    from signals import label, store

    if not args.statements.exists():
        raise SignalsError(f"{args.statements}: no such file; run `signals extract` first")
    statements = store.read_statements(args.statements)
    labels = store.read_labels(args.labels, statement_ids=set(statements["id"]), missing_ok=True)
    model = None
    if args.order == "uncertain":
        if not args.model.exists():
            raise SignalsError(
                f"{args.model}: no model yet; run `signals train` or use --order file"
            )
        from signals.model import load_model

        model = load_model(args.model)
    queue = label.session_queue(
        statements, labels, args.annotator, order=args.order, seed=args.seed, model=model
    )
    with label.terminal_reader(sys.stdin) as read:
        session = label.Session(
            queue, args.annotator, args.labels, read, write=lambda text: print(text, flush=True)
        )
        result = session.run()
    print(
        f"{result.labelled} labelled, {result.skipped} skipped this session; "
        f"{result.remaining} left for {args.annotator.strip()} (saved in {args.labels})"
    )
    if result.interrupted:
        print("signals: interrupted", file=sys.stderr)
        return 130
    return 0


def cmd_agree(args: argparse.Namespace) -> int:
    import pandas as pd

    from signals import agree, store

    statements = store.read_statements(args.statements)
    labels = store.read_labels(args.labels, statement_ids=set(statements["id"]), missing_ok=True)
    result = agree.agreement(labels, statements)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
        return 0
    if result.statements == 0:
        print(f"no statement in {args.labels} is labelled by two or more annotators yet")
        return 0

    def number(value: float | None) -> str:
        return "n/a" if value is None or pd.isna(value) else f"{value:.3f}"

    print(
        f"{result.statements} statements labelled by two or more of "
        f"{len(result.annotators)} annotators ({', '.join(result.annotators)})"
    )
    print(f"Krippendorff's alpha (nominal): {number(result.alpha)}\n")
    pairs = result.pairs.assign(
        agreement=result.pairs["agreement"].map(lambda value: f"{value:.0%}"),
        kappa=result.pairs["kappa"].map(number),
    )
    print("Cohen's kappa per pair (on the statements both labelled)")
    print(pairs.to_string(index=False) + "\n")
    print("Label confusion (pairs of annotations of one statement)")
    print(result.confusion.to_string() + "\n")
    if not result.disagreements:
        print("No disagreements to adjudicate.")
        return 0
    print(f"Disagreements to adjudicate ({len(result.disagreements)})")
    for item in result.disagreements:
        votes = "  ".join(f"{name}={label}" for name, label in item["labels"].items())
        verdict = "tie" if item["tie"] else f"majority {item['majority']}"
        print(f"  {item['statement_id']}  {votes}  [{verdict}]")
        print(f"      {item['excerpt']}")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from signals.add import add_statements

    result = add_statements(args.file, args.statements, args.labels, args.origin, args.annotator)
    print(f"{args.file}: {result['added']} statements added, {result['present']} already present, "
          f"{result['labels']} labels recorded → {args.statements}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from signals.train import compare, train

    if sys.stderr.isatty():
        print("training (grid search, repeated group cross-validation)…", file=sys.stderr)
    card, previous = train(args.statements, args.labels, args.out,
                           exemplars=not args.no_exemplars, quick=args.quick, seed=args.seed,
                           note=args.note)
    cv = card["cv"]
    counts = card["counts"]["total"]
    print(f"trained on {sum(counts.values())} statements "
          f"({', '.join(f'{label} {n}' for label, n in counts.items())})")
    print(f"params: {card['params']}")
    if cv is None:
        print(f"no cross-validation: {card['cv_unavailable']}")
    else:
        print(f"CV macro-F1 {cv['macro_f1_mean']:.3f} ± {cv['macro_f1_sd']:.3f} "
              f"(majority baseline {cv['baseline_macro_f1_mean']:.3f})")
    if "dev" in card:
        print(f"real dev set: macro-F1 {card['dev']['macro_f1']:.3f}, "
              f"tone AUC {card['dev']['tone_auc']:.3f}")
    print(f"change: {compare(card, previous)}")
    print(f"model → {args.out / 'model.joblib'}; card → {args.out / 'model_card.md'}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from signals.evaluate import evaluate_file, format_metrics
    from signals.model import load_model

    metrics = evaluate_file(load_model(args.model), args.file)
    print(json.dumps(metrics) if args.json else format_metrics(metrics))
    return 0


def cmd_eval_real(args: argparse.Namespace) -> int:
    from signals.devset import devset_dir, load_dev_statements
    from signals.evaluate import format_metrics
    from signals.model import load_model
    from signals.train import dev_section

    folder = devset_dir()
    if folder is None:
        raise SignalsError("no real dev set found (../shared/devset or $SIGNALS_DEVSET)")
    section = dev_section(load_model(args.model), load_dev_statements(folder))
    print(f"# statements: {folder / 'real_dev.csv'}")
    print(format_metrics(section))
    print("\nreliability: " + "; ".join(
        f"{row['bin']}: n={row['n']} conf={row['mean_confidence']:.2f} acc={row['accuracy']:.2f}"
        for row in section["reliability"]))
    from signals.train import read_card

    card = read_card(args.model.parent)
    if card is not None and card.get("cv"):
        mixed = card["cv"]["out_of_fold"]["per_class"]["mixed"]
        print(f"\nmixed on our own held-out statements (CV out of fold, n={mixed['support']}): "
              f"precision {mixed['precision']:.3f} recall {mixed['recall']:.3f} "
              f"F1 {mixed['f1']:.3f}")
    from signals.evaluate_extract import evaluate_folder

    extraction = evaluate_folder(folder / "articles", folder / "articles_gold.jsonl")
    print(f"\n# extraction: {folder / 'articles'}")
    print(" ".join(f"{key}={extraction[key]:.3f}" for key in
                   ("recall", "precision", "group_accuracy", "date_accuracy")))
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from signals.model import ensure_model
    from signals.score import iter_scores

    records = _score_input(args)
    model, trained = ensure_model(args.model, args.statements, args.labels)
    if trained:
        print(f"signals: no model yet: trained one from {args.labels} → {args.model}",
              file=sys.stderr)
    if args.file is not None and sys.stderr.isatty():
        from tqdm import tqdm

        records = tqdm(records, unit=" statements", file=sys.stderr)
    for result in iter_scores(model, records, top=args.top):
        if args.json:
            print(json.dumps(result, ensure_ascii=False))
        else:
            print(_render_score(result, colour=sys.stdout.isatty()))
    return 0


def _score_input(args: argparse.Namespace):
    from signals.records import iter_records

    if args.texts and args.file is not None:
        raise SignalsError("give statements as arguments or --file, not both")
    if args.file is not None:
        return iter_records(args.file)
    if args.texts:
        return ({"text": text} for text in args.texts)
    if sys.stdin is None or sys.stdin.isatty():
        raise SignalsError("nothing to score: give a statement, --file PATH, or pipe text in")
    return ({"text": line.strip()} for line in sys.stdin if line.strip())


def _render_score(result: dict, colour: bool) -> str:
    """A compact block: label, probabilities, tone, the statement with phrases marked."""
    text = result["text"]
    marked = sorted(result["phrases"], key=lambda phrase: phrase["start"])
    pieces, cursor = [], 0
    for phrase in marked:
        if phrase["start"] < cursor:
            continue
        open_, close = ("\033[1;31m", "\033[0m") if phrase["weight"] > 0 else ("\033[1;34m", "\033[0m")
        if not colour:
            open_, close = ("[+", "]") if phrase["weight"] > 0 else ("[-", "]")
        pieces += [text[cursor:phrase["start"]], open_, text[phrase["start"]:phrase["end"]], close]
        cursor = phrase["end"]
    pieces.append(text[cursor:])
    probabilities = "  ".join(f"{label} {p:.2f}" for label, p in result["probabilities"].items())
    lines = [f"{result['label'].upper():<12} tone {result['tone']:+.2f}   {probabilities}   "
             f"known terms {result['known_terms']}/{result['words']}",
             "  " + "".join(pieces)]
    for phrase in result["phrases"]:
        lines.append(f"    {phrase['weight']:+.3f}  {phrase['phrase']!r:<30} → {phrase['class']}")
    if result["warning"]:
        lines.append(f"  ! {result['warning']}")
    return "\n".join(lines) + "\n"


def cmd_report(args: argparse.Namespace) -> int:
    from datetime import date

    from signals import report

    freq, by_group = report.check_freq(args.freq), args.by == "group"
    if args.scores:
        result = report.report_scores_file(args.scores, freq, by_group)
    else:
        records, trained_now = report.score_statements(
            args.statements, args.model, args.labels, args.include_exemplars
        )
        if trained_now:
            print(f"no model at {args.model}: trained one from {args.labels}", file=sys.stderr)
        source = f"{args.statements} scored with {args.model}"
        result = report.build_report(records, freq, by_group, source)
    out = args.out or Path("reports") / date.today().isoformat()
    print(f"report written to {report.write_report(result, out)}")
    return 0


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

    add = commands.add_parser("add", help="add statements from a CSV (exemplars, your own)")
    add.add_argument("file", type=Path, help="CSV with text[,speaker,group,date,source,label,note]")
    add.add_argument("--origin", choices=["user", "exemplar"], default="user")
    add.add_argument("--annotator", help="who gave the file's labels (needed with a label column)")
    add.add_argument("--statements", type=Path, default=Path("labels/statements.csv"))
    add.add_argument("--labels", type=Path, default=Path("labels/labels.csv"))
    add.set_defaults(handler=cmd_add)

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
    train.add_argument("--note", default="", help="a few words for the card's history")
    train.set_defaults(handler=cmd_train)

    evaluate = commands.add_parser("evaluate", help="score a labelled file (text,label columns)")
    evaluate.add_argument("file", type=Path)
    evaluate.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(handler=cmd_evaluate)

    eval_real = commands.add_parser("eval-real", help="the model and extractor on the real dev set")
    eval_real.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    eval_real.set_defaults(handler=cmd_eval_real)

    score = commands.add_parser("score", help="label, probabilities, tone and phrases")
    score.add_argument("texts", nargs="*", help="statements to score (or use --file / stdin)")
    score.add_argument("--file", type=Path, help="text (one per line), CSV or JSONL with `text`")
    score.add_argument("--json", action="store_true", help="one JSON object per line")
    score.add_argument("--top", type=int, default=5, help="phrases to show (default 5)")
    score.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    score.add_argument("--statements", type=Path, default=Path("labels/statements.csv"),
                       help="used only to train a first model when there is none")
    score.add_argument("--labels", type=Path, default=Path("labels/labels.csv"))
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
    report.add_argument("--labels", type=Path, default=Path("labels/labels.csv"),
                        help="labels to train on when there is no model yet")
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


def run() -> None:
    """Console entry point: `main`, then exit without the interpreter's teardown when it can.

    Tearing down the scientific stack's modules took 0.25-0.35 s of every command, a fifth of a
    cold `signals score`. Every file a command writes is complete before it returns; output is
    flushed and exit handlers still run. A command that left worker pools behind (training, a
    large report) has threads still running: it exits the normal way, which shuts them down in
    order (skipping that once left `signals train` waiting on its workers).
    """
    code = main()
    if threading.active_count() > 1:
        sys.exit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass  # the reader went away, as `main` allows
    atexit._run_exitfuncs()
    os._exit(code)


if __name__ == "__main__":
    run()
