"""Plain values that cross the boundary between ``policies`` and its callers.

Only frozen dataclasses, enums and JSON-able dicts leave this package, never ORM objects, so the gateway
and the policy engine can evolve separately (house style B2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "ADMINISTRATIVE_FORMS",
    "CHARGE_FIELDS",
    "CIVIL_IMMIGRATION_KINDS",
    "FIELD_KINDS",
    "NON_OVERRIDABLE",
    "PERSON_FIELDS",
    "RECORD_FIELDS",
    "Decision",
    "DocumentKind",
    "Effect",
    "FieldTag",
    "Mode",
    "Obligations",
    "Op",
    "Reason",
    "ReasonCode",
    "RecipientType",
]


class Effect(StrEnum):
    """Outcome of a decision. ``review`` means a person must decide; nothing is released meanwhile."""

    PERMIT = "permit"
    DENY = "deny"
    REVIEW = "review"


class RecipientType(StrEnum):
    """Who receives the data. Spelled exactly as the request JSON spells them."""

    COUNTY = "county"
    LOCAL_LE = "local_le"
    STATE_LE = "state_le"
    FEDERAL_LE = "federal_le"
    FEDERAL_IMMIGRATION = "federal_immigration"
    VENDOR = "vendor"
    COURT = "court"
    DEFENSE = "defense"
    PUBLIC = "public"


class Mode(StrEnum):
    """How the request is run; watch-list and stream are surveillance modes (FR-04) and always refused."""

    SINGLE = "single"
    BATCH = "batch"
    WATCHLIST = "watchlist"
    STREAM = "stream"


class DocumentKind(StrEnum):
    """Legal process attached to a request."""

    JUDICIAL_WARRANT = "judicial_warrant"
    COURT_ORDER = "court_order"
    SUBPOENA = "subpoena"
    ADMINISTRATIVE_WARRANT = "administrative_warrant"
    DETAINER = "detainer"
    # Issued by an agency, not a court (ICE's I-138 and the like): never a basis for release (IM-01).
    ADMINISTRATIVE_SUBPOENA = "administrative_subpoena"
    # Each civil immigration form as a kind of its own, so intake classifies a paper in one field; the
    # engine treats each exactly as the same name in ``form`` (IM-01: issued by immigration officers).
    I_200 = "i-200"
    I_203 = "i-203"
    I_205 = "i-205"
    I_286 = "i-286"
    I_247A = "i-247a"
    I_247D = "i-247d"
    I_247N = "i-247n"
    OTHER = "other"


class Op(StrEnum):
    """Field transform operators a policy may name."""

    KEEP = "keep"
    DROP = "drop"
    REDACT = "redact"
    PSEUDONYM = "pseudonym"
    GENERALIZE = "generalize"
    DATE_SHIFT = "date_shift"
    MASK = "mask"
    ENCRYPT = "encrypt"


class FieldTag(StrEnum):
    """Sensitivity tags the county keeps per field, as data (issue 2); agreements name them.

    Spelled as the gateway stores them. Tags only ever take fields out of a release: a field tagged
    ``immigration_sensitive`` joins the engine's immigration-sensitive set (IM-05), and an agreement
    purpose's ``exclude_tags`` drops every field carrying one of the named tags.
    """

    DIRECT_IDENTIFIER = "direct_identifier"
    QUASI_IDENTIFIER = "quasi_identifier"
    PROTECTED_TRAIT = "protected_trait"
    IMMIGRATION_SENSITIVE = "immigration_sensitive"


class ReasonCode(StrEnum):
    """Stable reason codes carried by every decision reason (the compliance dashboard groups by them)."""

    PERMIT_AGREEMENT = "PERMIT_AGREEMENT"
    DENY_DEFAULT = "DENY_DEFAULT"
    DENY_POLICY_INVALID = "DENY_POLICY_INVALID"
    DENY_ENGINE_ERROR = "DENY_ENGINE_ERROR"
    DENY_REQUEST_MALFORMED = "DENY_REQUEST_MALFORMED"
    DENY_UNKNOWN_RECIPIENT_TYPE = "DENY_UNKNOWN_RECIPIENT_TYPE"
    DENY_UNKNOWN_PURPOSE = "DENY_UNKNOWN_PURPOSE"
    DENY_ON_BEHALF_OF_MISSING = "DENY_ON_BEHALF_OF_MISSING"
    DENY_PROXY_NOT_ALLOWED = "DENY_PROXY_NOT_ALLOWED"
    DENY_SURVEILLANCE_MODE = "DENY_SURVEILLANCE_MODE"
    DENY_BATCH_NOT_PERMITTED = "DENY_BATCH_NOT_PERMITTED"
    DENY_IMMIGRATION_PURPOSE = "DENY_IMMIGRATION_PURPOSE"
    DENY_IMMIGRATION_PROXY = "DENY_IMMIGRATION_PROXY"
    DENY_IMMIGRATION_NO_JUDICIAL_AUTHORITY = "DENY_IMMIGRATION_NO_JUDICIAL_AUTHORITY"
    DENY_ADMINISTRATIVE_WARRANT = "DENY_ADMINISTRATIVE_WARRANT"
    DENY_NO_CASE_NUMBER = "DENY_NO_CASE_NUMBER"
    DENY_OFFENSE_NOT_ELIGIBLE = "DENY_OFFENSE_NOT_ELIGIBLE"
    DENY_NARRATIVE_TOO_SHORT = "DENY_NARRATIVE_TOO_SHORT"
    DENY_DOCUMENT_MISSING = "DENY_DOCUMENT_MISSING"
    DENY_NO_AGREEMENT = "DENY_NO_AGREEMENT"
    DENY_AGREEMENT_NOT_ACTIVE = "DENY_AGREEMENT_NOT_ACTIVE"
    DENY_NO_APPROVAL_REFERENCE = "DENY_NO_APPROVAL_REFERENCE"
    DENY_IN_KIND_CONSIDERATION = "DENY_IN_KIND_CONSIDERATION"
    DENY_TOO_MANY_RECORDS = "DENY_TOO_MANY_RECORDS"
    DENY_FORBIDDEN = "DENY_FORBIDDEN"
    DENY_KEY_MISSING = "DENY_KEY_MISSING"
    DENY_FIELD_TAGS_MISSING = "DENY_FIELD_TAGS_MISSING"
    DENY_NO_FIELDS_RELEASABLE = "DENY_NO_FIELDS_RELEASABLE"
    REVIEW_IMMIGRATION_KEYWORD = "REVIEW_IMMIGRATION_KEYWORD"
    REVIEW_PROXY_UNREGISTERED = "REVIEW_PROXY_UNREGISTERED"
    REVIEW_COURT_ORDER = "REVIEW_COURT_ORDER"


# Flag on a reason (and on its decision) that no reviewer, appeal or override may turn into a permit:
# the immigration gate (IM-01, IM-04, IM-11) is law the county applies, not a judgement call.
NON_OVERRIDABLE = "non_overridable"

# Administrative immigration papers: issued by immigration officers without a neutral magistrate (IM-01).
ADMINISTRATIVE_FORMS: frozenset[str] = frozenset(
    {
        "I-200",
        "I-203",
        "I-205",
        "I-247",
        "I-247A",
        "I-247D",
        "I-247N",
        "I-286",
        "NCIC_IVF",
        "NCIC IVF",
    }
)

# The civil immigration forms that are document kinds of their own (DocumentKind.I_200 ...).
CIVIL_IMMIGRATION_KINDS: frozenset[str] = frozenset(
    str(kind) for kind in DocumentKind if kind.value.upper() in ADMINISTRATIVE_FORMS
)

# The exported booking record shape; a release keeps these names for the fields it keeps.
RECORD_FIELDS: tuple[str, ...] = (
    "booking_number",
    "booked_at",
    "released_at",
    "arresting_agency",
    "booking_agency",
    "custody_status",
    "housing",
)
PERSON_FIELDS: tuple[str, ...] = (
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "date_of_birth",
    "age",
    "sex",
    "race",
    "ethnicity",
    "address",
    "zip",
    "state_id",
    "fbi_number",
    "drivers_license",
    "ssn",
)
CHARGE_FIELDS: tuple[str, ...] = ("statute", "description", "level", "disposition", "bond_amount")

# What kind of value each releasable field path holds; it decides which operators a policy may use on it.
FIELD_KINDS: dict[str, str] = {
    "booking_number": "text",
    "booked_at": "datetime",
    "released_at": "datetime",
    "arresting_agency": "text",
    "booking_agency": "text",
    "custody_status": "text",
    "housing": "text",
    **{f"person.{name}": "text" for name in PERSON_FIELDS},
    "person.date_of_birth": "date",
    "person.age": "number",
    "person.zip": "zip",
    **{f"charges.{name}": "text" for name in CHARGE_FIELDS},
    "charges.bond_amount": "number",
}


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a decision came out as it did.

    ``would_need`` is the counterfactual: one plain sentence saying what would have had to be true for
    the request to pass this rule, so a clerk can tell a requester what is missing without guessing.
    """

    rule: str
    code: ReasonCode
    effect: Effect
    message: str
    would_need: str
    citation: str
    flags: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "code": str(self.code),
            "effect": str(self.effect),
            "message": self.message,
            "would_need": self.would_need,
            "citation": self.citation,
            "flags": list(self.flags),
        }


