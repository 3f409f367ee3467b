"""Article text → the quoted statements of Iran-aligned militias, with speaker, group and date.

A pipeline of small steps, each undoing one difficulty of real article text:

1. layout   — lines become paragraphs: figure captions are set aside (their dates are evidence),
              sentences broken by page debris are rejoined, markdown emphasis and link syntax are
              removed, and an offset map keeps every character pointing into the original file;
2. quotes   — quoted spans in curly or straight marks (nested ‘…’ stay inside); a missing
              closing mark ends at the paragraph end; news-style quotes running over paragraphs
              and quotes split by their attribution ("We will," he said, "respond.") are joined;
3. speakers — the attribution around each quote ("X said", "said X", "X, spokesman for Y,
              said", "the statement said", "a statement attributed to Y", "X's speech", "he
              added") resolved through the gazetteer; words of officials, analysts and other
              non-militia actors, and scare quotes, are dropped;
4. dates    — the day the words were said: from the attribution sentence, a figure caption,
              the speaker's earlier statements or the sentence reporting their speech, with
              weekdays and undated days counted back from the article's publication date.

The library never prints: problems with files come back as messages for the caller.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

from signals.errors import SignalsError
from signals.gazetteer import Entity, Gazetteer
from signals.store import read_text

MIN_WORDS = 5  # a shorter quote is a scare quote or a name, unless it is a directly said sentence
SHORT_MIN_WORDS = 3
MASK = "\ue000"  # stands in for the words of statement quotes, so attribution never reads them

# ---------------------------------------------------------------- vocabulary

_SPEECH_VERBS = (
    "said|says|say|saying|stated|stating|added|adds|adding|told|tells|telling|wrote|writes|"
    "writing|tweeted|posted|declared|declares|declaring|announced|announces|announcing|warned|"
    "warns|warning|threatened|threatens|threatening|vowed|vows|vowing|stressed|stresses|"
    "stressing|insisted|insists|insisting|noted|noting|explained|explains|explaining|continued|"
    "accused|accuses|accusing|claimed|affirmed|affirms|confirmed|confirms|urged|urges|urging|"
    "asked|asking|replied|responded|described|describes|describing|read|reads|cited|citing|"
    "quoted|quoting|pledged|pledges|promised|promises|boasted|mocked|argued|argues|commented|"
    "remarked|emphasi[sz]ed|emphasi[sz]es|emphasi[sz]ing|underlined|indicated|revealed|"
    "condemned|condemns|demanded|suggested|suggests|concluded|proclaimed|speaking|spoke|issued|"
    "denounced|denounces|called|calling|hailed|hails|denied|denies|rejected|rejects|welcomed|"
    "welcomes|went on|going on|pointed out|points out|pointing out|reiterated|reiterates|"
    "reiterating|asserted|asserts|asserting|clarified|clarifies|clarifying|acknowledged|"
    "admitted|according to"
)
_SPEECH_NOUNS = (
    "statements?|speech|speeches|address|sermon|interview|tweet|post|message|remarks|comments|"
    "words|excerpt|video|communiqu[eé]|declaration|letter|announcement|briefing|press conference"
)
_LEAD_CUES = (  # what makes a sentence report someone speaking on a day ("read" is too loose)
    rf"(?!read\b|reads\b|called\b|calling\b|cited\b|quoted\b|according to\b)(?:{_SPEECH_VERBS})|"
    "delivered|delivers|speech|statement|address|interview|sermon|remarks|comments"
)
_DISSEMINATION = (
    "shared|published|circulated|broadcast|aired|carried|reported|translated|distributed"
)
_ROLES = (
    r"spokes(?:man|woman|person|people|men)|officials?|commanders?|leaders?|chief|boss|head|"
    r"secretary[- ]general|MPs?|lawmakers?|members?|figures?|clerics?|representatives?|envoys?|"
    r"deputy|analysts?|experts?|researchers?|ministers?|president|prime minister|PM|advis[eo]rs?|"
    r"ambassadors?|diplomats?|sources?|officers?|generals?|governors?|directors?|mayors?|"
    r"chairman|chairwoman|negotiators?|journalists?|professors?|correspondents?"
)
# "a source close to Kataib Hezbollah": an anonymous voice of that group
_CLOSE_TO = r"(?:close|closely\s+linked|linked|affiliated|aligned)\s+to"
_LEADER_TITLES = {"leader", "chief", "boss", "head", "secretary-general", "secretary general"}
_PREPOSITIONS = frozenset(
    [
        "on", "in", "at", "to", "from", "with", "by", "via", "of", "for", "against", "about",
        "after", "before", "toward", "towards", "through", "under", "over", "into", "onto",
        "than", "like", "between", "among", "during", "despite", "near", "across", "behind",
        "within", "without", "upon"
    ]
)
_NAME_STOPWORDS = frozenset(
    [
        "the", "a", "an", "on", "in", "at", "but", "and", "then", "also", "when", "while", "as",
        "after", "before", "since", "yet", "so", "if", "meanwhile", "however", "this", "that",
        "these", "those", "his", "her", "its", "their", "our", "we", "i", "you", "it", "he",
        "she", "they"
    ]
)

SPEECH_VERB_RE = re.compile(rf"\b(?:{_SPEECH_VERBS})\b", re.IGNORECASE)
SPEECH_CUE_RE = re.compile(rf"\b(?:{_SPEECH_VERBS}|{_SPEECH_NOUNS})\b", re.IGNORECASE)
LEAD_CUE_RE = re.compile(rf"\b(?:{_LEAD_CUES})\b", re.IGNORECASE)
CUE_OR_SPREAD_RE = re.compile(
    rf"\b(?:(?P<spread>{_DISSEMINATION})|{_SPEECH_VERBS}|{_SPEECH_NOUNS})\b", re.IGNORECASE
)
ROLE_RE = re.compile(
    rf"\b(?:{_ROLES}|Secretary[- ]General|Deputy Secretary[- ]General|Spokes(?:man|woman|person)|"
    r"Commander)\b"
)
PRONOUN_RE = re.compile(r"\b(?:[Hh]e|[Ss]he|[Tt]hey|[Ii]t)\b")
# an honorific standing for the man last named, as Arabic outlets write ("His Eminence stressed")
HONORIFIC_RE = re.compile(r"\bHis\s+(?:Eminence|Excellency|Holiness)\b")
_GROUP_ADJECTIVES = (
    r"armed|Iran-backed|Iran-aligned|Iranian-backed|Iran-allied|Tehran-backed|pro-Iran|"
    r"pro-Iranian|Shiite|Shia|Iraqi|Lebanese|Yemeni|militant|paramilitary|powerful|hardline|"
    r"umbrella|loose"
)
ANAPHOR_RE = re.compile(
    rf"\b[Tt]he\s+(?:(?:{_GROUP_ADJECTIVES})\s+)?"
    r"(?P<what>statement|post|tweet|message|communiqu[eé]|video|announcement|claim|"
    r"declaration|group|militia|movement|faction|organi[sz]ation|alliance|channel)\b"
)
_GROUP_NOUNS = r"group|faction|militia|movement|organi[sz]ation|alliance"
_SOURCE_ANAPHORS = {"statement", "post", "tweet", "message", "communique", "communiqué", "video",
                    "announcement", "declaration", "claim"}
# ", the group's chief negotiator and spokesman" after a name: a title describing that name
# (", who met Hezbollah officials" describes what the named man did, not who he is)
_APPOSITION = (
    r"\s*,(?!\s*(?:who|whom|whose|which|where|when|after|before|while)\b)\s*(?:the|a|an)?\s*"
    r"(?:[\w’'-]+\s+){0,3}(?:and\s+(?:[\w’'-]+\s+){0,2})?"
)
_MILITIA_WORDS = re.compile(
    r"\b(?:militias?|factions?|group|movement|resistance|armed)\b", re.IGNORECASE
)
NAMING_RE = re.compile(r"\b(?:so-called|called|dubbed|named|termed|titled|entitled|known as)\s*$")

# ---------------------------------------------------------------- dates

_MONTHS = {
    name: number
    for number, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
         ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
         ("oct", "october"), ("nov", "november"), ("dec", "december")],
        start=1,
    )
    for name in names
}
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
DATE_RE = re.compile(
    rf"\b(?P<iy>\d{{4}})-(?P<im>\d{{2}})-(?P<id>\d{{2}})\b"
    rf"|\b(?P<m1>{_MONTH})\.?\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y1>\d{{4}})\b)?"
    rf"|\b(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m2>{_MONTH})\b\.?"
    rf"(?:,?\s+(?P<y2>\d{{4}})\b)?"
    rf"|\b(?P<n1>\d{{1,2}})/(?P<n2>\d{{1,2}})/(?P<ny>\d{{4}})\b"
    r"|\b(?P<wd>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
    r"|\b(?P<rel>[Yy]esterday|[Tt]oday|[Tt]onight|[Ll]ast night|[Tt]his morning)\b"
    # counted back from the day last reported ("A day earlier, the leader said")
    r"|\b(?P<back>(?P<count>[Aa]|[Oo]ne|[Tt]wo|[Tt]hree|\d)\s+(?P<unit>days?|weeks?)\s+"
    r"(?:earlier|before(?=\s*[,.;:!?)]|\s*$))|[Tt]he\s+(?:day|night)\s+before(?=\s*[,.;:!?)])"
    r"|[Tt]he\s+previous\s+(?:day|night))"
)
_COUNTS = {"a": 1, "one": 1, "two": 2, "three": 3}
PUB_LINE_RE = re.compile(
    rf"^(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\s*,?\s*)?"
    rf"(?:{_MONTH}\.?\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH}\.?,?\s+\d{{4}}"
    r"|\d{4}-\d{2}-\d{2})"
    r"(?:\s*(?:[•|·,-].*|\d{1,2}:\d{2}.*))?$"
)
# a date right after one of these words is not the day of the statement ("since July 25")
_NOT_THE_DAY = frozenset(
    [
        "since", "after", "before", "until", "till", "following", "from", "by", "ago", "next",
        "coming", "between", "prior", "ahead"
    ]
)
FIGURE_REF_RE = re.compile(r"\((?:see\s+)?(?:Figure|Fig\.?)\s*(\d+)\)", re.IGNORECASE)
CAPTION_RE = re.compile(r"^(?:Figure|Fig\.?)\s*(\d+)\s*[:.\-–]\s*(.*)$", re.IGNORECASE)


@dataclass(frozen=True)
class DateHit:
    """A date expression in a sentence; `usable` is False after 'since', 'until' and the like."""

    start: int
    end: int
    value: date | None
    usable: bool
    spread: bool  # the day something was shared or published, not said
    strong: bool  # "on July 8", "on Tuesday", "yesterday": a day given as when something happened


def publication_date(raw: str) -> date | None:
    """The article's own date: the first line near the top that is nothing but a date."""
    for line in raw.splitlines()[:30]:
        line = line.strip()
        if PUB_LINE_RE.match(line):
            days = [_date_value(hit, None) for hit in DATE_RE.finditer(line)]
            return next((day for day in days if day is not None), None)
    return None


