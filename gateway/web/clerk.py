"""The clerk's desk (issue 9): the queue, one request's page, phone and paper entry, the staff lookup.

Thin views over ``gateway.requests`` and ``gateway.records.access``. Every page is for clerks and
compliance officers only; anyone else signed in gets the 404 a missing request gets (CJ-09), and
only clerks can act (the services check that again, on the locked row). The records a page shows come
from the release path's preview (``request_preview``, audited as ``release_preview``) or from the
audited lookup, never from a model read here. Actions are POST forms that redirect back (PRG), with
a refusal shown as a message on the page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from gateway.exceptions import NotFoundError
from gateway.models import RecipientOrganisation
from gateway.records.access import access_bookings_by_person_for_staff
from gateway.requests.access import (
    access_request_for_staff,
    user_is_clerk,
    user_is_request_staff,
)
from gateway.requests.models import RequestSource
from gateway.requests.selectors import request_detail_for_staff, requests_queue
from gateway.requests.services import (
    PENDING_STATES,
    RequestRefusedError,
    request_approve,
    request_deny,
    request_preview,
    request_submit,
)
from gateway.web.access import staff_required
from gateway.web.clerk_forms import (
    ORDER_LABELS,
    ApproveForm,
    DenyForm,
    EntryForm,
    LookupForm,
    QueueForm,
)

__all__ = [
    "lookup",
    "queue",
    "request_approve_view",
    "request_deny_view",
    "request_new",
    "request_page",
]

View = TypeVar("View", bound=Callable[..., HttpResponse])
PER_PAGE = 50
PREVIEW_SHOWN = 100  # records drawn on the page; the counts always cover all of them
REFUSALS = {
    "request_self_approval": "You entered or submitted this request, so someone else must decide it.",
    "request_same_approver": "You gave the first approval; the second must come from a different clerk.",
    "request_not_clerk": "Only a clerk can approve or deny requests.",
    "request_widened": "An approval can only drop bookings or fields, and must keep at least one.",
    "request_illegal_transition": "This request cannot take that step from its current state.",
}


def desk_staff(view: View) -> View:
    """A clerk or compliance officer whose role is current, signed in with their second factor
    (``staff_required``); anyone else is told the page does not exist."""
    verified = staff_required(view)

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not user_is_request_staff(user=request.user):
            raise Http404("no such page")
        try:
            return verified(request, *args, **kwargs)
        except NotFoundError:
            raise Http404("no such page") from None

    return login_required(guarded)  # type: ignore[return-value]


# --- the queue ------------------------------------------------------------------------------------


@desk_staff
@require_http_methods(["GET"])
def queue(request: HttpRequest) -> HttpResponse:
    form = QueueForm(request.GET)
    data: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    now = timezone.now()
    older = data.get("older_than")
    page = requests_queue(
        state=data.get("state") or None,
        recipient=(data.get("recipient") or "").strip() or None,
        purpose=(data.get("purpose") or "").strip() or None,
        older_than=now - timedelta(days=older) if older is not None else None,
        search=data.get("q") or "",
        order=data.get("order") or "-created_at",
        page=data.get("page") or 1,
        per_page=PER_PAGE,
    )
    rows = [{"req": req, "age": (now - req.created_at).days} for req in page.rows]
    kept = request.GET.copy()
    kept.pop("page", None)
    return render(
        request,
        "desk/queue.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": kept.urlencode(),
            "last_page": max(1, -(-page.total // page.per_page)),
            "orders": ORDER_LABELS,
            "is_clerk": user_is_clerk(user=request.user),
        },
    )


# --- one request ----------------------------------------------------------------------------------


def _flat(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """A released record as (field path, value) rows, in the record's own order."""
    if isinstance(value, Mapping):
        rows: list[tuple[str, str]] = []
        for key, inner in value.items():
            rows += _flat(inner, f"{prefix}.{key}" if prefix else str(key))
        return rows
    if isinstance(value, list | tuple):
        rows = []
        for index, inner in enumerate(value):
            rows += _flat(inner, f"{prefix}[{index + 1}]")
        return rows
    return [(prefix, "—" if value is None else str(value))]


def _current(approved: Sequence[str] | None, asked: Sequence[str] | None) -> list[str] | None:
    return list(approved) if approved is not None else (list(asked) if asked is not None else None)


