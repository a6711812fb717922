"""The immigration registry and the proxy gate (IM-01, IM-06, IM-11): names, not declared types."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.immigration import (
    COMPONENTS,
    components_named,
    is_immigration_type,
    registry_terms,
)
from policies.model import PolicySet
from policies.services import decide, policy_set_load
from policies.text import _CONFUSABLES, fold_words
from policies.types import NON_OVERRIDABLE, Effect, ReasonCode
from tests.policies.conftest import APPROVED_VENDOR, LIBRARY, POLICE_REQUEST, request_with
from tests.policies.test_properties import KEYS, NOW, PROPERTY_SETTINGS, RECIPIENT_TYPES

COURT = request_with(
    POLICE_REQUEST,
    recipient={"type": "court", "name": "Milwaukee County Circuit Court", "ori": "WI040013J"},
    purpose="court.proceedings",
    case_number="2026CF001234",
)
WARRANT = {"kind": "judicial_warrant", "signed_by_judge": True, "verified_by": ["ann", "bo"]}
SPELLINGS = [(component.key, name) for component in COMPONENTS for name in component.names]


@pytest.fixture(scope="module")
def permissive(tmp_path_factory: pytest.TempPathFactory) -> PolicySet:
    """Library, an approved vendor and a hypothetical county agreement with DHS itself (so the
    front door can permit and the properties below are not passing only for want of one)."""
    tmp = tmp_path_factory.mktemp("permissive-immigration")
    (tmp / "vendor.yaml").write_text(APPROVED_VENDOR)
    dhs = (LIBRARY / "courts.yaml").read_text()
    (tmp / "dhs.yaml").write_text(
        dhs.replace("id: courts", "id: dhs").replace("type: court", "type: federal_immigration")
    )
    policy_set = policy_set_load(dirs=[LIBRARY, tmp])
    assert policy_set.valid, policy_set.problems
    return policy_set


def _decide(
    request: dict[str, Any], policy_set: PolicySet, **kwargs: Any
) -> Any:  # a Decision; Any keeps the call sites short
    return decide(request=request, policy_set=policy_set, keys=KEYS, now=NOW, **kwargs)


def _codes(decision: Any) -> set[ReasonCode]:
    return {r.code for r in decision.reasons}


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


NOT_IMMIGRATION = [t for t in RECIPIENT_TYPES if t != "federal_immigration"]
DOCUMENTS = st.sampled_from([[], [WARRANT], [{"kind": "court_order", **WARRANT}]])


@PROPERTY_SETTINGS
@given(
    case=spelled(),
    where=st.sampled_from(["recipient", "on_behalf_of"]),
    recipient_type=st.sampled_from(NOT_IMMIGRATION),
    behalf_type=st.sampled_from(RECIPIENT_TYPES),
    documents=DOCUMENTS,
    reviewed_by=st.sampled_from([None, "compliance.officer"]),
    proxy_registered=st.booleans(),
)
def test_a_disguised_or_proxy_immigration_request_is_never_permitted(
    case, where, recipient_type, behalf_type, documents, reviewed_by, proxy_registered, permissive
) -> None:
    """Whatever type the requester declares, whatever warrant it carries, whoever reviews it."""
    _key, _name, spelling = case
    request = request_with(COURT, documents=documents)
    request["recipient"]["type"] = recipient_type
    if where == "recipient":
        request["recipient"]["name"] = spelling
    else:
        request["on_behalf_of"] = {"type": behalf_type, "name": spelling}
    decision = _decide(
        request, permissive, reviewed_by=reviewed_by, proxy_registered=proxy_registered
    )
    assert decision.effect is Effect.DENY, spelling
    assert ReasonCode.DENY_IMMIGRATION_PROXY in _codes(decision), spelling
    assert not decision.overridable
    assert NON_OVERRIDABLE in decision.flags
    assert decision.released == ()


@PROPERTY_SETTINGS
@given(case=spelled(), documents=DOCUMENTS, reviewed_by=st.sampled_from([None, "c.officer"]))
def test_the_front_door_has_no_agreement_in_the_library(
    case, documents, reviewed_by, library_set
) -> None:
    """Named honestly as a federal_immigration recipient: still never permitted by the library."""
    _key, _name, spelling = case
    request = request_with(COURT, documents=documents)
    request["recipient"] = {"type": "federal_immigration", "name": spelling}
    decision = _decide(request, library_set, reviewed_by=reviewed_by, proxy_registered=True)
    assert decision.effect is not Effect.PERMIT


@PROPERTY_SETTINGS
@given(case=spelled())
def test_an_immigration_name_in_the_narrative_goes_to_review(case, library_set) -> None:
    """The keyword backstop (IM-11c): review, flagged, nothing released; a plain-typed acronym
    ("ice", "Ice") in running text stays an ordinary word, as it always was."""
    _key, name, spelling = case
    narrative = f"Armed robbery of a gas station clerk; {spelling} called about the suspect."
    decision = _decide(request_with(POLICE_REQUEST, narrative=narrative), library_set)
    acronym = name.isupper() and name.isalpha() and len(name) <= 5
    typed_plainly = spelling.isascii() and spelling.isalpha() and not spelling.isupper()
    if acronym and typed_plainly:
        assert decision.effect in {Effect.PERMIT, Effect.REVIEW}
        return
    assert decision.effect is Effect.REVIEW, spelling
    assert decision.flags == ("immigration_keyword",)
    assert decision.released == ()


# --- the gate, case by case --------------------------------------------------------------------


def test_a_court_asking_on_behalf_of_dhs_is_denied(library_set) -> None:
    """The reported defect: this request was released addresses, release dates and custody."""
    request = request_with(
        COURT, on_behalf_of={"type": "court", "name": "Department of Homeland Security"}
    )
    decision = _decide(
        request, library_set, reviewed_by="compliance.officer", proxy_registered=True
    )
    assert decision.effect is Effect.DENY
    assert decision.released == ()
    proxy = next(r for r in decision.reasons if r.code is ReasonCode.DENY_IMMIGRATION_PROXY)
    assert proxy.rule == "IM-11"
    assert "DHS" in proxy.message
    assert proxy.flags == ("immigration_proxy", NON_OVERRIDABLE)
    assert not decision.overridable
    # It is immigration-involved, so the IM-01 gate speaks too.
    assert ReasonCode.DENY_IMMIGRATION_NO_JUDICIAL_AUTHORITY in _codes(decision)


def test_a_verified_warrant_does_not_open_a_side_door(permissive) -> None:
    request = request_with(
        COURT, documents=[WARRANT], on_behalf_of={"type": "court", "name": "I.C.E."}
    )
    decision = _decide(request, permissive, reviewed_by="c.officer", proxy_registered=True)
    assert _codes(decision) == {ReasonCode.DENY_IMMIGRATION_PROXY}


def test_an_honest_immigration_principal_is_a_side_door_too(library_set) -> None:
    request = request_with(
        POLICE_REQUEST, on_behalf_of={"type": "federal_immigration", "name": "Field Office 7"}
    )
    decision = _decide(request, library_set, proxy_registered=True)
    assert ReasonCode.DENY_IMMIGRATION_PROXY in _codes(decision)
    assert "of type federal_immigration" in decision.reasons[0].message


def test_a_misspelt_immigration_type_is_unknown_and_immigration(library_set) -> None:
    request = request_with(
        POLICE_REQUEST, on_behalf_of={"type": "Federal-Immigratіon", "name": "Field Office 7"}
    )
    codes = _codes(_decide(request, library_set, proxy_registered=True))
    assert {
        ReasonCode.DENY_UNKNOWN_RECIPIENT_TYPE,
        ReasonCode.DENY_IMMIGRATION_PROXY,
        ReasonCode.DENY_IMMIGRATION_NO_JUDICIAL_AUTHORITY,
    } <= codes


def test_a_recipient_type_that_names_dhs_is_unknown_and_immigration(library_set) -> None:
    request = request_with(POLICE_REQUEST, recipient={"type": "DHS", "name": "Field Office 7"})
    codes = _codes(_decide(request, library_set))
    assert {ReasonCode.DENY_UNKNOWN_RECIPIENT_TYPE, ReasonCode.DENY_IMMIGRATION_PROXY} <= codes


def test_the_front_door_is_not_a_proxy(permissive) -> None:
    """A federal_immigration recipient named ICE goes through IM-01 and the backstop, and with a
    verified warrant under a (hypothetical) county agreement only a reviewer can release."""
    request = request_with(
        COURT, recipient={"type": "federal_immigration", "name": "ICE ERO"}, documents=[WARRANT]
    )
    decision = _decide(request, permissive)
    assert decision.effect is Effect.REVIEW
    assert _codes(decision) == {ReasonCode.REVIEW_IMMIGRATION_KEYWORD}
    reviewed = _decide(request, permissive, reviewed_by="c.officer")
    assert reviewed.permitted
    assert "address" not in reviewed.released[0]["person"]  # IM-05 still applies


@pytest.mark.parametrize(
    "code",
    [
        ReasonCode.DENY_IMMIGRATION_PROXY,
        ReasonCode.DENY_IMMIGRATION_PURPOSE,
        ReasonCode.DENY_IMMIGRATION_NO_JUDICIAL_AUTHORITY,
        ReasonCode.DENY_ADMINISTRATIVE_WARRANT,
    ],
)
def test_the_immigration_gate_is_not_overridable(code: ReasonCode) -> None:
    from policies.reasons import reason

    assert NON_OVERRIDABLE in reason(code, "m").flags


def test_ordinary_denials_stay_overridable(library_set) -> None:
    decision = _decide(request_with(POLICE_REQUEST, case_number=""), library_set)
    assert decision.effect is Effect.DENY
    assert decision.overridable
    assert NON_OVERRIDABLE not in decision.flags


# --- unregistered proxies ----------------------------------------------------------------------

STATE_PATROL = {"type": "state_le", "name": "Wisconsin State Patrol"}


def test_an_unregistered_proxy_goes_to_review(library_set) -> None:
    request = request_with(POLICE_REQUEST, on_behalf_of=STATE_PATROL)
    decision = decide(request=request, policy_set=library_set, keys=KEYS, now=NOW)  # default
    assert decision.effect is Effect.REVIEW
    assert _codes(decision) == {ReasonCode.REVIEW_PROXY_UNREGISTERED}
    assert decision.flags == ("unregistered_proxy",)
    assert decision.released == ()
    assert decision.obligations.human_review_required


def test_a_registered_proxy_is_decided_by_the_agreement(library_set) -> None:
    request = request_with(POLICE_REQUEST, on_behalf_of=STATE_PATROL)
    assert _decide(request, library_set, proxy_registered=True).permitted


def test_a_reviewer_can_clear_an_unregistered_proxy(library_set) -> None:
    request = request_with(POLICE_REQUEST, on_behalf_of=STATE_PATROL)
    decision = _decide(request, library_set, reviewed_by="compliance.officer")
    assert decision.permitted
    assert [r.code for r in decision.reasons] == [
        ReasonCode.REVIEW_PROXY_UNREGISTERED,
        ReasonCode.PERMIT_AGREEMENT,
    ]
    assert decision.obligations.human_review_required
    assert decision.flags == ("unregistered_proxy",)


def test_both_review_reasons_are_kept(library_set) -> None:
    request = request_with(
        POLICE_REQUEST,
        on_behalf_of={"type": "state_le", "name": "Wisconsin State Patrol"},
        narrative="Armed robbery; a deportation officer asked us to find the suspect quickly.",
    )
    decision = _decide(request, library_set)
    assert decision.effect is Effect.REVIEW
    assert decision.flags == ("immigration_keyword", "unregistered_proxy")
    assert "Wisconsin State Patrol" in decision.reasons[1].message


def test_an_unnamed_proxy_is_named_as_such(library_set) -> None:
    request = request_with(POLICE_REQUEST, on_behalf_of={"type": "state_le"})
    decision = _decide(request, library_set)
    assert "(no name)" in decision.reasons[0].message


def test_a_proxy_decision_needs_the_request_unchanged(library_set) -> None:
    """``proxy_registered`` is the caller's word; nothing in the request body can set it."""
    request = copy.deepcopy(request_with(POLICE_REQUEST, on_behalf_of=STATE_PATROL))
    request["proxy_registered"] = True
    request["on_behalf_of"]["registered"] = True
    assert _decide(request, library_set).effect is Effect.REVIEW