def _date_value(match: re.Match, pub: date | None, anchor: date | None = None) -> date | None:
    """The calendar day a date expression means, relative weekdays counted back from `pub`,
    "a day earlier" from `anchor` (the day last reported, else `pub`)."""
    groups = match.groupdict()
    if groups["back"]:
        anchor = anchor or pub
        if anchor is None:
            return None
        count = groups["count"] or "1"
        days = int(count) if count.isdigit() else _COUNTS[count.lower()]
        return anchor - timedelta(days=days * (7 if (groups["unit"] or "").startswith("week")
                                               else 1))
    try:
        if groups["iy"]:
            return date(int(groups["iy"]), int(groups["im"]), int(groups["id"]))
        if groups["n1"]:
            day, month = int(groups["n1"]), int(groups["n2"])
            if day <= 12 < month:
                day, month = month, day
            return date(int(groups["ny"]), month, day)
        if groups["m1"] or groups["m2"]:
            month = _MONTHS[(groups["m1"] or groups["m2"]).lower().rstrip(".")]
            day = int(groups["d1"] or groups["d2"])
            year = groups["y1"] or groups["y2"]
            if year:
                return date(int(year), month, day)
            if pub is None:
                return None
            guess = date(pub.year, month, day)
            return guess if guess <= pub + timedelta(days=7) else date(pub.year - 1, month, day)
    except ValueError:
        return None
    if pub is None:
        return None
    if groups["wd"]:
        return pub - timedelta(days=(pub.weekday() - _WEEKDAYS.index(groups["wd"].lower())) % 7)
    back = 1 if groups["rel"].lower() in ("yesterday", "last night") else 0
    return pub - timedelta(days=back)


_ISSUED_RE = re.compile(r"\b(?:statement|communiqu[eé]|declaration)\s+(?:was\s+)?$",
                        re.IGNORECASE)


def date_hits(text: str, pub: date | None, anchor: date | None = None) -> list[DateHit]:
    """Date expressions in a (masked) sentence, each judged usable or not, shared or said."""
    hits = []
    for match in DATE_RE.finditer(text):
        before = re.findall(r"[A-Za-z]+", text[max(0, match.start() - 40):match.start()])
        words = [w.lower() for w in before if w.lower() not in ("the", "on", "early", "late",
                                                                "earlier", "last", "this")]
        ranged = re.match(r"\s*[-–]\s*\d|\s*[-–]\s*[A-Z][a-z]+ \d", text[match.end():])
        usable = not (words and words[-1] in _NOT_THE_DAY) and not ranged
        cues = list(CUE_OR_SPREAD_RE.finditer(text[:match.start()]))
        # "a statement published on Thursday": a statement is said the day it is put out
        spread = bool(cues) and cues[-1].group("spread") is not None and not _ISSUED_RE.search(
            text[:cues[-1].start()])
        strong = bool(match.group("wd") or match.group("rel") or match.group("back")
                      or re.search(r"\b[Oo]n\s+$", text[:match.start()]))
        hits.append(DateHit(match.start(), match.end(), _date_value(match, pub, anchor), usable,
                            spread, strong))
    return hits


_NEW_CLAUSE = r"(?:but|and|while|whereas|although|though|yet)\b"
# `… to avoid "…," but a senior figure said on Sunday`: what follows is another clause
NEW_CLAUSE_RE = re.compile(
    rf"[,;:][\"”’]?\s+{_NEW_CLAUSE}|[\"”’]\s+(?!and\b){_NEW_CLAUSE}|^\s*{_NEW_CLAUSE}",
    re.IGNORECASE,
)
# `Nasrallah stressed that the operation of October 7 was …`: days after this tell what was said
CONTENT_RE = re.compile(
    rf"\b(?:{_SPEECH_VERBS})\b[^{MASK}\"“”.;]*?\bthat\b", re.IGNORECASE
)


def speech_clause_hits(text: str, pub: date | None, anchor: date | None = None) -> list[DateHit]:
    """Usable days in the clause of a sentence's last speech verb, before what it reports
    ("a senior figure said on Sunday that …"), nearest the verb first."""
    verbs = list(SPEECH_VERB_RE.finditer(text))
    if not verbs:
        return []
    verb = verbs[-1]
    cut = max((m.end() for m in NEW_CLAUSE_RE.finditer(text[:verb.start()])), default=0)
    that = re.search(r"\bthat\b", text[verb.end():])
    stop = verb.end() + that.start() if that else len(text)
    hits = [h for h in date_hits(text, pub, anchor)
            if cut <= h.start < stop and h.usable and h.value and not h.spread]
    return sorted(hits, key=lambda h: (not h.strong, abs(h.start - verb.start())))


def best_hit(hits: list[DateHit]) -> DateHit | None:
    """The first usable day, preferring days given as when something happened."""
    usable = [h for h in hits if h.usable and h.value]
    return next((h for h in usable if h.strong), usable[0] if usable else None)


