"""Text folding (policies.text): one comparable form for every spelling trick (IM-11)."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies import text as text_module
from policies.immigration import registry_terms
from policies.loader import IMMIGRATION_KEYWORDS, keyword_matcher
from policies.text import TermMatcher, Word, fold_key, fold_words
from tests.policies.test_properties import PROPERTY_SETTINGS


def _texts(text: str) -> list[str]:
    return [word.text for word in fold_words(text)]


@pytest.mark.parametrize(
    "spelling",
    [
        "ICE",
        "ice",
        "I.C.E.",
        "i.c.e",
        "I C E",
        "I - C - E",
        "I_C_E",
        "1CE",
        "|CE",
        "IC3",
        "ІСЕ",  # Cyrillic capitals
        "ісе",  # Cyrillic small letters
        "ΙϹΕ",  # Greek iota, lunate sigma, epsilon
        "ＩＣＥ",  # fullwidth
        "I\u200bC\u200bE",  # zero-width spaces
        "I\u00adCE",  # soft hyphen
        "\u200dICE\ufeff",
        "ÍÇÊ",  # accents
        "𝐈𝐂𝐄",  # mathematical bold
    ],
)
def test_every_spelling_of_ice_folds_to_one_word(spelling: str) -> None:
    assert _texts(spelling) == ["ice"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Homeland  Secur1ty", ["homeiand", "security"]),  # "l" and "i" are one letter
        ("H0MELAND-SECUR!TY", ["homeiand", "secur", "ty"]),  # "!" is punctuation, not "i"
        ("D.H.S.'s office", ["dhs", "s", "office"]),
        ("U.S. I.C.E.", ["us", "ice"]),
        ("e.g. 5t. Paul", ["eg", "st", "paui"]),
        ("$ecur@ 7eam", ["secura", "team"]),
        ("287(g)", ["2bt", "g"]),
        ("Police.Department", ["poiice", "department"]),
        ("straße ﬁle", ["strasse", "fiie"]),
        (". . .", []),
        ("", []),
    ],
)
def test_fold_words(text: str, expected: list[str]) -> None:
    assert _texts(text) == expected


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("ice", True),
        ("Ice", True),
        ("ICE", False),
        ("1ce", False),
        ("I.C.E.", False),
        ("i c e", False),
        ("іce", False),  # one Cyrillic letter
        ("i\u200bce", False),  # an invisible character inside the word
        ("\u200bice", False),  # ... or in front of it
        ("ice\u200b", False),  # ... or after it
        ("ice\u200b ", False),
    ],
)
def test_plain_means_an_ordinary_ascii_word(text: str, plain: bool) -> None:
    assert fold_words(text) == (Word("ice", plain),)


def test_invisible_characters_between_words_mark_nothing() -> None:
    assert fold_words("on \u200b ice") == (Word("on", True), Word("ice", True))


def test_fold_key_runs_the_words_together() -> None:
    assert (
        fold_key("federal_immigration") == fold_key("Federal Immigratіon") == "federaiimmigration"
    )


MATCHER = TermMatcher(
    [
        ("ICE", "ICE"),
        ("ICE", "Immigration and Customs Enforcement"),
        ("DHS", "Homeland Security"),
        ("287(g)", "287(g)"),
        ("deport", "deport"),
        ("blank", " . "),  # folds to nothing: ignored
    ]
)


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("a request from ICE", {"ICE"}),
        ("a request from ice", {"ICE"}),
        ("I.C.E. and Homeland  Secur1ty", {"ICE", "DHS"}),
        ("HomelandSecurity", {"DHS"}),  # a phrase without its spaces
        ("Home land Security", {"DHS"}),  # long enough to match inside the run-together text
        ("immigration-and-customs-enforcement", {"ICE"}),
        ("immigration and customs", set()),  # half a phrase is no phrase
        ("customs enforcement", set()),
        ("a 287(g) officer", {"287(g)"}),
        ("a 287g officer", {"287(g)"}),
        ("they will DEPORT him", {"deport"}),
        ("Madison Police Department", set()),
        ("Device Forensics Unit", set()),
        ("Office of the Public Defender", set()),
        ("Justice Court", set()),
        ("deportee", set()),
        ("", set()),
    ],
)
def test_term_matcher_strict(text: str, labels: set[str]) -> None:
    assert MATCHER.find(text) == labels


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("slipped on ice", set()),  # weather, typed plainly
        ("Ice on the road", set()),
        ("ICE asked us", {"ICE"}),
        ("1ce asked us", {"ICE"}),
        ("the i.c.e. agent", {"ICE"}),
        ("ісе", {"ICE"}),
        ("ice and then ICE", {"ICE"}),  # one non-plain occurrence is enough
        ("slipped on ice near Homeland Security", {"DHS"}),
    ],
)
def test_term_matcher_lenient_reads_plain_acronyms_as_words(text: str, labels: set[str]) -> None:
    assert MATCHER.find(text, lenient=True) == labels


@PROPERTY_SETTINGS
@given(text=st.text(max_size=40))
def test_folding_its_own_output_changes_nothing(text: str) -> None:
    """The folded form is a fixed point, so a text and a term folded alike compare alike."""
    key = fold_key(text)
    assert fold_key(key) == key
    assert all(word.text.isalnum() for word in fold_words(text))


@pytest.mark.slow
def test_every_code_point_folds_to_a_fixed_point() -> None:
    """Exhaustive: no character anywhere in Unicode folds to something that folds on further."""
    fold_char = text_module._fold_char.__wrapped__
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:  # surrogates are not characters
            continue
        folded = fold_char(chr(code))
        assert "".join(fold_char(piece) for piece in folded) == folded, hex(code)
        assert all(piece.isalnum() or piece in ". " for piece in folded), hex(code)


def test_refolding_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A table that never settled would stop after a few rounds instead of looping for ever."""
    calls: list[str] = []

    def restless(char: str) -> str:
        calls.append(char)
        return "x" if char == "y" else "y"

    monkeypatch.setattr(text_module, "_fold_once", restless)
    assert text_module._fold_char.__wrapped__("a") in {"x", "y"}
    assert len(calls) == 5


