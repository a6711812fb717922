"""The federal immigration components, by every name and abbreviation they go by (IM-06, IM-11).

A requester declares its own type, so "court" or "local_le" proves nothing: the names are what give a
disguised or side-door request away (IM-11). The engine matches the recipient's and the
on-behalf-of agency's names against this registry in folded form (``policies.text``), so dotted,
digit-substituted, look-alike or fullwidth spellings match too, while words that merely contain an
abbreviation ("police", "device", "justice") do not. The registry is code, not configuration: a
policy file can add keywords to the backstop but cannot take a component out of this list.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from policies.text import TermMatcher, fold_key
from policies.types import RecipientType

__all__ = [
    "COMPONENTS",
    "Component",
    "components_named",
    "is_immigration_type",
    "registry_terms",
]


@dataclass(frozen=True, slots=True)
class Component:
    """One federal immigration component: its short key, its full name, and all its spellings."""

    key: str
    name: str
    parent: str | None
    names: tuple[str, ...]


COMPONENTS: tuple[Component, ...] = (
    Component(
        "DHS",
        "U.S. Department of Homeland Security",
        None,
        (
            "DHS",
            "USDHS",
            "Department of Homeland Security",
            "U.S. Department of Homeland Security",
            "United States Department of Homeland Security",
            "Homeland Security",
        ),
    ),
    Component(
        "DHS I&A",
        "DHS Office of Intelligence and Analysis",
        "DHS",
        ("Office of Intelligence and Analysis",),
    ),
    Component(
        "OBIM",
        "DHS Office of Biometric Identity Management (runs IDENT, IM-12)",
        "DHS",
        ("OBIM", "Office of Biometric Identity Management"),
    ),
    Component(
        "ICE",
        "U.S. Immigration and Customs Enforcement",
        "DHS",
        (
            "ICE",
            "USICE",
            "Immigration and Customs Enforcement",
            "Immigration & Customs Enforcement",
            "U.S. Immigration and Customs Enforcement",
            "United States Immigration and Customs Enforcement",
        ),
    ),
    Component(
        "ERO",
        "ICE Enforcement and Removal Operations",
        "ICE",
        (
            "ERO",
            "Enforcement and Removal Operations",
            "Enforcement & Removal Operations",
            "Detention and Removal Operations",
        ),
    ),
    Component(
        "HSI",
        "ICE Homeland Security Investigations",
        "ICE",
        ("HSI", "Homeland Security Investigations"),
    ),
    Component(
        "OPLA",
        "ICE Office of the Principal Legal Advisor (ICE's lawyers in immigration court)",
        "ICE",
        ("OPLA", "Office of the Principal Legal Advisor"),
    ),
    Component(
        "LESC",
        "ICE Law Enforcement Support Center (immigration status checks)",
        "ICE",
        ("LESC", "Law Enforcement Support Center"),
    ),
    Component(
        "SEVP",
        "ICE Student and Exchange Visitor Program",
        "ICE",
        ("SEVP", "Student and Exchange Visitor Program"),
    ),
    Component(
        "287(g)",
        "ICE 287(g) agreements and task forces (local officers deputised by ICE)",
        "ICE",
        ("287(g)", "287g"),  # "287(g) task force" and the like contain it
    ),
    Component(
        "CBP",
        "U.S. Customs and Border Protection",
        "DHS",
        (
            "CBP",
            "Customs and Border Protection",
            "Customs & Border Protection",
            "U.S. Customs and Border Protection",
            "United States Customs and Border Protection",
        ),
    ),
    Component(
        "USBP",
        "CBP U.S. Border Patrol",
        "CBP",
        ("USBP", "Border Patrol", "U.S. Border Patrol", "United States Border Patrol", "BORTAC"),
    ),
    Component(
        "OFO",
        "CBP Office of Field Operations",
        "CBP",
        ("OFO", "Office of Field Operations"),
    ),
    Component(
        "AMO",
        "CBP Air and Marine Operations",
        "CBP",
        ("Air and Marine Operations",),
    ),
    Component(
        "USCIS",
        "U.S. Citizenship and Immigration Services",
        "DHS",
        (
            "USCIS",
            "Citizenship and Immigration Services",
            "U.S. Citizenship and Immigration Services",
            "Immigration and Naturalization Service",
        ),
    ),
    Component(
        "EOIR",
        "Executive Office for Immigration Review (immigration courts; DOJ)",
        None,
        (
            "EOIR",
            "Executive Office for Immigration Review",
            "Immigration Court",
            "Immigration Judge",
            "Board of Immigration Appeals",
        ),
    ),
)

_MATCHER = TermMatcher(
    (component.key, spelling) for component in COMPONENTS for spelling in component.names
)
_IMMIGRATION_TYPE = fold_key(RecipientType.FEDERAL_IMMIGRATION)


@lru_cache(maxsize=4096)
def components_named(text: str) -> tuple[str, ...]:
    """Keys of the components ``text`` names, in registry order (empty if none).

    Strict: an agency name is short and chosen by the requester, so "ice" counts as much as "ICE".
    Remembered, since the same agency names come back request after request.
    """
    found = _MATCHER.find(text)
    return tuple(component.key for component in COMPONENTS if component.key in found)


def is_immigration_type(value: str) -> bool:
    """``federal_immigration`` however it is spelled ("Federal-Immigration", look-alike letters).

    The exact spelling is still required for the type to be known; this only stops a misspelt type
    from hiding that the request involves immigration enforcement.
    """
    return fold_key(value) == _IMMIGRATION_TYPE


def registry_terms() -> tuple[tuple[str, str], ...]:
    """Every (component key, spelling) pair, for the keyword backstop's matcher."""
    return tuple((c.key, spelling) for c in COMPONENTS for spelling in c.names)