# ---------------------------------------------------------------- 1. layout


@dataclass
class Paragraph:
    """A logical paragraph of cleaned text; `pos[i]` is the original offset of `text[i]`."""

    index: int
    text: str
    pos: list[int]
    heading: bool = False
    masked: str = ""
    sentences: list[tuple[int, int]] = field(default_factory=list)


LINK_RE = re.compile(r"\[((?:[^\[\]\\]|\\.)*?)\s*(?:\\\((?:[^\\]|\\.)*?\\\))?\s*\]\([^)\s]*\)")
BOLD_RE = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
ITALIC_RE = re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])")
_TERMINAL = tuple(".!?:;\"”’')]…")


def layout(raw: str) -> tuple[list[Paragraph], dict[str, str]]:
    """Paragraphs of clean text with offset maps, and figure captions by number."""
    captions: dict[str, str] = {}
    blocks: list[list[tuple[int, int]]] = []
    offset = 0
    for line in raw.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        stripped = body.strip()
        start = offset + len(body) - len(body.lstrip())
        offset += len(line)
        if not stripped:
            continue
        caption = CAPTION_RE.match(stripped)
        if caption:
            captions[caption.group(1)] = caption.group(2)
            continue
        span = (start, start + len(stripped))
        if blocks and _continues(raw[slice(*blocks[-1][-1])], stripped):
            blocks[-1].append(span)  # a sentence broken by page debris or a caption
        else:
            blocks.append([span])
    paragraphs = []
    for index, block in enumerate(blocks):
        text, pos = "", []
        for number, (start, end) in enumerate(block):
            if number:
                text += " "
                pos.append(block[number - 1][1])
            text += raw[start:end]
            pos.extend(range(start, end))
        pos.append(block[-1][1])
        for pattern in (LINK_RE, BOLD_RE, ITALIC_RE):
            text, pos = _keep_inner(text, pos, pattern)
        words = text.split()
        heading = (len(words) <= 8 and not text.endswith(_TERMINAL)
                   and not re.search("[\"“”]", text))
        paragraphs.append(Paragraph(index, text, pos, heading))
    return paragraphs, captions


def _continues(previous: str, line: str) -> bool:
    return not previous.endswith(_TERMINAL) and line[:1].islower()


def _keep_inner(text: str, pos: list[int], pattern: re.Pattern) -> tuple[str, list[int]]:
    """Replace each match by its first group, carrying the offset map along."""
    out: list[str] = []
    out_pos: list[int] = []
    last = 0
    for match in pattern.finditer(text):
        inner_start, inner_end = match.span(1)
        out.append(text[last:match.start()] + text[inner_start:inner_end])
        out_pos.extend(pos[last:match.start()] + pos[inner_start:inner_end])
        last = match.end()
    out.append(text[last:])
    out_pos.extend(pos[last:])
    return "".join(out), out_pos


# ---------------------------------------------------------------- 2. quotes


@dataclass
class Quote:
    """One quoted span of a paragraph: marks at `open` and `close - 1`, words in [start, end)."""

    para: int
    open: int
    start: int
    end: int
    close: int
    closed: bool


@dataclass
class Candidate:
    """Quoted words that may be a statement: one or more pieces (split or multi-paragraph)."""

    pieces: list[Quote]
    text: str = ""
    long: bool = False
    last_char: str = ""  # the final character inside the closing mark


def find_quotes(para: Paragraph) -> list[Quote]:
    """Top-level quotes of a paragraph; inner ‘…’ stay part of the enclosing quote. Straight
    single marks open a quote only where no apostrophe can stand ( 'We …), and not in the
    headline, whose 'quotes' are the desk's shorthand; `fighters' arms` inside one is a plural
    possessive, not its end."""
    text, quotes = para.text, []
    straight = para.index > 0
    kind, opened = None, 0
    for i, char in enumerate(text):
        before = text[i - 1] if i else " "
        after = text[i + 1] if i + 1 < len(text) else " "
        if kind is None:
            if char in "“„«" or (char == '"' and _opens(before, after)):
                kind, opened = "double", i
            elif ((char == "‘" or (char == "'" and straight and after.isalnum()))
                  and _opens(before, after)):
                kind, opened = "single", i
        elif kind == "single" and char == "'" and _possessive(text, i):
            continue
        elif kind == "double":
            if char in '”»"':
                quotes.append(_quote(para, opened, i, closed=True))
                kind = None
            elif char in "“„«" and before.isspace():  # a new quote: the last one never closed
                quotes.append(_quote(para, opened, i, closed=False))
                opened = i
        elif char in "’'" and not after.isalpha() and not before.isspace():
            quotes.append(_quote(para, opened, i, closed=True))
            kind = None
        elif char in "“\"":
            kind, opened = "double", i
    if kind == "double":
        quotes.append(_quote(para, opened, len(text), closed=False))
    return [quote for quote in quotes if quote.end > quote.start]


_NOT_AFTER_POSSESSIVE = frozenset(
    ["and", "or", "but", "he", "she", "it", "they", "we", "said", "says", "told", "added", "the",
     "a", "an", "in", "on", "at", "to", "as", "while", "which", "according", "adding", "is",
     "was", "were", "are", "for", "with", "by", "of", "from", "that", "when", "after"]
)


def _possessive(text: str, i: int) -> bool:
    """`the fighters' weapons`: a straight mark after a plural s, before a lowercase noun."""
    following = re.match(r" ([a-z]+)", text[i + 1:])
    return (text[i - 1:i] == "s" and following is not None
            and following.group(1) not in _NOT_AFTER_POSSESSIVE)


def _opens(before: str, after: str) -> bool:
    return (before.isspace() or before in "([{—–-/:") and not after.isspace()


def _quote(para: Paragraph, opened: int, closing: int, closed: bool) -> Quote:
    start, end = opened + 1, closing
    if not closed:  # end an unclosed quote before trailing figure references
        tail = re.search(r"(?:\s*\((?:see\s+)?(?:Figure|Fig\.?)\s*\d+\)\s*\.?)+\s*$",
                         para.text[start:end], re.IGNORECASE)
        if tail:
            end = start + tail.start()
    while start < end and para.text[start].isspace():
        start += 1
    while end > start and para.text[end - 1].isspace():
        end -= 1
    return Quote(para.index, opened, start, end, closing + 1 if closed else end, closed)


def build_candidates(paragraphs: list[Paragraph],
                     quotes: dict[int, list[Quote]]) -> list[Candidate]:
    """Join multi-paragraph and split quotes into candidates, and judge which are statements."""
    candidates: list[Candidate] = []
    taken: set[int] = set()
    for para in paragraphs:
        for quote in quotes[para.index]:
            if id(quote) in taken:
                continue
            pieces = [quote]
            while True:
                last = pieces[-1]
                following = _continuation(paragraphs, quotes, last)
                if following is None:
                    following = _split_continuation(paragraphs[last.para], quotes, last)
                if following is None:
                    break
                taken.add(id(following))
                pieces.append(following)
            candidates.append(_finish(paragraphs, pieces))
    return candidates


def _continuation(paragraphs: list[Paragraph], quotes: dict[int, list[Quote]], last: Quote):
    """News style: an unclosed quote whose next paragraph opens with a quote mark goes on there."""
    if last.closed or last.para + 1 >= len(paragraphs):
        return None
    following = quotes[last.para + 1]
    if following and following[0].open == 0:
        return following[0]
    return None


def _split_continuation(para: Paragraph, quotes: dict[int, list[Quote]], last: Quote):
    """`"We will respond," he said, "at a time of our choosing."` is one statement."""
    later = [q for q in quotes[para.index] if q.open >= last.close]
    if not later or not last.closed:
        return None
    following = later[0]
    gap = para.text[last.close:following.open]
    words = para.text[following.start:following.end].split()
    if (
        para.text[last.start:last.end].endswith(",")
        and words and words[0][:1].islower()
        and len(gap.split()) <= 10
        and SPLIT_GAP_RE.match(gap)
    ):
        return following
    return None


