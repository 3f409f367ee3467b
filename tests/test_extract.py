"""The extract stage: seeds and hand-made articles end to end, each trap on its own, the CLI."""

from __future__ import annotations

import csv
import json
import os
from datetime import date
from pathlib import Path

import pytest

from signals import store
from signals.cli import main
from signals.evaluate_extract import evaluate_folder, matches, score, words
from signals.extract import extract_file, extract_text, publication_date, statement_id

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
ARTICLES = FIXTURES / "articles"


def devset_dir() -> Path | None:
    """The real dev set: $SIGNALS_DEVSET, else ../shared/devset beside the repository."""
    folder = Path(os.environ.get("SIGNALS_DEVSET") or Path(__file__).resolve().parents[2]
                  / "shared" / "devset")
    return folder if (folder / "articles_gold.jsonl").exists() else None


def article(body: str, published: str = "Jul 14, 2024", title: str = "A headline") -> str:
    return f"{title}\n{published}\n\n{body.strip()}\n"


def found(text: str, **kwargs) -> list[tuple[str, str, str, str]]:
    return [(r["text"], r["speaker"], r["group"], r["date"])
            for r in extract_text(text, "test.txt", **kwargs)]


# ---------------------------------------------------------------- the seeds, exactly


def test_seeds_match_the_hand_written_gold_table() -> None:
    with open(FIXTURES / "seeds_gold.csv", encoding="utf-8", newline="") as handle:
        gold = {(r["source"], r["text"]): r for r in csv.DictReader(handle)}
    rows = {(r["source"], r["text"]): r
            for path in sorted((ROOT / "seeds").glob("*.txt")) for r in extract_file(path)}
    assert set(rows) == set(gold)  # recall = precision = 1
    for key, row in rows.items():
        assert (row["speaker"], row["group"], row["date"]) == (
            gold[key]["speaker"], gold[key]["group"], gold[key]["date"]), key


def test_seed_offsets_point_at_the_quoted_words() -> None:
    path = ROOT / "seeds" / "001_470e609fea039dc0.txt"
    raw = path.read_text(encoding="utf-8")
    for row in extract_file(path):
        source = raw[row["start"]:row["end"]]
        assert source.replace("*", "") == row["text"]
        assert row["origin"] == "article" and row["context"]


# ---------------------------------------------------------------- hand-made articles


GOLD = [json.loads(line) for line in (ARTICLES / "gold.jsonl").read_text("utf-8").splitlines()]


@pytest.mark.parametrize("path", sorted(ARTICLES.glob("*.txt")), ids=lambda p: p.stem)
def test_fixture_article_statements(path: Path) -> None:
    expected = {(g["text"], g["speaker"], g["group"], g["date"])
                for g in GOLD if g["article"] == path.name and g["militia"]}
    got = {(r["text"], r["speaker"], r["group"], r["date"]) for r in extract_file(path)}
    assert got == expected


def test_fixture_articles_score_perfectly() -> None:
    result = evaluate_folder(ARTICLES, ARTICLES / "gold.jsonl")
    assert result["recall"] == result["precision"] == 1.0
    assert result["group_accuracy"] == result["date_accuracy"] == 1.0


@pytest.mark.devset
def test_devset_extraction_targets() -> None:
    folder = devset_dir()
    if folder is None:
        pytest.skip("no real dev set (../shared/devset or $SIGNALS_DEVSET)")
    result = evaluate_folder(folder / "articles", folder / "articles_gold.jsonl")
    assert result["recall"] >= 0.95, result["misses"]
    assert result["precision"] >= 0.95, result["false_positives"]
    assert result["group_accuracy"] >= 0.95, result["wrong_group"]
    assert result["date_accuracy"] >= 0.90, result["wrong_date"]


# ---------------------------------------------------------------- each trap on its own


def test_split_quote_is_joined() -> None:
    text = article('"We will respond," he said, "at a time of our choosing."',
                   published="Jul 14, 2024")
    text = text.replace('"We will', 'Kataib Hezbollah threatened the base. "We will')
    assert found(text) == [("We will respond, at a time of our choosing.", "Kataib Hezbollah",
                            "Kataib Hezbollah", "2024-07-14")]


