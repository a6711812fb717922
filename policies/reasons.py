"""Reason texts: for every reason code, its rules.md rule id, a citation and the counterfactual.

Kept apart from the rules so the wording a clerk reads can be reviewed on its own; every decision
reason is built here, so no reason can lack a rule id or a "what would have had to be true" sentence.
"""

from __future__ import annotations

from policies.types import NON_OVERRIDABLE, Effect, Reason, ReasonCode

__all__ = ["reason"]

# code -> (rule id, citation, what would have had to be true)
_TEXT: dict[ReasonCode, tuple[str, str, str]] = {
    ReasonCode.DENY_POLICY_INVALID: (
        "GOV-04",
        "rules.md GOV-04 (enforced policy = published policy)",
        "The policy files would have had to load without a single validation problem.",
    ),
    ReasonCode.DENY_ENGINE_ERROR: (
        "CJ-01",
        "governance.md 3.3 (errors fail closed)",
        "Evaluation would have had to finish without an internal error.",
    ),
    ReasonCode.DENY_REQUEST_MALFORMED: (
        "FR-09",
        "rules.md FR-09 (written, structured request)",
        "The request would have had to follow the documented request JSON.",
    ),
    ReasonCode.DENY_UNKNOWN_RECIPIENT_TYPE: (
        "IM-06",
        "rules.md IM-06, IM-11(b) (every client classified)",
        "The recipient (and any on-behalf-of agency) would have had to be of a known recipient type.",
    ),
    ReasonCode.DENY_UNKNOWN_PURPOSE: (
        "FR-15",
        "rules.md FR-09, FR-15 (purpose from the authorized list)",
        "The purpose would have had to be a code in the county's purpose catalog.",
    ),
    ReasonCode.DENY_ON_BEHALF_OF_MISSING: (
        "IM-11",
        "rules.md IM-11(b), FR-12 (on-behalf-of required)",
        "The request would have had to say on whose behalf it is made (null for the requester itself).",
    ),
    ReasonCode.DENY_PROXY_NOT_ALLOWED: (
        "FR-12",
        "rules.md FR-12, IM-11 (no side-door requests)",
        "The agreement would have had to allow requests on behalf of that kind of agency.",
    ),
    ReasonCode.DENY_SURVEILLANCE_MODE: (
        "FR-04",
        "rules.md FR-04 (no surveillance, real-time identification or tracking)",
        "The request would have had to be a single, case-bound request, not a watch-list or stream.",
    ),
    ReasonCode.DENY_BATCH_NOT_PERMITTED: (
        "FR-04",
        "rules.md FR-04, IM-11(g) (no bulk search)",
        "The recipient's agreement would have had to permit batch mode for this purpose.",
    ),
    ReasonCode.DENY_IMMIGRATION_PURPOSE: (
        "IM-04",
        "rules.md IM-04, FR-05 (databases closed to immigration enforcement)",
        "The purpose would have had to be something other than immigration enforcement.",
    ),
    ReasonCode.DENY_IMMIGRATION_PROXY: (
        "IM-11",
        "rules.md IM-11, IM-06 (no proxy, side-door or disguised requests for immigration agencies)",
        "Neither the recipient's name nor its principal would have had to be a federal immigration "
        "component; an immigration agency can only ask as a federal_immigration recipient, with "
        "judicial authority (IM-01).",
    ),
    ReasonCode.DENY_IMMIGRATION_NO_JUDICIAL_AUTHORITY: (
        "IM-01",
        "rules.md IM-01 (only a judicial warrant or court order unlocks disclosure)",
        "A judicial warrant or court order signed by a judge and verified by two different people "
        "would have had to be attached.",
    ),
    ReasonCode.DENY_ADMINISTRATIVE_WARRANT: (
        "IM-01",
        "rules.md IM-01; ICE Policy 10074.2 (I-200, I-205, I-247A are not judicial)",
        "The legal process would have had to be a judicial warrant or court order, not an "
        "administrative immigration form or detainer.",
    ),
    ReasonCode.DENY_NO_CASE_NUMBER: (
        "FR-09",
        "rules.md FR-09(ii) (case identification number)",
        "The request would have had to carry a case number.",
    ),
    ReasonCode.DENY_OFFENSE_NOT_ELIGIBLE: (
        "FR-11",
        "rules.md FR-11 (serious-crime gate)",
        "The offense statute would have had to be on the purpose's eligible offense list.",
    ),
    ReasonCode.DENY_NARRATIVE_TOO_SHORT: (
        "FR-09",
        "rules.md FR-09(iii) (factual narrative, fair probability)",
        "The factual narrative would have had to meet the purpose's minimum length.",
    ),
    ReasonCode.DENY_DOCUMENT_MISSING: (
        "FR-14",
        "rules.md FR-14, IM-01 (legal basis document, two-person verification)",
        "A document of a kind the purpose requires, signed and verified as it requires, would have "
        "had to be attached.",
    ),
    ReasonCode.DENY_NO_AGREEMENT: (
        "CJ-07",
        "rules.md CJ-07, FR-10 (use limited to the agreement's stated purposes)",
        "An active agreement with this recipient would have had to cover this purpose.",
    ),
    ReasonCode.DENY_AGREEMENT_NOT_ACTIVE: (
        "GOV-01",
        "rules.md GOV-01 (no agreement without approval)",
        "The agreement would have had to be approved and marked active.",
    ),
    ReasonCode.DENY_NO_APPROVAL_REFERENCE: (
        "GOV-01",
        "rules.md GOV-01 (approval reference required)",
        "The vendor agreement would have had to carry a legislative approval reference.",
    ),
    ReasonCode.DENY_IN_KIND_CONSIDERATION: (
        "FR-13",
        "rules.md FR-13 (no data obtained through trade)",
        "The vendor agreement would have had to involve no in-kind consideration such as free access.",
    ),
    ReasonCode.DENY_TOO_MANY_RECORDS: (
        "IM-09",
        "rules.md IM-09 (collect and share the minimum)",
        "The request would have had to ask for no more records than the agreement's maximum.",
    ),
    ReasonCode.DENY_KEY_MISSING: (
        "CJ-05",
        "rules.md CJ-05, section 5 (keyed transforms only)",
        "The county key store would have had to hold the key the transforms need.",
    ),
    ReasonCode.DENY_FIELD_TAGS_MISSING: (
        "IM-09",
        "rules.md IM-09, IM-05 (fields minimised by their sensitivity tags)",
        "The county's field sensitivity tags would have had to be supplied, so the fields the "
        "agreement excludes by tag could be left out.",
    ),
    ReasonCode.DENY_NO_FIELDS_RELEASABLE: (
        "IM-09",
        "rules.md IM-09 (share the minimum, and never an empty answer that only confirms records)",
        "At least one requested field would have had to be on the agreement's allow-list and "
        "survive the immigration-sensitive fields and the field tags.",
    ),
    ReasonCode.DENY_DEFAULT: (
        "GOV-04",
        "governance.md 3.1 (default deny)",
        "Some policy would have had to permit the request.",
    ),
    ReasonCode.REVIEW_IMMIGRATION_KEYWORD: (
        "IM-11",
        "rules.md IM-11(c) (keyword backstop raises an alert)",
        "The purpose text and narrative would have had to contain no immigration-enforcement terms; "
        "a person must now review the request.",
    ),
    ReasonCode.REVIEW_PROXY_UNREGISTERED: (
        "IM-11",
        "rules.md IM-11(b), FR-12 (requests on another agency's behalf)",
        "The agency on whose behalf the request is made would have had to be a registered "
        "recipient itself; a person must now review the request.",
    ),
    ReasonCode.REVIEW_COURT_ORDER: (
        "IM-01",
        "rules.md IM-01 (a judicial warrant or court order is what unlocks disclosure)",
        "Nothing the requester can add: a verified judicial warrant or court order goes to compliance "
        "review, limited to the people and fields the order names, whatever the recipient's agreement.",
    ),
    ReasonCode.PERMIT_AGREEMENT: (
        "CJ-07",
        "rules.md CJ-07, FR-09, FR-10",
        "Nothing; the request met the agreement and its legal basis.",
    ),
}


