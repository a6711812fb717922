"""The loaded, validated policy set as frozen values (built by ``policies.loader``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from policies.text import TermMatcher
from policies.transforms import FieldRule
from policies.types import Mode, ReasonCode, RecipientType

__all__ = ["Agreement", "AgreementPurpose", "Forbid", "PolicySet", "PurposeSpec"]


@dataclass(frozen=True, slots=True)
class PurposeSpec:
    """One purpose code with the legal basis it requires (inherited from its parents, then tightened)."""

    code: str
    description: str
    refused: bool = False
    case_number: bool = False
    offense_list: str | None = None
    narrative_min_length: int = 0
    documents_any_of: frozenset[str] = frozenset()
    documents_signed_by_judge: bool = False
    documents_verified_by: int = 0


@dataclass(frozen=True, slots=True)
class AgreementPurpose:
    """What one agreement allows for one purpose (and its sub-purposes)."""

    code: str
    modes: frozenset[Mode]
    max_records: int
    retention_days: int
    human_review: bool
    labels: tuple[str, ...]
    include_non_conviction: bool
    allow_on_behalf_of: frozenset[str]
    fields: tuple[FieldRule, ...]
    # Extra legal-basis requirements of this agreement on top of the purpose catalog's (sorted items).
    requires: tuple[tuple[str, Any], ...] = ()
    # Fields carrying any of these tags (the county's field_tags) never leave under this purpose.
    exclude_tags: frozenset[str] = frozenset()
    # How many different county staff must approve a request for this purpose (0: as human_review says).
    approvers: int = 0

    def covers(self, purpose: str) -> bool:
        return purpose == self.code or purpose.startswith(self.code + ".")


@dataclass(frozen=True, slots=True)
class Agreement:
    """A data-sharing agreement with one recipient type (optionally narrowed to names or ORIs)."""

    id: str
    source: str
    description: str
    recipient_type: str
    recipient_names: frozenset[str]
    recipient_oris: frozenset[str]
    status: str
    approval_reference: str | None
    consideration: str
    purposes: tuple[AgreementPurpose, ...]

    def standing_denials(self) -> tuple[tuple[ReasonCode, str], ...]:
        """Terms that deny every request under this agreement, whatever the request says.

        A vendor agreement needs a legislative approval reference (GOV-01) and may not trade data
        for in-kind consideration (FR-13). The engine denies with these reasons, and ``policy
        validate`` reports an agreement marked active that has any, since it can never be used:
        one list, so the validator and the engine cannot disagree.
        """
        if self.recipient_type != RecipientType.VENDOR:
            return ()
        denials = []
        if not self.approval_reference:
            denials.append((ReasonCode.DENY_NO_APPROVAL_REFERENCE, "has no approval reference"))
        if self.consideration.startswith("in_kind"):
            denials.append(
                (ReasonCode.DENY_IN_KIND_CONSIDERATION, f"trades data for {self.consideration}")
            )
        return tuple(denials)

    def matches(self, *, recipient_type: str, name: str, ori: str) -> bool:
        if recipient_type != self.recipient_type:
            return False
        if self.recipient_names and name.casefold() not in self.recipient_names:
            return False
        return not self.recipient_oris or ori.upper() in self.recipient_oris


@dataclass(frozen=True, slots=True)
class Forbid:
    """A county deny rule; it can only narrow access, never widen it."""

    id: str
    rule: str
    description: str
    would_need: str
    citation: str
    recipient_types: frozenset[str]
    recipient_names: frozenset[str]
    purposes: tuple[str, ...]
    modes: frozenset[str]


@dataclass(frozen=True)
class PolicySet:
    """Everything ``decide`` needs. ``problems`` non-empty means invalid: every request is denied."""

    version: str
    problems: tuple[str, ...]
    # Active agreements that deny every request all the same (``policy validate`` fails on them).
    contradictions: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    purposes: dict[str, PurposeSpec] = field(default_factory=dict)
    offense_lists: dict[str, frozenset[str]] = field(default_factory=dict)
    # The keyword backstop (IM-11c); ``None`` switches it off (only ever in tests).
    keywords: TermMatcher | None = None
    sensitive_fields: frozenset[str] = frozenset()
    agreements: tuple[Agreement, ...] = ()
    forbids: tuple[Forbid, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.problems
