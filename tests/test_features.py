"""The analyzer: offline NLTK, negation and modality kept, spans that point at the words."""

from __future__ import annotations

import subprocess
import sys

from signals.features import StatementAnalyzer, normalise


def features_with_words(text: str, **params) -> list[tuple[str, str]]:
    analysis = StatementAnalyzer(**params).analyse(text)
    return [(feature, text[start:end]) for feature, (start, end) in
            zip(analysis.features, analysis.spans)]


def test_runs_offline_without_nltk_data(tmp_path):
    """No NLTK data package is needed: run in a fresh process with an empty NLTK_DATA and
    nltk.data.find made to fail, as on a machine where downloads are unreachable."""
    code = (
        "import nltk.data\n"
        "def refuse(*a, **k): raise LookupError('no NLTK data here')\n"
        "nltk.data.find = refuse\n"
        "nltk.data.load = refuse\n"
        "from signals.features import StatementAnalyzer\n"
        "a = StatementAnalyzer(char_ngrams=(3, 5)).analyse('We will not be stopped, for now.')\n"
        "assert 'neg:stop' in a.features and 'cue:hedge' in a.features\n"
        "print('ok')\n"
    )
    env = {"NLTK_DATA": str(tmp_path), "PATH": "", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_negation_is_kept_in_word_ngrams_and_scope():
    found = features_with_words("Our response will not be stopped by restrictions")
    assert ("w:not stop", "not be stopped") in found
    assert ("neg:stop", "stopped") in found
    # words before the negation are not in its scope
    assert not any(feature == "neg:respons" for feature, _ in found)


def test_negation_scope_ends_at_clause_punctuation():
    found = features_with_words("We will not burn through the stages. Strike them.")
    names = [feature for feature, _ in found]
    assert "neg:burn" in names
    assert "neg:strike" not in names


def test_modality_and_hedges_survive_tokenisation():
    found = features_with_words("So far the embassy is out of the equation (for now).")
    assert ("cue:hedge", "So far") in found
    assert ("cue:hedge", "for now") in found
    assert ("w:now", "now") in found


def test_analyzer_saved_before_the_function_word_switch_keeps_its_features():
    old = StatementAnalyzer(char_ngrams=(3, 4))
    state = old.__getstate__()
    del state["function_words"]
    revived = StatementAnalyzer.__new__(StatementAnalyzer)
    revived.__setstate__(state)
    text = "It is they who did it."
    assert revived.analyse(text).features == \
        StatementAnalyzer(char_ngrams=(3, 4), function_words=True).analyse(text).features


def test_function_words_are_style_not_features():
    text = "It is they who were behind it, and they did not stop there."
    found = features_with_words(text, char_ngrams=(3, 4))
    words = {words for feature, words in found if feature.startswith(("w:", "c:", "neg:"))}
    assert words <= {"behind", "not", "stop", "behind it, and they did not", "not stop"}
    # negations are kept, and bigrams join the content words on either side of grammar words
    assert ("w:behind not", "behind it, and they did not") in found
    # the switch restores them, for comparison
    kept = [feature for feature, _ in features_with_words(text, function_words=True)]
    assert "w:it is" in kept and "w:they" in kept


def test_conditional_threat_and_offer_are_told_apart():
    threat = [f for f, _ in features_with_words("If they strike again, our revenge will come.")]
    offer = [f for f, _ in features_with_words("If they withdraw, we have no problem.")]
    assert "cue:if+esc" in threat and "cue:if+res" not in threat
    assert "cue:if+res" in offer and "cue:if+esc" not in offer


def test_both_sides_in_one_statement_fire_the_mixed_cue():
    names = [f for f, _ in features_with_words(
        "We will respond to the aggression, but we do not seek a wider war.")]
    assert "cue:esc+res" in names


def test_spans_survive_curly_quotes_and_accents():
    text = "“We’ll retaliate,” said al-Ḥamīdāwī’s office — not bound by limits"
    assert len(normalise(text)) == len(text)
    for feature, words in features_with_words(text, char_ngrams=(3, 4)):
        assert words.strip(), feature
        assert words in text
    assert ("cue:no_limit", "not bound") in features_with_words(text)


def test_character_ngrams_point_at_their_word():
    found = features_with_words("Nujaba", char_ngrams=(3, 3))
    assert ("c: nu", "Nujaba") in found
    assert ("c:aba", "Nujaba") in found


def test_analyzer_passes_precomputed_analysis_through():
    analyzer = StatementAnalyzer()
    analysis = analyzer.analyse("We call for calm")
    assert analyzer(analysis) is analysis.features
    assert analyzer("We call for calm") == analysis.features


def test_one_sided_statements_fire_the_pure_cue():
    threat = [f for f, _ in features_with_words("Our revenge will come, and it will be harsh.")]
    pause = [f for f, _ in features_with_words("We suspend our operations for now.")]
    assert "cue:esc-only" in threat and "cue:esc+res" not in threat
    assert "cue:res-only" in pause and "cue:esc-only" not in pause