SPLIT_GAP_RE = re.compile(
    rf"\s*,?\s*(?:[^,.;:!?\"“”]{{1,60}}?\s+(?:{_SPEECH_VERBS})"
    rf"|(?:{_SPEECH_VERBS})\s+[^,.;:!?\"“”]{{1,60}}?)"
    r"(?:\s+(?:in|on|at|to|during)\s+[^,.;:!?\"“”]{1,40})?\s*,\s*$",
    re.IGNORECASE,
)


def _finish(paragraphs: list[Paragraph], pieces: list[Quote]) -> Candidate:
    parts = [paragraphs[q.para].text[q.start:q.end] for q in pieces]
    text = " ".join(parts).rstrip(",").strip()
    words = re.findall(r"[\w’'-]+", text)
    return Candidate(pieces, text, len(words) >= MIN_WORDS, parts[-1][-1:])


def _sentence_like(candidate: Candidate) -> bool:
    """Short quoted words that read as a whole sentence ("We will respond.")."""
    return (
        len(re.findall(r"[\w’'-]+", candidate.text)) >= SHORT_MIN_WORDS
        and candidate.text[:1].isupper()
        and candidate.last_char in tuple(".!?,")
        and candidate.pieces[-1].closed
    )


# ---------------------------------------------------------------- sentences


ABBREVIATIONS = frozenset(
    [
        "u.s", "u.k", "u.n", "mr", "mrs", "ms", "dr", "gen", "brig", "lt", "col", "sgt", "capt",
        "cmdr", "sen", "rep", "st", "no", "vs", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
        "sep", "sept", "oct", "nov", "dec", "inc", "co", "corp", "jr", "sr", "prof", "rev",
        "gov", "maj", "adm", "e.g", "i.e", "etc"
    ]
)
SHORT_ATTRIBUTION_RE = re.compile(
    rf"^(?:[A-Z][\w’'.-]*\s+){{1,6}}(?:{_SPEECH_VERBS})\b"
    rf"(?:(?!\bthat\b)[^.!?{MASK}\"“”]){{0,60}}[.!?]"
)


def mask_paragraph(para: Paragraph, pieces: Iterable[Quote]) -> None:
    """Hide the words of statement quotes (keeping their final mark) and split sentences."""
    chars = list(para.text)
    for quote in pieces:
        keep_last = para.text[quote.end - 1] in ".!?," if quote.end > quote.start else False
        for i in range(quote.start, quote.end - (1 if keep_last else 0)):
            chars[i] = MASK
    para.masked = "".join(chars)
    para.sentences = split_sentences(para.masked)


def split_sentences(masked: str) -> list[tuple[int, int]]:
    """Sentence spans: `“…?” Fadlallah asked.` stays one sentence; abbreviations end none."""
    cuts = [0]
    for match in re.finditer(r"[.!?…]+([\"”’')\]]*)\s+", masked):
        cut = match.end()
        if cut >= len(masked):
            continue
        following = masked[cut]
        if not (following.isupper() or following.isdigit() or following in "“\"‘'([" + MASK):
            continue
        if masked[match.start()] == "." and _abbreviation(masked, match.start()):
            continue
        if match.group(1) and SHORT_ATTRIBUTION_RE.match(masked[cut:]):
            continue
        cuts.append(cut)
    cuts.append(len(masked))
    return [(a, b) for a, b in pairwise(cuts) if b > a]


def _abbreviation(text: str, dot: int) -> bool:
    token = re.search(r"([\w.]+)$", text[:dot])
    if token is None:
        return False
    word = token.group(1).lower()
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha())


# ---------------------------------------------------------------- 3. speakers


@dataclass(frozen=True)
class Speaker:
    """Who said it: a person or a group/channel; `group` is empty for non-militia speakers."""

    name: str
    group: str
    militia: bool
    person: bool = True


@dataclass
class Mention:
    """A possible speaker in a paragraph's masked text."""

    start: int
    end: int
    kind: str  # person group channel other role pronoun anaphor name
    text: str
    entity: Entity | None = None
    group: Entity | str | None = None  # a role's group; "anaphor" for "the group's spokesman"
    prep: bool = False


@dataclass
class State:
    """What an article has established so far, for pronouns, 'the statement' and dates."""

    pub: date | None
    last_person: Speaker | None = None
    last_source: Speaker | None = None
    last_group: str | None = None
    dates: dict[str, date] = field(default_factory=dict)
    local: dict[str, Speaker] = field(default_factory=dict)  # names placed earlier in the article
    titles: dict[str, Speaker | None] = field(default_factory=dict)  # "spokesman" → who held it

    def heard(self, speaker: Speaker) -> None:
        """Someone spoke: 'he' now means them if a person, 'it'/'the statement' in any case."""
        self.last_source = speaker
        if speaker.person:
            self.last_person = speaker
        if speaker.militia:
            self.last_group = speaker.group


def paragraph_mentions(masked: str, gazetteer: Gazetteer) -> list[Mention]:
    """Names, roles, pronouns and anaphors in a masked paragraph (flagged after prepositions)."""
    named = [Mention(m.start, m.end, m.entity.kind, masked[m.start:m.end], m.entity)
             for m in gazetteer.mentions(masked)]
    found, consumed = list(named), []
    for role in ROLE_RE.finditer(masked):
        if any(m.start <= role.start() < m.end for m in named):
            continue
        mention, used = _role(masked, role, named)
        consumed += used
        if mention is not None:
            found.append(mention)
    found = [m for m in found if not any(m is used for used in consumed)]
    for pronoun in PRONOUN_RE.finditer(masked):
        found.append(Mention(pronoun.start(), pronoun.end(), "pronoun", pronoun.group().lower()))
    for honorific in HONORIFIC_RE.finditer(masked):
        found.append(Mention(honorific.start(), honorific.end(), "pronoun", "he"))
    for anaphor in ANAPHOR_RE.finditer(masked):
        if not any(m.start <= anaphor.start() < m.end for m in found):
            found.append(Mention(anaphor.start(), anaphor.end(), "anaphor",
                                 anaphor.group("what").lower()))
    for mention in found:
        mention.prep = _after_preposition(masked, mention.start)
    return sorted(found, key=lambda m: m.start)


def _role(masked: str, role: re.Match, named: list[Mention]) -> tuple[Mention | None, list]:
    """A role word with the group it belongs to ("KH spokesman", "spokesperson for the PMF").

    Returns the mention (None when a person's name takes over) and the group mentions it used.
    """
    start, end = role.span()
    group: Entity | str | None = None
    used = []
    close = None
    for m in named:
        if m.kind == "person" and (
            re.fullmatch(rf"\s+(?:(?:[A-Z][\w.]*|{_ROLES})\s+){{0,2}}", masked[end:m.start])
            or re.fullmatch(_APPOSITION, masked[m.end:start])
        ):
            return None, []  # "Hezbollah chief Naim Qassem", "Qais al-Khazali, the leader of AAH"
        if m.kind not in ("group", "channel", "other"):
            continue
        if re.fullmatch(r"(?:['’]s?)?\s+(?:[\w-]+\s+){0,2}", masked[m.end:start]):
            group, start = m.entity, min(start, m.start)
            used.append(m)
        elif group is None and re.fullmatch(
            rf"\s+(?:{_CLOSE_TO}|for|of|in|from|at|with|to)\s+(?:the\s+)?"
            r"(?:[A-Z][\w’'-]*['’]s\s+)?"
            r"(?:[\w-]+\s+){0,2}",
            masked[end:m.start],
        ):
            close = re.match(rf"\s+{_CLOSE_TO}\b", masked[end:m.start])
            group, end = m.entity, max(end, m.end)
            used.append(m)
    before = masked[max(0, start - 60):start]
    after = masked[end:end + 80]
    anaphor = re.search(
        rf"\b[Tt]he\s+(?:(?:{_GROUP_ADJECTIVES})\s+)?(?:{_GROUP_NOUNS})(?:['’]s)?\s+"
        r"(?:[\w-]+\s+){0,2}$",
        before,
    )
    member = re.match(  # "a senior figure in the group"
        rf"\s+(?:{_CLOSE_TO}|for|of|in|from|at|with|within|inside|to)\s+the\s+"
        rf"(?:(?:{_GROUP_ADJECTIVES})\s+)?"
        rf"(?:{_GROUP_NOUNS})\b(?!['’])",
        after,
    )
    if group is None and anaphor:
        group, start = "anaphor", start - len(before) + anaphor.start()
    elif group is None and member:
        group, end = "anaphor", end + member.end()
    name = re.match(r"\s+((?:[A-Z][\w’'-]+[ \t]+){1,3}?(?:al-|el-|Al-)?[A-Z][\w’'-]+)", after)
    if isinstance(group, Entity) and group.militia and name and not _stopword_name(name.group(1)):
        full = name.group(1)
        return Mention(start, end + name.end(), "person", full,
                       Entity(full, "person", group.group)), used
    # the words describing the role end at its verb ("the source said the group had …")
    described = after[:60].split(",")[0]
    verb = SPEECH_VERB_RE.search(described)
    described = described[:verb.start()] if verb else described
    if group is None and (_MILITIA_WORDS.search(described)
                          or _MILITIA_WORDS.search(before[-25:])):
        group = "militia"
    if group is None and re.search(r"\b[Tt]he\s+(?:[a-z]+\s+)?$", before):
        group = "definite"  # "the spokesman": whoever last held that title in the article
    text = role.group().lower() + (" close to" if close and isinstance(group, Entity) else "")
    return Mention(start, end, "role", text, None, group), used


