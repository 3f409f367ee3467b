"""The score stage: any statement → label, probabilities, tone index and the phrases behind them.

Input records are dicts with a `text` key; every other key is carried through to the output.
Records stream through in batches, so memory stays flat however long the input is.

Output contract (one dict per statement, JSON-ready):
    text, label, probabilities {label: p}, tone = P(escalatory) − P(restraining) in [−1, 1],
    phrases [{phrase, weight, class, tone_weight}], known_terms, words, weak_signal, warning,
    plus the carried-through columns.
A phrase's `weight` is its contribution to the predicted class's decision against the mean of the
other classes (positive: toward the predicted class, negative: against it); `class` is the class it
pushes toward most; `tone_weight` its contribution to escalatory minus restraining.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

import numpy as np
from sklearn.pipeline import Pipeline

from signals.errors import SignalsError
from signals.explain import BatchExplanation, explain_batch

BATCH_SIZE = 1000
MIN_KNOWN_TERMS = 3
MIN_KNOWN_SHARE = 0.5
CONFIDENT = 0.5


def iter_scores(model: Pipeline, records: Iterable[dict], top: int = 5,
                batch_size: int = BATCH_SIZE) -> Iterator[dict]:
    """Score records lazily, batch by batch."""
    iterator = iter(records)
    while batch := list(islice(iterator, batch_size)):
        yield from score_batch(model, batch, top)


def score_texts(model: Pipeline, texts: list[str], top: int = 5) -> list[dict]:
    """Score plain strings (the library call behind `signals score "…"`)."""
    return score_batch(model, [{"text": text} for text in texts], top)


def score_batch(model: Pipeline, records: list[dict], top: int = 5) -> list[dict]:
    """Score one batch of records with their explanations."""
    if top < 0:
        raise SignalsError("--top must be 0 or more")
    texts = []
    for number, record in enumerate(records, start=1):
        text = record.get("text")
        if not isinstance(text, str) or not text.strip():
            raise SignalsError(f"statement {record.get('id', number)}: empty text")
        texts.append(text)
    analyzer = model.named_steps["features"].analyzer
    explanation = explain_batch(model, [analyzer.analyse(text) for text in texts])
    return [_result(record, text, explanation, row, top)
            for row, (record, text) in enumerate(zip(records, texts))]


def _result(record: dict, text: str, explanation: BatchExplanation, row: int, top: int) -> dict:
    classes = explanation.classes
    probabilities = explanation.probabilities[row]
    predicted = classes.index(explanation.labels[row])
    esc, res = classes.index("escalatory"), classes.index("restraining")
    known, words = int(explanation.known_terms[row]), int(explanation.words[row])
    weak = explanation.explicit_cues[row] == 0 or probabilities[predicted] < CONFIDENT
    result = {key: value for key, value in record.items() if key != "text"}
    result.update({
        "text": text,
        "label": classes[predicted],
        "probabilities": {label: round(float(p), 4) for label, p in zip(classes, probabilities)},
        "tone": round(float(probabilities[esc] - probabilities[res]), 4),
        "phrases": _phrases(text, explanation, row, predicted, esc, res, top),
        "known_terms": known,
        "words": words,
        "weak_signal": bool(weak),
        "warning": _warning(known, words, weak, explanation.explicit_cues[row]),
    })
    return result


def _phrases(text: str, explanation: BatchExplanation, row: int, predicted: int, esc: int,
             res: int, top: int) -> list[dict]:
    spans, weights = explanation.spans[row], explanation.weights[row]
    if top == 0 or len(spans) == 0:
        return []
    n_classes = weights.shape[1]
    others = [c for c in range(n_classes) if c != predicted]
    toward = weights[:, predicted] - weights[:, others].mean(axis=1)
    centred = weights - weights.mean(axis=1, keepdims=True)
    chosen = np.argsort(-np.abs(toward), kind="stable")[:top]
    return [
        {
            "phrase": text[spans[i, 0]:spans[i, 1]],
            "start": int(spans[i, 0]),
            "end": int(spans[i, 1]),
            "weight": round(float(toward[i]), 4),
            "class": explanation.classes[int(np.argmax(centred[i]))],
            "tone_weight": round(float(weights[i, esc] - weights[i, res]), 4),
        }
        for i in chosen
    ]


def _warning(known: int, words: int, weak: bool, explicit_cues: int) -> str | None:
    if known < MIN_KNOWN_TERMS or (words and known / words < MIN_KNOWN_SHARE):
        return (f"only {known} of {words} words are known to the model: too few to trust the "
                "score, read the statement")
    if explicit_cues == 0:
        return "weak signal: no explicit threat or restraint cue (codebook rule 6), read the statement"
    if weak:
        return "weak signal: the model is not confident, read the statement"
    return None