def test_short_texts_can_be_remembered_and_the_memo_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(text_module, "_MEMO_LIMIT", 2)
    matcher = TermMatcher([("ICE", "ICE")])
    assert matcher.find("ICE office", remember=True) == {"ICE"}
    assert matcher.find("ICE office", remember=True) == {"ICE"}  # from the memo
    assert matcher.find("ice", lenient=True, remember=True) == set()
    assert matcher.find("another", remember=True) == set()  # the memo was full: cleared first
    assert list(matcher._memo) == [("another", False)]
    assert matcher.find("not kept") == set()
    long_text = "ICE " + "word " * 100
    assert matcher.find(long_text, remember=True) == {"ICE"}
    assert list(matcher._memo) == [("another", False)]


# The fast paths of TermMatcher (the words without their shapes, the heads, the tree of run-together
# terms) against the plain reading: every term tried on the fully folded text.
BACKSTOP = keyword_matcher(["ICE ERO", "green card", "alien registration"])
PIECES = [
    *(spelling for _, spelling in registry_terms()),
    *IMMIGRATION_KEYWORDS,
    *(word for _, spelling in registry_terms() for word in spelling.split()),
    "ice",
    "Ice",
    "I.C.E.",
    "I C E",
    "1CE",
    "ісе",
    "i\u200bce",
    "us",
    "office",
    "Police",
    "Department",
    "of",
    "the",
    "land",
    "Home",
    "armed robbery",
    "MPD-2026-00417",
]
SEPARATORS = [" ", "  ", ".", ". ", "-", "_", "\n", "", "; ", "\u200b"]


