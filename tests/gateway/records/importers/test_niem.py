"""The NIEM booking parser on our own fixtures, which copy the shapes of the NOLA and OJBC messages.

Fixtures live in tests/gateway/records/fixtures/niem/ (invented values only); variants (other NIEM versions, broken or
hostile files) are derived from them here, so each test states the one thing it changes.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from gateway.exceptions import GatewayError, GatewayErrorCode
from gateway.records.importers.base import FormatOptions, ParsedBooking, ParsedRow, RowRejection
from gateway.records.importers.niem import NiemFormat, niem_parse
from gateway.records.mugshots import mugshot_validate

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "niem"
NOLA = FIXTURES / "nola_booking.xml"
NOLA_DEFAULT_NS = FIXTURES / "nola_default_namespace.xml"
OJBC = FIXTURES / "ojbc_booking_report.xml"
CENTRAL = timezone(timedelta(hours=-5))

# Values that sit only inside elements the parser must drop; none may appear anywhere in its output.
DROPPED_VALUES = ("Zembla", "A000000000", "Ruritania", "A111111111", "Example citizenship")


def _rows(path: Path) -> list[ParsedRow]:
    return list(niem_parse(path=path))


def _one_booking(path: Path) -> ParsedBooking:
    rows = _rows(path)
    assert len(rows) == 1
    assert isinstance(rows[0], ParsedBooking), rows[0]
    return rows[0]


def _one_rejection(path: Path) -> RowRejection:
    rows = _rows(path)
    assert len(rows) == 1
    assert isinstance(rows[0], RowRejection), rows[0]
    return rows[0]


def _variant(tmp_path: Path, text: str, name: str = "variant.xml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _nola_text() -> str:
    return NOLA.read_text(encoding="utf-8")


# --- the three real shapes ---------------------------------------------------------------------------------


def test_nola_prefixed_booking_is_read_field_by_field() -> None:
    row = _one_booking(NOLA)

    assert (row.line, row.booking_key, row.person_key) == (1, "SCN-2025-004211", "person:JMS-55120")
    assert row.booking == {
        "booking_number": "SCN-2025-004211",
        "booking_agency": "Orleans Parish Sheriff's Office",
        "arresting_agency": "New Orleans Police Department",
        "booked_at": datetime(2025, 3, 14, 22, 5, tzinfo=CENTRAL),
        "released_at": datetime(2025, 3, 16, 9, 40, tzinfo=CENTRAL),
        "custody_status": "released",
    }
    assert row.person == {
        "first_name": "Jonah",
        "middle_name": "Q",
        "last_name": "Testperson",
        "suffix": "Jr",
        "date_of_birth": date(1990, 7, 4),
        "sex": "M",
        "race": "Black",
        "ethnicity": "Not Hispanic",
        "address": "100 Example St, New Orleans, LA",
        "zip_code": "70112",
        "state_id": "LA-SID-77001",
        "ssn": "000-00-0000",
        "fbi_number": "FBI-123ABC",
        "drivers_license": "DL-0099",
    }


def test_nola_charges_keep_statute_level_bond_and_the_jails_sequence() -> None:
    charges = _one_booking(NOLA).charges

    assert charges == (
        {
            "statute": "RS 14:62",
            "description": "Simple burglary",
            "level": "felony",
            "bond_amount": Decimal("5000.00"),
            "sequence": 1,
        },
        {
            "statute": "MCS 54-403",
            "description": "Resisting an officer",
            "level": "misdemeanor",
            "bond_amount": Decimal("750"),
            "sequence": 2,
        },
    )


def test_nola_inline_mugshot_is_extracted_as_a_decodable_image() -> None:
    (mugshot,) = _one_booking(NOLA).mugshots

    image = mugshot_validate(data=mugshot.data)  # base64 spread over lines, decoded exactly
    assert (image.format, image.width, image.height) == ("jpeg", 80, 100)
    assert image.size == 1221  # what the message's own nc:BinarySizeValue says
    assert mugshot.pose == "frontal"


def test_citizenship_immigration_and_birthplace_are_dropped_and_reported() -> None:
    row = _one_booking(NOLA)

    assert {
        "PersonBirthLocation",
        "PersonUSCitizenIndicator",
        "PersonNationality",
        "AlienIdentification",
        "PersonSexualOrientationText",
        "PersonGenderIdentityCode",
    } == set(row.dropped_fields)
    assert not any(value in repr(row) for value in DROPPED_VALUES)


def test_default_namespace_booking_in_custody_with_local_times() -> None:
    row = _one_booking(NOLA_DEFAULT_NS)
    county = ZoneInfo(settings.TIME_ZONE)

    assert row.booking_key == "SCN-2025-009902"
    assert row.person_key == "sid:LA-SID-88002"
    assert row.booking["custody_status"] == "in_custody"
    assert "released_at" not in row.booking
    assert row.booking["booked_at"] == datetime(2025, 6, 1, 3, 15, tzinfo=county)
    assert (row.person["first_name"], row.person["last_name"], row.person["sex"]) == (
        "Maria",
        "Samplewoman",
        "F",
    )
    assert row.person["address"] == "22 Placeholder Ave, New Orleans, LA"
    assert row.mugshots == ()
    assert set(row.dropped_fields) == {
        "PersonBirthLocation",
        "PersonUSCitizenIndicator",
        "AlienIdentification",
    }
    assert not any(value in repr(row) for value in DROPPED_VALUES)


def test_default_namespace_charges_without_usable_sequence_keep_their_order() -> None:
    charges = _one_booking(NOLA_DEFAULT_NS).charges

    assert [c.get("statute") for c in charges] == ["14:67", "HOLD", "32:58"]
    assert [c.get("level") for c in charges] == ["felony", "civil_hold", None]
    assert all("sequence" not in c for c in charges)  # "String" is not a sequence number


def test_ojbc_report_resolves_person_arrest_and_charges_by_reference() -> None:
    row = _one_booking(OJBC)

    assert row.person_key == "subject:S29858"
    assert row.person == {
        "last_name": "Placeholder",
        "first_name": "Alex",
        "middle_name": "Morgan",
        "date_of_birth": date(1979, 1, 15),
        "sex": "M",
        "ssn": "000-11-2222",
    }
    assert row.booking["arresting_agency"] == "AZ0100000"
    assert row.booking["housing"] == "Pod C-2"
    assert row.booking["booked_at"] == datetime(2024, 2, 10, 16, 30, tzinfo=UTC)
    assert [(c["sequence"], c["statute"], c["level"], c["disposition"]) for c in row.charges] == [
        (2, "13-1502", "misdemeanor", "dismissed"),
        (1, "13-1204", "felony", "pending"),
    ]
    assert row.dropped_fields == ("PersonCitizenshipText",)


# --- namespace versions ------------------------------------------------------------------------------------

NIEM_VERSIONS = {
    "niem-4": {
        "niem-core/5.0/": "niem-core/4.0/",
        "structures/5.0/": "structures/4.0/",
        "jxdm/7.2/": "jxdm/6.1/",
        "humanServices/5.2/": "humanServices/4.1/",
    },
    "niem-3": {
        "niem-core/5.0/": "niem-core/3.0/",
        "structures/5.0/": "structures/3.0/",
        "jxdm/7.2/": "jxdm/5.1/",
        "humanServices/5.2/": "humanServices/3.2/",
        "Base64BinaryObject": "BinaryBase64Object",
    },
    "niem-2": {
        "http://release.niem.gov/niem/niem-core/5.0/": "http://niem.gov/niem/niem-core/2.0",
        "http://release.niem.gov/niem/structures/5.0/": "http://niem.gov/niem/structures/2.0",
        "http://release.niem.gov/niem/domains/jxdm/7.2/": "http://niem.gov/niem/domains/jxdm/4.1",
        "http://release.niem.gov/niem/domains/humanServices/5.2/": (
            "http://niem.gov/niem/domains/humanServices/2.1"
        ),
        "Base64BinaryObject": "BinaryBase64Object",
    },
    "niemopen-6": {
        "http://release.niem.gov/niem/niem-core/5.0/": (
            "https://docs.oasis-open.org/niemopen/ns/model/niem-core/6.0/"
        ),
        "http://release.niem.gov/niem/structures/5.0/": (
            "https://docs.oasis-open.org/niemopen/ns/model/structures/6.0/"
        ),
        "http://release.niem.gov/niem/domains/jxdm/7.2/": (
            "https://docs.oasis-open.org/niemopen/ns/model/domains/justice/6.0/"
        ),
    },
}


@pytest.mark.parametrize("version", sorted(NIEM_VERSIONS))
def test_other_niem_versions_read_the_same(tmp_path: Path, version: str) -> None:
    text = _nola_text()
    for old, new in NIEM_VERSIONS[version].items():
        assert old in text
        text = text.replace(old, new)

    row = _one_booking(_variant(tmp_path, text))

    expected = _one_booking(NOLA)
    assert (row.booking, row.person, row.charges) == (
        expected.booking,
        expected.person,
        expected.charges,
    )
    assert [m.data for m in row.mugshots] == [m.data for m in expected.mugshots]
    assert set(row.dropped_fields) == set(expected.dropped_fields)


def test_look_alike_elements_outside_niem_are_not_read(tmp_path: Path) -> None:
    # Same local names, but niem-core moved to a namespace that is not NIEM: nothing of it may be taken.
    text = _nola_text().replace(
        "http://release.niem.gov/niem/niem-core/5.0/", "http://example.invalid/not-niem/core/"
    )

    rejection = _one_rejection(_variant(tmp_path, text))

    assert "j:BookingAgencyRecordIdentification/nc:IdentificationID" in rejection.reason


# --- id / ref / uri links ----------------------------------------------------------------------------------


def test_a_reference_to_a_missing_id_is_rejected_naming_it(tmp_path: Path) -> None:
    text = OJBC.read_text(encoding="utf-8").replace('s:ref="Person_01"', 's:ref="Person_99"')

    rejection = _one_rejection(_variant(tmp_path, text))

    assert (rejection.field, rejection.value) == ("j:BookingSubject/nc:RoleOfPerson", "Person_99")


def test_a_subject_linked_by_structures_uri_is_the_person_with_that_uri(tmp_path: Path) -> None:
    text = (
        OJBC.read_text(encoding="utf-8")
        .replace('<nc:RoleOfPerson s:ref="Person_01" xsi:nil="true"/>', "")
        .replace("<j:BookingSubject>", '<j:BookingSubject s:uri="#P1">')
        .replace('<nc:Person s:id="Person_01">', '<nc:Person s:uri="#P1">')
    )

    row = _one_booking(_variant(tmp_path, text))

    assert (row.person["last_name"], row.person["date_of_birth"]) == (
        "Placeholder",
        date(1979, 1, 15),
    )


def test_a_delete_message_is_reported_not_applied(tmp_path: Path) -> None:
    text = _nola_text().replace(
        '<j:Booking structures:ref="add">', '<j:Booking structures:ref="delete">'
    )

    rejection = _one_rejection(_variant(tmp_path, text))

    assert (rejection.field, rejection.value) == ("nola-ext:MessageOperationCode", "delete")
    assert "SCN-2025-004211" in rejection.reason


# --- several messages, folders, non-booking messages -------------------------------------------------------


def _body(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return re.sub(r"^<\?xml[^>]*\?>", "", text).strip()


def test_a_file_of_several_messages_yields_each_booking_in_order(tmp_path: Path) -> None:
    batch = f"<Batch>\n{_body(NOLA)}\n{_body(NOLA_DEFAULT_NS)}\n{_body(OJBC)}\n</Batch>\n"

    rows = _rows(_variant(tmp_path, batch))

    assert [(r.line, r.booking_key) for r in rows if isinstance(r, ParsedBooking)] == [
        (1, "SCN-2025-004211"),
        (2, "SCN-2025-009902"),
        (3, "2024-000731"),
    ]


def test_a_folder_is_read_in_name_order_with_lines_increasing_across_files(tmp_path: Path) -> None:
    for name, source in [
        ("a.xml", NOLA),
        ("b.xml", FIXTURES / "async_response.xml"),
        ("c.xml", OJBC),
    ]:
        _variant(tmp_path, source.read_text(encoding="utf-8"), name)
    _variant(tmp_path, "not xml, and not read", "notes.txt")

    rows = list(NiemFormat(FormatOptions()).parse(tmp_path))

    assert [(r.line, type(r).__name__) for r in rows] == [
        (1, "ParsedBooking"),
        (2, "RowRejection"),
        (3, "ParsedBooking"),
    ]
    assert isinstance(rows[1], RowRejection)
    assert "b.xml" in rows[1].reason


def test_a_message_with_no_booking_is_rejected_not_ignored() -> None:
    rejection = _one_rejection(FIXTURES / "async_response.xml")

    assert rejection.field == "AsynchronousResponseMessage"
    assert "no j:Booking" in rejection.reason


def test_the_source_name_can_be_overridden() -> None:
    assert NiemFormat(FormatOptions()).source == "niem"
    assert NiemFormat(FormatOptions(source="opso-jms")).source == "opso-jms"


@pytest.mark.parametrize("kind", ["missing", "empty-folder"])
def test_an_unreadable_path_fails_with_a_clear_error(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "nowhere.xml" if kind == "missing" else tmp_path

    with pytest.raises(GatewayError) as caught:
        _rows(path)

    assert caught.value.code == GatewayErrorCode.IMPORT_FILE_UNREADABLE


# --- hostile and broken XML --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "problem", "named"),
    [("xxe.xml", "external_entity", "xxe"), ("billion_laughs.xml", "entity_expansion", "lol")],
)
def test_entity_attacks_are_refused_before_anything_is_read(
    fixture: str, problem: str, named: str
) -> None:
    rows: list[ParsedRow] = []
    with pytest.raises(GatewayError) as caught:
        rows.extend(niem_parse(path=FIXTURES / fixture))

    assert rows == []
    assert caught.value.code == GatewayErrorCode.XML_REFUSED
    assert caught.value.extra["problem"] == problem
    assert named in caught.value.message
    assert "root:" not in caught.value.message  # nothing of /etc/passwd, ever


def test_any_dtd_is_refused(tmp_path: Path) -> None:
    text = _nola_text().replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE nola:BookingExchange SYSTEM "booking.dtd">',
    )

    with pytest.raises(GatewayError) as caught:
        _rows(_variant(tmp_path, text))

    assert (caught.value.code, caught.value.extra["problem"]) == (
        GatewayErrorCode.XML_REFUSED,
        "dtd",
    )


def test_broken_xml_is_rejected_with_its_line_and_column(tmp_path: Path) -> None:
    lines = _nola_text().splitlines()
    broken_at = next(i for i, line in enumerate(lines, 1) if "<nc:PersonGivenName>" in line)
    lines[broken_at - 1] = "<nc:PersonGivenName>Jonah</nc:PersonSurName>"

    rejection = _one_rejection(_variant(tmp_path, "\n".join(lines), "broken.xml"))

    assert rejection.field == "xml"
    assert rejection.value.startswith(f"broken.xml:{broken_at}:")
    assert f"line {broken_at}, column" in rejection.reason
    assert "mismatched tag" in rejection.reason


def test_a_file_cut_short_keeps_the_messages_before_the_cut(tmp_path: Path) -> None:
    batch = f"<Batch>\n{_body(NOLA)}\n{_body(OJBC)}\n</Batch>\n"
    cut = batch[: batch.index("<j:Charge s:id")]

    rows = _rows(_variant(tmp_path, cut, "cut.xml"))

    assert [type(r).__name__ for r in rows] == ["ParsedBooking", "RowRejection"]
    assert isinstance(rows[1], RowRejection)
    assert "no element found" in rows[1].reason or "unclosed token" in rows[1].reason


# --- missing and bad values --------------------------------------------------------------------------------


def test_missing_required_elements_are_rejected_naming_them(tmp_path: Path) -> None:
    text = re.sub(
        r"<j:BookingAgencyRecordIdentification>.*?</j:BookingAgencyRecordIdentification>"
        r"|<j:BookingSubject>.*?</j:BookingSubject>",
        "",
        _nola_text(),
        flags=re.DOTALL,
    )

    rejection = _one_rejection(_variant(tmp_path, text))

    assert rejection.field == (
        "j:BookingAgencyRecordIdentification/nc:IdentificationID, j:BookingSubject/nc:RoleOfPerson"
    )
    assert "Missing required element(s)" in rejection.reason


def test_a_subject_without_a_name_is_rejected(tmp_path: Path) -> None:
    text = re.sub(r"<nc:PersonName>.*?</nc:PersonName>", "", _nola_text(), count=1, flags=re.DOTALL)

    assert _one_rejection(_variant(tmp_path, text)).field == "nc:PersonName"


@pytest.mark.parametrize(
    ("old", "new", "field", "value"),
    [
        (
            "<nc:Date>1990-07-04</nc:Date>",
            "<nc:Date>1990-13-45</nc:Date>",
            "nc:PersonBirthDate/nc:Date",
            "1990-13-45",
        ),
        (
            "<nc:DateTime>2025-03-14T22:05:00-05:00</nc:DateTime>",
            "<nc:DateTime>yesterday</nc:DateTime>",
            "nc:ActivityDate/nc:DateTime",
            "yesterday",
        ),
        (
            "<nc:Amount>750</nc:Amount>",
            "<nc:Amount>seven fifty</nc:Amount>",
            "j:BailBond/j:BailBondAmount/nc:Amount",
            "seven fifty",
        ),
    ],
)
def test_a_bad_value_rejects_the_booking_with_field_and_raw_value(
    tmp_path: Path, old: str, new: str, field: str, value: str
) -> None:
    text = _nola_text()
    assert old in text

    rejection = _one_rejection(_variant(tmp_path, text.replace(old, new)))

    assert (rejection.line, rejection.field, rejection.value) == (1, field, value)


def test_a_mugshot_that_is_not_base64_is_passed_on_for_the_store_to_refuse(tmp_path: Path) -> None:
    text = re.sub(
        r"<nc:Base64BinaryObject>.*?</nc:Base64BinaryObject>",
        "<nc:Base64BinaryObject>not*base64!</nc:Base64BinaryObject>",
        _nola_text(),
        flags=re.DOTALL,
    )

    (mugshot,) = _one_booking(_variant(tmp_path, text)).mugshots

    assert mugshot.data == b"not*base64!"


def test_release_date_without_indicator_means_released(tmp_path: Path) -> None:
    text = _nola_text().replace(
        "<nc:ActivityCompletedIndicator>true</nc:ActivityCompletedIndicator>", ""
    )

    booking = _one_booking(_variant(tmp_path, text)).booking

    assert booking["custody_status"] == "released"
    assert booking["released_at"] == datetime(2025, 3, 16, 9, 40, tzinfo=CENTRAL)


def test_a_booking_date_without_time_is_local_midnight(tmp_path: Path) -> None:
    text = _nola_text().replace(
        "<nc:DateTime>2025-03-14T22:05:00-05:00</nc:DateTime>", "<nc:Date>2025-03-14</nc:Date>"
    )

    booked_at = _one_booking(_variant(tmp_path, text)).booking["booked_at"]

    assert booked_at == datetime(2025, 3, 14, tzinfo=ZoneInfo(settings.TIME_ZONE))


@pytest.mark.parametrize(
    ("full_name", "expected"),
    [
        ("Alex Morgan Placeholder", ("Alex", "Morgan", "Placeholder")),
        ("Placeholder", (None, None, "Placeholder")),
    ],
)
def test_a_full_name_alone_is_split(
    tmp_path: Path, full_name: str, expected: tuple[str | None, ...]
) -> None:
    text = OJBC.read_text(encoding="utf-8").replace("Placeholder, Alex Morgan", full_name)

    person = _one_booking(_variant(tmp_path, text)).person

    assert (
        person.get("first_name"),
        person.get("middle_name"),
        person.get("last_name"),
    ) == expected


def test_felony_indicator_and_biometric_pose_and_capture_date(tmp_path: Path) -> None:
    text = (
        _nola_text()
        .replace(
            "<j:ChargeCategoryDescriptionText>Misdemeanor</j:ChargeCategoryDescriptionText>",
            "<j:ChargeFelonyIndicator>true</j:ChargeFelonyIndicator>",
        )
        .replace(
            "<nc:BinaryCategoryText>F</nc:BinaryCategoryText>",
            '<biom:FacePoseCode xmlns:biom="http://release.niem.gov/niem/domains/biometrics/5.0/">'
            "L</biom:FacePoseCode>"
            '<biom:CaptureDate xmlns:biom="http://release.niem.gov/niem/domains/biometrics/5.0/">'
            "<nc:DateTime>2025-03-14T22:20:00Z</nc:DateTime></biom:CaptureDate>",
        )
    )

    row = _one_booking(_variant(tmp_path, text))

    assert [c["level"] for c in row.charges] == ["felony", "felony"]
    (mugshot,) = row.mugshots
    assert (mugshot.pose, mugshot.captured_at) == (
        "left_profile",
        datetime(2025, 3, 14, 22, 20, tzinfo=UTC),
    )


# --- through the import framework --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_nola_shape_imports_once_and_reimports_unchanged(tmp_path: Path) -> None:
    from django.core.management import call_command

    from gateway.records.models import Booking, Mugshot

    report = tmp_path / "report.json"
    call_command("import_bookings", str(NOLA), "--format", "niem", "--report", str(report))
    call_command("import_bookings", str(NOLA), "--format", "niem", "--report", str(report))

    booking = Booking.objects.get(source="niem", source_key="SCN-2025-004211")
    assert booking.person.last_name == "Testperson"
    assert list(booking.charges.values_list("sequence", "statute")) == [
        (1, "RS 14:62"),
        (2, "MCS 54-403"),
    ]
    assert Mugshot.objects.filter(booking=booking, pose="frontal", width=80).count() == 1
    second = json.loads(report.read_text(encoding="utf-8"))
    assert (second["read"], second["unchanged"], second["rejected"]) == (1, 1, 0)
    assert "PersonUSCitizenIndicator" in second["dropped_fields"]


@pytest.mark.django_db
def test_a_dummy_inline_image_keeps_the_booking_and_is_reported(tmp_path: Path) -> None:
    """The real NOLA samples carry a 36-byte placeholder where the photo travels; the booking still imports."""
    from gateway.records.importing.services import bookings_import
    from gateway.records.models import Booking, Mugshot

    placeholder = base64.b64encode(b"placeholder, not a photo: 0123456789").decode()
    text = re.sub(
        r"<nc:Base64BinaryObject>.*?</nc:Base64BinaryObject>",
        f"<nc:Base64BinaryObject>{placeholder}</nc:Base64BinaryObject>",
        _nola_text(),
        flags=re.DOTALL,
    )
    path = _variant(tmp_path, text)

    report = bookings_import(path=path, format_name="niem")
    again = bookings_import(path=path, format_name="niem")

    assert (report.read, report.created, report.rejected) == (1, 1, 0)
    # Issue 8.12: a NIEM rejection names the file, the booking in it and the image, not a "line".
    [refused] = report.mugshot_rejections
    assert (refused["field"], refused["where"]) == ("mugshot", f"{path.name}, booking 1, image 1")
    assert refused["reason"].startswith(f"{path.name}, booking 1, image 1: ")
    assert "not_an_image" in refused["reason"]
    assert Booking.objects.get(source="niem").charges.count() == 2
    assert not Mugshot.objects.exists()
    assert (again.read, again.unchanged, len(again.mugshot_rejections)) == (1, 1, 1)


# --- a booking carried again by later messages: applied in order as updates --------------------------------


def _booking_message() -> str:
    """The NOLA shape as its booking message: the same booking before its release."""
    text = re.sub(r"<j:BookingRelease>.*?</j:BookingRelease>", "", _nola_text(), flags=re.DOTALL)
    assert "BookingRelease" not in text
    return text


def _message_folder(tmp_path: Path, *texts: str) -> Path:
    folder = tmp_path / "messages"
    folder.mkdir()
    for number, text in enumerate(texts, start=1):
        _variant(folder, text, name=f"{number:02d}.xml")
    return folder


def _import_counts(path: Path, batch_size: int = 2000) -> tuple[int, int, int, int, int]:
    from gateway.records.importing.services import bookings_import

    report = bookings_import(path=path, format_name="niem", batch_size=batch_size)
    assert report.rejections == ()
    return report.read, report.created, report.updated, report.unchanged, report.rejected


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 2000])
def test_a_release_message_after_the_booking_message_updates_the_booking(
    tmp_path: Path, batch_size: int
) -> None:
    from gateway.records.models import Booking

    folder = _message_folder(tmp_path, _booking_message(), _nola_text(), _nola_text())

    assert _import_counts(folder, batch_size) == (3, 1, 1, 1, 0)
    booking = Booking.objects.get(source="niem", source_key="SCN-2025-004211")
    assert booking.released_at == datetime(2025, 3, 16, 9, 40, tzinfo=CENTRAL)
    assert booking.charges.count() == 2
    # Re-importing the folder leaves the released booking as it is: no trip back to the booking message.
    updated_at = booking.updated_at
    assert _import_counts(folder, batch_size) == (3, 0, 0, 3, 0)
    assert Booking.objects.get(pk=booking.pk).updated_at == updated_at


@pytest.mark.django_db
def test_messages_nested_in_one_file_are_applied_in_order(tmp_path: Path) -> None:
    from gateway.records.models import Booking

    def body(text: str) -> str:
        return text[text.index("<nola:BookingExchange") :]

    # The release first, then a stale booking message: the file's order wins, as a JMS replay would have it.
    wrapper = f"<Messages>{body(_nola_text())}{body(_booking_message())}</Messages>"
    path = _variant(tmp_path, wrapper, name="replay.xml")

    assert _import_counts(path) == (2, 1, 1, 0, 0)
    assert (
        Booking.objects.get(source_key="SCN-2025-004211").released_at is not None
    )  # kept: not published
    assert _import_counts(path) == (2, 0, 0, 2, 0)


@pytest.mark.django_db
def test_the_booking_message_imported_alone_first_then_the_release_updates_it(
    tmp_path: Path,
) -> None:
    booking_only = _message_folder(tmp_path, _booking_message())
    assert _import_counts(booking_only) == (1, 1, 0, 0, 0)
    _variant(booking_only, _nola_text(), name="02.xml")
    assert _import_counts(booking_only) == (2, 0, 1, 1, 0)
