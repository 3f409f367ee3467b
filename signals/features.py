"""Raw statement text → named features, each tied to the words of the statement that fired it.

`StatementAnalyzer` is the `analyzer` of the pipeline's TfidfVectorizer, so training, scoring and
explanations share one tokeniser. It emits four families of features:

- `w:`   word n-grams of Snowball stems ("w:not stop" keeps negation and modality intact);
- `neg:` words inside a negation scope ("will not be stopped" → `neg:stop`);
- `cue:` codebook cues: threats, claims, removal of limits, refusals against restraint,
         suspensions, denials, offers, deference to the state, hedges, conditionals, and their
         co-occurrence in one sentence (a conditional threat, a threat beside a limit);
- `c:`   character n-grams inside words (spellings of names and transliterations).

Only NLTK parts that need no data downloads are used (RegexpTokenizer, SnowballStemmer,
mark_negation). Every feature carries the character spans of the statement that produced it, so
an explanation can always show the statement's own words.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from nltk.sentiment.util import mark_negation
from nltk.stem.snowball import SnowballStemmer
from nltk.tokenize import RegexpTokenizer
from sklearn.base import BaseEstimator

Span = tuple[int, int]

# Prefix of the character n-gram features (the vectorizer weighs them as a block of their own).
CHAR_PREFIX = "c:"

_TOKENIZER = RegexpTokenizer(r"\w+(?:'\w+)*|n't|[^\w\s]")
_STEMMER = SnowballStemmer("english")
_SENTENCE_END = frozenset(".!?;:")
_NEGATION_REACH = 4

# Grammar words: articles, pronouns, auxiliaries, prepositions, conjunctions. How often a writer
# uses them is style, not signal, and exemplars come from a few writers: with them as features the
# model learned that narrative prose ("it is", "they were", "he did") is escalatory, which real
# statements do not bear out (dev tone AUC 0.872 → 0.894 without them). Words that carry a
# codebook signal stay: negations, conditionals, "only", "but", "until", "again", "all", "any".
FUNCTION_WORDS = frozenset("""
    a an the this that these those
    i me my mine myself we us our ours ourselves you your yours yourself yourselves
    he him his himself she her hers herself it its itself they them their theirs themselves
    who whom whose which what it's that's there's
    is am are was were be been being have has had having do does did doing
    will would shall should can could may might must
    of in on at by for with about to from into onto upon over under between through during
    before after above below up down out off
    and or so as than then there here where when how why
    also just very too such same own other others some each every both either one ones
