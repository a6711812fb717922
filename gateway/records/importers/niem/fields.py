"""From one resolved j:Booking to the plain values of base.ParsedBooking: booking, person, charges, mugshots.

Each function reads named NIEM elements only (see docs/niem-and-mugshots.md for the table); a value that cannot
be taken raises RejectionError, which the package turns into a RowRejection naming the element and raw value.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree.ElementTree import Element

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from gateway.records.importers.base import ParsedBooking, ParsedMugshot
from gateway.records.importers.niem.links import (
    Message,
    is_niem,
    local_name,
    structures_attribute,
    text_of,
)
from gateway.records.mugshots import mugshot_pose_from_label

__all__ = ["RejectionError", "booking_parse"]


class RejectionError(Exception):
    """A booking that cannot be taken; turned into a RowRejection, never raised out of this package."""

    def __init__(self, field: str, value: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.value, self.reason = field, value, reason


def booking_parse(*, message: Message, booking: Element, line: int) -> ParsedBooking:
    """Read one booking of `message`; raise RejectionError naming the element when it cannot be taken.

    Required: the booking number, the subject and a name for them. Everything else is optional and simply
    left out of the mappings when absent, as base.py asks, so the service never mistakes "" for a value.
    """
    operation = _operation(message=message, booking=booking)
    if operation == "delete":
        number = message.value(booking, "BookingAgencyRecordIdentification", "IdentificationID")
        raise RejectionError(
            "nola-ext:MessageOperationCode",
            "delete",
            f"A delete message for booking {number or '(no number)'} is not applied by an import; "
            "the booking was left as it is",
        )
    person = _subject(message=message, booking=booking)
    booking_number = message.value(booking, "BookingAgencyRecordIdentification", "IdentificationID")
    missing = [
        path
        for path, present in (
            ("j:BookingAgencyRecordIdentification/nc:IdentificationID", bool(booking_number)),
            ("j:BookingSubject/nc:RoleOfPerson", person is not None),
        )
        if not present
    ]
    if missing or person is None:
        raise RejectionError(
            ", ".join(missing), "", f"Missing required element(s): {', '.join(missing)}"
        )
    person_fields = _person_fields(message=message, person=person)
    if not any(person_fields.get(k) for k in ("last_name", "first_name")):
        raise RejectionError(
            "nc:PersonName", "", "Missing required element(s): nc:PersonName (surname or full name)"
        )
    charges = _charges(message=message, booking=booking)
    return ParsedBooking(
        line=line,
        person_key=_person_key(message=message, booking=booking, person=person)
        or f"booking:{booking_number}",
        person=person_fields,
        booking_key=booking_number,
        booking=_booking_fields(message=message, booking=booking, number=booking_number),
        charges=charges,
        mugshots=_mugshots(message=message, person=person),
        dropped_fields=message.dropped_under(booking, person),
        # A release or status message often carries the booking without its charges: that says nothing about
        # them, so it must not wipe those an earlier message stored. A message cannot say "no charges" in NIEM.
        charges_reported=bool(charges),
    )


def _operation(*, message: Message, booking: Element) -> str:
    """NOLA marks a booking add/update/delete by a ref from j:Booking to a MessageOperationCode."""
    ref = structures_attribute(booking, "ref")
    target = message.by_id.get(ref) if ref else None
    return text_of(target).lower() if target is not None else "add"


def _subject(*, message: Message, booking: Element) -> Element | None:
    subject = message.first(booking, "BookingSubject")
    if subject is None:
        return None
    roles = [r for r in subject if is_niem(r.tag) and local_name(r.tag) == "RoleOfPerson"]
    if roles:
        ref = message.unresolved(roles[0])
        if ref is not None:
            raise RejectionError(
                "j:BookingSubject/nc:RoleOfPerson",
                ref,
                f"The booking subject refers to structures:id {ref!r}, which is not in the message",
            )
        role = message.resolve(roles[0])
        return role if len(role) else None
    uri = structures_attribute(subject, "uri")  # NIEM 5: the subject *is* the person with that uri
    linked = [e for e in message.by_uri.get(uri or "", []) if local_name(e.tag) == "Person"]
    return linked[0] if linked else None


def _person_key(*, message: Message, booking: Element, person: Element) -> str:
    """The source's own person key, most specific first, prefixed so two kinds never collide."""
    candidates = (
        (
            "subject",
            message.value(booking, "BookingSubject", "SubjectIdentification", "IdentificationID"),
        ),
        ("person", _extension_value(person, "PersonComputerControlIdentifier")),
        ("sid", message.value(person, "PersonStateIdentification", "IdentificationID")),
        ("fbi", _first_descendant_value(message, person, "PersonFBIIdentification")),
    )
    return next((f"{kind}:{value}" for kind, value in candidates if value), "")


