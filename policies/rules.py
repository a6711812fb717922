"""Decision rules: guardrails first, then county forbids, then the agreement and its legal basis.

Semantics (governance.md section 3): default deny; any deny overrides any permit; a review (keyword
backstop) overrides permit but not deny; guardrails are code, not configuration, so no policy file can
override them. Each reason names its rule id from rules.md, a citation and the counterfactual sentence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from policies.exceptions import KeyStoreError
from policies.immigration import components_named, is_immigration_type
from policies.keys import KeyStore
from policies.loader import IMMIGRATION_PURPOSE_ROOT, purpose_tighten, statute_key
from policies.model import Agreement, AgreementPurpose, PolicySet, PurposeSpec
from policies.reasons import reason
from policies.records import record_exclusion
from policies.tags import FieldTags, tagged_out
from policies.transforms import FieldRule, plan_get
from policies.types import (
    ADMINISTRATIVE_FORMS,
    CIVIL_IMMIGRATION_KINDS,
    FIELD_KINDS,
    Decision,
    DocumentKind,
    Effect,
    Mode,
    Obligations,
    Op,
    Reason,
    ReasonCode,
    RecipientType,
)

__all__ = [
    "OrderScope",
    "RequestView",
    "evaluate",
    "is_administrative",
    "order_scope",
    "record_exclusion",
    "request_view",
]

_RECIPIENT_TYPES = frozenset(str(member) for member in RecipientType)
_MODES = frozenset(str(member) for member in Mode)
_SURVEILLANCE_MODES = frozenset({str(Mode.WATCHLIST), str(Mode.STREAM)})
_JUDICIAL = frozenset({str(DocumentKind.JUDICIAL_WARRANT), str(DocumentKind.COURT_ORDER)})
_ADMINISTRATIVE_KINDS = frozenset(
    {
        str(DocumentKind.ADMINISTRATIVE_WARRANT),
        str(DocumentKind.DETAINER),
        str(DocumentKind.ADMINISTRATIVE_SUBPOENA),
        *CIVIL_IMMIGRATION_KINDS,
    }
)
_COURT_ORDER_LABEL = (
    "COURT ORDER: compliance review, limited to the people and fields it names (IM-01)"
)
_NON_CONVICTION_TYPES = frozenset({str(RecipientType.VENDOR), str(RecipientType.PUBLIC)})


class RequestView(NamedTuple):
    """The request reduced to the values the rules read; built once, so rules stay simple lookups.

    Immutable like a frozen dataclass, and built several times faster (one per decision)."""

    recipient_type: str
    recipient_name: str
    recipient_ori: str
    has_on_behalf_of: bool
    on_behalf_of_type: str | None
    on_behalf_of_name: str
    purpose: str
    case_number: str
    offense_statute: str
    narrative: str
    mode: str
    documents: tuple[Mapping[str, Any], ...]
    fields: tuple[str, ...] | None
    records: Sequence[Any]
    # Federal immigration components named by the recipient or the on-behalf-of agency (IM-11).
    recipient_components: tuple[str, ...] = ()
    behalf_components: tuple[str, ...] = ()

    @property
    def recipient_key(self) -> str:
        return f"{self.recipient_type}:{(self.recipient_ori or self.recipient_name).upper()}"


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _components(name: str, kind: str) -> tuple[str, ...]:
    """Registry components a party's name (or an unknown type's text) names; see immigration.py."""
    found = components_named(name) if name else ()
    if kind and kind not in _RECIPIENT_TYPES:
        found += tuple(key for key in components_named(kind) if key not in found)
    return found


def _immigration_type(kind: str | None) -> bool:
    """The type is ``federal_immigration``, however spelt (a misspelling is still denied as unknown)."""
    if kind is None or (kind in _RECIPIENT_TYPES and kind != RecipientType.FEDERAL_IMMIGRATION):
        return False
    return kind == RecipientType.FEDERAL_IMMIGRATION or is_immigration_type(kind)


def request_view(request: Mapping[str, Any]) -> RequestView | str:
    """Normalise the request, or return a message saying what makes it malformed."""
    # ``(dict, Mapping)``: a dict, the usual case, is told at a third of the ABC check's cost.
    if not isinstance(request, (dict, Mapping)):
        return "the request must be a JSON object"
    recipient = request.get("recipient")
    if not isinstance(recipient, (dict, Mapping)):
        return "recipient must be an object with type and name"
    behalf = request.get("on_behalf_of")
    if behalf is not None and not isinstance(behalf, Mapping):
        return "on_behalf_of must be an object or null"
    documents = request.get("documents") or []
    records = request.get("records") or []
    fields = request.get("fields")
    if not isinstance(documents, list) or not all(isinstance(d, Mapping) for d in documents):
        return "documents must be a list of objects"
    if not isinstance(records, list):
        return "records must be a list"
    if fields is not None and not (
        isinstance(fields, list) and all(isinstance(f, str) for f in fields)
    ):
        return "fields must be a list of field names"
    recipient_type, recipient_name = _text(recipient.get("type")), _text(recipient.get("name"))
    behalf_type = _text(behalf.get("type")) if behalf is not None else None
    behalf_name = _text(behalf.get("name")) if behalf is not None else ""
    return RequestView(
        recipient_type=recipient_type,
        recipient_name=recipient_name,
        recipient_ori=_text(recipient.get("ori")),
        has_on_behalf_of="on_behalf_of" in request,
        on_behalf_of_type=behalf_type,
        on_behalf_of_name=behalf_name,
        purpose=_text(request.get("purpose")),
        case_number=_text(request.get("case_number")),
        offense_statute=_text(request.get("offense_statute")),
        narrative=_text(request.get("narrative")),
        mode=_text(request.get("mode")) or str(Mode.SINGLE),
        documents=tuple(documents),
        fields=tuple(fields) if fields is not None else None,
        records=records,
        recipient_components=_components(recipient_name, recipient_type),
        behalf_components=_components(behalf_name, behalf_type or ""),
    )


def _verifiers(document: Mapping[str, Any]) -> set[str]:
    names = document.get("verified_by") or []
    if not isinstance(names, list):
        return set()
    return {name.strip().casefold() for name in names if isinstance(name, str) and name.strip()}


def is_administrative(document: Mapping[str, Any]) -> bool:
    form = _text(document.get("form")).upper()
    return document.get("kind") in _ADMINISTRATIVE_KINDS or form in ADMINISTRATIVE_FORMS


def _judicial_verified(document: Mapping[str, Any]) -> bool:
    return (
        document.get("kind") in _JUDICIAL
        and document.get("signed_by_judge") is True
        and not is_administrative(document)
        and len(_verifiers(document)) >= 2
    )


def has_judicial_authority(documents: Sequence[Mapping[str, Any]]) -> bool:
    """IM-01: a judicial warrant or court order, signed by a judge, verified by two different people."""
    return any(_judicial_verified(document) for document in documents)


class OrderScope(NamedTuple):
    """The bookings and fields the verified orders name; ``None`` where no order narrows."""

    bookings: frozenset[str] | None
    fields: frozenset[str] | None


def _named(document: Mapping[str, Any], key: str) -> frozenset[str] | None:
    """An order's list of names; present but not a list of names means it names nothing (fail closed)."""
    value = document.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        return frozenset()
    return frozenset(v.strip() for v in value if isinstance(v, str) and v.strip())


