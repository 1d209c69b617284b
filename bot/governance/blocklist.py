"""Blocklist matching on normalised text (design §9).

Text is normalised with Unicode NFKC (full-width -> half-width), case folded, and stripped of
format characters (category Cf: zero-width spaces and joiners, BOM, bidi marks). Then:

- a Latin entry (no CJK in it) matches a whole word, where punctuation, spaces and symbols
  between its letters are ignored: the text is cut into runs of letters and digits, and the entry
  matches when some consecutive runs, joined, spell it exactly. `n.s.f.w` and `n sfw` spell
  `nsfw`; `class` does not spell `ass`, because a match starts and ends at a run's edge.
- a CJK entry matches as a substring of the text without its separators (`血腥` in `一张血腥的图`),
  since Chinese and Japanese do not put spaces between words.

CJK characters are never joined into a Latin word, so `这是nsfw图` still holds the word `nsfw`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MAX_ENTRY = 100  # characters of a normalised entry; a phrase, not a paragraph
MAX_ENTRIES = 500  # per guild: matching stays cheap and /blocklist list stays readable

# Scripts written without spaces between words: matched as substrings.
_CJK_RANGES = (
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x312F),  # Bopomofo
    (0x3190, 0x31FF),  # Kanbun, Bopomofo ext., CJK strokes, Katakana ext.
    (0x3400, 0x4DBF),  # CJK ext. A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x3FFFF),  # CJK ext. B and later
)


def is_cjk(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _CJK_RANGES)


def normalise(text: str) -> str:
    """NFKC, case folded, without format characters, runs of white space made one space."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    # NFKC again: case folding can produce characters that compose differently.
    folded = unicodedata.normalize("NFKC", folded)
    kept = "".join(c for c in folded if unicodedata.category(c) != "Cf")
    return " ".join(kept.split())


def _is_word_char(char: str) -> bool:
    return char.isalnum() and not is_cjk(char)


def squash(text: str) -> str:
    """The normalised text's letters, digits and CJK characters only: what a match compares."""
    return "".join(c for c in normalise(text) if c.isalnum())


def is_cjk_entry(entry: str) -> bool:
    return any(is_cjk(c) for c in entry)


def _segments(text: str) -> list[list[str]]:
    """The normalised text as groups of word runs that separators alone keep apart.

    A CJK character ends a group: a Latin word is never spelled across one.
    """
    groups: list[list[str]] = [[]]
    run: list[str] = []
    for char in text:
        if _is_word_char(char):
            run.append(char)
            continue
        if run:
            groups[-1].append("".join(run))
            run = []
        if is_cjk(char):
            groups.append([])
    if run:
        groups[-1].append("".join(run))
    return [g for g in groups if g]


@dataclass(frozen=True)
class Blocklist:
    """A guild's entries (already normalised), compiled for matching."""

    latin: frozenset[str]
    cjk: tuple[str, ...]
    longest: int

    @classmethod
    def of(cls, entries: Iterable[str]) -> Blocklist:
        latin: set[str] = set()
        cjk: list[str] = []
        for entry in entries:
            key = squash(entry)
            if not key:
                continue
            if is_cjk_entry(key):
                cjk.append(key)
            else:
                latin.add(key)
        return cls(frozenset(latin), tuple(cjk), max((len(k) for k in latin), default=0))

    def __bool__(self) -> bool:
        return bool(self.latin or self.cjk)

    def find(self, text: str) -> str | None:
        """The first entry (squashed form) that `text` contains, or None."""
        if not self or not text:
            return None
        normal = normalise(text)
        if self.cjk:
            flat = "".join(c for c in normal if c.isalnum())
            for entry in self.cjk:
                if entry in flat:
                    return entry
        if self.latin:
            for runs in _segments(normal):
                for start in range(len(runs)):
                    joined = ""
                    for run in runs[start:]:
                        joined += run
                        if len(joined) > self.longest:
                            break
                        if joined in self.latin:
                            return joined
        return None

    def find_in(self, prompt: str | None, params: str | Mapping[str, Any] | None) -> str | None:
        """The prompt and every text param: the raw `params` string, or each str value of a parsed one."""
        texts: list[str] = [prompt] if prompt else []
        if isinstance(params, str):
            texts.append(params)
        elif params:
            texts.extend(v for v in params.values() if isinstance(v, str))
        for text in texts:
            found = self.find(text)
            if found is not None:
                return found
        return None