def _extension_value(element: Element, name: str) -> str:
    """A county extension element (any namespace) by local name: the JMS person id lives in one."""
    return next(
        (text_of(e) for e in element.iter() if local_name(e.tag) == name and text_of(e)), ""
    )


def _first_descendant_value(message: Message, element: Element, name: str) -> str:
    for found in message.descendants(element, name):
        value = message.value(found, "IdentificationID")
        if value:
            return value
    return ""


_SEX = {
    "m": "M",
    "male": "M",
    "f": "F",
    "female": "F",
    "x": "X",
    "other": "X",
    "non-binary": "X",
    "nonbinary": "X",
    "u": "U",
    "unknown": "U",
}


def _person_fields(*, message: Message, person: Element) -> dict[str, Any]:
    name = message.first(person, "PersonName")
    fields: dict[str, Any] = {
        "first_name": message.value(name, "PersonGivenName"),
        "middle_name": message.value(name, "PersonMiddleName"),
        "last_name": message.value(name, "PersonSurName"),
        "suffix": message.value(name, "PersonNameSuffixText"),
        "race": message.value(person, "PersonRaceText") or message.value(person, "PersonRaceCode"),
        "ethnicity": message.value(person, "PersonEthnicityText")
        or message.value(person, "PersonEthnicityCode"),
        "state_id": message.value(person, "PersonStateIdentification", "IdentificationID"),
        "ssn": message.value(person, "PersonSSNIdentification", "IdentificationID"),
        "fbi_number": _first_descendant_value(message, person, "PersonFBIIdentification"),
        "drivers_license": _first_descendant_value(
            message, person, "DriverLicenseCardIdentification"
        )
        or _first_descendant_value(message, person, "DriverLicenseIdentification"),
    }
    if not (fields["first_name"] or fields["last_name"]):
        fields.update(_full_name_split(message.value(name, "PersonFullName")))
    sex = message.value(person, "PersonSexText") or message.value(person, "PersonSexCode")
    if sex:
        fields["sex"] = _SEX.get(sex.lower(), "U")
    birth = message.first(person, "PersonBirthDate")
    if birth is not None:
        raw = message.value(birth, "Date") or message.value(birth, "DateTime")
        fields["date_of_birth"] = _date_parse(raw, field="nc:PersonBirthDate/nc:Date")
    fields.update(_address(message=message, person=person))
    return {key: value for key, value in fields.items() if value not in ("", None)}


def _full_name_split(full: str) -> dict[str, str]:
    """Split "SURNAME, GIVEN MIDDLE" or "GIVEN MIDDLE SURNAME" when that is all the message gives."""
    if not full:
        return {}
    if "," in full:
        last, _, rest = full.partition(",")
        given, _, middle = rest.strip().partition(" ")
        return {"last_name": last.strip(), "first_name": given, "middle_name": middle.strip()}
    parts = full.split()
    if len(parts) == 1:
        return {"last_name": parts[0]}
    return {"first_name": parts[0], "middle_name": " ".join(parts[1:-1]), "last_name": parts[-1]}


def _address(*, message: Message, person: Element) -> dict[str, str]:
    mailing = message.first(person, "PersonContactInformation", "ContactMailingAddress")
    if mailing is None:
        mailing = message.first(person, "PersonResidence", "Address")
    if mailing is None:
        return {}
    full = message.value(mailing, "AddressFullText")
    if not full:
        street = message.value(mailing, "AddressStreet", "StreetFullText") or " ".join(
            v
            for v in (
                message.value(mailing, "AddressStreet", "StreetNumberText"),
                message.value(mailing, "AddressStreet", "StreetName"),
            )
            if v
        )
        state = message.value(mailing, "AddressState", "StateName") or _first_code(
            mailing, "StateUSCode"
        )
        full = ", ".join(v for v in (street, message.value(mailing, "AddressCityName"), state) if v)
    return {"address": full, "zip_code": message.value(mailing, "AddressPostalCode")}