@st.composite
def mixed_texts(draw: st.DrawFn) -> str:
    pieces = draw(st.lists(st.sampled_from(PIECES) | st.text(max_size=6), max_size=8))
    glue = draw(st.lists(st.sampled_from(SEPARATORS), min_size=len(pieces), max_size=len(pieces)))
    return "".join(piece + sep for piece, sep in zip(pieces, glue, strict=True))


def _every_term(matcher: TermMatcher, text: str, *, lenient: bool) -> set[str]:
    texts, shapes = text_module._fold(text)
    labels: set[str] = set()
    for word, found in matcher._words.items():
        if word in texts:
            labels |= found
    for word, found in matcher._acronyms.items():
        spots = [shape for seen, shape in zip(texts, shapes, strict=True) if seen == word]
        if spots and not (lenient and all(text_module._plain(shape) for shape in spots)):
            labels |= found
    for phrases in matcher._phrases.values():
        for tokens, found in phrases.items():
            if any(tuple(texts[i : i + len(tokens)]) == tokens for i in range(len(texts))):
                labels |= found
    squashed = "".join(texts)
    for needle, found in matcher._squashed.items():
        if needle in squashed:
            labels |= found
    return labels


@PROPERTY_SETTINGS
@given(text=mixed_texts() | st.text(max_size=60), lenient=st.booleans())
def test_the_fast_paths_find_what_every_term_finds(text: str, lenient: bool) -> None:
    assert text_module._fold_texts(text) == text_module._fold(text)[0]
    assert BACKSTOP.find(text, lenient=lenient) == _every_term(BACKSTOP, text, lenient=lenient)


@pytest.mark.parametrize(
    "text",
    [
        "Armed robbery of a gas station clerk on 3 May 2026; tattoo matches a booking.",
        "the U.S. Department of Homeland Security asked",
        "United States Immigration and Customs Enforcement",
        "Homeland Security Investigations and I.C.E. E.R.O.",
        "DepartmentofHomelandSecurity",
        "Home land Secur1ty",
        "HomelandSecurity Investigations",  # HSI only run together, inside DHS's term
        "U S Immigration and Customs Enforce ment",
        "slipped on ice at the Office of Field Operations",
        "ice and then ICE",
        "I C E",
    ],
)
def test_the_fast_paths_on_known_texts(text: str) -> None:
    for lenient in (False, True):
        assert BACKSTOP.find(text, lenient=lenient) == _every_term(BACKSTOP, text, lenient=lenient)


def test_each_run_together_term_is_tried_only_inside_one_it_contains() -> None:
    seen: list[str] = []
    guards: list[str] = []
    pending = list(BACKSTOP._needles)
    while pending:
        needle = pending.pop()
        if needle.labels:
            seen.append(needle.text)
            assert needle.labels == BACKSTOP._squashed[needle.text]
        else:  # a guard: a piece shared by the terms under it, itself no term
            guards.append(needle.text)
            assert needle.text not in BACKSTOP._squashed
            assert len(needle.within) >= text_module._GUARD_SHARED
        assert all(needle.text in inner.text for inner in needle.within)
        pending += needle.within
    assert sorted(seen) == sorted(BACKSTOP._squashed)  # every term once, none lost
    assert "immigration" in guards
    assert len(BACKSTOP._needles) < len(BACKSTOP._squashed) / 2  # an ordinary text tries few


def test_ascii_text_is_folded_by_its_table_exactly_as_character_by_character() -> None:
    """The byte tables stand in for the per-character fold on ASCII: the confusables table has no
    ASCII entry, and each ASCII character folds to exactly the one character its table gives."""
    assert not any(char.isascii() for char in text_module._CONFUSABLES)
    fold_char = text_module._fold_char.__wrapped__
    for code in range(128):
        assert text_module._ASCII_FOLD[code] == ord(fold_char(chr(code))), code