def test_quotes_separated_by_a_new_clause_stay_apart() -> None:
    text = article('"Our missiles are ready and waiting for orders," Saree said, warning ships '
                   'to "keep away from every port of the occupying entity."')
    assert [t for t, *_ in found(text)] == [
        "Our missiles are ready and waiting for orders",
        "keep away from every port of the occupying entity.",
    ]


def test_quote_running_over_two_paragraphs() -> None:
    text = article(
        "Qais al-Khazali spoke to supporters on Friday. “The occupation must leave, today "
        "and not tomorrow.\n\n“We have given politics every chance to work,” he said."
    )
    joined = ("The occupation must leave, today and not tomorrow. We have given politics every "
              "chance to work")
    assert found(text) == [(joined, "Qais al-Khazali", "Asaib Ahl al-Haq", "2024-07-12")]


def test_missing_closing_mark_ends_at_the_paragraph() -> None:
    text = article('Sabereen News wrote on Monday: "The coming days will show the enemy what we '
                   'have prepared for it. (Figure 2).\n\nAnalysts doubted that.')
    assert found(text) == [("The coming days will show the enemy what we have prepared for it.",
                            "Sabereen News", "Sabereen News", "2024-07-08")]


def test_quote_cut_off_at_the_end_of_the_file() -> None:
    text = article("Akram al-Kaabi wrote on X: “Every base of the occupiers in our land will be")
    assert found(text) == [("Every base of the occupiers in our land will be", "Akram al-Kaabi",
                            "Harakat al-Nujaba", "2024-07-14")]


def test_markup_is_removed_and_offsets_map_back() -> None:
    text = article('[Kataib Hezbollah \\(/kh\\)](#) said: "The *muqawama* will answer '
                   '[every strike](https://example.org) **without delay**."')
    rows = extract_text(text, "t.txt")
    assert [r["text"] for r in rows] == ["The muqawama will answer every strike without delay."]
    assert text[rows[0]["start"]:rows[0]["end"]].startswith("The *muqawama*")
    assert text[rows[0]["end"] - 1] == "."


def test_nested_quotes_stay_inside() -> None:
    text = article("“They speak of ‘deterrence,’ but we will decide when to strike,” Naim "
                   "Qassem said in a speech on Sunday.", published="Jul 14, 2024")
    assert found(text) == [("They speak of ‘deterrence,’ but we will decide when to strike",
                            "Naim Qassem", "Hezbollah", "2024-07-14")]


def test_scare_quotes_and_analysts_are_not_statements() -> None:
    text = article(
        'The so-called "axis of resistance" speaks of "blood for blood". "The militias are '
        'bluffing and everyone in Baghdad knows it," said Jane Doe, an analyst. "They will not '
        'escalate," she added. A U.S. official said the group was "playing with fire in a very '
        'dangerous way."'
    )
    assert found(text) == []


def test_pronoun_follows_the_last_named_speaker() -> None:
    text = article(
        '"We will not be silent," said Hadi al-Amiri on Wednesday. An analyst, Omar Said, called '
        'it posturing. "This is the usual theatre from the factions," he said.'
    )
    assert found(text) == [("We will not be silent", "Hadi al-Amiri", "Badr Organization",
                            "2024-07-10")]


@pytest.mark.parametrize("published, phrase, expected", [
    ("Jul 14, 2024", "on Saturday", "2024-07-13"),  # a Sunday article: the day before
    ("Jul 14, 2024", "on Sunday", "2024-07-14"),  # same weekday: that very day
    ("Jul 14, 2024", "yesterday", "2024-07-13"),
    ("Jul 14, 2024", "on Monday", "2024-07-08"),
    ("Jul 14, 2024", "on 1 July", "2024-07-01"),
    ("Jan 3, 2025", "on December 30", "2024-12-30"),  # an undated day takes the latest year
])
def test_relative_dates(published: str, phrase: str, expected: str) -> None:
    text = article(f'Hezbollah said {phrase}: "Our fighters remain ready for every scenario."',
                   published=published)
    assert found(text)[0][3] == expected


