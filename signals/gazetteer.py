"""Who speaks for whom: groups, leaders, spokespeople and channels, kept as data.

The knowledge lives in `signals/data/gazetteer.json` so an analyst can add a new faction or a new
spokesman without touching code. This module turns it into one matcher that finds every alias in
a text (longest alias first, so "Kataib Hezbollah" is never read as "Hezbollah") while forgiving
the spelling noise of transliterated names: case, apostrophes (Kata'ib, Katai'b, Kataib) and
hyphens or spaces (Abdul-Malik, Abdul Malik).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from signals.errors import SignalsError

DEFAULT_PATH = Path(__file__).parent / "data" / "gazetteer.json"

_APOSTROPHES = "'’‘ʼ`"
_SEPARATOR = r"[\s\-‐‑]+"
# A capitalised word right before a one-word alias is part of another name ("Mohammad Hussein
# Fadlallah" is not Hassan Fadlallah) unless it is one of these titles or sentence words.
_NOT_NAME_WORDS = frozenset(
    [
        "on", "in", "at", "but", "and", "the", "then", "also", "when", "while", "as", "after",
        "before", "since", "yet", "so", "if", "meanwhile", "monday", "tuesday", "wednesday",
        "thursday", "friday", "saturday", "sunday", "january", "february", "march", "april",
        "may", "june", "july", "august", "september", "october", "november", "december",
        "sheikh", "shaykh", "sayyed", "sayyid", "seyed", "hajj", "haj", "mr", "dr", "mp",
        "general", "gen", "commander", "secretary-general", "secretary", "leader", "chief",
        "cleric", "imam", "ayatollah", "brigadier", "colonel", "spokesman", "spokesperson",
        "deputy"
    ]
)


@dataclass(frozen=True)
class Entity:
    """A named actor: a militia `group`, a militia media `channel`, a `person`, or an `other`."""

    name: str
    kind: str
    group: str = ""

    @property
    def militia(self) -> bool:
        """Whether the actor speaks for an Iran-aligned armed group (others never do)."""
        return self.kind != "other"


@dataclass(frozen=True)
class Mention:
    """Where an alias of `entity` occurs in a text."""

    start: int
    end: int
    entity: Entity


@dataclass(frozen=True)
class _Leader:
    name: str
    start: date | None
    until: date | None


def normalise(alias: str) -> str:
    """The spelling-insensitive key of an alias: lower case, no apostrophes, single spaces."""
    text = alias.casefold()
    for mark in _APOSTROPHES:
        text = text.replace(mark, "")
    return " ".join(re.split(r"[\s\-‐‑]+", text)).strip()


class Gazetteer:
    """Aliases → entities, and each group's leaders over time."""

    def __init__(self, data: dict, origin: str = "gazetteer") -> None:
        self.origin = origin
        self._data = data
        self._entities: dict[str, Entity] = {}
        self._by_alias: dict[str, Entity] = {}
        self._one_word: set[str] = set()  # one-word names of people and others (surnames)
        self._leaders: dict[str, list[_Leader]] = {}
        self._load(data)
        self._regex = self._compile()

    # ---------------------------------------------------------------- loading

    @classmethod
    def load(cls, path: Path | None = None) -> Gazetteer:
        """Read a gazetteer file (the packaged one by default), with a clear message if broken."""
        path = Path(path) if path is not None else DEFAULT_PATH
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SignalsError(f"{path}: no such gazetteer file") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SignalsError(f"{path}: not a valid JSON gazetteer ({exc})") from None
        return cls(data, origin=str(path))

    def _fail(self, message: str) -> SignalsError:
        return SignalsError(f"{self.origin}: {message}")

    def _load(self, data: dict) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("groups"), list):
            raise self._fail('expected an object with a "groups" list')
        for item in data["groups"]:
            name = self._name(item, "group")
            kind = item.get("kind", "group")
            if kind not in ("group", "channel"):
                raise self._fail(f"group {name!r}: kind must be 'group' or 'channel'")
            self._add(Entity(name, kind, item.get("group", name)), item)
            self._leaders[name] = [
                _Leader(leader["name"], _day(leader.get("from")), _day(leader.get("until")))
                for leader in item.get("leaders", [])
            ]
        for item in data.get("people", []):
            name = self._name(item, "person")
            group = item.get("group", "")
            if group not in self._leaders:
                raise self._fail(f"person {name!r}: unknown group {group!r}")
            self._add(Entity(name, "person", group), item)
        for item in data.get("others", []):
            self._add(Entity(self._name(item, "other"), "other"), item)

    def _name(self, item: object, what: str) -> str:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise self._fail(f"every {what} needs a name: {item!r}")
        if not isinstance(item.get("aliases", []), list):
            raise self._fail(f"{what} {item['name']!r}: aliases must be a list")
        return item["name"]

    def _add(self, entity: Entity, item: dict) -> None:
        self._entities.setdefault(entity.name, entity)
        for alias in [entity.name, *item.get("aliases", [])]:
            key = normalise(alias)
            known = self._by_alias.get(key)
            if known is not None and known != entity:
                raise self._fail(f"alias {alias!r} names both {known.name!r} and {entity.name!r}")
            self._by_alias[key] = entity
            # surnames, with or without their article ("Shammari", "al-Shammari")
            if entity.kind in ("person", "other") and re.fullmatch(r"(?:(?:al|el) )?\S+", key):
                self._one_word.add(key)

    def _compile(self) -> re.Pattern[str]:
        aliases = sorted(self._by_alias, key=len, reverse=True)
        originals = self._original_spellings()
        parts = [_alias_pattern(originals[key]) for key in aliases]
        return re.compile(r"(?<![\w'’])(?:" + "|".join(parts) + r")(?![\w])")

    def _original_spellings(self) -> dict[str, str]:
        spellings: dict[str, str] = {}
        for section in (self._data["groups"], self._data.get("people", []),
                        self._data.get("others", [])):
            for item in section:
                for alias in [item["name"], *item.get("aliases", [])]:
                    spellings.setdefault(normalise(alias), alias)
        return spellings

    # ---------------------------------------------------------------- queries

    def mentions(self, text: str) -> list[Mention]:
        """Every alias occurrence, left to right, longest first where aliases overlap."""
        found = []
        for match in self._regex.finditer(text):
            key = normalise(match.group())
            entity = self._by_alias.get(key)
            if entity is None:
                continue
            if key in self._one_word and _glued_to_other_name(text, match.start(), match.end()):
                continue
            found.append(Mention(match.start(), match.end(), entity))
        return found

    def entity(self, name_or_alias: str) -> Entity | None:
        """The entity an alias names exactly ("the Houthis" as "Houthis"), or None."""
        key = normalise(name_or_alias)
        return self._by_alias.get(key) or self._by_alias.get(key.removeprefix("the "))

    def group_name(self, name_or_alias: str) -> str | None:
        """The canonical group of an alias (a person's or channel's group), or None."""
        found = self.entity(name_or_alias)
        return found.group if found is not None and found.militia else None

    def leader(self, group: str, on: date | None = None) -> Entity | None:
        """Who led `group` on a day (its latest leader when the day is unknown)."""
        leaders = self._leaders.get(group, [])
        chosen = None
        for leader in leaders:
            if on is None or (
                (leader.start is None or leader.start <= on)
                and (leader.until is None or on <= leader.until)
            ):
                chosen = leader
        if chosen is None:
            return None
        return self._entities.get(chosen.name) or Entity(chosen.name, "person", group)


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _alias_pattern(alias: str) -> str:
    """A regex for an alias that tolerates apostrophes anywhere and hyphen/space variation.

    Acronyms (all capitals) must match exactly; capitalised one-word aliases must keep their
    capital so that ordinary words ("badr", "raad") are not read as names.
    """
    plain = "".join(ch for ch in alias if ch not in _APOSTROPHES)
    tokens = [token for token in re.split(r"[\s\-‐‑]+", plain) if token]
    apostrophe = f"[{_APOSTROPHES}]?"
    body = _SEPARATOR.join(apostrophe.join(re.escape(ch) for ch in token) for token in tokens)
    if plain.isupper():
        return body
    if len(tokens) == 1 and plain[:1].isupper():
        first, rest = re.escape(plain[0]), body[len(re.escape(plain[0])):]
        return f"{first}(?i:{rest})"
    return f"(?i:{body})"


def _glued_to_other_name(text: str, start: int, end: int) -> bool:
    """Whether a one-word alias is part of a longer, different name (Qassem Soleimani)."""
    after = re.match(r"[ \t]+(?:(?:al|el|bin|ibn)[-\s])?[A-Z]", text[end:])
    if after:
        return True
    before = re.search(r"([A-Z][\w’'-]*)[ \t]+$", text[:start])
    if before is None:
        return False
    word = before.group(1).casefold().rstrip(".")
    if word.endswith(("'s", "’s")):
        return False
    sentence_start = re.search(r"(^|[.!?:]\s+|[\"“(]\s*)$", text[:before.start(1)]) is not None
    return word not in _NOT_NAME_WORDS and not sentence_start