def _first_code(element: Element, name: str) -> str:
    return next(
        (text_of(e) for e in element.iter() if local_name(e.tag) == name and text_of(e)), ""
    )


def _booking_fields(*, message: Message, booking: Element, number: str) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "booking_number": number,
        "booking_agency": message.value(booking, "BookingAgency", "OrganizationName")
        or _first_descendant_value(message, booking, "OrganizationORIIdentification"),
        "housing": message.value(booking, "BookingDetentionFacility", "FacilityName")
        or message.value(
            booking, "BookingDetentionFacility", "FacilityIdentification", "IdentificationID"
        ),
    }
    booked = message.first(booking, "ActivityDate")
    if booked is not None:
        fields["booked_at"] = _activity_datetime(message, booked, field="nc:ActivityDate")
    arrests = message.children(booking, "Arrest")
    if arrests:
        agency = message.first(arrests[0], "ArrestAgency")
        fields["arresting_agency"] = message.value(agency, "OrganizationName") or (
            _first_descendant_value(message, agency, "OrganizationORIIdentification")
            if agency is not None
            else ""
        )
    fields.update(_release(message=message, booking=booking))
    return {key: value for key, value in fields.items() if value not in ("", None)}


def _release(*, message: Message, booking: Element) -> dict[str, Any]:
    """Released when the release activity is marked completed, or carries a date without the marker."""
    release = message.first(booking, "BookingRelease")
    if release is None:
        return {}
    completed = message.value(release, "ActivityCompletedIndicator").lower()
    when = message.first(release, "ActivityDate")
    released_at = (
        _activity_datetime(message, when, field="j:BookingRelease/nc:ActivityDate")
        if when is not None
        else None
    )
    if completed in ("true", "1") or (not completed and released_at is not None):
        return {"custody_status": "released", "released_at": released_at}
    return {"custody_status": "in_custody"}


def _activity_datetime(message: Message, element: Element, *, field: str) -> datetime | None:
    raw = message.value(element, "DateTime")
    if raw:
        return _datetime_parse(raw, field=f"{field}/nc:DateTime")
    raw = message.value(element, "Date")
    if raw:
        return datetime.combine(_date_parse(raw, field=f"{field}/nc:Date"), time(), _zone())
    return None


def _zone() -> tzinfo:
    """The county's zone for times the message sends without an offset (jail systems send local time)."""
    try:
        return timezone.get_default_timezone()
    except ImproperlyConfigured:
        return UTC