def order_scope(documents: Sequence[Mapping[str, Any]]) -> OrderScope:
    """What the verified judicial orders limit the release to (``names_bookings``, ``names_fields``).

    Only a verified order narrows (an unverified one counts for nothing, IM-01); several orders cover
    together what each names. An order that names nothing on a side leaves that side to the agreement.
    """
    orders = [document for document in documents if _judicial_verified(document)]
    sides = []
    for key in ("names_bookings", "names_fields"):
        named = [n for n in (_named(order, key) for order in orders) if n is not None]
        sides.append(frozenset().union(*named) if named else None)
    return OrderScope(bookings=sides[0], fields=sides[1])


def _covered(path: str, names: frozenset[str]) -> bool:
    """A field path is named by itself or by its root (``person`` names ``person.last_name``)."""
    return path in names or path.split(".")[0] in names


def _proxy_reasons(view: RequestView) -> list[Reason]:
    """IM-06/IM-11: immigration agencies come only through the front door, as a recipient of type
    ``federal_immigration`` whose request then needs judicial authority (IM-01). Any other recipient
    that names an immigration component, or asks on behalf of one, is a disguise or a side door,
    and its declared type proves nothing: denied whatever it carries, and no reviewer can lift it.
    """
    if _immigration_type(view.recipient_type):
        return []
    parties = []
    if view.recipient_components:
        parties.append(f"the recipient's name names {', '.join(view.recipient_components)}")
    if view.behalf_components:
        parties.append(f"the on-behalf-of agency names {', '.join(view.behalf_components)}")
    elif _immigration_type(view.on_behalf_of_type):
        parties.append("the on-behalf-of agency is of type federal_immigration")
    if not parties:
        return []
    message = (
        f"{'; '.join(parties)}, but the recipient is declared {view.recipient_type!r}: "
        "immigration requests come only as federal_immigration recipients"
    )
    return [reason(ReasonCode.DENY_IMMIGRATION_PROXY, message, flags=("immigration_proxy",))]


