"""NIEM Justice booking messages (jxdm `j:Booking`), as a JMS publishes them on booking and on release.

Why it is written the way it is:

* Hostile XML is refused before it is read: the file is parsed with defusedxml with DTDs forbidden, so a
  billion-laughs bomb or an XXE file never expands or fetches anything; the run stops with XML_REFUSED naming
  the problem.
* The same element has a different namespace URI in each NIEM release (niem-core 2.0 / 3.0 / 4.0 / 5.0, jxdm
  4.1 / 5.1 / 7.2, NIEMOpen 6.0), and NIEM-core may be the default namespace. So elements are matched on their
  local name, and only when their namespace belongs to the NIEM family: an extension element that happens to be
  called `PersonSurName` is not mistaken for the real one.
* NIEM links objects by reference (`structures:ref` → `structures:id`, and `structures:uri` for "the same
  object"). The person of a booking, its arrests and charges may sit elsewhere in the message, so each message
  is held (one message is a few kilobytes) until it is complete and links are resolved inside it; memory stays
  constant across a folder or a file of many messages.
* Citizenship, nationality, immigration status and place of birth are removed from the tree before anything is
  read, and named in `dropped_fields` (rules.md IM-05, IM-06, IM-09): what is never read can never leak.
* `line` in every row is the ordinal of the booking (or of the rejected message) across the whole run, which
  base.py allows for XML; a malformed file is reported with its real line and column in the reason.
"""

from __future__ import annotations

import base64
import binascii
import functools
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import ElementTree as DefusedElementTree
from defusedxml.common import (
    DefusedXmlException,
    DTDForbidden,
    EntitiesForbidden,
    ExternalReferenceForbidden,
)
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from gateway.exceptions import GatewayError, GatewayErrorCode
from gateway.importers.base import (
    FormatOptions,
    ParsedBooking,
    ParsedMugshot,
    ParsedRow,
    RowRejection,
)
from gateway.services.mugshots import mugshot_pose_from_label

__all__ = ["NiemFormat", "niem_parse"]

DEFAULT_SOURCE = "niem"

# release.niem.gov (NIEM 3-5), niem.gov (NIEM 2.x) and NIEMOpen 6.0 on OASIS: every domain (jxdm, humanServices,
# screening…) and niem-core live under these roots. Extensions (nola-ext, OJBC br-ext…) do not.
_NIEM_NAMESPACE = re.compile(
    r"^https?://(?:release\.niem\.gov/niem/|niem\.gov/niem/|docs\.oasis-open\.org/niemopen/ns/model/)"
)
_STRUCTURES_NAMESPACE = re.compile(r"/structures/")

# Document roots of the booking exchanges seen in the wild (NOLA JTMP, OJBC). Another root element is still
# read as one message; these names also mark messages nested in a wrapper, so each is released after use.
MESSAGE_ROOTS = frozenset(
    {"BookingExchange", "BookingReport", "CustodyStatusChangeReport", "CustodyReleaseReport"}
)

# Elements never read, never stored (rules.md IM-05, IM-06, IM-09), matched on local name in any namespace
# because immigration data often travels in hs:, im: or county extension elements.
_DROPPED_PATTERN = re.compile(
    r"^(?:PersonBirth(?!Date).*"  # place of birth: PersonBirthLocation, PersonBirthPlaceText…
    r"|.*Citizen.*|.*Nationality.*"  # PersonUSCitizenIndicator, PersonCitizenship…, PersonNationality
    r"|.*Alien.*|.*Immigra.*|.*Visa(?:Identification|Category|Type).*"  # alien number, immigration status
    r"|.*SexualOrientation.*|.*GenderIdentity.*)$"  # protected traits the model has no field for
)

# Where the XML refused had its problem, for the error message (read only from the refused file's prolog).
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY\s+%?\s*([\w.-]+)\s+(SYSTEM|PUBLIC)?", re.IGNORECASE)
_PROLOG_BYTES = 65536


# Tags repeat endlessly across messages; caching their two derived facts keeps parsing near expat's speed.
@functools.lru_cache(maxsize=4096)
def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""  # comments and processing instructions
    return tag.rpartition("}")[2]


@functools.lru_cache(maxsize=4096)
def _is_niem(tag: object) -> bool:
    return isinstance(tag, str) and tag.startswith("{") and bool(_NIEM_NAMESPACE.match(tag[1:]))


@functools.lru_cache(maxsize=4096)
def _is_dropped(name: str) -> bool:
    return bool(name) and bool(_DROPPED_PATTERN.match(name))


def _structures_attribute(element: Element, name: str) -> str | None:
    if not element.attrib:
        return None  # most elements: skip the loop
    for key, value in element.attrib.items():
        namespace, _, local = key[1:].partition("}") if key.startswith("{") else ("", "", key)
        if local == name and _STRUCTURES_NAMESPACE.search(namespace):
            return value.strip().lstrip("#")
    return None