def _stopword_name(name: str) -> bool:
    return name.split()[0].lower() in _NAME_STOPWORDS


def _after_preposition(masked: str, start: int) -> bool:
    before = masked[max(0, start - 30):start]
    match = re.search(r"([A-Za-z]+)\s+(?:(?:the|a|an)\s+)?[\"“‘]?$", before)
    return match is not None and match.group(1).lower() in _PREPOSITIONS


def resolve(mention: Mention, state: State, gazetteer: Gazetteer) -> Speaker | None:
    """The speaker a mention stands for, or None when it cannot be known."""
    if mention.kind in ("person", "group", "channel"):
        entity = mention.entity
        assert entity is not None
        if mention.kind == "person" and _name_key(entity.name) in state.local:
            return state.local[_name_key(entity.name)]
        surname = [w for w in _name_key(mention.text).split() if w not in ("al", "el")]
        if mention.kind == "person" and len(surname) == 1 and _surname_key(mention.text) in state.local:
            return state.local[_surname_key(mention.text)]  # "Fayyad": the Fayyad named earlier
        return Speaker(entity.name, entity.group, True, mention.kind == "person")
    if mention.kind == "other":
        return Speaker(mention.entity.name if mention.entity else mention.text, "", False)
    if mention.kind == "name":
        return Speaker(mention.text, "", False)
    if mention.kind == "pronoun":
        return state.last_person if mention.text in ("he", "she") else state.last_source
    if mention.kind == "anaphor":
        if mention.text in _SOURCE_ANAPHORS:
            return state.last_source
        return _group_speaker(state.last_group)
    return _role_speaker(mention, state, gazetteer)


def title_key(title: str) -> str:
    """One key for the spellings of a title ("Spokeswoman", "secretary general")."""
    key = re.sub(r"[\s-]+", "-", title.strip().lower().removesuffix(" close to"))
    return re.sub(r"^spokes\w+", "spokesman", key)


def _group_speaker(group: str | None) -> Speaker | None:
    return Speaker(group, group, True, person=False) if group else None


def _role_speaker(mention: Mention, state: State, gazetteer: Gazetteer) -> Speaker | None:
    group = mention.group
    if group == "anaphor":
        group = gazetteer.entity(state.last_group) if state.last_group else None
        if group is None:
            return None
    if group == "militia":
        return None  # "a spokesman for an Iran-backed militia": which one is unknown
    if group == "definite":
        key = title_key(mention.text)
        return state.titles[key] if key in state.titles else Speaker(mention.text, "", False)
    if group is None:
        return Speaker(mention.text, "", False)
    assert isinstance(group, Entity)
    if not group.militia:
        return Speaker(f"{group.name} {mention.text}", "", False)
    if mention.text in _LEADER_TITLES:
        leader = gazetteer.leader(group.group, state.pub)
        if leader is not None:
            return Speaker(leader.name, leader.group or group.group, True)
    if mention.text.endswith(" close to"):  # "a source close to Kataib Hezbollah"
        return Speaker(f"{mention.text} {group.group}", group.group, True)
    return Speaker(f"{group.group} {mention.text}", group.group, True)


@dataclass
class Attribution:
    """The speaker of a quote and whether the attribution sits right next to it."""

    speaker: Speaker | None
    direct: bool = False
    explicit: bool = False  # a subject was named (so no falling back to an earlier voice)


_PERSON_KINDS = ("person", "role", "name", "other")
_NAME_WORD = r"(?:(?:al|el|bin|ibn)[-\s])?[A-Z][\w’'-]*"
NAME_RE = re.compile(rf"{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,3}}")
NEGATED_RE = re.compile(
    r"\b(?:not|n't|never|declined to|refused to|no)\s+(?:\w+\s+)?$", re.IGNORECASE
)


def _possessive_at(text: str, end: int) -> bool:
    return re.match(r"['’]s?\s", text[end:end + 3]) is not None


def attribute_after(para: Paragraph, start: int, end: int, mentions: list[Mention],
                    state: State, gazetteer: Gazetteer) -> Attribution | None:
    """`"…," X said` / `"…," said X` / `"…," according to X`: the clause after the quote."""
    segment = para.masked[start:end]
    lead = re.match(r"[\s,;:—–-]*", segment).end()
    rest = segment[lead:]
    if CONJUNCTION_RE.match(rest):
        return None  # `… to avoid "…," but a senior figure said`: a new clause, another speaker
    if ";" in segment[:lead]:
        return None  # `X said "…"; Y said …`: the semicolon opens the next speaker's clause
    verb_first = re.match(rf"(?:{_SPEECH_VERBS})\s+(?P<np>[^,.;:!?{MASK}\"“”]+)", rest,
                          re.IGNORECASE)
    np_first = re.match(
        rf"(?P<np>[^.;!?{MASK}\"“”]{{1,160}}?)\s+(?:\w+ly\s+|also\s+|then\s+|later\s+|"
        rf"further\s+|has\s+|had\s+)*(?:{_SPEECH_VERBS})\b",
        rest,
        re.IGNORECASE,
    )
    if verb_first and verb_first.group("np").split()[0].lower() not in ("that", "to", "in", "on"):
        np_start, np_end = verb_first.span("np")
    elif np_first and len(np_first.group("np").split()) <= 25:
        np_start, np_end = np_first.span("np")
    else:
        return None
    np_start, np_end = start + lead + np_start, start + lead + np_end
    inside = [m for m in mentions if np_start <= m.start and m.end <= np_end]
    pool = inside + _unknown_names(para.masked, np_start, np_end, inside)
    # "Hezbollah's deputy secretary-general Naim Qassem": the possessive group is not the subject
    pool.sort(key=lambda m: (m.prep, m.kind == "group" and _possessive_at(para.masked, m.end),
                             m.start))
    return (_choose(pool[:1], inside, state, gazetteer, para.masked, direct=True)
            or _unknown_subject(_subject_words(para.masked[np_start:np_end]), direct=True))


CONJUNCTION_RE = re.compile(r"(?:but|and|while|whereas|although|though|yet)\b", re.IGNORECASE)