def _immigration_reasons(view: RequestView, *, involved: bool) -> list[Reason]:
    """IM-01/IM-04/IM-06/IM-11: the immigration gate, evaluated before any agreement is looked at.

    ``involved`` is ``immigration_involved(view)``, worked out once per request by ``evaluate``."""
    reasons = _proxy_reasons(view)
    immigration_purpose = view.purpose.split(".")[0] == IMMIGRATION_PURPOSE_ROOT
    if immigration_purpose:
        reasons.append(
            reason(ReasonCode.DENY_IMMIGRATION_PURPOSE, f"purpose {view.purpose} is refused")
        )
    forms = sorted(
        _text(d.get("form")) or _text(d.get("kind")) for d in view.documents if is_administrative(d)
    )
    if forms:
        # Whoever attaches it and whatever the purpose: an administrative paper is never a basis for
        # release, and a request that leans on one is refused with the paper named (IM-01 to IM-04).
        reasons.append(
            reason(
                ReasonCode.DENY_ADMINISTRATIVE_WARRANT,
                f"administrative papers are refused as a basis for release: {', '.join(forms)}",
            )
        )
    if not involved:
        return reasons
    if not has_judicial_authority(view.documents):
        reasons.append(
            reason(
                ReasonCode.DENY_IMMIGRATION_NO_JUDICIAL_AUTHORITY,
                "the request involves immigration enforcement without two-person verified "
                "judicial authority",
            )
        )
    return reasons


def _immigration_paper(document: Mapping[str, Any]) -> bool:
    return (
        document.get("kind") == DocumentKind.DETAINER
        or document.get("kind") in CIVIL_IMMIGRATION_KINDS
        or _text(document.get("form")).upper() in ADMINISTRATIVE_FORMS
    )


def immigration_involved(view: RequestView) -> bool:
    """Front, side or back door (IM-11): DHS as recipient or principal, by type or by a name in the
    immigration registry, an immigration purpose, or immigration paperwork (a detainer, an
    I-200/I-205/I-247A …) attached by anyone at all."""
    return (
        view.purpose.split(".")[0] == IMMIGRATION_PURPOSE_ROOT
        or _immigration_type(view.recipient_type)
        or _immigration_type(view.on_behalf_of_type)
        or bool(view.recipient_components or view.behalf_components)
        or (bool(view.documents) and any(map(_immigration_paper, view.documents)))
    )