def _text(element: Element | None) -> str:
    return " ".join((element.text or "").split()) if element is not None else ""


@dataclass
class _Message:
    """One message with its links indexed: ids, uris and what was dropped under each linked object."""

    root: Element
    by_id: dict[str, Element] = field(default_factory=dict)
    by_uri: dict[str, list[Element]] = field(default_factory=dict)
    dropped: dict[int, list[str]] = field(default_factory=dict)  # id(owner element) -> local names

    @classmethod
    def index(cls, root: Element) -> _Message:
        message = cls(root=root)
        message._prune()
        for element in root.iter():
            identifier = _structures_attribute(element, "id")
            if identifier:
                message.by_id.setdefault(identifier, element)
                message.by_uri.setdefault(identifier, []).append(element)
            uri = _structures_attribute(element, "uri")
            if uri:
                message.by_uri.setdefault(uri, []).append(element)
        return message

    def _prune(self) -> None:
        """Remove the never-kept elements, remembering which linked object each was under."""
        stack: list[tuple[Element, Element]] = [(self.root, self.root)]
        while stack:
            parent, owner = stack.pop()
            for child in list(parent):
                name = _local(child.tag)
                if _is_dropped(name):
                    self.dropped.setdefault(id(owner), []).append(name)
                    parent.remove(child)
                    continue
                linked = _structures_attribute(child, "id") or _structures_attribute(child, "uri")
                stack.append((child, child if linked or name == "Booking" else owner))

    def resolve(self, element: Element) -> Element:
        """Follow `structures:ref` (or an empty `structures:uri` stand-in) to the object it names."""
        if len(element):
            return element
        ref = _structures_attribute(element, "ref")
        if ref is not None:
            return self.by_id.get(ref, element)
        uri = _structures_attribute(element, "uri")
        if uri is not None:
            return next((other for other in self.by_uri.get(uri, []) if len(other)), element)
        return element

    def unresolved(self, element: Element) -> str | None:
        """The reference an empty element makes that names nothing in this message, if any."""
        if len(element):
            return None
        ref = _structures_attribute(element, "ref")
        if ref is not None and ref not in self.by_id:
            return ref
        return None

    def children(self, element: Element, name: str) -> list[Element]:
        """NIEM children called `name` (or `nameReference`, NIEM 2), with references followed."""
        return [
            self.resolve(child)
            for child in element
            if _is_niem(child.tag) and _local(child.tag) in (name, f"{name}Reference")
        ]

    def first(self, element: Element | None, *path: str) -> Element | None:
        for name in path:
            if element is None:
                return None
            found = self.children(element, name)
            element = found[0] if found else None
        return element

    def value(self, element: Element | None, *path: str) -> str:
        return _text(self.first(element, *path))

    def descendants(self, element: Element, name: str) -> Iterator[Element]:
        """NIEM elements called `name` anywhere under `element`, through any augmentation wrapper."""
        for found in element.iter():
            if found is not element and _is_niem(found.tag) and _local(found.tag) == name:
                yield self.resolve(found)

    def dropped_under(self, *elements: Element) -> tuple[str, ...]:
        names: list[str] = []
        for top in elements:
            for element in top.iter():
                for name in self.dropped.get(id(element), []):
                    if name not in names:
                        names.append(name)
        return tuple(names)


class _RejectionError(Exception):
    """A booking that cannot be taken; turned into a RowRejection, never raised out of this module."""

    def __init__(self, field: str, value: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.value, self.reason = field, value, reason


class NiemFormat:
    """`--format niem`: a NIEM booking XML file, or a folder of them (read in name order)."""

    def __init__(self, options: FormatOptions | None = None) -> None:
        self._source = (options.source if options is not None else None) or DEFAULT_SOURCE

    @property
    def source(self) -> str:
        return self._source

    def parse(self, path: Path) -> Iterator[ParsedRow]:
        return niem_parse(path=path)


def niem_parse(*, path: Path) -> Iterator[ParsedRow]:
    """Yield a ParsedBooking or RowRejection for every booking in `path` (a file or a folder of .xml files).

    Raises GatewayError XML_REFUSED for a DTD, entity declaration or external reference (nothing of such a
    file is read), IMPORT_FILE_UNREADABLE for a missing path or an empty folder. A malformed file, a message
    without a booking, and a booking missing its number or subject are rejections, so one bad file in a
    folder does not stop the others.
    """
    ordinal = itertools.count(1)
    for file in _xml_files(path):
        yield from _file_parse(path=file, ordinal=ordinal)


def _xml_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".xml")
        if files:
            return files
        problem = f"The folder {path} holds no .xml files."
    else:
        problem = f"{path} does not exist."
    raise GatewayError(
        problem, code=GatewayErrorCode.IMPORT_FILE_UNREADABLE, extra={"path": str(path)}
    )