def test_date_after_since_is_not_the_statement_date() -> None:
    text = article('On July 3 Kataib Hezbollah, silent since June 20, said: "The truce is over '
                   'and the occupier knows why."')
    assert found(text)[0][3] == "2024-07-03"


def test_figure_caption_dates_an_undated_quote() -> None:
    text = article('A post by Sabereen News said: "The answer is coming and it will be painful '
                   'for them" (Figure 3).\n\nFigure 3: Sabereen News post, July 2, 2024',
                   published="Jul 14, 2024")
    assert found(text)[0][3] == "2024-07-02"


@pytest.mark.parametrize("line, expected", [
    ("Aug 15, 2024", date(2024, 8, 15)), ("Jul 9, 2021", date(2021, 7, 9)),
    ("19 December 2024", date(2024, 12, 19)), ("2023-11-18", date(2023, 11, 18)),
    ("Thursday, March 6, 2025", date(2025, 3, 6)),
])
def test_publication_date(line: str, expected: date) -> None:
    assert publication_date(f"\n\nA title\n\nby Someone\n\n{line}\n\nText.") == expected


def test_no_publication_date_leaves_relative_days_empty() -> None:
    text = 'A title\n\nKataib Hezbollah said on Monday: "The occupier will pay for this crime."'
    assert found(text)[0][3] == ""


# ---------------------------------------------------------------- styles of other outlets


def test_honorific_stands_for_the_man_last_named() -> None:
    text = article('Hassan Nasrallah spoke on Friday, a day after the strikes.\n\nHis Eminence '
                   'pointed out that "what happens on our front is very important by all '
                   'standards."')
    assert found(text) == [("what happens on our front is very important by all standards.",
                            "Hassan Nasrallah", "Hezbollah", "2024-07-12")]


def test_bare_title_is_whoever_last_held_it() -> None:
    text = article(
        'Hezbollah Secretary-General Sayyed Hassan Nasrallah spoke on Friday.\n\n'
        'Addressing the Americans, the Secretary-General said: "Your fleets do not scare us and '
        'will not scare us."\n\n'
        'A spokesman for Kataib Sayyid al-Shuhada warned on Monday that talks were stalling. '
        '"The truce was never an open cheque for anyone," the spokesman said.')
    assert [(t, s, g) for t, s, g, _ in found(text)] == [
        ("Your fleets do not scare us and will not scare us.", "Hassan Nasrallah", "Hezbollah"),
        ("The truce was never an open cheque for anyone", "Kataib Sayyid al-Shuhada spokesman",
         "Kataib Sayyid al-Shuhada"),
    ]


def test_bare_title_after_a_non_militia_holder_is_not_a_militia() -> None:
    text = article(
        'A spokesman for Kataib Hezbollah said on Monday the group would respond. Later, a '
        'Pentagon spokesman said the strikes were lawful.\n\n"We will keep all options on the '
        'table for our forces," the spokesman said.')
    assert found(text) == []


def test_member_of_the_group_and_the_figure_later() -> None:
    text = article(
        'Kataib Hezbollah threatened the bases. A senior figure in the group said on Sunday that '
        'the truce was "under review."\n\n"Our restraint was a gift to the government, and it '
        'was wasted," the figure told Reuters.', published="Jul 16, 2024")
    assert found(text) == [("Our restraint was a gift to the government, and it was wasted",
                            "Kataib Hezbollah figure", "Kataib Hezbollah", "2024-07-14")]


@pytest.mark.parametrize("subject", ["The claim", "The umbrella group", "The alliance"])
def test_claim_and_umbrella_group_go_back_to_the_group(subject: str) -> None:
    text = article('The Islamic Resistance in Iraq claimed an attack on Monday.\n\n'
                   f'{subject}, posted on Telegram, read: "The mujahideen targeted the base of '
                   'the occupation with a drone."')
    assert found(text)[0][1:] == ("Islamic Resistance in Iraq", "Islamic Resistance in Iraq",
                                  "2024-07-08")