def _guardrail_reasons(view: RequestView, policy_set: PolicySet, *, involved: bool) -> list[Reason]:
    reasons = []
    if not view.has_on_behalf_of:
        reasons.append(reason(ReasonCode.DENY_ON_BEHALF_OF_MISSING, "on_behalf_of is absent"))
    if view.recipient_type not in _RECIPIENT_TYPES:
        reasons.append(
            reason(
                ReasonCode.DENY_UNKNOWN_RECIPIENT_TYPE,
                f"recipient type {view.recipient_type!r} is not known",
            )
        )
    if view.on_behalf_of_type is not None and view.on_behalf_of_type not in _RECIPIENT_TYPES:
        reasons.append(
            reason(
                ReasonCode.DENY_UNKNOWN_RECIPIENT_TYPE,
                f"on-behalf-of type {view.on_behalf_of_type!r} is not known",
            )
        )
    if view.purpose not in policy_set.purposes:
        reasons.append(
            reason(
                ReasonCode.DENY_UNKNOWN_PURPOSE, f"purpose {view.purpose!r} is not in the catalog"
            )
        )
    elif policy_set.purposes[view.purpose].refused and not view.purpose.startswith(
        IMMIGRATION_PURPOSE_ROOT
    ):
        reasons.append(
            reason(ReasonCode.DENY_UNKNOWN_PURPOSE, f"purpose {view.purpose} is marked refused")
        )
    if view.mode in _SURVEILLANCE_MODES:
        reasons.append(reason(ReasonCode.DENY_SURVEILLANCE_MODE, f"mode {view.mode} is refused"))
    elif view.mode not in _MODES:
        reasons.append(reason(ReasonCode.DENY_REQUEST_MALFORMED, f"mode {view.mode!r} is unknown"))
    if not view.recipient_name and not view.recipient_ori:
        reasons.append(
            reason(ReasonCode.DENY_REQUEST_MALFORMED, "the recipient has neither a name nor an ORI")
        )
    if view.fields == ():
        # An empty list asks for nothing; leaving "fields" out (or null) asks for the allow-list.
        # A reason beside the others, not an early exit, so an immigration request still says so.
        reasons.append(
            reason(
                ReasonCode.DENY_REQUEST_MALFORMED,
                "fields is an empty list: leave it out (or null) for the agreement's allow-list",
            )
        )
    return reasons + _immigration_reasons(view, involved=involved)


def _keyword_reason(view: RequestView, policy_set: PolicySet) -> Reason | None:
    """IM-11(c): the keyword backstop never lets a request through silently; it sends it to review.

    Every field is folded before matching (``policies.text``), so "1CE" or "І.С.Е." count as much
    as "ICE". In the purpose, narrative and case number a plain-typed "ice" stays weather; the
    agency names are read strictly.
    """
    matcher = policy_set.keywords
    if matcher is None:
        return None
    hits = matcher.find(f"{view.narrative}\n{view.case_number}", lenient=True)
    hits |= matcher.find(view.purpose, lenient=True, remember=True)
    for name in (view.recipient_name, view.on_behalf_of_name):
        if name:  # an empty name names nothing: not even looked up
            hits |= matcher.find(name, remember=True)
    if not hits:
        return None
    return reason(
        ReasonCode.REVIEW_IMMIGRATION_KEYWORD,
        f"immigration-enforcement terms in the request: {', '.join(sorted(hits))}",
        flags=("immigration_keyword",),
    )


def _proxy_review_reason(view: RequestView, *, proxy_registered: bool) -> Reason | None:
    """IM-11(b), FR-12: a request on another agency's behalf is only decided automatically when
    the caller has matched that agency against its own recipient registry; otherwise a person
    decides. The caller says so (``proxy_registered``), never the request."""
    if view.on_behalf_of_type is None or proxy_registered:
        return None
    who = view.on_behalf_of_name or "(no name)"
    return reason(
        ReasonCode.REVIEW_PROXY_UNREGISTERED,
        f"on behalf of {view.on_behalf_of_type} {who!r}, which is not a registered recipient",
        flags=("unregistered_proxy",),
    )


def _forbid_reasons(view: RequestView, policy_set: PolicySet) -> list[Reason]:
    reasons = []
    for forbid in policy_set.forbids:
        if forbid.recipient_types and view.recipient_type not in forbid.recipient_types:
            continue
        if forbid.recipient_names and view.recipient_name.casefold() not in forbid.recipient_names:
            continue
        if forbid.purposes and not any(
            view.purpose == code or view.purpose.startswith(code + ".") for code in forbid.purposes
        ):
            continue
        if forbid.modes and view.mode not in forbid.modes:
            continue
        rule, citation = forbid.rule, forbid.citation
        reasons.append(
            Reason(
                rule=rule,
                code=ReasonCode.DENY_FORBIDDEN,
                effect=Effect.DENY,
                message=f"county rule {forbid.id}: {forbid.description}",
                would_need=forbid.would_need,
                citation=citation,
            )
        )
    return reasons


def _find_agreement(
    view: RequestView, policy_set: PolicySet
) -> tuple[Agreement, AgreementPurpose] | None:
    for agreement in policy_set.agreements:
        if not agreement.matches(
            recipient_type=view.recipient_type, name=view.recipient_name, ori=view.recipient_ori
        ):
            continue
        for item in agreement.purposes:
            if item.covers(view.purpose):
                return agreement, item
    return None


