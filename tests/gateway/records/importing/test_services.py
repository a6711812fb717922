"""The import service end to end on our own fixtures: counts, idempotency, resuming, bad input, the command."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest
from django.core.management import CommandError, call_command

from gateway.exceptions import GatewayError, GatewayErrorCode
from gateway.models import (
    Booking,
    Charge,
    ImportRejection,
    ImportRun,
    ImportStatus,
    Mugshot,
    Person,
)
from gateway.records.importers import registry
from gateway.records.importers.base import (
    FormatOptions,
    ParsedBooking,
    ParsedMugshot,
    ParsedRow,
    RowRejection,
)
from gateway.records.importing.services import ImportReport, bookings_import

ROSTERS = Path(__file__).resolve().parents[1] / "fixtures" / "rosters"
pytestmark = pytest.mark.django_db


def counts(report: ImportReport) -> tuple[int, int, int, int, int]:
    return report.read, report.created, report.updated, report.unchanged, report.rejected


def assert_adds_up(report: ImportReport) -> None:
    assert report.read == report.created + report.updated + report.unchanged + report.rejected
    assert len(report.rejections) == report.rejected
    assert all(r["reason"] and r["field"] for r in report.rejections)
    run = ImportRun.objects.get(pk=report.run_id)
    assert (run.read, run.created, run.updated, run.unchanged, run.rejected) == counts(report)


@pytest.mark.parametrize(
    ("format_name", "path", "first"),
    [
        ("dane", "dane_merged.csv", (5, 3, 0, 0, 2)),
        ("columbia", "columbia.csv", (5, 3, 0, 0, 2)),
        ("georgia", "georgia.csv", (5, 4, 0, 0, 1)),
        ("georgia", "georgia_min.csv", (4, 2, 0, 0, 2)),
        ("multnomah", "multnomah", (5, 2, 0, 0, 3)),
        ("multnomah", "multnomah_2022.csv", (3, 1, 0, 0, 2)),
    ],
)
def test_every_format_imports_and_a_second_import_changes_nothing(
    format_name: str, path: str, first: tuple[int, int, int, int, int]
) -> None:
    report = bookings_import(path=ROSTERS / path, format_name=format_name, batch_size=2)
    assert counts(report) == first
    assert_adds_up(report)
    assert report.status == ImportStatus.COMPLETED
    bookings = Booking.objects.count()
    stored = list(Booking.objects.order_by("id").values_list("id", "content_hash", "updated_at"))
    again = bookings_import(path=ROSTERS / path, format_name=format_name, batch_size=2)
    read, created, _, _, rejected = first
    assert counts(again) == (read, 0, 0, created, rejected)
    assert_adds_up(again)
    assert Booking.objects.count() == bookings
    assert (
        list(Booking.objects.order_by("id").values_list("id", "content_hash", "updated_at"))
        == stored
    )


def test_records_are_stored_as_parsed() -> None:
    bookings_import(path=ROSTERS / "dane_merged.csv", format_name="dane")
    booking = Booking.objects.select_related("person").get(source="dane", booking_number="700001")
    assert booking.booked_at == datetime(2024, 8, 19, 14, 34, tzinfo=ZoneInfo("America/Chicago"))
    assert (booking.person.last_name, booking.person.first_name, booking.person.age) == (
        "TESTER",
        "ALMA",
        44,
    )
    assert list(booking.charges.values_list("sequence", "statute", "description")) == [
        (1, "939.62(1)(A)", "BATTERY"),
        (2, "", "DISORDERLY CONDUCT"),
        (3, "", "BAIL JUMPING - FELONY"),
    ]


def test_a_changed_row_is_updated_and_its_charges_replaced(tmp_path: Path) -> None:
    roster = tmp_path / "columbia.csv"
    shutil.copy(ROSTERS / "columbia.csv", roster)
    bookings_import(path=roster, format_name="columbia")
    roster.write_text(
        roster.read_text().replace("346.63(1)(a); 961.573(1)", "346.63(1)(b); 961.573(1)")
    )
    report = bookings_import(path=roster, format_name="columbia")
    assert counts(report) == (5, 0, 1, 2, 2)
    booking = Booking.objects.get(source="columbia", person__source_key="3616")
    assert list(booking.charges.values_list("statute", flat=True)) == ["346.63(1)(b)", "961.573(1)"]
    assert Charge.objects.filter(booking__source="columbia").count() == 5


def test_a_layout_without_names_does_not_blank_stored_names() -> None:
    bookings_import(path=ROSTERS / "dane_merged.csv", format_name="dane")
    report = bookings_import(path=ROSTERS / "dane_roster.csv", format_name="dane")
    assert report.created == 0
    assert Person.objects.get(source="dane", source_key="100001").last_name == "TESTER"
    assert (
        Booking.objects.get(source="dane", person__source_key="100001").booking_number == "700001"
    )


def test_duplicate_booking_in_one_file_is_rejected_naming_the_first_line(tmp_path: Path) -> None:
    lines = (ROSTERS / "columbia.csv").read_text().splitlines()
    roster = tmp_path / "dupes.csv"
    roster.write_text("\n".join([*lines, lines[1].replace(",42,", ",43,")]) + "\n")
    report = bookings_import(path=roster, format_name="columbia", batch_size=2)
    duplicate = report.rejections[-1]
    assert (duplicate["line"], duplicate["field"]) == (7, "booking key")
    assert "line 2" in duplicate["reason"]
    assert Person.objects.get(source="columbia", source_key="03616").age == 42
    assert_adds_up(report)


class _KilledError(Exception):
    pass


def test_a_run_killed_halfway_is_completed_by_the_next_run_without_duplicates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gateway.records.importers.georgia import GeorgiaFormat

    real_parse = GeorgiaFormat.parse

    def dies_after_three_rows(self: GeorgiaFormat, path: Path) -> Iterator[ParsedRow]:
        for index, row in enumerate(real_parse(self, path)):
            if index == 3:
                raise _KilledError
            yield row

    monkeypatch.setattr(GeorgiaFormat, "parse", dies_after_three_rows)
    with pytest.raises(_KilledError):
        bookings_import(path=ROSTERS / "georgia.csv", format_name="georgia", batch_size=2)
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.FAILED
    assert (run.read, run.resume_line) == (2, 3)  # the committed batch; the third row was not
    assert "_KilledError" in run.error
    monkeypatch.setattr(GeorgiaFormat, "parse", real_parse)

    report = bookings_import(path=ROSTERS / "georgia.csv", format_name="georgia", batch_size=2)
    assert report.run_id == run.pk
    assert report.resumed_after_line == 3
    assert counts(report) == (5, 4, 0, 0, 1)
    assert_adds_up(report)
    assert Booking.objects.filter(source="georgia").count() == 4
    assert ImportRun.objects.count() == 1


def test_a_batch_the_database_refuses_stops_the_run_after_the_batches_committed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Batches are written on a background thread; its failure must still stop the run, and only it."""
    from gateway.records.importers.upsert import batch_write as real_write
    from gateway.records.importing import commit as import_commit

    calls: list[int] = []

    def refuses_the_second_batch(**kwargs: Any) -> Any:
        calls.append(len(calls))
        if len(calls) == 2:
            raise _KilledError
        return real_write(**kwargs)

    monkeypatch.setattr(import_commit, "batch_write", refuses_the_second_batch)
    with pytest.raises(_KilledError):
        bookings_import(path=ROSTERS / "georgia.csv", format_name="georgia", batch_size=2)
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.FAILED
    assert (run.read, run.resume_line) == (
        2,
        3,
    )  # the first batch only: the second rolled back whole
    assert Booking.objects.filter(source="georgia").count() == 2
    monkeypatch.setattr(import_commit, "batch_write", real_write)

    report = bookings_import(path=ROSTERS / "georgia.csv", format_name="georgia", batch_size=2)
    assert (report.run_id, report.resumed_after_line) == (run.pk, 3)
    assert counts(report) == (5, 4, 0, 0, 1)
    assert_adds_up(report)