def _datetime_parse(raw: str, *, field: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise RejectionError(
            field, raw, "Not an xs:dateTime (expected 2024-05-01T13:45:00)"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=_zone())


def _date_parse(raw: str, *, field: str) -> date:
    try:
        return date.fromisoformat(re.sub(r"(Z|[+-]\d\d:\d\d)$", "", raw))
    except ValueError:
        raise RejectionError(field, raw, "Not an xs:date (expected 2024-05-01)") from None


_LEVELS = (
    (re.compile(r"^f$|^fel|felony"), "felony"),
    (re.compile(r"^m$|^misd|misdemea"), "misdemeanor"),
    (re.compile(r"civil|hold|ordinance|forfeit"), "civil_hold"),
)
_DISPOSITIONS = (
    (re.compile(r"not guilty|acquit"), "acquitted"),
    (re.compile(r"convict|guilty|plea|sentenced"), "convicted"),
    (re.compile(r"dismiss|nolle|nol pros|dropped|no charge"), "dismissed"),
    (re.compile(r"pending|open|awaiting"), "pending"),
)


def _classify(text: str, table: Iterable[tuple[re.Pattern[str], str]]) -> str:
    lowered = text.lower()
    return next((value for pattern, value in table if pattern.search(lowered)), "")


def _charge_elements(*, message: Message, booking: Element) -> list[Element]:
    charges = [
        charge
        for arrest in message.children(booking, "Arrest")
        for charge in message.children(arrest, "ArrestCharge")
    ]
    return (
        charges + message.children(booking, "BookingCharge") + message.children(booking, "Charge")
    )


def _charges(*, message: Message, booking: Element) -> tuple[Mapping[str, Any], ...]:
    elements = _charge_elements(message=message, booking=booking)
    parsed = [_charge_fields(message=message, charge=charge) for charge in elements]
    sequences = [message.value(c, "ChargeSequenceID") for c in elements]
    # Use the jail's own sequence numbers only when every charge has a distinct one; else the order given.
    if all(s.isdigit() and int(s) > 0 for s in sequences) and len(set(sequences)) == len(sequences):
        for fields, sequence in zip(parsed, sequences, strict=True):
            fields["sequence"] = int(sequence)
    return tuple(parsed)


def _charge_fields(*, message: Message, charge: Element) -> dict[str, Any]:
    statute = message.first(charge, "ChargeStatute")
    code = message.value(statute, "StatuteCodeIdentification", "IdentificationID")
    section = message.value(statute, "StatuteCodeSectionIdentification", "IdentificationID")
    categories = ("ChargeCategoryDescriptionText", "ChargeSeverityText", "ChargeSeverityLevelCode")
    category = next((v for v in (message.value(charge, n) for n in categories) if v), "")
    felony = message.value(charge, "ChargeFelonyIndicator").lower()
    disposition = message.first(charge, "ChargeDisposition")
    fields: dict[str, Any] = {
        "statute": " ".join(v for v in (code, section) if v) if code != section else code,
        "description": message.value(statute, "StatuteDescriptionText")
        or message.value(charge, "ChargeDescriptionText"),
        "level": "felony" if felony in ("true", "1") else _classify(category, _LEVELS),
        "disposition": _classify(
            message.value(disposition, "DispositionText")
            or message.value(disposition, "DispositionCategoryText"),
            _DISPOSITIONS,
        ),
        "case_number": next(
            (text_of(e) for e in message.descendants(charge, "CaseDocketID") if text_of(e)), ""
        ),
    }
    fields.update(_bond(message=message, charge=charge))
    return {key: value for key, value in fields.items() if value not in ("", None)}


def _bond(*, message: Message, charge: Element) -> dict[str, Any]:
    for bond in message.descendants(charge, "BailBond"):
        raw = message.value(bond, "BailBondAmount", "Amount")
        kind = message.value(bond, "BailBondCategoryText") or message.value(
            bond, "ActivityCategoryText"
        )
        if not raw:
            return {"bond_type": kind}
        try:
            amount = Decimal(raw.replace(",", "").lstrip("$"))
        except InvalidOperation:
            raise RejectionError(
                "j:BailBond/j:BailBondAmount/nc:Amount", raw, "Not an amount of money"
            ) from None
        if not amount.is_finite() or amount < 0:
            raise RejectionError(
                "j:BailBond/j:BailBondAmount/nc:Amount", raw, "Not an amount of money"
            )
        return {"bond_amount": amount, "bond_type": kind}
    return {}


def _mugshots(*, message: Message, person: Element) -> tuple[ParsedMugshot, ...]:
    """Inline images only: a BinaryURI is never fetched (no network at import), so it is not a mugshot."""
    mugshots = []
    for image in message.children(person, "PersonDigitalImage"):
        encoded = message.value(image, "Base64BinaryObject") or message.value(
            image, "BinaryBase64Object"
        )
        if not encoded:
            continue
        try:
            data = base64.b64decode("".join(encoded.split()), validate=True)
        except (binascii.Error, ValueError):
            # Keep the raw text: mugshot_store refuses it as not an image, and the run reports that.
            data = encoded.encode("ascii", errors="replace")
        mugshots.append(
            ParsedMugshot(
                data=data, pose=_pose(message=message, image=image), captured_at=_captured_at(image)
            )
        )
    return tuple(mugshots)


def _pose(*, message: Message, image: Element) -> str:
    label = next(
        (text_of(e) for e in image.iter() if "Pose" in local_name(e.tag) and text_of(e)),
        message.value(image, "BinaryCategoryText"),
    )
    return str(mugshot_pose_from_label(label=label))


def _captured_at(image: Element) -> datetime | None:
    for element in image.iter():
        if "Capture" in local_name(element.tag):
            raw = next(
                (text_of(e) for e in element.iter() if local_name(e.tag) in ("DateTime", "Date")),
                text_of(element),
            )
            try:
                parsed = datetime.fromisoformat(raw)
            except ValueError:
                return None  # a bad capture date is not worth losing the photo over
            return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=_zone())
    return None