# The immigration gate: whatever a reviewer, an appeal or an override might say, these stand.
_NON_OVERRIDABLE = frozenset(
    {
        ReasonCode.DENY_IMMIGRATION_PROXY,
        ReasonCode.DENY_IMMIGRATION_PURPOSE,
        ReasonCode.DENY_IMMIGRATION_NO_JUDICIAL_AUTHORITY,
        ReasonCode.DENY_ADMINISTRATIVE_WARRANT,
    }
)


def _effect(code: ReasonCode) -> Effect:
    if code.name.startswith("DENY"):
        return Effect.DENY
    if code.name.startswith("REVIEW"):
        return Effect.REVIEW
    return Effect.PERMIT


# Everything a reason takes from its code, worked out once: (rule id, citation, what would have had
# to be true, effect, flags every reason with this code carries).
_SPECS: dict[ReasonCode, tuple[str, str, str, Effect, tuple[str, ...]]] = {
    code: (
        *text,
        _effect(code),
        (NON_OVERRIDABLE,) if code in _NON_OVERRIDABLE else (),
    )
    for code, text in _TEXT.items()
}


def reason(code: ReasonCode, message: str, *, flags: tuple[str, ...] = ()) -> Reason:
    rule, citation, would_need, effect, own_flags = _SPECS[code]
    return Reason(
        rule=rule,
        code=code,
        effect=effect,
        message=message,
        would_need=would_need,
        citation=citation,
        flags=(*flags, *own_flags) if own_flags else flags,
    )
