"""Grading, pure: a choice against the key, a short answer by normalised match.

A short answer is right when, normalised (case, accents, punctuation, a leading article,
spacing), it equals the answer or one of its accepted variants (the answer without a
parenthetical, each side of an "A or B" / "A / B", the number alone for "1665 AD"), or,
for an answer of three or more content words, when it holds at least 80% of them (stems:
"mitochondria release energy" matches "the mitochondria releases energy").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from aksio.ai.text import terms

_ARTICLE = re.compile(r"^(?:a|an|the)\s+")
_PAREN = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]")
_NUMBER = re.compile(r"^-?\d[\d,.]*")
COVERAGE = 0.8


@lru_cache(maxsize=8192)
def normalise(text: str) -> str:
    """Lower case, accents and punctuation dropped, a leading article removed, spaces collapsed."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"[^\w\s%-]", " ", text).replace("_", " ")
    text = " ".join(text.split())
    return _ARTICLE.sub("", text)


def variants(answer: str, extra: Iterable[str] = ()) -> list[str]:
    """The normalised forms a short answer is accepted in."""
    out: list[str] = []
    for text in [answer, *extra]:
        forms = [text, _PAREN.sub("", text)]
        for sep in (" or ", "/", ";"):
            if sep in text:
                forms += text.split(sep)
        number = _NUMBER.match(text.strip())
        if number and len(number.group(0)) >= 2:
            forms.append(number.group(0).replace(",", ""))
        for form in forms:
            norm = normalise(form)
            if norm and norm not in out:
                out.append(norm)
    return out


def short_answer_right(given: str, accepted: Iterable[str]) -> bool:
    """Whether ``given`` matches one of the ``accepted`` normalised forms."""
    norm = normalise(given)
    if not norm:
        return False
    forms = list(accepted)
    if norm in forms or norm.replace(",", "") in forms:
        return True
    said = set(terms(norm))
    for form in forms:
        key = set(terms(form))
        if len(key) >= 3 and len(key & said) >= COVERAGE * len(key) and len(said) <= 3 * len(key):
            return True
    return False
