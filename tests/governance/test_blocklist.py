"""Blocklist normalisation and matching (design §9), with property tests for disguises."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.governance.blocklist import Blocklist, normalise, squash

# ---- normalisation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＮＳＦＷ", "nsfw"),  # full-width -> half-width
        ("NSFW", "nsfw"),
        ("n\u200bsfw", "nsfw"),  # zero-width space
        ("n\u200ds\u2060f\ufeffw", "nsfw"),  # joiner, word joiner, BOM
        ("\u202enude", "nude"),  # a bidi override is a format character too
        ("  blood \t  bath ", "blood bath"),
        ("Straße", "strasse"),  # case folding, not lower()
        ("ｎ．ｓ．ｆ．ｗ", "n.s.f.w"),
        ("血腥", "血腥"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_squash_keeps_only_letters_digits_and_cjk() -> None:
    assert squash("N.S.F.W!") == "nsfw"
    assert squash("blood-bath") == "bloodbath"
    assert squash("一张 血腥，的图") == "一张血腥的图"
    assert squash("...") == ""


# ---- matching: examples --------------------------------------------------------------------------

LIST = Blocklist.of(["nsfw", "ass", "blood bath", "血腥"])


@pytest.mark.parametrize(
    "text",
    [
        "nsfw",
        "a nsfw picture",
        "n.s.f.w",
        "ＮＳＦＷ art",
        "n\u200bsfw",
        "N S F W",
        "n-s_f*w please",
        "这是nsfw图",  # CJK around a Latin word does not hide it
        "an ass",
        "a.s.s",
        "bloodbath",
        "blood bath",
        "blood-bath scene",
        "一张血腥的图",
        "一张血 腥的图",
        "一张血\u200b腥的图",
    ],
)
def test_caught(text: str) -> None:
    assert LIST.find(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "a classic glass of bass",  # "ass" inside words
        "assassin's cassette",
        "nsfwx",
        "xnsfw",
        "a picture of a cat",
        "blood orange bathtub",
        "he has sand",  # a-s-s across words, but not as whole runs
        "血 orange 腥",  # a CJK entry is not spelled across a Latin word
        "",
    ],
)
def test_not_caught(text: str) -> None:
    assert LIST.find(text) is None


def test_finds_in_params_text_or_values_and_reports_the_entry() -> None:
    assert LIST.find_in("a cat", "seed=4 negative=N.S.F.W") == "nsfw"
    assert LIST.find_in("a cat", {"seed": 4, "negative": "blood  bath"}) == "bloodbath"
    assert LIST.find_in(None, {"style": "血腥"}) == "血腥"
    assert LIST.find_in("a cat", {"seed": 4, "negative": "blurry"}) is None
    assert LIST.find_in(None, None) is None


def test_an_empty_list_matches_nothing() -> None:
    empty = Blocklist.of([])
    assert not empty
    assert empty.find("nsfw") is None
    assert Blocklist.of(["..."]).find("...") is None  # an entry with no letters is dropped


# ---- matching: properties ------------------------------------------------------------------------

SEPARATORS = st.sampled_from([" ", ".", "-", "_", "*", "/", "|", "·", "、", "\u3000", "~", "+", "!"])
ZERO_WIDTH = st.sampled_from(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e"])
WORDS = st.sampled_from(["nsfw", "nude", "gore", "porn", "ass", "sex"])


def fullwidth(char: str) -> str:
    return chr(ord(char) - 0x21 + 0xFF01) if "!" <= char <= "~" else char


@st.composite
def disguised(draw: st.DrawFn) -> tuple[str, str]:
    """(word, the word split by any mix of separators, full-width forms, zero-width characters, case)."""
    word = draw(WORDS)
    out = []
    for index, char in enumerate(word):
        if draw(st.booleans()):
            char = char.upper()
        if draw(st.booleans()):
            char = fullwidth(char)
        out.append(char)
        if index < len(word) - 1:
            gap = draw(st.lists(st.one_of(SEPARATORS, ZERO_WIDTH), max_size=3))
            out.extend(gap)
    return word, "".join(out)


@settings(max_examples=300, deadline=None)
@given(disguised(), st.sampled_from(["", "a ", "draw me ", "一张"]), st.sampled_from(["", " please", "，谢谢", "!"]))
def test_a_disguised_word_is_still_caught(case: tuple[str, str], before: str, after: str) -> None:
    word, text = case
    assert Blocklist.of([word]).find(before + text + after) == word


# Ordinary words that contain the blocked letters inside them.
HOSTS = st.sampled_from(
    ["class", "bass", "glass", "passage", "assume", "massive", "essex", "sussex", "unisex", "gorenje",
     "nudes", "nsfwish", "porno", "sextant", "cassette", "embassy", "grass", "tassel"]
)
PLAIN = st.sampled_from(["a", "the", "cat", "on", "with", "blue", "sky", "and", "of", "in", "picture"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(HOSTS, PLAIN), min_size=1, max_size=12), SEPARATORS)
def test_ordinary_prompts_with_the_letters_inside_words_are_not_caught(words: list[str], separator: str) -> None:
    blocklist = Blocklist.of(["ass", "sex", "nude", "nsfw", "porn", "gore"])
    prompt = (separator if separator.strip() else " ").join(words)
    assert blocklist.find(prompt) is None, prompt


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_any_text_matches_without_error_and_only_when_its_squash_holds_the_entry(text: str) -> None:
    found = LIST.find(text)
    if found is not None:
        assert found in squash(text)


@st.composite
def straddling(draw: st.DrawFn) -> tuple[str, str]:
    """(word, two ordinary words whose letters spell it across the gap, each with letters of its own)."""
    word = draw(WORDS)
    cut = draw(st.integers(min_value=1, max_value=len(word) - 1))
    letters = st.text(alphabet="bcdhklmtxyz", min_size=0, max_size=4)
    before, after = draw(letters), draw(letters)
    if not before and not after:
        before = draw(st.text(alphabet="bcdhklmtxyz", min_size=1, max_size=4))
    gap = draw(st.sampled_from([" ", ", ", " - ", "  ", "\n"]))
    return word, f"{before}{word[:cut]}{gap}{word[cut:]}{after}"


@settings(max_examples=300, deadline=None)
@given(straddling())
def test_letters_that_spell_a_word_across_a_word_boundary_are_not_caught(case: tuple[str, str]) -> None:
    word, prompt = case  # "has sand" holds a-s-s, but no word of it is "ass"
    assert Blocklist.of([word]).find(prompt) is None, prompt