def test_title_joined_by_and_is_an_apposition() -> None:
    text = article('Mohammed Abdulsalam, the group\'s chief negotiator and spokesman, wrote that '
                   '"the targeting of ships will not stop while the siege continues."')
    assert found(text)[0][1:3] == ("Mohammed Abdulsalam", "Ansar Allah")


def test_relative_clause_naming_a_group_does_not_make_a_member() -> None:
    text = article('Ali Hamdan, who met Hezbollah officials on Monday, said "the south needs '
                   'calm and reconstruction more than anything else."')
    assert found(text) == []


def test_clause_after_a_quote_opened_by_but_is_another_speaker() -> None:
    text = article(
        'Kataib Hezbollah had announced on July 2 that it would pause to avoid "embarrassing the '
        'government and giving the enemy a pretext," but a U.S. official said on Sunday that '
        'attacks went on.\n\nIsrael said the strike killed "a senior commander responsible for '
        'rocket fire on the north," but Hezbollah said the man was a civilian.')
    assert found(text) == [("embarrassing the government and giving the enemy a pretext",
                            "Kataib Hezbollah", "Kataib Hezbollah", "2024-07-02")]


def test_participle_speaks_for_the_subject_of_the_sentence() -> None:
    text = article(
        'Hezbollah lawmaker Hassan Fadlallah on Monday rejected proposals carried by a U.S. '
        'envoy, saying they were "Israeli conditions written in American ink."\n\nThe Israeli '
        'army struck Hezbollah positions on Friday, saying the group "had been preparing to '
        'launch rockets at the north."')
    assert found(text) == [("Israeli conditions written in American ink.", "Hassan Fadlallah",
                            "Hezbollah", "2024-07-08")]


@pytest.mark.parametrize("lead, phrase, expected", [
    ("Kataib Hezbollah said on Thursday that it would halt attacks.", "A day earlier",
     "2024-07-10"),
    ("Kataib Hezbollah said on Thursday that it would halt attacks.", "Two days earlier",
     "2024-07-09"),
    ("The Houthis fired missiles on Wednesday.", "The previous day", "2024-07-09"),
    ("Nothing was said about it.", "A day earlier", "2024-07-13"),  # counted from publication
])
def test_days_counted_back_from_the_day_last_told(lead: str, phrase: str, expected: str) -> None:
    text = article(f'{lead} {phrase}, Abu Ali al-Askari wrote that "the battle with the '
                   'Americans is long and we are ready for it."')
    assert found(text)[0][3] == expected


def test_a_day_inside_the_reported_words_is_not_the_day_said() -> None:
    text = article(
        'Hassan Nasrallah said in a speech on Friday that the front "is open to all options at '
        'any time."\n\nHe stressed that the operation of October 7 was "Palestinian in decision '
        'and in execution," and that Lebanon joined on October 8.', published="Nov 4, 2023")
    assert [d for *_, d in found(text)] == ["2023-11-03", "2023-11-03"]


def test_day_of_a_reported_speech_carries_to_the_speakers_next_quote() -> None:
    text = article(
        'Kadhim al-Fartousi said on Monday that talks were stalling.\n\n"Our patience is not '
        'endless and the government knows it," he added.', published="Jul 16, 2024")
    assert found(text)[0][3] == "2024-07-15"


def test_straight_single_quotes() -> None:
    text = article("Naim Qassem said on Sunday: 'The fighters' determination is stronger than "
                   "ever, and the enemy will see it.'\n\n'We are ready for every scenario,' "
                   "he added.", title="Qassem says 'we are ready for every scenario'")
    assert [t for t, *_ in found(text)] == [
        "The fighters' determination is stronger than ever, and the enemy will see it.",
        "We are ready for every scenario",
    ]


def test_ids_are_stable_and_depend_on_source_and_text() -> None:
    assert statement_id("a.txt", "words") == statement_id("a.txt", "words")
    assert statement_id("a.txt", "words") != statement_id("b.txt", "words")
    assert len(statement_id("a.txt", "words")) == 12


# ---------------------------------------------------------------- the scoring rule


