"""A row that says nothing about charges (a NIEM release message, a layout without charge columns) must not wipe
the charges another row stored; a row that lists charges still replaces them.

Messages are derived from our own NOLA-shaped fixture (tests/gateway/records/fixtures/niem/nola_booking.xml), which
carries both a release and two charges; each variant removes one of the two. Runs on SQLite and, with
DATABASE_URL set, on PostgreSQL (whose upsert is a different code path: staging tables and one statement).
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from gateway.models import Booking
from gateway.records.importers.base import FormatOptions, ParsedBooking
from gateway.records.importers.dane import DaneFormat
from gateway.records.importers.niem import niem_parse
from gateway.records.importing.services import ImportReport, bookings_import

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NOLA = FIXTURES / "niem" / "nola_booking.xml"
NUMBER = "SCN-2025-004211"
CENTRAL = timezone(timedelta(hours=-5))
RELEASED_AT = datetime(2025, 3, 16, 9, 40, tzinfo=CENTRAL)
STATUTES = [(1, "RS 14:62"), (2, "MCS 54-403")]


def _nola() -> str:
    return NOLA.read_text(encoding="utf-8")


def _without(text: str, element: str) -> str:
    stripped = re.sub(rf"<{element}>.*?</{element}>", "", text, flags=re.DOTALL)
    assert element not in stripped
    return stripped


def booking_message(number: str = NUMBER) -> str:
    """The booking as first published: its two charges, no release."""
    return _without(_nola(), "j:BookingRelease").replace(NUMBER, number)


def release_message(number: str = NUMBER) -> str:
    """The release of the booking, carrying no charge element at all (as JMS release messages often do)."""
    return _without(_nola(), "j:ArrestCharge").replace(NUMBER, number)


def folder(path: Path, *messages: str, first: int = 1) -> Path:
    path.mkdir(exist_ok=True)
    for number, text in enumerate(messages, start=first):
        (path / f"{number:02d}.xml").write_text(text, encoding="utf-8")
    return path


def niem_import(path: Path, batch_size: int = 2000) -> tuple[int, int, int, int, int]:
    report = bookings_import(path=path, format_name="niem", batch_size=batch_size)
    assert report.rejections == ()
    return counts(report)


def counts(report: ImportReport) -> tuple[int, int, int, int, int]:
    return report.read, report.created, report.updated, report.unchanged, report.rejected


def statutes(number: str = NUMBER, source: str = "niem") -> list[tuple[int, str]]:
    booking = Booking.objects.get(source=source, source_key=number)
    return list(booking.charges.values_list("sequence", "statute"))


# --- the parsers say whether a row reports charges ---------------------------------------------------------


def test_a_niem_message_without_charge_elements_does_not_report_charges(tmp_path: Path) -> None:
    (release,) = niem_parse(path=folder(tmp_path / "r", release_message()))
    (booked,) = niem_parse(path=folder(tmp_path / "b", booking_message()))

    assert isinstance(release, ParsedBooking)
    assert isinstance(booked, ParsedBooking)
    assert (release.charges, release.charges_reported) == ((), False)
    assert release.booking["released_at"] == RELEASED_AT
    assert (len(booked.charges), booked.charges_reported) == (2, True)


def test_a_dane_layout_without_charge_columns_does_not_report_charges(tmp_path: Path) -> None:
    source = (FIXTURES / "rosters" / "dane_roster.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(source)))
    kept = [name for name in rows[0] if name not in {"charges_str", "statute_codes"}]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=kept, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    roster = tmp_path / "roster_without_charges.csv"
    roster.write_text(out.getvalue(), encoding="utf-8")

    with_charges = list(DaneFormat(FormatOptions()).parse(FIXTURES / "rosters" / "dane_roster.csv"))
    without = list(DaneFormat(FormatOptions()).parse(roster))

    assert any(isinstance(r, ParsedBooking) and r.charges_reported for r in with_charges)
    parsed = [r for r in without if isinstance(r, ParsedBooking)]
    assert parsed
    assert not any(r.charges_reported for r in parsed)


# --- NIEM: a release message keeps the charges of the booking message ----------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 2000])
def test_a_release_message_without_charges_keeps_the_stored_charges(
    tmp_path: Path, batch_size: int
) -> None:
    messages = folder(tmp_path / "m", booking_message(), release_message())

    assert niem_import(messages, batch_size) == (2, 1, 1, 0, 0)
    booking = Booking.objects.get(source="niem", source_key=NUMBER)
    assert (booking.custody_status, booking.released_at) == ("released", RELEASED_AT)
    assert statutes() == STATUTES

    # Re-imported: both messages unchanged, nothing written.
    updated_at = booking.updated_at
    assert niem_import(messages, batch_size) == (2, 0, 0, 2, 0)
    assert Booking.objects.get(pk=booking.pk).updated_at == updated_at
    assert statutes() == STATUTES


@pytest.mark.django_db
def test_the_release_message_imported_on_its_own_after_the_booking_keeps_the_charges(
    tmp_path: Path,
) -> None:
    assert niem_import(folder(tmp_path / "b", booking_message())) == (1, 1, 0, 0, 0)
    release = folder(tmp_path / "r", release_message())

    assert niem_import(release) == (1, 0, 1, 0, 0)
    assert Booking.objects.get(source_key=NUMBER).released_at == RELEASED_AT
    assert statutes() == STATUTES
    assert niem_import(release) == (1, 0, 0, 1, 0)
    assert statutes() == STATUTES


@pytest.mark.django_db
def test_the_release_message_first_then_the_booking_message_stores_the_charges(
    tmp_path: Path,
) -> None:
    release = folder(tmp_path / "r", release_message())
    assert niem_import(release) == (1, 1, 0, 0, 0)
    assert statutes() == []

    assert niem_import(folder(tmp_path / "b", booking_message())) == (1, 0, 1, 0, 0)
    booking = Booking.objects.get(source_key=NUMBER)
    assert booking.released_at == RELEASED_AT  # the booking message does not publish it: kept
    assert statutes() == STATUTES


@pytest.mark.django_db
def test_a_folder_whose_release_was_imported_first_still_applies_its_booking_message(
    tmp_path: Path,
) -> None:
    """The release alone, then the folder with the booking message before it.

    The stored booking then holds the folder's last message (the release), which would normally make the
    booking message history to skip; but the release says nothing about charges, and the charges of the
    booking message were never stored, so the booking message must still be applied.
    """
    messages = folder(tmp_path / "m", release_message(), first=2)
    assert niem_import(messages) == (1, 1, 0, 0, 0)
    folder(messages, booking_message())  # 01.xml, read before 02.xml

    assert niem_import(messages) == (2, 0, 2, 0, 0)
    assert Booking.objects.get(source_key=NUMBER).released_at == RELEASED_AT
    assert statutes() == STATUTES
    assert niem_import(messages) == (2, 0, 0, 2, 0)
    assert statutes() == STATUTES


@pytest.mark.django_db
def test_reported_and_unreported_charges_in_one_batch_each_get_their_due(tmp_path: Path) -> None:
    """Two bookings updated in one batch by rows with the same fields: one without charges, one with fewer.

    On PostgreSQL both would share one staging table and one delete of old charges, were it not kept apart.
    """
    first = ("SCN-1", "SCN-2")
    assert niem_import(folder(tmp_path / "a", *map(booking_message, first))) == (2, 2, 0, 0, 0)
    agency = "Orleans Parish Sheriff's Office"
    silent = _without(booking_message("SCN-1"), "j:ArrestCharge").replace(agency, "OPSO")
    fewer = re.sub(
        r"<j:ArrestCharge>.*?</j:ArrestCharge>",
        "",
        booking_message("SCN-2").replace(agency, "OPSO"),
        count=1,
        flags=re.DOTALL,
    )

    assert niem_import(folder(tmp_path / "b", silent, fewer)) == (2, 0, 2, 0, 0)
    assert list(
        Booking.objects.order_by("source_key").values_list("booking_agency", flat=True)
    ) == [
        "OPSO",
        "OPSO",
    ]
    assert statutes("SCN-1") == STATUTES
    assert statutes("SCN-2") == [(2, "MCS 54-403")]


# --- CSV: a listed set of charges still replaces the stored one ----------------------------------------


def _csv_import(tmp_path: Path, rows: str, *, charges: bool = True) -> ImportReport:
    data = tmp_path / "roster.csv"
    data.write_text(rows, encoding="utf-8")
    mapping: dict[str, object] = {
        "source": "county",
        "person_key": "id",
        "booking_key": "booking",
        "person": {"name": "name"},
        "booking": {"booked_at": "booked", "housing": "housing"},
    }
    if charges:
        mapping["charges"] = {"statute": "statutes"}
    (tmp_path / "m.json").write_text(json.dumps(mapping), encoding="utf-8")
    return bookings_import(path=data, format_name="csv", mapping=tmp_path / "m.json")


ROSTER = 'id,booking,name,booked,housing,statutes\nP1,B1,"ROE, EVE",2024-01-02 10:00,{housing},{statutes}\n'


@pytest.mark.django_db
def test_a_roster_row_listing_fewer_charges_replaces_them(tmp_path: Path) -> None:
    _csv_import(tmp_path, ROSTER.format(housing="A", statutes="940.19; 946.41"))
    report = _csv_import(tmp_path, ROSTER.format(housing="A", statutes="940.19"))

    assert counts(report) == (1, 0, 1, 0, 0)
    assert statutes("B1", source="county") == [(1, "940.19")]
    report = _csv_import(tmp_path, ROSTER.format(housing="A", statutes=""))
    assert counts(report) == (1, 0, 1, 0, 0)
    assert statutes("B1", source="county") == []


@pytest.mark.django_db
def test_a_mapping_without_charges_leaves_the_stored_charges_alone(tmp_path: Path) -> None:
    _csv_import(tmp_path, ROSTER.format(housing="A", statutes="940.19; 946.41"))
    report = _csv_import(tmp_path, ROSTER.format(housing="B", statutes=""), charges=False)

    assert counts(report) == (1, 0, 1, 0, 0)
    assert Booking.objects.get(source_key="B1").housing == "B"
    assert statutes("B1", source="county") == [(1, "940.19"), (2, "946.41")]
