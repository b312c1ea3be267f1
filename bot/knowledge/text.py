"""Turning article text and questions into search terms, the same way for both.

Normalisation runs once per article at load and once per query: accents are removed,
case folded, punctuation turned into spaces, and a light stemmer makes "charged",
"charges" and "charging" the same term. Words are kept in any script, so a question
in another script never breaks anything; it simply matches nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

_APOSTROPHES = re.compile(r"['’`´]")
_COMBINING_MARKS = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_NOT_WORD = re.compile(r"[\W_]+")
_NOT_WORD_NOR_NEWLINE = re.compile(r"[^\w\n]+|_+")
_DOUBLED_AT_END = re.compile(r"([b-df-hj-np-tv-z])\1$")

# Words that say how something is asked rather than what about; they are kept in the
# fuzzy text but not used as search terms (the benchmark decided this).
STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from into about as is are was were be been
    being am do does did doing have has had having i me my mine we our us you your yours he him his she
    her it its they them their this that these those there here what which who whom whose when where
    why how can could would should will shall may might must so than too very just also please
    any some all not no yes im ive id dont its thats whats hi hello thank thanks get got""".split()
)


def normalise(text: str) -> str:
    """Lower-case words separated by single spaces: no accents, no punctuation."""
    if not text:
        return ""
    if not text.isascii():
        text = _COMBINING_MARKS.sub("", unicodedata.normalize("NFKD", text))
    text = _APOSTROPHES.sub("", text.casefold())
    return " ".join(_NOT_WORD.sub(" ", text).split())


def normalise_many(texts: Sequence[str]) -> list[str]:
    """`[normalise(text) for text in texts]`, in a few passes over one string."""
    return [" ".join(words) for words in normalised_words(texts)]


def normalised_words(texts: Sequence[str]) -> list[list[str]]:
    """`[normalise(text).split() for text in texts]`, in a few passes over one string.

    At load time the index normalises every question, title and body of every article,
    and one pass over them all costs far less than one call per text. ASCII texts (most
    of them) take one `bytes.translate`, a hundred times faster than the regular
    expressions that the others still need.
    """
    if not texts:
        return []
    joined = _one_per_line(texts)
    if joined.isascii():
        return [line.split() for line in _normalise_ascii(joined).split("\n")]
    words: list[list[str]] = [[] for _ in texts]
    ascii_only = [text.isascii() for text in texts]
    for want, convert in ((True, _normalise_ascii), (False, _normalise_unicode)):
        chosen = [index for index, is_ascii in enumerate(ascii_only) if is_ascii is want]
        if chosen:
            lines = convert(_one_per_line([texts[index] for index in chosen])).split("\n")
            for index, line in zip(chosen, lines):
                words[index] = line.split()
    return words


def _one_per_line(texts: list[str]) -> str:
    joined = "\n".join(texts)
    if joined.count("\n") != len(texts) - 1:
        # A text's own line breaks are spaces to normalise, not boundaries.
        joined = "\n".join(text.replace("\n", " ") for text in texts)
    return joined


# What normalise does to ASCII, byte by byte: letters lower-cased, digits and line breaks
# kept (they separate texts here), apostrophes dropped, everything else a space.
_ASCII_TABLE = bytes(
    ord(chr(byte).lower()) if chr(byte).isalnum() or byte == ord("\n") else ord(" ") for byte in range(128)
) + bytes(128)


def _normalise_ascii(joined: str) -> str:
    return joined.encode("ascii").translate(_ASCII_TABLE, b"'`").decode("ascii")


def _normalise_unicode(joined: str) -> str:
    joined = _COMBINING_MARKS.sub("", unicodedata.normalize("NFKD", joined))
    return _NOT_WORD_NOR_NEWLINE.sub(" ", _APOSTROPHES.sub("", joined.casefold()))


PREFIX_LENGTH = 6


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Strip the commonest English endings (plural, -ing, -ed, final e) and keep at most
    the first six letters, so "verify", "verified" and "verification" meet."""
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if _DOUBLED_AT_END.search(word) and not word.endswith(("ll", "ss", "zz")):
                word = word[:-1]
            break
    else:
        if word.endswith("ies") and len(word) > 4:
            word = word[:-3] + "y"
        elif word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
            word = word[:-1]
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word[:PREFIX_LENGTH]


def terms(normalised: str, drop_stopwords: bool = True) -> list[str]:
    """Search terms of already normalised text: stems of the words (but stopwords)."""
    if drop_stopwords:
        return [stem(word) for word in normalised.split() if word not in STOPWORDS]
    return [stem(word) for word in normalised.split()]