def _file_parse(*, path: Path, ordinal: Iterator[int]) -> Iterator[ParsedRow]:
    bookings_seen = 0
    root_name = ""
    stack: list[Element] = []
    try:
        for event, element in DefusedElementTree.iterparse(
            str(path), events=("start", "end"), forbid_dtd=True
        ):
            if event == "start":
                stack.append(element)
                root_name = root_name or _local(element.tag)
                continue
            stack.pop()
            if stack and _local(element.tag) not in MESSAGE_ROOTS:
                continue
            for row in _message_parse(root=element, path=path, ordinal=ordinal):
                bookings_seen += 1
                yield row
            element.clear()
            if stack:
                stack[-1].remove(element)  # a nested message is done: release its memory
    except DefusedXmlException as error:
        raise _refusal(path=path, error=error) from error
    except ParseError as error:
        line, column = error.position
        yield RowRejection(
            line=next(ordinal),
            field="xml",
            value=f"{path.name}:{line}:{column}",
            reason=f"Malformed XML in {path.name} at line {line}, column {column}: "
            f"{_parse_problem(error)}; the rest of this file was not read.",
        )
        return
    if bookings_seen == 0:
        yield RowRejection(
            line=next(ordinal),
            field=root_name,
            value=path.name,
            reason=f"{path.name} holds no j:Booking ({root_name} is not a booking message); "
            "nothing was imported from it.",
        )


def _parse_problem(error: ParseError) -> str:
    return re.sub(r": line \d+, column \d+$", "", str(error))


def _refusal(*, path: Path, error: DefusedXmlException) -> GatewayError:
    """Name what made the XML unsafe, from the file's own prolog when it declares entities."""
    with path.open("rb") as handle:
        prolog = handle.read(_PROLOG_BYTES)
    entities = _ENTITY_DECLARATION.findall(prolog)
    external = [name.decode(errors="replace") for name, kind in entities if kind]
    internal = [name.decode(errors="replace") for name, kind in entities if not kind]
    if external or isinstance(error, ExternalReferenceForbidden):
        problem = "external_entity"
        detail = (
            f"it declares external entities ({', '.join(external) or 'unnamed'}), an XXE attack"
        )
    elif internal or isinstance(error, EntitiesForbidden):
        problem = "entity_expansion"
        detail = (
            f"it declares entities ({', '.join(internal[:5]) or 'unnamed'}), "
            "which can expand into an entity bomb (billion laughs)"
        )
    else:
        problem = "dtd" if isinstance(error, DTDForbidden) else "unsafe_xml"
        detail = "it has a document type declaration (<!DOCTYPE>); booking messages never need one"
    return GatewayError(
        f"Refused {path.name}: {detail}. Nothing in the file was read.",
        code=GatewayErrorCode.XML_REFUSED,
        extra={"path": str(path), "problem": problem},
    )


def _message_parse(*, root: Element, path: Path, ordinal: Iterator[int]) -> Iterator[ParsedRow]:
    message = _Message.index(root)
    for booking in [e for e in root.iter() if _is_niem(e.tag) and _local(e.tag) == "Booking"]:
        line = next(ordinal)
        try:
            yield _booking_parse(message=message, booking=booking, line=line)
        except _RejectionError as rejected:
            yield RowRejection(
                line=line,
                field=rejected.field,
                value=rejected.value,
                reason=f"{rejected.reason} ({path.name})",
            )