def test_the_collector_is_left_as_it_was_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """The import freezes the objects that predate it (see import_commit.Committer) and unfreezes them after,
    also when it fails."""
    import gc

    from gateway.records.importers.georgia import GeorgiaFormat

    frozen_during: list[int] = []
    real_parse = GeorgiaFormat.parse

    def watching(self: GeorgiaFormat, path: Path) -> Iterator[ParsedRow]:
        for row in real_parse(self, path):
            frozen_during.append(gc.get_freeze_count())
            yield row
        raise _KilledError

    monkeypatch.setattr(GeorgiaFormat, "parse", watching)
    with pytest.raises(_KilledError):
        bookings_import(path=ROSTERS / "georgia.csv", format_name="georgia")
    assert frozen_during
    assert min(frozen_during) > 0
    assert gc.get_freeze_count() == 0


def test_a_changed_file_starts_a_new_run_rather_than_resuming(tmp_path: Path) -> None:
    roster = tmp_path / "columbia.csv"
    shutil.copy(ROSTERS / "columbia.csv", roster)
    first = bookings_import(path=roster, format_name="columbia")
    ImportRun.objects.filter(pk=first.run_id).update(status=ImportStatus.FAILED, resume_line=3)
    roster.write_text(
        roster.read_text()
        + '77009,"NEW, PERSON",20,"RIO, WI 53960",09:00:00 06/27/24,Arrest,947.01(1),Disorderly Conduct,1\n'
    )
    second = bookings_import(path=roster, format_name="columbia")
    assert second.run_id != first.run_id
    assert second.resumed_after_line == 0
    assert counts(second) == (6, 1, 0, 3, 2)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        (
            {"format_name": "excel", "path": ROSTERS / "columbia.csv"},
            GatewayErrorCode.IMPORT_FORMAT_UNKNOWN,
        ),
        (
            {"format_name": "columbia", "path": ROSTERS / "nope.csv"},
            GatewayErrorCode.IMPORT_FILE_UNREADABLE,
        ),
        (
            {"format_name": "columbia", "path": ROSTERS / "dane_merged.csv"},
            GatewayErrorCode.IMPORT_FILE_UNREADABLE,
        ),
    ],
)
def test_files_that_cannot_be_imported_fail_with_a_code(
    kwargs: dict[str, object], code: str
) -> None:
    with pytest.raises(GatewayError) as caught:
        bookings_import(**kwargs)  # type: ignore[arg-type]
    assert caught.value.code == code
    assert not Booking.objects.exists()