def _agreement_reasons(
    view: RequestView,
    agreement: Agreement,
    item: AgreementPurpose,
    *,
    tags_known: bool,
    record_count: int,
) -> list[Reason]:
    """The agreement's terms. ``record_count`` counts only the records that may leave: a guarded
    booking (juvenile, sealed, expunged, removed, or otherwise excluded) must weigh exactly as a
    booking that does not exist, or the answer would confirm that it exists (CJ-09)."""
    reasons = []
    where = f"agreement {agreement.id}"
    if item.exclude_tags and not tags_known:
        # Without the tags the engine cannot tell which fields the agreement excludes: fail closed.
        reasons.append(
            reason(
                ReasonCode.DENY_FIELD_TAGS_MISSING,
                f"{where} excludes fields tagged {sorted(item.exclude_tags)}, "
                "but no field tags were supplied",
            )
        )
    if agreement.status != "active":
        reasons.append(
            reason(ReasonCode.DENY_AGREEMENT_NOT_ACTIVE, f"{where} is {agreement.status}")
        )
    for code, what in agreement.standing_denials():
        reasons.append(reason(code, f"{where} {what}"))
    if view.mode == Mode.BATCH and Mode.BATCH not in item.modes:
        reasons.append(
            reason(ReasonCode.DENY_BATCH_NOT_PERMITTED, f"{where} does not permit batch mode")
        )
    behalf = view.on_behalf_of_type
    if (
        behalf is not None
        and behalf != view.recipient_type
        and behalf not in item.allow_on_behalf_of
    ):
        reasons.append(
            reason(
                ReasonCode.DENY_PROXY_NOT_ALLOWED,
                f"{where} does not allow requests on behalf of {behalf}",
            )
        )
    if record_count > item.max_records:
        reasons.append(
            reason(
                ReasonCode.DENY_TOO_MANY_RECORDS,
                f"{record_count} releasable records requested; {where} allows {item.max_records}",
            )
        )
    return reasons


def _document_ok(document: Mapping[str, Any], spec: PurposeSpec) -> bool:
    if document.get("kind") not in spec.documents_any_of or is_administrative(document):
        return False
    if spec.documents_signed_by_judge and document.get("signed_by_judge") is not True:
        return False
    return len(_verifiers(document)) >= spec.documents_verified_by


def _legal_basis_reasons(
    view: RequestView, spec: PurposeSpec, policy_set: PolicySet
) -> list[Reason]:
    """FR-09/FR-11/FR-14: what the purpose says a request must carry."""
    reasons = []
    if spec.case_number and not view.case_number:
        reasons.append(reason(ReasonCode.DENY_NO_CASE_NUMBER, "case_number is empty"))
    if spec.offense_list is not None:
        eligible = policy_set.offense_lists.get(spec.offense_list, frozenset())
        key = statute_key(view.offense_statute)
        base = key.split("(")[0]
        if not key or (key not in eligible and base not in eligible):
            reasons.append(
                reason(
                    ReasonCode.DENY_OFFENSE_NOT_ELIGIBLE,
                    f"offense {view.offense_statute or '(none)'} is not on list "
                    f"{spec.offense_list}",
                )
            )
    if len(view.narrative) < spec.narrative_min_length:
        reasons.append(
            reason(
                ReasonCode.DENY_NARRATIVE_TOO_SHORT,
                f"narrative has {len(view.narrative)} characters; "
                f"{spec.narrative_min_length} required",
            )
        )
    if spec.documents_any_of and not any(_document_ok(d, spec) for d in view.documents):
        reasons.append(
            reason(
                ReasonCode.DENY_DOCUMENT_MISSING,
                f"needs one of {sorted(spec.documents_any_of)}"
                + (", signed by a judge" if spec.documents_signed_by_judge else "")
                + (
                    f", verified by {spec.documents_verified_by} people"
                    if spec.documents_verified_by
                    else ""
                ),
            )
        )
    return reasons


class _Selection(NamedTuple):
    """The allow-list one request gets, with its obligation text and a cheap plan-cache key."""

    rules: tuple[FieldRule, ...]
    fields: dict[str, str]
    key: str


_SELECTIONS: dict[tuple[Any, ...], _Selection] = {}