def _booking_parse(*, message: _Message, booking: Element, line: int) -> ParsedBooking:
    operation = _operation(message=message, booking=booking)
    if operation == "delete":
        number = message.value(booking, "BookingAgencyRecordIdentification", "IdentificationID")
        raise _RejectionError(
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
        raise _RejectionError(
            ", ".join(missing), "", f"Missing required element(s): {', '.join(missing)}"
        )
    person_fields = _person_fields(message=message, person=person)
    if not any(person_fields.get(k) for k in ("last_name", "first_name")):
        raise _RejectionError(
            "nc:PersonName", "", "Missing required element(s): nc:PersonName (surname or full name)"
        )
    return ParsedBooking(
        line=line,
        person_key=_person_key(message=message, booking=booking, person=person)
        or f"booking:{booking_number}",
        person=person_fields,
        booking_key=booking_number,
        booking=_booking_fields(message=message, booking=booking, number=booking_number),
        charges=_charges(message=message, booking=booking),
        mugshots=_mugshots(message=message, person=person),
        dropped_fields=message.dropped_under(booking, person),
    )


def _operation(*, message: _Message, booking: Element) -> str:
    """NOLA marks a booking add/update/delete by a ref from j:Booking to a MessageOperationCode."""
    ref = _structures_attribute(booking, "ref")
    target = message.by_id.get(ref) if ref else None
    return _text(target).lower() if target is not None else "add"


def _subject(*, message: _Message, booking: Element) -> Element | None:
    subject = message.first(booking, "BookingSubject")
    if subject is None:
        return None
    roles = [r for r in subject if _is_niem(r.tag) and _local(r.tag) == "RoleOfPerson"]
    if roles:
        ref = message.unresolved(roles[0])
        if ref is not None:
            raise _RejectionError(
                "j:BookingSubject/nc:RoleOfPerson",
                ref,
                f"The booking subject refers to structures:id {ref!r}, which is not in the message",
            )
        role = message.resolve(roles[0])
        return role if len(role) else None
    uri = _structures_attribute(subject, "uri")  # NIEM 5: the subject *is* the person with that uri
    linked = [e for e in message.by_uri.get(uri or "", []) if _local(e.tag) == "Person"]
    return linked[0] if linked else None


def _person_key(*, message: _Message, booking: Element, person: Element) -> str:
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
    return next((_text(e) for e in element.iter() if _local(e.tag) == name and _text(e)), "")


def _first_descendant_value(message: _Message, element: Element, name: str) -> str:
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


def _person_fields(*, message: _Message, person: Element) -> dict[str, Any]:
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


def _address(*, message: _Message, person: Element) -> dict[str, str]:
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
    return next((_text(e) for e in element.iter() if _local(e.tag) == name and _text(e)), "")


def _booking_fields(*, message: _Message, booking: Element, number: str) -> dict[str, Any]:
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


def _release(*, message: _Message, booking: Element) -> dict[str, Any]:
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


def _activity_datetime(message: _Message, element: Element, *, field: str) -> datetime | None:
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
        raise _RejectionError(
            field, raw, "Not an xs:dateTime (expected 2024-05-01T13:45:00)"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=_zone())


def _date_parse(raw: str, *, field: str) -> date:
    try:
        return date.fromisoformat(re.sub(r"(Z|[+-]\d\d:\d\d)$", "", raw))
    except ValueError:
        raise _RejectionError(field, raw, "Not an xs:date (expected 2024-05-01)") from None


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


def _charge_elements(*, message: _Message, booking: Element) -> list[Element]:
    charges = [
        charge
        for arrest in message.children(booking, "Arrest")
        for charge in message.children(arrest, "ArrestCharge")
    ]
    return (
        charges + message.children(booking, "BookingCharge") + message.children(booking, "Charge")
    )


def _charges(*, message: _Message, booking: Element) -> tuple[Mapping[str, Any], ...]:
    elements = _charge_elements(message=message, booking=booking)
    parsed = [_charge_fields(message=message, charge=charge) for charge in elements]
    sequences = [message.value(c, "ChargeSequenceID") for c in elements]
    # Use the jail's own sequence numbers only when every charge has a distinct one; else the order given.
    if all(s.isdigit() and int(s) > 0 for s in sequences) and len(set(sequences)) == len(sequences):
        for fields, sequence in zip(parsed, sequences, strict=True):
            fields["sequence"] = int(sequence)
    return tuple(parsed)


def _charge_fields(*, message: _Message, charge: Element) -> dict[str, Any]:
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
            (_text(e) for e in message.descendants(charge, "CaseDocketID") if _text(e)), ""
        ),
    }
    fields.update(_bond(message=message, charge=charge))
    return {key: value for key, value in fields.items() if value not in ("", None)}


def _bond(*, message: _Message, charge: Element) -> dict[str, Any]:
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
            raise _RejectionError(
                "j:BailBond/j:BailBondAmount/nc:Amount", raw, "Not an amount of money"
            ) from None
        if not amount.is_finite() or amount < 0:
            raise _RejectionError(
                "j:BailBond/j:BailBondAmount/nc:Amount", raw, "Not an amount of money"
            )
        return {"bond_amount": amount, "bond_type": kind}
    return {}


def _mugshots(*, message: _Message, person: Element) -> tuple[ParsedMugshot, ...]:
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


def _pose(*, message: _Message, image: Element) -> str:
    label = next(
        (_text(e) for e in image.iter() if "Pose" in _local(e.tag) and _text(e)),
        message.value(image, "BinaryCategoryText"),
    )
    return str(mugshot_pose_from_label(label=label))


def _captured_at(image: Element) -> datetime | None:
    for element in image.iter():
        if "Capture" in _local(element.tag):
            raw = next(
                (_text(e) for e in element.iter() if _local(e.tag) in ("DateTime", "Date")),
                _text(element),
            )
            try:
                parsed = datetime.fromisoformat(raw)
            except ValueError:
                return None  # a bad capture date is not worth losing the photo over
            return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=_zone())
    return None