def test_matching_rule_counts_containment_either_way() -> None:
    gold = words("We will respond at a time of our choosing")
    assert matches(words("“We will respond,” at a time of our choosing, and no earlier."), gold)
    assert matches(words("at a time of our choosing"), gold)
    assert not matches(words("a completely different sentence about the weather"), gold)


def test_score_counts_short_unlisted_statements_only_when_they_match() -> None:
    gold = [{"article": "a", "text": "one two three four five six seven", "militia": True,
             "group": "G", "date": "2024-01-01"},
            {"article": "a", "text": "an official said these seven words here", "militia": False}]
    rows = {"a": [
        {"text": "one two three four five six seven", "speaker": "s", "group": "G",
         "date": "2024-01-01"},
        {"text": "short and unlisted", "speaker": "s", "group": "G", "date": ""},
        {"text": "an official said these seven words here", "speaker": "s", "group": "G",
         "date": ""},
    ]}
    result = score(rows, gold)
    assert result["recall"] == 1.0 and result["precision"] == 0.5
    assert result["false_positives"][0]["why"] == "quote of a non-militia speaker"


# ---------------------------------------------------------------- the command


@pytest.fixture()
def work(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "good.txt").write_text(
        article('Kataib Hezbollah said on Friday: "The occupier will pay for this crime."'),
        encoding="utf-8")
    return tmp_path


def test_cli_extracts_and_is_idempotent(work: Path, capsys) -> None:
    assert main(["extract", "in", "--out", "out.csv"]) == 0
    assert capsys.readouterr().out.strip() == (
        "extracted 1 statements from 1 files: 1 added, 0 already present → out.csv")
    first = (work / "out.csv").read_text(encoding="utf-8")
    assert main(["extract", "in", "--out", "out.csv"]) == 0
    assert "0 added, 1 already present" in capsys.readouterr().out
    assert (work / "out.csv").read_text(encoding="utf-8") == first
    frame = store.read_statements(work / "out.csv")
    assert list(frame.columns) == store.STATEMENT_COLUMNS
    assert frame.loc[0, "date"] == "2024-07-12" and frame.loc[0, "origin"] == "article"


def test_cli_keeps_existing_rows(work: Path, capsys) -> None:
    existing = {column: "" for column in store.STATEMENT_COLUMNS}
    existing.update(id="mine", text="My own statement.", origin="user")
    store.atomic_write_text(work / "out.csv", store.rows_to_csv([existing],
                                                                store.STATEMENT_COLUMNS))
    assert main(["extract", "in", "--out", "out.csv"]) == 0
    frame = store.read_statements(work / "out.csv")
    assert frame["id"].tolist() == ["mine", frame["id"].iloc[1]]


def bad_inputs(work: Path) -> dict[str, Path]:
    (work / "empty.txt").write_text("  \n", encoding="utf-8")
    (work / "binary.txt").write_bytes(b"\x00\x01\x02 binary")
    (work / "latin1.txt").write_bytes("Caf\xe9 said".encode("latin-1"))
    (work / "nofiles").mkdir()
    (work / "nofiles" / "notes.md").write_text("not an article", encoding="utf-8")
    return {"missing": work / "missing.txt", "empty": work / "empty.txt",
            "binary": work / "binary.txt", "latin1": work / "latin1.txt",
            "nofiles": work / "nofiles"}