def _effective_rules(
    view: RequestView,
    agreement: Agreement,
    item: AgreementPurpose,
    policy_set: PolicySet,
    field_tags: FieldTags | None,
    *,
    involved: bool,
) -> _Selection:
    """Allow-list narrowed to the requested fields, minus immigration-sensitive fields where due and
    minus the fields the county's tags take out (tags only ever remove fields, never add them).

    The immigration-sensitive set (built-in, baseline and tagged fields) is applied to requests that
    involve immigration enforcement (``involved``: ``immigration_involved(view)``); tagged fields also leave vendor exports, as the loader already
    ensures for the built-in set (IM-05). Memoised per policy version, agreement purpose, requested
    fields, immigration involvement and tagged-out fields, so a typical request does not rebuild (or
    re-hash) its allow-list.
    """
    tagged = tagged_out(
        field_tags,
        exclude=item.exclude_tags,
        immigration=involved or agreement.recipient_type == RecipientType.VENDOR,
    )
    memo_key = (policy_set.version, agreement.id, item.code, view.fields, involved, tagged)
    selection = _SELECTIONS.get(memo_key)
    if selection is not None:
        return selection
    rules = [rule for rule in item.fields if rule.op is not Op.DROP]
    if view.fields is not None:
        wanted = set(view.fields)
        rules = [rule for rule in rules if rule.path in wanted or rule.path.split(".")[0] in wanted]
    if involved:
        # IM-05: never to an immigration-origin request, whatever the agreement says.
        rules = [rule for rule in rules if rule.path not in policy_set.sensitive_fields]
    if tagged:
        out = frozenset(tagged)
        rules = [r for r in rules if r.path not in out and r.path.split(".")[0] not in out]
    fields = {
        rule.path: str(rule.op) + (f":{rule.param}" if rule.param is not None else "")
        for rule in rules
    }
    selection = _Selection(tuple(rules), fields, "\x00".join(map(str, memo_key)))
    if len(_SELECTIONS) > 1024:
        _SELECTIONS.clear()
    _SELECTIONS[memo_key] = selection
    return selection


def _obligations(
    item: AgreementPurpose,
    agreement: Agreement,
    selection: _Selection,
    *,
    human_review: bool,
    key_id: str | None,
) -> Obligations:
    return Obligations(
        fields=dict(selection.fields),
        max_records=item.max_records,
        retention_days=item.retention_days,
        human_review_required=item.human_review or human_review,
        # A review needs at least one approver; a purpose may ask for more (two different people).
        approvers_required=max(item.approvers, int(item.human_review or human_review)),
        labels=item.labels,
        agreement=agreement.id,
        key_id=key_id,
    )


def _deny(
    reasons: list[Reason], policy_set: PolicySet, excluded: dict[str, int], flags: tuple[str, ...]
) -> Decision:
    """A deny keeps the review flags it was given and every flag of its own reasons (so a
    ``non_overridable`` reason marks the whole decision)."""
    kept = tuple(r for r in reasons if r.effect is not Effect.PERMIT)
    return Decision(
        effect=Effect.DENY,
        reasons=kept,
        obligations=Obligations(),
        excluded=excluded,
        released=(),
        policy_version=policy_set.version,
        flags=tuple(dict.fromkeys((*flags, *(flag for r in kept for flag in r.flags)))),
    )


def _exclusions(
    view: RequestView, *, now: datetime, exclude_non_conviction: bool
) -> tuple[list[Mapping[str, Any]], dict[str, int]]:
    eligible: list[Mapping[str, Any]] = []
    excluded: dict[str, int] = {}
    for record in view.records:
        why = record_exclusion(record, now=now, exclude_non_conviction=exclude_non_conviction)
        if why is None:
            eligible.append(record)
        else:
            excluded[why] = excluded.get(why, 0) + 1
    return eligible, excluded


def _agreement_and_basis_reasons(
    view: RequestView,
    found: tuple[Agreement, AgreementPurpose] | None,
    policy_set: PolicySet,
    *,
    tags_known: bool,
    record_count: int,
) -> list[Reason]:
    """Default deny without an agreement; otherwise its terms and the purpose's legal basis."""
    if found is None:
        if has_judicial_authority(view.documents):
            return []  # IM-01: the court-order path; ``evaluate`` sends it to compliance review
        message = (
            f"no agreement with {view.recipient_type} {view.recipient_name!r} covers "
            f"purpose {view.purpose!r}"
        )
        return [reason(ReasonCode.DENY_NO_AGREEMENT, message)]
    agreement, item = found
    reasons = _agreement_reasons(
        view, agreement, item, tags_known=tags_known, record_count=record_count
    )
    spec = policy_set.purposes.get(view.purpose)
    if spec is not None:
        if item.requires:
            spec = purpose_tighten(spec, dict(item.requires))
        reasons += _legal_basis_reasons(view, spec, policy_set)
    return reasons