""".split())

# Characters rewritten one-for-one, so offsets in the normalised text are offsets in the original.
_ONE_FOR_ONE = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"',
    "\u2013": "-", "\u2014": "-", "\u2026": ".", "\u00a0": " ",
})

# Codebook cues. Each entry: cue name → (side, pattern). Side is "esc", "res" or "" (structural).
CUES: dict[str, tuple[str, str]] = {
    "threat": ("esc", r"\b(?:will|shall|would) (?:(?:not )?(?:hesitate to )?)?(?:respond|retaliate|"
               r"strike|target|attack|burn|destroy|punish|hit|pay|regret|avenge|expand|escalate)\w*"
               r"|\b(?:heavy|painful|harsh|decisive|crushing|severe) (?:price|response|blow)"
               r"|\b(?:revenge|retaliat\w*|vengeance|avenge\w*|punish\w*)"
               r"|\bpay (?:a|the) (?:heavy )?price|\bwill know no limits"),
    "claim": ("esc", r"\b(?:targeted|struck|launched|carried out|shot down|downed|hit)\b"
              r"|\b(?:claim\w* responsibility|our mujahideen|the mujahideen)"
              r"|\b(?:drones?|missiles?|rockets?|ballistic|cruise missile)\b"),
    "no_limit": ("esc", r"\bno (?:red )?lines?\b|\bnot bound\b|\bno limits?\b|\bwithout limits?\b"
                 r"|\ball (?:your|its|their|the) (?:bases|interests|positions|ships)"
                 r"|\bopen (?:war|battle|confrontation)|\bevery (?:base|target)|\bno restrictions?"),
    "refusal": ("esc", r"\bno (?:truce|ceasefire|retreat|stopping|surrender|negotiation)s?"
                r"|\b(?:will|shall) not (?:surrender|disarm|hand over|give up|back down|retreat|stop)"
                r"|\bnever (?:surrender|disarm|hand over|give up|retreat)|\bweapons? (?:will )?remain"
                r"|\b(?:reject|refuse)\w* (?:any )?(?:truce|disarm\w*|surrender|talks|negotiation)"),
    "readiness": ("esc", r"\b(?:ready|readiness|prepared|mobili[sz]\w*|on alert|full alert|"
                  r"fingers? on the trigger|fight(?:ing)? on|continue (?:our|the) (?:operations|jihad|"
                  r"fight|resistance)|jihad|confront\w*)\b"),
    "glory": ("esc", r"\b(?:martyr\w*|victory|victorious|heroic|heroes|blessed|triumph\w*|defeat\w*)\b"),
    "grievance": ("esc", r"\b(?:crimes?|criminal\w*|aggression|massacres?|occupation|occupier\w*|"
                  r"zionist|arrogan\w*|tyran\w*|enemy|enemies|treacher\w*|brutal\w*)\b"),
    "restraint": ("res", r"\b(?:restraint|calm\w*|de-?escalat\w*|rules of engagement|avoid\w*|"
                  r"self-control|wisdom|patience|not to burn|not exceed|do not seek|"
                  r"not (?:want|seek) (?:a )?(?:war|escalation)|no interest in (?:war|escalation))\b"),
    "suspension": ("res", r"\b(?:suspen\w+|halt\w*|pause\w*|truce|ceasefire|cease-fire|"
                   r"cessation|stop(?:ping|ped)? (?:all |our |the )?(?:military )?operations|"
                   r"hudna|freez\w+)\b"),
    "denial": ("res", r"\b(?:den(?:y|ies|ied)|no (?:role|connection|link|involvement)|"
               r"not (?:responsible|involved|behind)|nothing to do with|condemn\w*|"
               r"reject attacking|did not (?:carry out|target|launch))\b"),
    "offer": ("res", r"\b(?:no problem|go back to|return to (?:the )?(?:previous|calm)|"
              r"dialogue|negotiat\w*|diplomac\w*|diplomatic (?:solution|path|efforts)|"
              r"withdraw\w*|peaceful\w*|agreement)\b"),
    "state": ("res", r"\b(?:the state|government|constitution\w*|elections?|electoral|parliament\w*|"
              r"institutions?|the law|legal framework|ballot|reconstruction|compensation|"
              r"sovereign decision|the army)\b"),
    "hedge": ("res", r"\b(?:for now|so far|at this stage|until further notice|for the time being|"
              r"temporar\w+|for the moment|at present)\b"),
    "conditional": ("", r"\b(?:if|unless|as long as|whenever|should (?:they|the|it|any)|"
                    r"in the event|in case|otherwise)\b"),
}
_CUE_PATTERNS = {name: re.compile(pattern) for name, (_, pattern) in CUES.items()}
_CUE_SIDE = {name: side for name, (side, _) in CUES.items()}


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball stem, cached: statements repeat their vocabulary heavily."""
    return _STEMMER.stem(word)


def normalise(text: str) -> str:
    """Lower-case and fold quotes and dashes without changing any character offset."""
    text = text.translate(_ONE_FOR_ONE)
    if text.isascii():
        return text.lower()
    folded = []
    for char in text:
        lower = char.lower()
        char = lower if len(lower) == 1 else char
        if not char.isascii():
            decomposed = unicodedata.normalize("NFKD", char)
            base = decomposed[0] if decomposed else char
            char = base if len(base) == 1 else char
        folded.append(char)
    return "".join(folded)


class Analysis:
    """A statement already analysed: features in order and, for each, the spans that fired it.

    TfidfVectorizer passes it straight to the analyzer, which returns `features`; scoring builds
    one per statement so the explanation reuses the very analysis the model scored.
    """

    __slots__ = ("features", "spans", "words")

    def __init__(self, features: list[str], spans: list[Span], words: int) -> None:
        self.features = features
        self.spans = spans
        self.words = words