@pytest.mark.parametrize("name, message", [
    ("missing", "no such file or folder"), ("empty", "empty file"), ("binary", "binary file"),
    ("latin1", "not valid UTF-8"), ("nofiles", "folder has no .txt article files"),
])
def test_cli_bad_input_fails_in_one_line(work: Path, capsys, name: str, message: str) -> None:
    path = bad_inputs(work)[name]
    (work / "out.csv").write_text("id,text\nkeep,me\n", encoding="utf-8")
    assert main(["extract", str(path), "--out", "out.csv"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("signals: error: nothing to extract:") and message in err
    assert "\n" not in err and "Traceback" not in err
    assert (work / "out.csv").read_text(encoding="utf-8") == "id,text\nkeep,me\n"


def test_source_close_to_a_group_speaks_for_it() -> None:
    text = article(
        '"The weapons of the resistance are not for negotiation while foreign forces stay," a '
        'source close to Kataib Hezbollah told Rudaw on Sunday.\n\nThe source said the group had '
        '"suspended its operations, but this truce is not permanent at all."')
    speaker = "source close to Kataib Hezbollah"
    assert [(s, g, d) for _, s, g, d in found(text)] == [
        (speaker, "Kataib Hezbollah", "2024-07-14"), (speaker, "Kataib Hezbollah", "2024-07-14")]


def test_surname_means_the_person_named_earlier_in_the_article() -> None:
    text = article(
        'Hezbollah MP Ali Fayyad said on Monday that the occupation "cannot be accepted or turned '
        'into a permanent reality."\n\n"If diplomacy fails, the Lebanese people have the right to '
        'resist the occupation," Fayyad said.')
    assert {(s, g) for _, s, g, _ in found(text)} == {("Ali Fayyad", "Hezbollah")}


def test_known_surname_after_another_given_name_is_someone_else() -> None:
    text = article('Political analyst Ihsan al-Shammari said the factions were "using rhetoric to '
                   'pressure the government, but they do not want a war."')
    assert found(text) == []


def test_possessive_group_before_a_named_person_is_not_the_speaker() -> None:
    text = article('"Our response is coming, and no mediation will change the decision," '
                   "Hezbollah's deputy secretary-general Naim Qassem, who rarely appears in "
                   "public, said on Monday.")
    assert found(text) == [("Our response is coming, and no mediation will change the decision",
                            "Naim Qassem", "Hezbollah", "2024-07-08")]


def test_semicolon_after_a_quote_opens_the_next_speakers_clause() -> None:
    text = article('Nujaba leader Akram al-Kaabi said on Sunday that "our fighters are ready to '
                   'stand alongside the resistance"; Asaib Ahl al-Haq head Qais al-Khazali said '
                   'the factions "will not remain spectators if the war expands."')
    assert [(s, g) for _, s, g, _ in found(text)] == [
        ("Akram al-Kaabi", "Harakat al-Nujaba"), ("Qais al-Khazali", "Asaib Ahl al-Haq")]


def test_day_a_statement_was_published_is_the_day_it_was_said() -> None:
    text = article('The Israeli army said on Friday it struck Hezbollah depots.\n\nIn a statement '
                   'published on its Telegram channel on Thursday evening, Hezbollah said it had '
                   'targeted "a gathering of enemy soldiers near Safed with a rocket salvo."',
                   published="Oct 4, 2024")
    assert [d for *_, d in found(text)] == ["2024-10-03"]


def test_cli_reads_the_good_files_and_warns_about_the_bad(work: Path, capsys) -> None:
    paths = bad_inputs(work)
    assert main(["extract", "in", str(paths["binary"]), str(paths["missing"]),
                 "--out", "out.csv"]) == 0
    captured = capsys.readouterr()
    assert "extracted 1 statements from 1 files" in captured.out
    warnings = captured.err.strip().splitlines()
    assert len(warnings) == 2 and all(w.startswith("signals: warning: skipped") for w in warnings)


def test_cli_leaves_a_broken_table_alone(work: Path, capsys) -> None:
    (work / "out.csv").write_text("id,text\n", encoding="utf-8")
    assert main(["extract", "in", "--out", "out.csv"]) == 1
    assert "missing column" in capsys.readouterr().err
    assert (work / "out.csv").read_text(encoding="utf-8") == "id,text\n"


def test_seed_metadata_matches_the_dates_parsed_from_the_text():
    """seeds/metadata.json keeps each seed's title, authors and date; the extractor reads the
    date from the article itself, and the two must agree."""
    from signals.extract import publication_date

    seeds = Path(__file__).resolve().parents[1] / "seeds"
    metadata = json.loads((seeds / "metadata.json").read_text(encoding="utf-8"))
    assert set(metadata) == {path.name for path in seeds.glob("*.txt")}
    for name, meta in metadata.items():
        raw = (seeds / name).read_text(encoding="utf-8")
        assert publication_date(raw).isoformat() == meta["published"]
        assert meta["title"] in raw
        assert all(author in raw for author in meta["authors"])
