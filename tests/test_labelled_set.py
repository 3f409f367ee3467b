"""The shipped labelled set: size, balance, double annotation, no near-duplicates, no dev leakage."""

from __future__ import annotations

import csv
import re
from itertools import combinations
from pathlib import Path

import pytest

from signals import LABELS
from signals.devset import devset_dir
from signals.store import final_labels, read_labels, read_statements

REPO = Path(__file__).resolve().parents[1]


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


@pytest.fixture(scope="module")
def tables():
    statements = read_statements(REPO / "labels/statements.csv")
    labels = read_labels(REPO / "labels/labels.csv", set(statements["id"]))
    return statements, labels


def test_every_seed_statement_is_labelled(tables):
    statements, labels = tables
    articles = set(statements.loc[statements["origin"] == "article", "id"])
    assert len(articles) == 9
    assert articles <= set(labels["statement_id"])


def test_exemplars_are_many_balanced_and_told_apart(tables):
    statements, labels = tables
    finals = final_labels(labels).merge(statements, left_on="statement_id", right_on="id")
    exemplars = finals[finals["origin"] == "exemplar"]
    assert len(exemplars) >= 1500
    counts = exemplars["label"].value_counts()
    assert counts["mixed"] >= 300
    assert all(counts[label] >= 80 for label in LABELS)
    assert exemplars["source"].str.startswith("exemplar:").all()


def test_every_exemplar_has_a_second_annotator_who_did_not_write_it(tables):
    statements, labels = tables
    exemplar_ids = set(statements.loc[statements["origin"] == "exemplar", "id"])
    annotators = labels[labels["statement_id"].isin(exemplar_ids)].groupby("statement_id")[
        "annotator"].apply(set)
    writers_only = [sid for sid, names in annotators.items()
                    if not any(not name.startswith("writer-") for name in names)]
    assert len(annotators) == len(exemplar_ids)
    assert writers_only == []


def test_no_near_duplicate_statements(tables):
    statements, _ = tables
    sets = [(row.id, words(row.text)) for row in statements.itertuples()]
    near = []
    for (id_a, a), (id_b, b) in combinations(sets, 2):
        if len(a) >= 4 and len(b) >= 4 and len(a & b) / len(a | b) >= 0.7:
            near.append((id_a, id_b))
    assert near == []


@pytest.mark.skipif(devset_dir() is None, reason="real dev set not on this machine")
def test_no_written_statement_shares_60_percent_of_words_with_a_dev_statement(tables):
    """The dev set is for evaluation only: no exemplar may copy or paraphrase one of its
    statements. Seed-article statements are the user's own data and are exempt."""
    statements, _ = tables
    with open(devset_dir() / "real_dev.csv", encoding="utf-8") as handle:
        dev = [words(row["text"]) for row in csv.DictReader(handle)]
    leaks = []
    for row in statements[statements["origin"] != "article"].itertuples():
        mine = words(row.text)
        if len(mine) >= 6 and any(
            d and len(mine & d) / min(len(mine), len(d)) >= 0.6 for d in dev
        ):
            leaks.append(row.id)
    assert leaks == []