def attribute_before(para: Paragraph, start: int, end: int, mentions: list[Mention],
                     state: State, gazetteer: Gazetteer) -> Attribution | None:
    """`X said: "…"`, `On July 8, X stated, "…"`, `a statement attributed to X read "…"`.

    The subject of the speech verb nearest the quote speaks (a person before a group); failing
    that, the source its statement is credited to ('attributed to X', "X's speech").
    """
    segment = para.masked[start:end]
    inside = [m for m in mentions if start <= m.start and m.end <= end]
    verbs = [v for v in SPEECH_VERB_RE.finditer(segment) if v.group().lower() != "according to"]
    direct = bool(re.search(rf"(?:{_SPEECH_VERBS})\s*(?:that\s*)?[,:]?\s*$|:\s*$", segment,
                            re.IGNORECASE))
    subject = ""
    if verbs:
        limit = start + verbs[-1].start()
        clause = RELATIVE_CLAUSE_RE.search(para.masked[start:limit])
        if clause:  # "X, who spoke on condition of anonymity because he ..., said"
            limit = start + clause.start()
        pool = [m for m in inside if m.end <= limit and not m.prep]
        pool += _adjacent_name(para.masked, start, limit, inside)
        if PARTICIPLE_RE.search(segment[:verbs[-1].end()]):
            pool.sort(key=lambda m: m.start)  # "X rejected the envoy's plan, saying": X speaks
        else:
            pool.sort(key=lambda m: -m.end)
        subject = _subject_words(para.masked[start:limit])
    elif SPEECH_CUE_RE.search(segment) or segment.rstrip().endswith(":"):
        pool = [m for m in inside if not m.prep]
    else:
        return None
    people = [m for m in pool if (m.kind in _PERSON_KINDS or m.text in ("he", "she"))
              and not _apposition(para.masked, m, pool)]
    others = [m for m in pool if m.kind not in _PERSON_KINDS and m.text not in ("he", "she")]
    ranked = people + others + _source_phrase(segment, start, inside)
    return (_choose(ranked, inside, state, gazetteer, para.masked, direct)
            or _unknown_subject(subject, direct))


PARTICIPLE_RE = re.compile(r"[^\W\d_]\s*,\s*(?:also\s+)?\w+ing$")
RELATIVE_CLAUSE_RE = re.compile(r",\s*(?:who|which|whose|whom|where|while)\b[^,]*,?\s*$")
_FUNCTION_WORDS = frozenset(
    [
        "and", "but", "or", "then", "also", "later", "further", "however", "meanwhile",
        "separately", "still", "yet", "that", "this", "in", "on", "at", "of", "for", "with",
        "by", "from", "to", "a", "an", "the", "as", "after", "before", "during", "while",
        "when", "he", "she", "it", "they", "we", "i", "you", "his", "her", "its", "their",
        "which", "who"
    ]
)


def _subject_words(text: str) -> str:
    """The words of the clause right before a speech verb, if any are more than glue."""
    clause = re.split(rf"[,;:(){MASK}\"“”‘’]", text)[-1]
    words = [w for w in re.findall(r"[\w’'.-]+", clause)
             if w.lower() not in _FUNCTION_WORDS and not w.lower().endswith("ly")
             and not DATE_RE.fullmatch(w)]
    return " ".join(words)


def _unknown_subject(words: str, direct: bool) -> Attribution | None:
    """Someone named but unknown spoke ("the U.S. military said", "one fisherman told"):
    not a militia voice, and no falling back to an earlier speaker."""
    if not words:
        return None
    person = bool(NAME_RE.search(words)) or bool(ROLE_RE.search(words))
    return Attribution(Speaker(words, "", False, person), direct, explicit=True)


def _apposition(masked: str, role: Mention, pool: list[Mention]) -> bool:
    """A role right after a name describes that name ("X, a senior commander in KSS,")."""
    return role.kind == "role" and any(
        m.kind in ("name", "person") and m.end <= role.start
        and re.fullmatch(_APPOSITION, masked[m.end:role.start])
        for m in pool
    )


def _choose(ranked: list[Mention], inside: list[Mention], state: State, gazetteer: Gazetteer,
            masked: str, direct: bool) -> Attribution | None:
    """The first mention that names a speaker; pronouns without an antecedent are passed over."""
    for mention in ranked:
        if mention.kind == "name":
            speaker = _named(mention, inside, state, masked)
        else:
            speaker = resolve(mention, state, gazetteer)
        explicit = mention.kind not in ("pronoun", "anaphor")
        if speaker is not None or explicit:
            if speaker is not None and mention.kind == "person" and mention.entity is not None:
                _register(state, mention.entity.name, speaker)
            return Attribution(speaker, direct, explicit)
    return None


def _named(mention: Mention, inside: list[Mention], state: State, masked: str) -> Speaker:
    """A name the gazetteer does not know: met before, or placed by an apposition, or no militia.

    "Abu Hadi al-Maliki, a senior commander in Kataib Sayyid al-Shuhada," speaks for KSS, and
    so does "Maliki" later in the same article.
    """
    known = state.local.get(_name_key(mention.text)) or state.local.get(_surname_key(mention.text))
    if known is not None:
        return known
    for role in inside:
        group = role.group if role.kind == "role" else None
        if (isinstance(group, Entity) and group.militia and 0 <= role.start - mention.end <= 25
                and re.fullmatch(_APPOSITION, masked[mention.end:role.start])):
            speaker = Speaker(mention.text, group.group, True)
            _register(state, mention.text, speaker)
            return speaker
    return Speaker(mention.text, "", False)


def _register(state: State, name: str, speaker: Speaker) -> None:
    state.local[_name_key(name)] = speaker
    state.local[_surname_key(name)] = speaker