def evaluate(
    *,
    request: Mapping[str, Any],
    policy_set: PolicySet,
    keys: KeyStore | None,
    now: datetime,
    reviewed_by: str | None = None,
    field_tags: FieldTags | None = None,
    proxy_registered: bool = False,
) -> Decision:
    """Apply guardrails, forbids, the agreement and its legal basis; transform what may leave.

    ``reviewed_by`` names the person who reviewed a request sent to review (the keyword backstop,
    an unregistered proxy); it never softens a deny, and it comes from the caller (the gateway),
    never from the request JSON. ``field_tags`` (field path -> tags) comes from the caller too, for
    the same reason: a requester must not be able to untag a field. ``None`` means no tags are
    known; an agreement purpose with ``exclude_tags`` then denies. ``proxy_registered`` is the
    caller's finding that the on-behalf-of agency is itself a registered recipient; without it a
    proxy request goes to review.
    """
    if not policy_set.valid:
        problem = reason(
            ReasonCode.DENY_POLICY_INVALID,
            f"{len(policy_set.problems)} policy problem(s); first: {policy_set.problems[0]}",
        )
        return _deny([problem], policy_set, {}, ())
    view = request_view(request)
    if isinstance(view, str):
        return _deny([reason(ReasonCode.DENY_REQUEST_MALFORMED, view)], policy_set, {}, ())
    involved = immigration_involved(view)
    reasons = _guardrail_reasons(view, policy_set, involved=involved)
    reasons += _forbid_reasons(view, policy_set)
    reviews = [
        r
        for r in (
            _keyword_reason(view, policy_set),
            _proxy_review_reason(view, proxy_registered=proxy_registered),
        )
        if r is not None
    ]
    flags = _review_flags(reviews)
    found = _find_agreement(view, policy_set)
    item = found[1] if found else None
    exclude_nc = view.recipient_type in _NON_CONVICTION_TYPES and not (
        item is not None and item.include_non_conviction
    )
    eligible, excluded = _exclusions(view, now=now, exclude_non_conviction=exclude_nc)
    scope = order_scope(view.documents)
    eligible = _named_bookings(eligible, excluded, scope)
    reasons += _agreement_and_basis_reasons(
        view, found, policy_set, tags_known=field_tags is not None, record_count=len(eligible)
    )
    if any(r.effect is Effect.DENY for r in reasons):
        return _deny(reasons, policy_set, excluded, flags)
    if found is None:
        # Reached only with a verified judicial order (otherwise DENY_NO_AGREEMENT stands above).
        return _court_order_review(view, scope, excluded, policy_set, reviews)
    agreement, item = found
    rules = _narrowed(
        _effective_rules(view, agreement, item, policy_set, field_tags, involved=involved), scope
    )
    if not rules.rules:
        return _deny([_no_fields(agreement)], policy_set, excluded, flags)
    if reviews and not (reviewed_by or "").strip():
        return Decision(
            effect=Effect.REVIEW,
            reasons=tuple(reviews),
            obligations=_obligations(item, agreement, rules, human_review=True, key_id=None),
            excluded=excluded,
            released=(),
            policy_version=policy_set.version,
            flags=flags,
        )
    return _permit(view, agreement, item, rules, eligible, excluded, policy_set, keys, reviews)


def _named_bookings(
    eligible: list[Mapping[str, Any]], excluded: dict[str, int], scope: OrderScope
) -> list[Mapping[str, Any]]:
    """Only the bookings a verified order names (if it names any); the rest counted, for staff only."""
    if scope.bookings is None:
        return eligible
    kept = [r for r in eligible if str(r.get("booking_number") or "").strip() in scope.bookings]
    if len(kept) < len(eligible):
        excluded["not_named_by_order"] = len(eligible) - len(kept)
    return kept


