"""How well the extractor finds militia statements in news articles, against a gold file.

The gold file (JSON lines) lists every quote of six or more words in each article: `article`,
`text`, `speaker`, `group`, `date`, and `militia` (true for statements to extract).

Matching rule. Texts are compared as word sequences (case, punctuation and apostrophe style
ignored). Writers of gold files and the extractor cut quotes differently (a gold quote may join
two pieces across "he said", or keep them apart), so an extracted statement and a gold quote
match when the words they share, in order, make up at least 60% of either one (at least three
words): containment either way counts, as does a substantial ordered overlap.

- recall: share of militia gold quotes matched by some extracted statement;
- precision: share of counted extracted statements that match a militia gold quote. Statements
  of six or more words always count; shorter ones count only if they match some gold quote,
  since the gold file does not list quotes under six words. Matching only a non-militia gold
  quote (an official, an analyst) makes a false positive;
- group and date accuracy: over matched militia gold quotes, whether the best-matching extracted
  statement carries the gold group (case-insensitive) and the gold ISO date.
"""

from __future__ import annotations

import re
from collections import defaultdict
from difflib import SequenceMatcher
from pathlib import Path

from signals.extract import article_files, extract_file
from signals.gazetteer import Gazetteer
from signals.records import iter_records

MATCH_SHARE = 0.6
MIN_SHARED_WORDS = 3
GOLD_MIN_WORDS = 6


def words(text: str) -> list[str]:
    """The comparable word sequence of a text."""
    text = text.casefold().replace("’", "'").replace("‘", "'")
    return re.findall(r"\w+(?:'\w+)*", text)


def shared(a: list[str], b: list[str]) -> int:
    """How many words two sequences share in order (sum of their matching blocks)."""
    return sum(block.size for block in SequenceMatcher(None, a, b, autojunk=False)
               .get_matching_blocks())


def coverage(extracted: list[str], gold: list[str]) -> tuple[float, float]:
    """(share of the gold covered, share of the extracted statement covered)."""
    common = shared(extracted, gold)
    if common < min(MIN_SHARED_WORDS, len(gold), len(extracted)) or not gold or not extracted:
        return 0.0, 0.0
    return common / len(gold), common / len(extracted)


def matches(extracted: list[str], gold: list[str]) -> bool:
    """The documented matching rule: ≥ 60% of either side shared in order."""
    of_gold, of_extracted = coverage(extracted, gold)
    return max(of_gold, of_extracted) >= MATCH_SHARE


def score(rows_by_article: dict[str, list[dict]], gold: list[dict]) -> dict:
    """Recall, precision, group and date accuracy, with the misses and false positives listed."""
    gold_by_article: dict[str, list[dict]] = defaultdict(list)
    for record in gold:
        gold_by_article[record["article"]].append(record)
    militia = [g for g in gold if _truthy(g.get("militia"))]
    found, misses, wrong_group, wrong_date = 0, [], [], []
    for item in militia:
        best = _best_row(rows_by_article.get(item["article"], []), item)
        if best is None:
            misses.append({"article": item["article"], "text": item["text"]})
            continue
        found += 1
        if _same(best["group"], item.get("group", "")) is False:
            wrong_group.append(_pair(item, best, "group"))
        if str(best.get("date", "")) != str(item.get("date", "")):
            wrong_date.append(_pair(item, best, "date"))
    counted, true_positives, false_positives = 0, 0, []
    for article, rows in rows_by_article.items():
        for row in rows:
            row_words = words(row["text"])
            hits = [g for g in gold_by_article.get(article, [])
                    if matches(row_words, words(g["text"]))]
            if len(row_words) < GOLD_MIN_WORDS and not hits:
                continue
            counted += 1
            if any(_truthy(g.get("militia")) for g in hits):
                true_positives += 1
            else:
                why = "quote of a non-militia speaker" if hits else "not a gold quote"
                false_positives.append({"article": article, "text": row["text"],
                                        "speaker": row["speaker"], "group": row["group"],
                                        "why": why})
    return {
        "recall": found / len(militia) if militia else 1.0,
        "precision": true_positives / counted if counted else 1.0,
        "group_accuracy": 1 - len(wrong_group) / found if found else 1.0,
        "date_accuracy": 1 - len(wrong_date) / found if found else 1.0,
        "gold": len(militia),
        "found": found,
        "extracted": counted,
        "misses": misses,
        "false_positives": false_positives,
        "wrong_group": wrong_group,
        "wrong_date": wrong_date,
    }


def evaluate_folder(articles: Path, gold_path: Path, gazetteer: Gazetteer | None = None) -> dict:
    """Run the extractor on every article of a folder and score it against a gold JSONL file."""
    gazetteer = gazetteer or Gazetteer.load()
    files, _ = article_files([Path(articles)])
    rows = {path.name: extract_file(path, gazetteer) for path in files}
    gold = list(iter_records(Path(gold_path), require=("article", "text", "militia")))
    return score(rows, gold)


def _best_row(rows: list[dict], item: dict) -> dict | None:
    gold_words = words(item["text"])
    scored = [(coverage(words(row["text"]), gold_words), row) for row in rows]
    scored = [(cover, row) for cover, row in scored if max(cover) >= MATCH_SHARE]
    if not scored:
        return None
    return max(scored, key=lambda pair: pair[0])[1]


def _same(a: str, b: str) -> bool:
    return " ".join(words(a)) == " ".join(words(b))


def _pair(item: dict, row: dict, column: str) -> dict:
    return {"article": item["article"], "text": item["text"],
            "gold": item.get(column, ""), "extracted": row.get(column, "")}


def _truthy(value: object) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1", "yes")