def _name_key(name: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", name.casefold().replace("’", "").replace("'", "")))


def _surname_key(name: str) -> str:
    last = _name_key(name).split()[-1:] or [""]
    return "surname:" + last[0]


def _unknown_names(masked: str, start: int, end: int, known: list[Mention]) -> list[Mention]:
    """Capitalised names the gazetteer does not know ("CENTCOM", "Ali Hussein")."""
    found = []
    for match in NAME_RE.finditer(masked[start:end]):
        a, b = start + match.start(), start + match.end()
        words = match.group().split()
        while words and words[0].lower() in _NAME_STOPWORDS:
            words = words[1:]
        if not words or any(m.start < b and a < m.end for m in known):
            continue
        text = " ".join(words)
        found.append(Mention(b - len(text), b, "name", text, prep=_after_preposition(masked, a)))
    return found


def _adjacent_name(masked: str, start: int, limit: int, known: list[Mention]) -> list[Mention]:
    """An unknown name right before the speech verb is the subject ("Aoun declared")."""
    match = re.search(
        rf"({NAME_RE.pattern})\s*(?:\([^)]*\)\s*)?(?:,[^,]{{1,80}},\s*)?"
        r"(?:(?:\w+ly|also|then|later|has|had|have|on \w+)\s+)*$",
        masked[start:limit],
    )
    if match is None:
        return []
    return [m for m in _unknown_names(masked, start + match.start(1), start + match.end(1), known)
            if not m.prep]


def _source_phrase(segment: str, start: int, inside: list[Mention]) -> list[Mention]:
    """'attributed to X', "X's speech", 'a tweet by X': the source named by its statement."""
    chosen = []
    for m in inside:
        if m.kind not in ("person", "group", "channel", "role", "other"):
            continue
        before = segment[:m.start - start]
        after = segment[m.end - start:]
        if (re.search(r"attributed\s+to\s+(?:the\s+)?[\"“‘]?$", before)
                or re.search(rf"(?:{_SPEECH_NOUNS})\s+(?:by|from)\s+(?:the\s+)?$", before,
                             re.IGNORECASE)
                or re.match(rf"['’]s?\s+(?:[\w-]+\s+){{0,3}}?(?:{_SPEECH_NOUNS})\b", after,
                            re.IGNORECASE)):
            chosen.append(m)
    return chosen[::-1]


# ---------------------------------------------------------------- 4. the article


@dataclass
class Statement:
    """One extracted statement, offsets into the original text."""

    text: str
    speaker: str
    group: str
    date: str
    start: int
    end: int
    context: str


@dataclass
class _Event:
    """A sentence that reports someone speaking on a given day (for later undated quotes)."""

    para: int
    sentence: int
    names: set[str]
    day: date


@dataclass(frozen=True)
class _Voice:
    """Who spoke, and in which sentence (the introduction of quotes that follow it)."""

    speaker: Speaker
    para: int
    sentence: int


class _Article:
    """One article read in order, so that pronouns, 'the statement' and earlier dates resolve."""

    def __init__(self, raw: str, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer
        self.state = State(publication_date(raw))
        self.paragraphs, captions = layout(raw)
        self.caption_dates = {number: self._caption_date(text) for number, text in captions.items()}
        quotes = {p.index: find_quotes(p) for p in self.paragraphs}
        self.candidates = [c for c in build_candidates(self.paragraphs, quotes)
                           if c.long or _sentence_like(c)]
        self.opens: dict[int, list[int]] = {p.index: [] for p in self.paragraphs}
        for candidate in self.candidates:
            for piece in candidate.pieces:
                self.opens[piece.para].append(piece.open)
        for para in self.paragraphs:
            mask_paragraph(para, [q for c in self.candidates for q in c.pieces
                                  if q.para == para.index])
        self.mentions = {p.index: paragraph_mentions(p.masked, gazetteer) for p in self.paragraphs}
        self.days = self._days()
        self.events, self.lead = self._events()

    # ------------------------------------------------------------ reading order

    def statements(self) -> list[Statement]:
        """Every militia statement, in reading order."""
        starting: dict[tuple[int, int], list[Candidate]] = {}
        for candidate in self.candidates:
            first = candidate.pieces[0]
            starting.setdefault((first.para, self._sentence_of(first.para, first.open)),
                                []).append(candidate)
        found: list[Statement] = []
        last_voice: dict[int, _Voice] = {}
        for para in self.paragraphs:
            voices: list[_Voice] = []
            for number, (a, b) in enumerate(para.sentences):
                for candidate in starting.get((para.index, number), []):
                    statement = self._statement(candidate, voices, last_voice)
                    if statement is not None:
                        found.append(statement)
                self._remember(para, number, a, b, voices)
            if voices:
                last_voice[para.index] = voices[-1]
        return found

    def _remember(self, para: Paragraph, number: int, a: int, b: int,
                  voices: list[_Voice]) -> None:
        """After a sentence: who spoke or acted in it, for the pronouns and quotes that follow."""
        mentions = self.mentions[para.index]
        self._learn_titles(para, a, b)
        said = attribute_before(para, a, b, mentions, self.state, self.gazetteer)
        verbs = list(SPEECH_VERB_RE.finditer(para.masked, a, b))
        if verbs and NEGATED_RE.search(para.masked[a:verbs[-1].start()]):
            said = None  # "Hezbollah has not commented": nobody spoke
        if said is not None and said.explicit and said.speaker is not None:
            voices.append(_Voice(said.speaker, para.index, number))
            self.state.heard(said.speaker)
            days = speech_clause_hits(para.masked[a:b], self.state.pub,
                                      self._anchor(para.index, number))
            if days:  # "a senior figure said on Sunday …": their next quote is of that day
                self.state.dates[said.speaker.name] = days[0].value
            return
        first = next((m for m in mentions if a <= m.start < b and not m.prep
                      and m.kind in ("person", "role", "other")), None)
        subject = resolve(first, self.state, self.gazetteer) if first else None
        if subject is not None and subject.person:
            self.state.last_person = subject

    def _learn_titles(self, para: Paragraph, a: int, b: int) -> None:
        """Who holds each title named in a sentence, so that a later bare "the spokesman" or
        "the Secretary-General" is that person (or that group's spokesman)."""
        masked = para.masked
        for mention in self.mentions[para.index]:
            if not a <= mention.start < b:
                continue
            if mention.kind == "role" and mention.group != "definite":
                self.state.titles[title_key(mention.text)] = resolve(mention, self.state,
                                                                     self.gazetteer)
            elif mention.kind == "person":
                name_start = mention.end - len(mention.text)
                before = re.search(rf"({ROLE_RE.pattern})\s+(?:[A-Z][\w.]*\s+)?$",
                                   masked[max(a, name_start - 60):name_start])
                after = re.match(rf"{_APPOSITION}({ROLE_RE.pattern})", masked[mention.end:b])
                title = before or after
                if title is not None:
                    self.state.titles[title_key(title.group(1))] = resolve(
                        mention, self.state, self.gazetteer)

    def _statement(self, candidate: Candidate, voices: list[_Voice],
                   last_voice: dict[int, _Voice]) -> Statement | None:
        first, last = candidate.pieces[0], candidate.pieces[-1]
        para = self.paragraphs[first.para]
        number = self._sentence_of(first.para, first.open)
        if NAMING_RE.search(para.masked[para.sentences[number][0]:first.open]):
            return None  # what it called "…": a name, not a statement
        attribution, intro = self._attribution(candidate, voices, last_voice)
        if attribution is None or attribution.speaker is None:
            return None
        if not candidate.long and not attribution.direct:
            return None  # a short quote counts only when said right there: "Never," he said.
        speaker = attribution.speaker
        voices.append(_Voice(speaker, first.para, number))
        self.state.heard(speaker)
        if not speaker.militia:
            return None
        when = self._date(candidate, speaker, intro)
        if when is not None:
            self.state.dates[speaker.name] = when
        return Statement(
            text=candidate.text,
            speaker=speaker.name,
            group=speaker.group,
            date=when.isoformat() if when else "",
            start=para.pos[first.start],
            end=self.paragraphs[last.para].pos[last.end - 1] + 1,
            context=self._context(first, number, intro),
        )

    def _context(self, first: Quote, number: int, intro: _Voice | None) -> str:
        """The sentence introducing the quote: its own, or the 'X said:' sentence before it."""
        para = self.paragraphs[first.para]
        a, b = para.sentences[number]
        if intro is not None and para.masked[a:first.open].strip(" “\"‘") == "":
            para = self.paragraphs[intro.para]
            a, b = para.sentences[intro.sentence]
        return " ".join(para.text[a:b].split())

    def _attribution(self, candidate: Candidate, voices: list[_Voice],
                     last_voice: dict[int, _Voice]) -> tuple[Attribution | None, _Voice | None]:
        """Who said it: the clause after a piece, the clause before, else the voice before."""
        for piece in candidate.pieces:
            para = self.paragraphs[piece.para]
            end = para.sentences[self._sentence_of(piece.para, max(piece.close - 1, piece.open))][1]
            limit = min([end, *(o for o in self.opens[piece.para] if o > piece.open)])
            found = attribute_after(para, piece.close, limit, self.mentions[piece.para],
                                    self.state, self.gazetteer)
            if found is not None:
                return found, None
        first = candidate.pieces[0]
        para = self.paragraphs[first.para]
        start = para.sentences[self._sentence_of(first.para, first.open)][0]
        found = attribute_before(para, start, first.open, self.mentions[first.para],
                                 self.state, self.gazetteer)
        if found is not None:
            return found, None
        if voices:  # a quote with no attribution goes on with the paragraph's last voice
            return Attribution(voices[-1].speaker), voices[-1]
        if para.masked[:first.open].strip(" “\"‘") == "":
            previous = self._previous_voice(first.para, last_voice)
            if previous is not None:
                return Attribution(previous.speaker), previous
        return None, None

    def _previous_voice(self, index: int, last_voice: dict[int, _Voice]) -> _Voice | None:
        """A paragraph opening with a quote continues the voice of the paragraph before it
        (headings such as 'Gaza Stuns the World' in between do not count)."""
        for back in range(index - 1, -1, -1):
            if not self.paragraphs[back].heading:
                return last_voice.get(back)
        return None

    def _sentence_of(self, para: int, at: int) -> int:
        sentences = self.paragraphs[para].sentences
        return next((n for n, (a, b) in enumerate(sentences) if a <= at < b), len(sentences) - 1)

    # ------------------------------------------------------------ dates

    def _date(self, candidate: Candidate, speaker: Speaker, intro: _Voice | None) -> date | None:
        """The day of the statement, from the most to the least direct evidence."""
        hits, figures, content = self._own_evidence(candidate)
        said = [(distance, h) for distance, h in hits if h.usable and h.value and not h.spread
                and id(h) not in content]
        if said:
            return min(said, key=lambda pair: (not pair[1].strong, pair[0]))[1].value
        for figure in figures:
            if self.caption_dates.get(figure):
                return self.caption_dates[figure]
        if intro is not None:
            para = self.paragraphs[intro.para]
            a, b = para.sentences[intro.sentence]
            hit = best_hit([h for h in date_hits(para.masked[a:b], self.state.pub,
                                                 self._anchor(intro.para, intro.sentence))
                            if not h.spread])
            if hit is not None:
                return hit.value
        if speaker.name in self.state.dates:
            return self.state.dates[speaker.name]
        first = candidate.pieces[0]
        event = self._event_date(speaker, first.para, self._sentence_of(first.para, first.open))
        if event is not None:
            return event
        told = [(distance, h) for distance, h in hits if h.usable and h.value and not h.spread]
        if told:  # a day inside what was reported, when nothing better is known
            return min(told, key=lambda pair: (not pair[1].strong, pair[0]))[1].value
        shared = [(distance, h) for distance, h in hits if h.usable and h.value]
        if shared:
            return min(shared, key=lambda pair: pair[0])[1].value
        return self.lead or self.state.pub

    def _own_evidence(self, candidate: Candidate
                      ) -> tuple[list[tuple[int, DateHit]], list[str], set[int]]:
        """Date expressions (with their distance to the quote) and figure references in the
        sentences holding the quote, and the ids of the days told inside a reported clause
        ("stressed that the operation of October 7 was …"). Days in a new clause after the
        quote ('"…," but X said on Sunday') are not its evidence."""
        hits: list[tuple[int, DateHit]] = []
        figures: list[str] = []
        content: set[int] = set()
        seen = set()
        for piece in candidate.pieces:
            para = self.paragraphs[piece.para]
            for at in (piece.open, max(piece.close - 1, piece.open)):
                number = self._sentence_of(piece.para, at)
                if (piece.para, number) in seen:
                    continue
                seen.add((piece.para, number))
                a, b = para.sentences[number]
                reported = CONTENT_RE.search(para.masked[a:max(a, piece.open)])
                for hit in date_hits(para.masked[a:b], self.state.pub,
                                     self._anchor(piece.para, number)):
                    where = a + hit.start
                    if where >= piece.close and NEW_CLAUSE_RE.search(
                            para.masked[piece.close:where]):
                        continue
                    distance = piece.open - where if where < piece.open else where - piece.close
                    hits.append((abs(distance), hit))
                    if reported and hit.start >= reported.end():
                        content.add(id(hit))
                figures += FIGURE_REF_RE.findall(para.masked[a:b])
        return hits, figures, content

    def _anchor(self, para: int, sentence: int) -> date | None:
        """The day last told before a sentence (what "a day earlier" counts back from)."""
        before = [day for at, day in self.days if at < (para, sentence)]
        return before[-1] if before else None

    def _caption_date(self, caption: str) -> date | None:
        values = [h.value for h in date_hits(caption, self.state.pub) if h.value]
        return values[-1] if values else None

    def _days(self) -> list[tuple[tuple[int, int], date]]:
        """The day each dated sentence tells, in reading order (the anchors of "a day
        earlier")."""
        days: list[tuple[tuple[int, int], date]] = []
        for para in self.paragraphs[1:]:
            if PUB_LINE_RE.match(para.text):
                continue
            for number, (a, b) in enumerate(para.sentences):
                anchor = days[-1][1] if days else None
                hit = best_hit(date_hits(para.masked[a:b], self.state.pub, anchor))
                if hit is not None and hit.value is not None:
                    days.append(((para.index, number), hit.value))
        return days

    def _events(self) -> tuple[list[_Event], date | None]:
        """Sentences that report someone speaking on a day; and the article's lead day, the
        first day on which a militia is reported speaking (for quotes dated nowhere else)."""
        events, lead = [], None
        for para in self.paragraphs[1:]:
            if PUB_LINE_RE.match(para.text):
                continue
            for number, (a, b) in enumerate(para.sentences):
                text = para.masked[a:b]
                if not LEAD_CUE_RE.search(text):
                    continue
                hits = date_hits(text, self.state.pub, self._anchor(para.index, number))
                first = best_hit(hits)
                if first is None:
                    continue
                if lead is None and self._militia_sentence(para, a, b):
                    lead = first.value
                said = best_hit([h for h in hits if not h.spread])
                if said is not None:
                    events.append(_Event(para.index, number, self._names_in(para, a, b),
                                         said.value))
        return events, lead

    def _event_date(self, speaker: Speaker, para: int, sentence: int) -> date | None:
        """The day of the nearest earlier sentence reporting this speaker speaking (or later)."""
        mine = [e for e in self.events if speaker.name in e.names]
        before = [e for e in mine if (e.para, e.sentence) <= (para, sentence)]
        if before:
            return before[-1].day
        return mine[0].day if mine else None

    def _militia_sentence(self, para: Paragraph, a: int, b: int) -> bool:
        """Whether a sentence is about a militia (a known one, or 'a faction', 'the militia')."""
        return bool(_MILITIA_WORDS.search(para.masked[a:b])) or any(
            a <= m.start < b and m.entity is not None and m.entity.militia
            for m in self.mentions[para.index]
        )

    def _names_in(self, para: Paragraph, a: int, b: int) -> set[str]:
        """Who a sentence names (people, groups, and leaders behind titles like 'the Houthi
        leader')."""
        names = set()
        for mention in self.mentions[para.index]:
            if a <= mention.start < b and mention.kind in ("person", "group", "channel", "role"):
                speaker = resolve(mention, State(self.state.pub), self.gazetteer)
                if speaker is not None:
                    names.add(speaker.name)
        return names


# ---------------------------------------------------------------- public API


def statement_id(source: str, text: str) -> str:
    """Stable id: the same words from the same file always get the same id."""
    return hashlib.sha1(f"{source}\n{text}".encode()).hexdigest()[:12]


def extract_text(text: str, source: str, gazetteer: Gazetteer | None = None) -> list[dict]:
    """Statement rows (store.STATEMENT_COLUMNS) for one article's text."""
    article = _Article(text, gazetteer or Gazetteer.load())
    rows, seen = [], set()
    for statement in article.statements():
        row_id = statement_id(source, statement.text)
        if row_id in seen:
            continue
        seen.add(row_id)
        rows.append({
            "id": row_id,
            "text": statement.text,
            "speaker": statement.speaker,
            "group": statement.group,
            "date": statement.date,
            "source": source,
            "start": statement.start,
            "end": statement.end,
            "context": statement.context,
            "origin": "article",
        })
    return rows


def extract_file(path: Path, gazetteer: Gazetteer | None = None) -> list[dict]:
    """Statement rows for one article file (its file name is the `source`)."""
    path = Path(path)
    return extract_text(read_text(path), path.name, gazetteer)


@dataclass
class Extraction:
    """What `extract_paths` did: rows, the files it read, and one message per unusable input."""

    rows: list[dict] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def article_files(paths: Iterable[Path]) -> tuple[list[Path], list[str]]:
    """Files named directly, and the *.txt files of folders; a message per missing or empty one."""
    files, problems = [], []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.glob("*.txt") if p.is_file())
            if not found:
                problems.append(f"{path}: folder has no .txt article files")
            files += found
        elif path.exists():
            files.append(path)
        else:
            problems.append(f"{path}: no such file or folder")
    return files, problems


def extract_paths(paths: Iterable[Path], gazetteer: Gazetteer | None = None) -> Extraction:
    """Extract from every readable article; unreadable ones become problems, not failures."""
    gazetteer = gazetteer or Gazetteer.load()
    files, problems = article_files(paths)
    result = Extraction(problems=problems)
    for path in files:
        try:
            rows = extract_file(path, gazetteer)
        except SignalsError as exc:
            result.problems.append(str(exc))
            continue
        result.files.append(path)
        result.rows += rows
    return result