class StatementAnalyzer(BaseEstimator):
    """Callable analyzer for TfidfVectorizer; its parameters are tuned like any estimator's."""

    def __init__(
        self,
        word_ngrams: int = 2,
        char_ngrams: tuple[int, int] | None = None,
        negation: bool = True,
        cues: bool = True,
        function_words: bool = False,
    ) -> None:
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.negation = negation
        self.cues = cues
        self.function_words = function_words

    def __setstate__(self, state: dict) -> None:
        # Models saved before grammar words were left out kept them: they score as trained.
        state.setdefault("function_words", True)
        super().__setstate__(state)

    def __call__(self, doc: str | Analysis) -> list[str]:
        if isinstance(doc, Analysis):
            return doc.features
        return self.analyse(doc).features

    def analyse(self, text: str) -> Analysis:
        """All features of `text` with the character spans (in `text`) that produced them."""
        normal = normalise(text)
        spans = list(_TOKENIZER.span_tokenize(normal))
        tokens = [normal[start:end] for start, end in spans]
        features: list[str] = []
        where: list[Span] = []
        words = [i for i, token in enumerate(tokens) if token[0].isalnum() or token == "n't"]
        if not self.function_words:
            # n-grams then join the content words around them: "will not be stopped" → "not stop"
            words = [i for i in words if tokens[i] not in FUNCTION_WORDS]
        stems = {i: stem(tokens[i]) for i in words}
        self._word_ngrams(words, stems, spans, features, where)
        if self.negation:
            self._negation_scope(tokens, stems, spans, features, where)
        if self.cues:
            self._cues(normal, features, where)
        if self.char_ngrams:
            self._char_ngrams(words, tokens, spans, features, where)
        return Analysis(features, where, len(words))

    def _word_ngrams(self, words, stems, spans, features, where) -> None:
        for n in range(1, self.word_ngrams + 1):
            for k in range(len(words) - n + 1):
                run = words[k:k + n]
                features.append("w:" + " ".join(stems[i] for i in run))
                where.append((spans[run[0]][0], spans[run[-1]][1]))

    def _negation_scope(self, tokens, stems, spans, features, where) -> None:
        marked = mark_negation(list(tokens), shallow=True)
        reach = 0
        for i, token in enumerate(marked):
            if not token.endswith("_NEG"):
                reach = 0
                continue
            reach += 1
            if reach <= _NEGATION_REACH and i in stems:
                features.append("neg:" + stems[i])
                where.append(spans[i])

    def _cues(self, normal: str, features, where) -> None:
        fired: dict[str, list[Span]] = {}
        for name, pattern in _CUE_PATTERNS.items():
            for match in pattern.finditer(normal):
                fired.setdefault(name, []).append(match.span())
        for name, found in fired.items():
            for span in found:
                features.append("cue:" + name)
                where.append(span)
        self._cue_combinations(normal, fired, features, where)

    def _cue_combinations(self, normal: str, fired: dict[str, list[Span]], features, where) -> None:
        """A conditional beside a threat or an offer; both sides in one statement, or one only."""
        sentence_of = _sentence_index(normal)
        sides: dict[str, list[Span]] = {"esc": [], "res": []}
        for name, found in fired.items():
            side = _CUE_SIDE[name]
            if side and name not in ("grievance", "glory", "state"):
                sides[side].extend(found)
        for condition in fired.get("conditional", []):
            for side, found in sides.items():
                near = [span for span in found if sentence_of(span[0]) == sentence_of(condition[0])]
                if near:
                    features.append(f"cue:if+{side}")
                    where.append((condition[0], max(condition[1], near[0][1])))
        if sides["esc"] and sides["res"]:
            first, second = min(sides["esc"]), min(sides["res"])
            features.append("cue:esc+res")
            where.append((min(first[0], second[0]), max(first[1], second[1])))
        elif sides["esc"] or sides["res"]:
            # One side only: a pure signal, which a mixed statement by definition is not.
            side = "esc" if sides["esc"] else "res"
            features.append(f"cue:{side}-only")
            where.append(min(sides[side]))

    def _char_ngrams(self, words, tokens, spans, features, where) -> None:
        low, high = self.char_ngrams
        for i in words:
            padded = f" {tokens[i]} "
            for n in range(low, high + 1):
                for k in range(len(padded) - n + 1):
                    features.append(CHAR_PREFIX + padded[k:k + n])
                    where.append(spans[i])


def _sentence_index(text: str):
    """Map a character offset to the index of its sentence (split on . ! ? ;)."""
    ends = [m.end() for m in re.finditer(r"[.!?;]", text)]

    def sentence_of(offset: int) -> int:
        return sum(1 for end in ends if end <= offset)

    return sentence_of