@desk_staff
@require_http_methods(["GET"])
def request_page(request: HttpRequest, request_id: str) -> HttpResponse:
    # The preview first, so the detail's latest preview is this very decision (both are audited).
    release = request_preview(user=request.user, request_id=request_id)
    detail = request_detail_for_staff(user=request.user, request_id=request_id)
    req = detail.request
    entry = detail.latest_preview
    obligations: dict[str, Any] = dict(entry.obligations) if entry is not None else {}
    released_fields: dict[str, str] = dict(obligations.get("fields") or {})
    bookings = _current(req.approved_booking_numbers, req.booking_numbers) or []
    fields = _current(req.approved_fields, req.fields)
    field_choices = fields if fields is not None else sorted(released_fields)
    withheld_fields = [f for f in (fields or []) if f not in released_fields]
    pending = req.state in PENDING_STATES
    return render(
        request,
        "desk/request.html",
        {
            "req": req,
            "transitions": detail.transitions,
            "entry": entry,
            "reasons": list(entry.reasons) if entry is not None else [],
            "excluded": sorted((entry.excluded if entry is not None else {}).items()),
            "obligations": obligations,
            "released_fields": sorted(released_fields),
            "changed_fields": sorted(
                (f, how) for f, how in released_fields.items() if how != "keep"
            ),
            "withheld_fields": withheld_fields,
            "release": release,
            "records": [_flat(record) for record in release.records[:PREVIEW_SHOWN]],
            "more_records": max(0, len(release.records) - PREVIEW_SHOWN),
            "bookings": bookings,
            "pending": pending,
            "can_decide": pending and user_is_clerk(user=request.user),
            "approve_form": ApproveForm(
                bookings=bookings,
                fields=field_choices,
                initial={"keep": bookings, "keep_fields": field_choices},
            ),
            "deny_form": DenyForm(),
        },
    )


def _back(request_id: str) -> HttpResponseRedirect:
    return redirect(reverse("desk-request", kwargs={"request_id": request_id}))


def _refused(request: HttpRequest, error: RequestRefusedError) -> None:
    code = str(error.code)
    messages.error(request, f"{REFUSALS.get(code, str(error))} ({code})")


def _form_errors(request: HttpRequest, form: Any) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))


@desk_staff
@require_POST
def request_approve_view(request: HttpRequest, request_id: str) -> HttpResponse:
    req = access_request_for_staff(user=request.user, request_id=request_id)
    bookings = _current(req.approved_booking_numbers, req.booking_numbers) or []
    fields = _current(req.approved_fields, req.fields)
    # A request that left its fields to the agreement was offered the agreement's list; unticking
    # none of it keeps "the agreement's list" (None), unticking some narrows to the rest.
    offered = fields if fields is not None else request.POST.getlist("offered_fields")
    form = ApproveForm(request.POST, bookings=bookings, fields=offered)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(request_id)
    kept_fields: list[str] = form.cleaned_data["keep_fields"]
    untouched = fields is None and set(kept_fields) == set(offered)
    try:
        request_approve(
            user=request.user,
            request_id=request_id,
            booking_numbers=form.cleaned_data["keep"],
            fields=None if untouched else kept_fields,
            reason_text=form.cleaned_data["reason_text"],
        )
    except RequestRefusedError as error:
        _refused(request, error)
    else:
        messages.success(request, "Approved.")
    return _back(request_id)


@desk_staff
@require_POST
def request_deny_view(request: HttpRequest, request_id: str) -> HttpResponse:
    form = DenyForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back(request_id)
    try:
        request_deny(
            user=request.user,
            request_id=request_id,
            reason_code=form.cleaned_data["reason_code"],
            reason_text=form.cleaned_data["reason_text"],
        )
    except RequestRefusedError as error:
        _refused(request, error)
    else:
        messages.success(request, "Denied. The requester is told the request is not available.")
    return _back(request_id)


# --- phone and paper requests ---------------------------------------------------------------------


def _organisations() -> dict[int, RecipientOrganisation]:
    return {org.pk: org for org in RecipientOrganisation.objects.order_by("name", "pk")}


@desk_staff
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    organisations = _organisations()
    labels = [
        (pk, f"{org.name} ({org.recipient_type}{', suspended' if org.suspended else ''})")
        for pk, org in organisations.items()
    ]
    form = EntryForm(request.POST or None, organisations=labels)
    is_clerk = user_is_clerk(user=request.user)
    if request.method == "POST" and is_clerk and form.is_valid():
        data = form.cleaned_data
        req = request_submit(
            recipient=organisations[data["organisation"]].as_recipient(),
            requested_by=request.user,
            purpose=data["purpose"].strip(),
            booking_numbers=data["bookings"],
            case_number=data["case"].strip(),
            offense_statute=data["statute"].strip(),
            narrative=data["narrative"].strip(),
            source=RequestSource(data["source"]),
        )
        messages.success(request, "Entered. Another clerk must decide it: you are its requester.")
        return _back(req.public_id)
    return render(request, "desk/new.html", {"form": form, "is_clerk": is_clerk})


# --- the staff lookup -----------------------------------------------------------------------------


@desk_staff
@require_http_methods(["GET", "POST"])
def lookup(request: HttpRequest) -> HttpResponse:
    # POST, never GET: a name and a date of birth must not sit in URLs, history or access logs.
    form = LookupForm(request.POST or None)
    found = None
    if request.method == "POST" and form.is_valid():
        found = access_bookings_by_person_for_staff(
            user=request.user,
            surname=form.cleaned_data["surname"],
            given=form.cleaned_data["given"],
            born=form.cleaned_data["born"],
        )
    hits = [(row["number"], row["booked_on"]) for row in found.records] if found else []
    return render(request, "desk/lookup.html", {"form": form, "found": found, "hits": hits})