def test_missing_columns_fail_the_run_and_record_why() -> None:
    with pytest.raises(GatewayError):
        bookings_import(path=ROSTERS / "dane_merged.csv", format_name="columbia")
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.FAILED
    assert "name_number" in run.error
    assert run.read == 0


def test_empty_file_fails_and_header_only_file_completes_empty(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(GatewayError) as caught:
        bookings_import(path=empty, format_name="columbia")
    assert "empty" in caught.value.message
    header_only = tmp_path / "header.csv"
    header_only.write_text((ROSTERS / "columbia.csv").read_text().splitlines()[0] + "\n")
    report = bookings_import(path=header_only, format_name="columbia")
    assert counts(report) == (0, 0, 0, 0, 0)
    assert report.status == ImportStatus.COMPLETED


def test_wrong_encoding_rejects_rows_and_the_right_one_imports_them(tmp_path: Path) -> None:
    windows = tmp_path / "windows.csv"
    windows.write_bytes(
        (ROSTERS / "columbia.csv").read_text().replace("SAMPLE", "SÄMPLE").encode("cp1252")
    )
    report = bookings_import(path=windows, format_name="columbia")
    assert counts(report) == (5, 2, 0, 0, 3)
    # The reason says what is wrong; the raw value (here a name) stays out of the report (issue 8.7).
    assert "SAMPLE" not in str(report.as_dict())
    assert report.rejections[0]["where"] == f"line {report.rejections[0]['line']}"
    fixed = bookings_import(path=windows, format_name="columbia", encoding="cp1252")
    assert fixed.run_id != report.run_id
    assert counts(fixed) == (5, 1, 0, 2, 2)
    assert Person.objects.get(source="columbia", source_key="3616").last_name == "SÄMPLE"


def test_values_the_model_cannot_hold_are_rejected_not_truncated(tmp_path: Path) -> None:
    roster = tmp_path / "long.csv"
    roster.write_text(
        (ROSTERS / "columbia.csv").read_text().replace("RIO, WI 53960", "RIO " * 100 + "WI 53960")
    )
    report = bookings_import(path=roster, format_name="columbia")
    long = next(r for r in report.rejections if r["line"] == 2)
    assert long["field"] == "person.address"
    assert "300 characters" in long["reason"]


class _NaiveTimeFormat:
    """Two bookings, the second booked at a date and time that names no time zone (a format bug)."""

    def __init__(self, options: FormatOptions) -> None:
        self.options = options

    @property
    def source(self) -> str:
        return "naive"

    def parse(self, path: Path) -> Iterator[ParsedRow]:
        moments = [
            datetime(2024, 5, 1, 8, 30, tzinfo=ZoneInfo("America/Chicago")),
            datetime(2024, 5, 2, 9),  # noqa: DTZ001  (the bug under test)
        ]
        for line, booked_at in enumerate(moments, start=1):
            yield ParsedBooking(
                line=line,
                person_key=f"p{line}",
                person={},
                booking_key=f"b{line}",
                booking={"booking_number": f"B{line}", "booked_at": booked_at},
            )


def test_a_date_and_time_without_a_time_zone_is_a_rejected_row_not_a_failed_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(registry.FORMATS, "naive", f"{__name__}:_NaiveTimeFormat")
    report = bookings_import(path=ROSTERS, format_name="naive")
    assert report.status == ImportStatus.COMPLETED
    assert counts(report) == (2, 1, 0, 0, 1)
    assert report.rejections == (
        {
            "line": 2,
            "field": "booking.booked_at",
            "where": "line 2",
            "reason": "a date and time without a time zone",
        },
    )
    assert list(
        Booking.objects.filter(source="naive").values_list("booking_number", flat=True)
    ) == ["B1"]


def test_prohibited_columns_are_dropped_and_reported(tmp_path: Path) -> None:
    data = tmp_path / "x.csv"
    data.write_text(
        'id,name,booked,Citizenship,Place of Birth\nP1,"ROE, EVE",2024-01-02 10:00,US,Ohio\n'
    )
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"source": "x", "person_key": "id", "person": {"name": "name"},
                                   "booking": {"booked_at": "booked"}}))  # fmt: skip
    report = bookings_import(path=data, format_name="csv", mapping=mapping)
    assert report.created == 1
    assert report.dropped_fields == ("Citizenship", "Place of Birth")
    assert ImportRun.objects.get().dropped_fields == ["Citizenship", "Place of Birth"]
    assert "IM-05" in report.as_dict()["dropped_fields_note"]