@dataclass(frozen=True, slots=True)
class Obligations:
    """Duties the enforcement point must fulfil before data leaves; if it cannot, it must not release."""

    fields: dict[str, str] = field(default_factory=dict)
    max_records: int = 0
    retention_days: int = 0
    human_review_required: bool = False
    # Different staff members who must approve before data leaves (four-eyes when 2); 0: no approval.
    approvers_required: int = 0
    labels: tuple[str, ...] = ()
    agreement: str | None = None
    key_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "fields": dict(self.fields),
            "max_records": self.max_records,
            "retention_days": self.retention_days,
            "human_review_required": self.human_review_required,
            "approvers_required": self.approvers_required,
            "labels": list(self.labels),
            "agreement": self.agreement,
            "key_id": self.key_id,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to one release request. ``released`` is empty unless the effect is permit."""

    effect: Effect
    reasons: tuple[Reason, ...]
    obligations: Obligations
    excluded: dict[str, int]
    released: tuple[dict[str, Any], ...]
    policy_version: str
    flags: tuple[str, ...] = ()

    @property
    def permitted(self) -> bool:
        return self.effect is Effect.PERMIT

    @property
    def overridable(self) -> bool:
        """False when a reason is flagged ``non_overridable``: then no reviewer, appeal or
        compliance override may release anything for this request; only a new, different request
        can be decided differently."""
        return not any(NON_OVERRIDABLE in reason.flags for reason in self.reasons)

    def as_dict(self) -> dict[str, Any]:
        """The decision JSON documented in docs/policies.md."""
        return {
            "effect": str(self.effect),
            "reasons": [reason.as_dict() for reason in self.reasons],
            "obligations": self.obligations.as_dict(),
            "excluded": dict(self.excluded),
            "released": list(self.released),
            "policy_version": self.policy_version,
            "flags": list(self.flags),
        }