def _narrowed(selection: _Selection, scope: OrderScope) -> _Selection:
    """The allow-list cut down to the fields a verified order names; an order never adds a field."""
    if scope.fields is None:
        return selection
    named = scope.fields
    rules = tuple(rule for rule in selection.rules if _covered(rule.path, named))
    fields = {path: op for path, op in selection.fields.items() if _covered(path, named)}
    return _Selection(rules, fields, selection.key + "\x00order:" + ",".join(sorted(named)))


def _court_order_review(
    view: RequestView,
    scope: OrderScope,
    excluded: dict[str, int],
    policy_set: PolicySet,
    reviews: list[Reason],
) -> Decision:
    """IM-01: a verified judicial warrant or court order, and no agreement: never denied for want of
    one, whatever the recipient's type, and never an automatic permit either. Compliance reviews it,
    limited to the fields the order names (minus IM-05's fields for an immigration-origin request)."""
    named = scope.fields if scope.fields is not None else frozenset()
    asked = frozenset(view.fields) if view.fields is not None else named
    sensitive = policy_set.sensitive_fields if immigration_involved(view) else frozenset()
    fields = {
        path: str(Op.KEEP)
        for path in FIELD_KINDS
        if _covered(path, named) and _covered(path, asked) and path not in sensitive
    }
    bookings = "the bookings asked for" if scope.bookings is None else "the bookings it names"
    court = reason(
        ReasonCode.REVIEW_COURT_ORDER,
        f"a verified judicial order and no agreement with {view.recipient_type} "
        f"{view.recipient_name!r} for {view.purpose!r}: compliance review of {bookings}, "
        f"{len(fields)} field(s) named",
        flags=("court_order",),
    )
    flags = tuple(dict.fromkeys(flag for r in (*reviews, court) for flag in r.flags))
    return Decision(
        effect=Effect.REVIEW,
        reasons=(*reviews, court),
        obligations=Obligations(
            fields=fields, human_review_required=True, labels=(_COURT_ORDER_LABEL,)
        ),
        excluded=excluded,
        released=(),
        policy_version=policy_set.version,
        flags=flags,
    )


def _review_flags(reviews: list[Reason]) -> tuple[str, ...]:
    return tuple(flag for r in reviews for flag in r.flags) if reviews else ()


def _no_fields(agreement: Agreement) -> Reason:
    return reason(
        ReasonCode.DENY_NO_FIELDS_RELEASABLE,
        f"no requested field is released under agreement {agreement.id} (after the allow-list, "
        "immigration-sensitive fields and field tags); a release of empty records is refused",
    )


def _permit(
    view: RequestView,
    agreement: Agreement,
    item: AgreementPurpose,
    rules: _Selection,
    eligible: list[Mapping[str, Any]],
    excluded: dict[str, int],
    policy_set: PolicySet,
    keys: KeyStore | None,
    reviews: list[Reason],
) -> Decision:
    try:
        if keys is None:
            raise KeyStoreError("no key store was supplied")
        keys.master(keys.current)  # a store whose current key is missing is unusable, keyed or not
        plan = plan_get(
            rules=rules.rules,
            store=keys,
            recipient_key=view.recipient_key,
            purpose=view.purpose,
            cache_key=rules.key,
        )
        key_id = keys.current
    except KeyStoreError as exc:
        return _deny([reason(ReasonCode.DENY_KEY_MISSING, str(exc))], policy_set, excluded, ())
    released = tuple(plan.apply_many(eligible))
    flags = _review_flags(reviews)
    if released and not any(released):
        # Every record lacked every allowed field: a "release" of empty records says only that the
        # bookings exist, so it is refused like any other release with nothing in it.
        return _deny([_no_fields(agreement)], policy_set, excluded, flags)
    permit = reason(
        ReasonCode.PERMIT_AGREEMENT,
        f"agreement {agreement.id} permits {view.purpose} for this recipient; "
        f"{len(released)} record(s) released"
        + (" after review of " + ", ".join(str(r.code) for r in reviews) if reviews else ""),
    )
    return Decision(
        effect=Effect.PERMIT,
        reasons=(*reviews, permit),
        obligations=_obligations(item, agreement, rules, human_review=bool(reviews), key_id=key_id),
        excluded=excluded,
        released=released,
        policy_version=policy_set.version,
        flags=flags,
    )
