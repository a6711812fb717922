"""The federal immigration registry (IM-06, IM-11): every name and spelling of every component."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.immigration import (
    COMPONENTS,
    components_named,
    is_immigration_type,
    registry_terms,
)
from policies.text import _CONFUSABLES, fold_words
from tests.policies.test_properties import PROPERTY_SETTINGS

SPELLINGS = [(component.key, name) for component in COMPONENTS for name in component.names]


# --- the registry ------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "name"), SPELLINGS)
def test_every_registry_spelling_names_its_component(key: str, name: str) -> None:
    assert key in components_named(name)
    assert key in components_named(f"Milwaukee office of the {name} (on duty)")


def test_the_backstop_gets_every_spelling() -> None:
    assert registry_terms() == tuple(SPELLINGS)


def test_long_names_are_long_enough_to_match_run_together() -> None:
    """Each multi-word spelling folds to 12 letters or more, so "H o m e land" still matches
    ("287(g)" is two words only because of its brackets, and matches as "287g" too)."""
    for _key, name in SPELLINGS:
        words = fold_words(name)
        if len(words) > 1 and name != "287(g)":
            assert len("".join(w.text for w in words)) >= 12, name


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("Department of Homeland Security", ("DHS",)),
        ("Homeland  Secur1ty", ("DHS",)),
        ("U.S. Dept. of H0meland $ecurity", ("DHS",)),
        ("I.C.E.", ("ICE",)),
        ("1CE", ("ICE",)),
        ("ІСЕ", ("ICE",)),  # Cyrillic
        ("ICE ERO Chicago", ("ICE", "ERO")),
        ("Homeland Security Investigations", ("DHS", "HSI")),
        ("U.S. Border Patrol, Sector Milwaukee", ("USBP",)),
        ("Chicago Immigration Court", ("EOIR",)),
        ("Sheriff's 287(g) task force", ("287(g)",)),
        ("ＵＳＣＩＳ Field Office", ("USCIS",)),
        ("Office of Field Operations", ("OFO",)),
    ],
)
def test_components_named(text: str, keys: tuple[str, ...]) -> None:
    assert components_named(text) == keys


ORDINARY = [
    "Madison Police Department",
    "Milwaukee Police Department",
    "Office of the Public Defender",
    "Device Forensics Unit",
    "Justice Court",
    "Milwaukee County Circuit Court",
    "Wisconsin State Patrol",
    "FBI Milwaukee",
    "ATF Milwaukee",
    "Drug Enforcement Administration",
    "Biometrica",
    "Milwaukee County Sheriff's Office",
    "Office of the Clerk of Circuit Court",
    "Wauwatosa PD",
    "Notice Services",
    "Police Athletic League",
    "Erosion Control Board",
    "Hero Street Youth Center",
    "Chisholm & Associates",
]


@pytest.mark.parametrize("name", ORDINARY)
def test_ordinary_names_are_not_hit(name: str) -> None:
    assert components_named(name) == ()


VOCABULARY = [
    "Police",
    "Department",
    "County",
    "Sheriff",
    "Office",
    "of",
    "the",
    "Public",
    "Defender",
    "Device",
    "Forensics",
    "Justice",
    "Court",
    "Circuit",
    "State",
    "Patrol",
    "Bureau",
    "Investigation",
    "Clerk",
    "Municipal",
    "Probation",
    "Services",
    "District",
    "Attorney",
    "Milwaukee",
    "Madison",
    "Wisconsin",
    "Crime",
    "Lab",
    "Unit",
    "Drug",
    "Enforcement",
    "Administration",
    "Notice",
    "Juvenile",
    "Corrections",
    "Victim",
    "Witness",
    "and",
]


@PROPERTY_SETTINGS
@given(words=st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=6))
def test_names_made_of_ordinary_words_are_never_hit(words: list[str]) -> None:
    assert components_named(" ".join(words)) == ()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("federal_immigration", True),
        ("Federal Immigration", True),
        ("FEDERAL-IMMIGRATION", True),
        ("federal_immіgration", True),  # Cyrillic "і"
        ("federal_le", False),
        ("immigration", False),
        ("", False),
    ],
)
def test_is_immigration_type(value: str, expected: bool) -> None:
    assert is_immigration_type(value) is expected


# --- obfuscated spellings (hypothesis) ---------------------------------------------------------

# Hand-picked look-alikes from other scripts (checked against the shipped table below).
LOOKALIKES = {
    "a": "а",
    "c": "сϲ",
    "d": "ԁ",
    "e": "е",
    "h": "һ",
    "i": "іι",
    "j": "ј",
    "o": "оο",
    "p": "р",
    "s": "ѕ",
    "x": "х",
    "y": "у",
    "A": "АΑ",
    "B": "ВΒ",
    "C": "СϹ",
    "E": "ЕΕ",
    "H": "НΗ",
    "I": "ІΙ",
    "J": "Ј",
    "K": "КΚ",
    "M": "МΜ",
    "N": "Ν",
    "O": "ОΟ",
    "P": "РΡ",
    "S": "Ѕ",
    "T": "ТΤ",
    "X": "ХΧ",
    "Y": "Υ",
    "Z": "Ζ",
}
DIGITS = {
    "o": "0",
    "i": "1",
    "l": "1",
    "e": "3",
    "a": "4@",
    "s": "5$",
    "t": "7",
    "b": "8",
    "g": "9",
}
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]
WORD_GAPS = [" ", "  ", "-", "_", ".", " - ", "\u00a0", "\u3000", "\u2003"]


def test_the_lookalikes_are_in_the_shipped_confusables_table() -> None:
    for letter, others in LOOKALIKES.items():
        for other in others:
            assert _CONFUSABLES[other].casefold() in {letter.casefold(), "l"}, (letter, other)


@st.composite
def _letter(draw: st.DrawFn, char: str) -> str:
    if not char.isalpha():
        return char
    char = draw(st.sampled_from([char.lower(), char.upper()]))
    how = draw(st.sampled_from(["as is", "as is", "lookalike", "digit", "fullwidth"]))
    if how == "lookalike" and char in LOOKALIKES:
        return draw(st.sampled_from(LOOKALIKES[char]))
    if how == "digit" and char.lower() in DIGITS:
        return draw(st.sampled_from(DIGITS[char.lower()]))
    if how == "fullwidth":
        return chr(ord(char) + 0xFEE0)
    return char


@st.composite
def obfuscated(draw: st.DrawFn, name: str) -> str:
    """``name`` respelt the ways a requester could: case, look-alikes, digits, fullwidth letters,
    invisible characters, dotted or spaced-out letters, and odd gaps between words."""
    words = []
    for word in name.split():
        letters = [draw(_letter(char)) for char in word]
        spacing = draw(st.sampled_from(["", "", "", ".", " "]))
        if spacing == "" and draw(st.booleans()):
            joined = ""
            for letter in letters:
                joined += letter + draw(st.sampled_from(["", "", *INVISIBLE]))
            words.append(joined)
        else:
            words.append(spacing.join(letters) + (spacing if spacing == "." else ""))
    gaps = [draw(st.sampled_from(WORD_GAPS)) for _ in words[1:]]
    return words[0] + "".join(gap + word for gap, word in zip(gaps, words[1:], strict=True))


@st.composite
def spelled(draw: st.DrawFn) -> tuple[str, str, str]:
    key, name = draw(st.sampled_from(SPELLINGS))
    return key, name, draw(obfuscated(name))


@PROPERTY_SETTINGS
@given(case=spelled())
def test_obfuscated_spellings_still_name_their_component(case: tuple[str, str, str]) -> None:
    key, _name, spelling = case
    assert key in components_named(spelling), spelling
