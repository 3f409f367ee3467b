"""Agreement statistics against hand-computed values, and the `signals agree` command."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from signals import agree, cli, store

FIXTURES = Path(__file__).parent / "fixtures" / "labelling"
STATEMENTS = FIXTURES / "statements.csv"
THREE = FIXTURES / "labels_three_annotators.csv"


def labels_frame(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"statement_id": s, "label": label, "annotator": a, "labelled_at": "", "note": ""}
            for s, a, label in rows
        ],
        columns=store.LABEL_COLUMNS,
    )


def test_cohen_kappa_textbook_example() -> None:
    # 50 items: yes/yes 20, yes/no 5, no/yes 10, no/no 15 -> po 0.7, pe 0.5, kappa 0.4.
    first = ["yes"] * 25 + ["no"] * 25
    second = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert agree.cohen_kappa(first, second) == pytest.approx(0.4)


def test_cohen_kappa_perfect_and_undefined() -> None:
    assert agree.cohen_kappa(["a", "b", "a"], ["a", "b", "a"]) == pytest.approx(1.0)
    assert agree.cohen_kappa(["a", "a"], ["a", "a"]) is None
    with pytest.raises(ValueError):
        agree.cohen_kappa([], [])


def test_krippendorff_alpha_classic_example() -> None:
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability": 4 observers, 12 units,
    # values 1-5 with missing data; the nominal alpha is 0.743.
    observers = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]
    units = [[row[u] for row in observers if row[u] is not None] for u in range(12)]
    assert agree.krippendorff_alpha_nominal(units) == pytest.approx(0.743, abs=5e-4)


def test_krippendorff_alpha_small_hand_example() -> None:
    # Units [a,a] [a,b] [b,b]: o_aa=2, o_ab=o_ba=1, o_bb=2; n_a=n_b=3, n=6.
    # alpha = 1 - (6-1) * 2 / (3*3 + 3*3) = 1 - 10/18 = 4/9.
    units = [["a", "a"], ["a", "b"], ["b", "b"], ["a"]]
    assert agree.krippendorff_alpha_nominal(units) == pytest.approx(4 / 9)
    assert agree.krippendorff_alpha_nominal([["a", "a"], ["a", "a", "a"]]) is None


def test_agreement_on_fixture_matches_hand_computation() -> None:
    statements = store.read_statements(STATEMENTS)
    result = agree.agreement(store.read_labels(THREE, set(statements["id"])), statements)

    assert result.annotators == ["amal", "basim", "carla"]
    assert result.statements == 5  # t05 has one annotator only
    # Coincidences: o_ee=6 o_rr=1 o_mm=0, each off-diagonal pair 1; n_e=8 n_r=3 n_m=2, n=13.
    # alpha = 1 - 12 * 6 / (2 * (8*3 + 8*2 + 3*2)) = 1 - 72/92 = 5/23.
    assert result.alpha == pytest.approx(5 / 23)

    pairs = result.pairs.set_index(["annotator_a", "annotator_b"])
    assert pairs.loc[("amal", "basim"), "statements"] == 5
    assert pairs.loc[("amal", "basim"), "agreement"] == pytest.approx(0.6)
    assert pairs.loc[("amal", "basim"), "kappa"] == pytest.approx(2 / 7)  # (.6-.44)/.56
    assert pairs.loc[("amal", "carla"), "kappa"] == pytest.approx(0.4)
    assert pairs.loc[("basim", "carla"), "kappa"] == pytest.approx(1 / 7)

    assert result.confusion.loc["escalatory"].tolist() == [5, 2, 1]
    assert result.confusion.loc["restraining"].tolist() == [2, 1, 2]
    assert result.confusion.loc["mixed"].tolist() == [1, 2, 0]

    by_id = {item["statement_id"]: item for item in result.disagreements}
    assert list(by_id) == ["t02", "t03", "t04"]
    assert by_id["t03"]["tie"] and by_id["t03"]["majority"] == ""
    assert by_id["t03"]["labels"] == {"amal": "mixed", "basim": "escalatory"}
    assert by_id["t04"]["majority"] == "escalatory"
    assert by_id["t02"]["excerpt"].startswith("We are halting")
    assert by_id["t02"]["excerpt"].endswith("…") and len(by_id["t02"]["excerpt"]) == 80


def test_agreement_with_one_annotator_per_statement() -> None:
    frame = labels_frame([("t01", "amal", "escalatory"), ("t02", "basim", "mixed")])
    result = agree.agreement(frame)
    assert result.statements == 0
    assert result.alpha is None and result.pairs.empty and result.disagreements == []
    empty = agree.agreement(pd.DataFrame(columns=store.LABEL_COLUMNS))
    assert empty.statements == 0 and empty.annotators == []


def test_agreement_refuses_duplicate_annotations() -> None:
    frame = labels_frame([("t01", "amal", "escalatory"), ("t01", "amal", "mixed")])
    with pytest.raises(store.SignalsError, match="t01 labelled twice by amal"):
        agree.agreement(frame)


def test_undefined_kappa_is_null_in_json() -> None:
    frame = labels_frame([("t01", "amal", "mixed"), ("t01", "basim", "mixed")])
    data = agree.agreement(frame).to_dict()
    assert data["pairs"][0]["kappa"] is None
    assert data["krippendorff_alpha_nominal"] is None
    json.dumps(data)


def test_cli_agree_tables(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["agree", "--statements", str(STATEMENTS), "--labels", str(THREE)])
    out = capsys.readouterr().out
    assert code == 0
    assert "Krippendorff's alpha (nominal): 0.217" in out
    assert "amal       basim           5       60% 0.286" in out
    assert "Disagreements to adjudicate (3)" in out
    assert "t03  amal=mixed  basim=escalatory  [tie]" in out


def test_cli_agree_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["agree", "--json", "--statements", str(STATEMENTS), "--labels", str(THREE)])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["statements_compared"] == 5
    assert data["krippendorff_alpha_nominal"] == pytest.approx(5 / 23)
    assert data["confusion"]["counts"][0] == [5, 2, 1]
    assert len(data["disagreements"]) == 3


def test_cli_agree_without_overlap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labels = tmp_path / "labels.csv"
    store.append_label(labels, {"statement_id": "t01", "label": "mixed", "annotator": "amal"})
    code = cli.main(["agree", "--statements", str(STATEMENTS), "--labels", str(labels)])
    out = capsys.readouterr().out
    assert code == 0
    assert out.strip() == f"no statement in {labels} is labelled by two or more annotators yet"


def test_cli_agree_bad_labels_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("statement_id,label,annotator,labelled_at,note\nt01,angry,amal,,\n")
    code = cli.main(["agree", "--statements", str(STATEMENTS), "--labels", str(labels)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"signals: error: {labels}:2: unknown label 'angry'")
    assert len(err.strip().splitlines()) == 1