# -- mugshots: a format that carries images (as NIEM does), to test the framework's side of the contract


def _png() -> bytes:
    pixels = np.random.default_rng(3).integers(0, 256, (240, 200, 3), dtype=np.uint8)
    ok, encoded = cv2.imencode(".png", pixels)
    assert ok
    return encoded.tobytes()


class _PhotoFormat:
    """Three bookings: a good image, a non-image, a good and a truncated image; then a format rejection."""

    def __init__(self, options: FormatOptions) -> None:
        self.options = options

    @property
    def source(self) -> str:
        return "photos"

    def parse(self, path: Path) -> Iterator[ParsedRow]:
        image = _png()
        images = [(image,), (b"not an image at all",), (image, image[: len(image) // 2])]
        for line, datas in enumerate(images, start=1):
            yield ParsedBooking(
                line=line,
                person_key=f"p{line}",
                person={"last_name": f"PHOTO{line}"},
                booking_key=f"b{line}",
                booking={"booking_number": f"B{line}"},
                mugshots=tuple(ParsedMugshot(data=data, pose="frontal") for data in datas),
            )
        # A format's own rejection that happens to name a "mugshot" column is still a rejected row.
        yield RowRejection(line=4, field="mugshot", value="y", reason="a rejection from the format")


def test_a_refused_image_keeps_its_booking_and_is_listed_apart_from_rejected_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(registry.FORMATS, "photos", f"{__name__}:_PhotoFormat")
    report = bookings_import(path=ROSTERS, format_name="photos")
    again = bookings_import(path=ROSTERS, format_name="photos")
    assert counts(report) == (4, 3, 0, 0, 1)
    assert_adds_up(report)
    assert [(r["line"], r["field"]) for r in report.rejections] == [(4, "mugshot (row)")]
    size = len(_png())
    assert [(r["line"], r["field"]) for r in report.mugshot_rejections] == [
        (2, "mugshot"),
        (3, "mugshot"),
    ]
    assert size  # the stored rejection names no bytes and no value, only where and why
    assert "(not_an_image)" in report.mugshot_rejections[0]["reason"]
    assert report.as_dict()["mugshots_rejected"] == 2
    stored = ImportRejection.objects.filter(run_id=report.run_id, field="mugshot")
    assert sorted(stored.values_list("line", flat=True)) == [2, 3]
    assert sorted(Booking.objects.values_list("source_key", flat=True)) == ["b1", "b2", "b3"]
    assert sorted(Mugshot.objects.values_list("booking__source_key", flat=True)) == ["b1", "b3"]
    # A re-import writes nothing, yet its report still names every refused image.
    assert counts(again) == (4, 0, 0, 3, 1)
    assert again.mugshot_rejections == report.mugshot_rejections
    assert Mugshot.objects.count() == 2


# -- the command


def test_command_writes_the_json_report(tmp_path: Path) -> None:
    report_file = tmp_path / "report.json"
    call_command(
        "import_bookings", str(ROSTERS / "columbia.csv"), "--format", "columbia", "--report", str(report_file),
        "--no-progress", stdout=open(tmp_path / "out.txt", "w"),  # noqa: SIM115 - closed with the process
    )  # fmt: skip
    report = json.loads(report_file.read_text())
    assert {k: report[k] for k in ("read", "created", "updated", "unchanged", "rejected")} == {
        "read": 5, "created": 3, "updated": 0, "unchanged": 0, "rejected": 2,
    }  # fmt: skip
    assert {(r["line"], r["field"]) for r in report["rejections"]} == {
        (5, "booking_datetime"),
        (6, "statutes"),
    }
    assert all(set(r) == {"line", "where", "field", "reason"} for r in report["rejections"])
    assert "read 5, created 3" in (tmp_path / "out.txt").read_text()


def test_command_reports_an_unknown_format_with_the_known_ones() -> None:
    with pytest.raises(CommandError) as caught:
        call_command(
            "import_bookings", str(ROSTERS / "columbia.csv"), "--format", "excel", "--no-progress"
        )
    assert "import_format_unknown" in str(caught.value)
    assert "columbia" in str(caught.value)
    assert "georgia" in str(caught.value)


def test_a_failed_run_is_not_resumed_with_another_encoding(tmp_path: Path) -> None:
    first = bookings_import(path=ROSTERS / "columbia.csv", format_name="columbia")
    ImportRun.objects.filter(pk=first.run_id).update(status=ImportStatus.FAILED, resume_line=4)
    other = bookings_import(
        path=ROSTERS / "columbia.csv", format_name="columbia", encoding="latin-1"
    )
    assert other.run_id != first.run_id
    assert other.resumed_after_line == 0
    same = bookings_import(path=ROSTERS / "columbia.csv", format_name="columbia")
    assert same.run_id == first.run_id
    assert same.resumed_after_line == 4


def test_progress_bar_goes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    report = bookings_import(path=ROSTERS / "columbia.csv", format_name="columbia", progress=True)
    assert report.read == 5
    captured = capsys.readouterr()
    assert "rows" in captured.err
    assert captured.out == ""


class _AddressFormat:
    """A format whose one row is refused on its address: the value must not travel past the format."""

    def __init__(self, options: Any) -> None:
        self.dropped_fields: list[str] = []

    @property
    def source(self) -> str:
        return "addresses"

    def parse(self, path: Path) -> Iterator[ParsedRow]:
        yield RowRejection(
            line=7,
            field="address",
            value="1234 CANARY-7F3A STREET, APT 9",
            reason="an address longer than the column allows",
        )


def test_reports_name_the_row_column_and_reason_but_never_the_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 8.7: a rejected address used to be written raw into the --report file and the console.
    monkeypatch.setitem(registry.FORMATS, "addresses", f"{__name__}:_AddressFormat")
    report_file, out = tmp_path / "report.json", tmp_path / "out.txt"
    with out.open("w") as stdout:
        call_command(
            "import_bookings", str(ROSTERS), "--format", "addresses", "--report", str(report_file),
            "--no-progress", stdout=stdout,
        )  # fmt: skip
    written = report_file.read_text() + out.read_text()
    assert "CANARY-7F3A" not in written
    assert not ImportRejection.objects.filter(reason__contains="CANARY").exists()
    [row] = json.loads(report_file.read_text())["rejections"]
    assert row == {
        "line": 7,
        "where": "line 7",
        "field": "address",
        "reason": "an address longer than the column allows",
    }
    assert "line 7: address: an address longer" in out.read_text()
