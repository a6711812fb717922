"""Each roster format on a small fixture of our own in the real shape (no database: formats are pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.exceptions import GatewayError, GatewayErrorCode
from gateway.records.importers.base import FormatOptions, ParsedBooking, ParsedRow, RowRejection
from gateway.records.importers.registry import format_build, format_names

ROSTERS = Path(__file__).resolve().parents[1] / "fixtures" / "rosters"
CHICAGO = ZoneInfo("America/Chicago")
EST = timezone(timedelta(hours=-5))


def parse(
    name: str, path: Path, **options: object
) -> tuple[list[ParsedBooking], list[RowRejection]]:
    rows: list[ParsedRow] = list(
        format_build(name=name, options=FormatOptions(**options)).parse(path)  # type: ignore[arg-type]
    )
    return (
        [r for r in rows if isinstance(r, ParsedBooking)],
        [r for r in rows if isinstance(r, RowRejection)],
    )


def by_person(bookings: list[ParsedBooking]) -> dict[str, ParsedBooking]:
    return {b.person_key: b for b in bookings}


def test_registry_lists_the_formats_and_refuses_unknown_ones() -> None:
    assert {"dane", "columbia", "georgia", "multnomah", "csv"} <= set(format_names())
    with pytest.raises(GatewayError) as caught:
        format_build(name="excel", options=FormatOptions())
    assert caught.value.code == GatewayErrorCode.IMPORT_FORMAT_UNKNOWN
    assert "dane" in caught.value.message
    assert "multnomah" in caught.value.message


class TestDane:
    def test_merged_roster(self) -> None:
        bookings, rejections = parse("dane", ROSTERS / "dane_merged.csv")
        rows = by_person(bookings)
        assert set(rows) == {"100001", "100002", "100003"}
        first = rows["100001"]
        # glued date-time read in Madison time; pandas float booking number repaired
        assert first.booking["booked_at"] == datetime(2024, 8, 19, 14, 34, tzinfo=CHICAGO)
        assert first.booking_key == "100001@2024-08-19T14:34"
        assert first.booking["booking_number"] == "700001"
        assert first.person["age"] == 44
        assert first.person["suffix"] == ""  # the literal "Null"
        assert first.person["sex"] == "M"
        assert first.booking["housing"] == "Public Safety Building / P3A"
        # "; "-joined lists aligned by position, empty statute slots kept empty
        assert [(c["statute"], c["description"]) for c in first.charges] == [
            ("939.62(1)(A)", "BATTERY"),
            ("", "DISORDERLY CONDUCT"),
            ("", "BAIL JUMPING - FELONY"),
        ]
        assert first.charges[2]["level"] == "felony"
        assert rows["100002"].person["suffix"] == "JR"
        assert rows["100002"].booking["booked_at"] == datetime(2024, 8, 20, 0, 30, tzinfo=CHICAGO)
        # a single charge takes the booking's level
        assert rows["100002"].charges[0]["level"] == "civil_hold"
        # a roster row without the snapshot's columns publishes no person facts at all
        assert rows["100003"].person == {}
        assert {(r.line, r.field) for r in rejections} == {
            (5, "statute_codes"),
            (6, "booking_date"),
        }
        assert all(r.reason for r in rejections)

    def test_roster_and_merged_files_key_the_same_booking_alike(self) -> None:
        merged, _ = parse("dane", ROSTERS / "dane_merged.csv")
        roster, _ = parse("dane", ROSTERS / "dane_roster.csv")
        assert {b.booking_key for b in roster} <= {b.booking_key for b in merged}

    def test_snapshot_utc_time_gives_the_same_key_as_the_local_roster_time(
        self, tmp_path: Path
    ) -> None:
        snapshot = tmp_path / "snapshot.csv"
        snapshot.write_text(
            "Namenum,Intdate,Curbook\n100001,8/19/2024 7:34:10\u202fPM,700001\n", encoding="utf-8"
        )
        (booking,), _ = parse("dane", snapshot)
        assert booking.booking_key == "100001@2024-08-19T14:34"

    def test_other_files_are_refused_naming_what_is_missing(self, tmp_path: Path) -> None:
        other = tmp_path / "other.csv"
        other.write_text("a,b\n1,2\n", encoding="utf-8")
        with pytest.raises(GatewayError) as caught:
            parse("dane", other)
        assert caught.value.code == GatewayErrorCode.IMPORT_FILE_UNREADABLE
        assert "url or Namenum" in caught.value.message


class TestColumbia:
    def test_booking_log(self) -> None:
        bookings, rejections = parse("columbia", ROSTERS / "columbia.csv")
        rows = by_person(bookings)
        # leading zeros make a different person
        assert {"03616", "3616", "77001"} == set(rows)
        first = rows["03616"]
        assert first.booking["booked_at"] == datetime(2024, 6, 22, 14, 27, 14, tzinfo=CHICAGO)
        assert first.person["middle_name"] == ""  # NMI
        assert first.person["age_recorded_on"] == date(2024, 6, 22)
        assert first.person["zip_code"] == "53960"
        assert first.charges[0]["level"] == "civil_hold"  # probation/parole violation booking
        # the PDF footer glued on "Arrest" does not make it a hold
        assert [c["level"] for c in rows["3616"].charges] == ["unknown", "unknown"]
        warrant = rows["77001"]
        assert warrant.person["last_name"] == "EXAMPLE SMITH"
        assert warrant.charges[0] == {
            "statute": "",
            "description": "Other County/Jurisdiction Warrant",
            "level": "civil_hold",
        }
        assert warrant.charges[1]["statute"] == "343.44(1)(b)"
        assert {(r.line, r.field) for r in rejections} == {(5, "booking_datetime"), (6, "statutes")}


class TestGeorgia:
    def test_roster_layout(self) -> None:
        bookings, rejections = parse("georgia", ROSTERS / "georgia.csv")
        rows = by_person(bookings)
        cobb = rows["cobb:111"]
        # the scraper's swapped columns are put back; text zone taken literally
        assert cobb.booking["booked_at"] == datetime(2015, 11, 11, 0, 42, tzinfo=EST)
        assert cobb.booking["released_at"] == datetime(2015, 11, 11, 4, 12, tzinfo=EST)
        assert cobb.booking["custody_status"] == "released"
        assert cobb.booking["booking_number"] == "900001"
        assert [(c["description"], c["level"]) for c in cobb.charges] == [
            ("Failure to Appear (Felony)", "felony"),
            ("Driving Without a License (Misdemeanor)", "misdemeanor"),
        ]
        # three case bonds for two charges: their sum, on the first charge, saying so
        assert cobb.charges[0]["bond_amount"] == Decimal("7000.00")
        assert cobb.charges[0]["bond_type"] == "sum of 3 case bonds"
        assert "bond_amount" not in cobb.charges[1]
        assert cobb.person["address"] == ""  # "nan"
        bibb = rows["bibb:222"]
        assert (bibb.person["first_name"], bibb.person["middle_name"], bibb.person["suffix"]) == (
            "JORDAN",
            "LEE",
            "JR",
        )
        assert [(c["statute"], c["description"]) for c in bibb.charges] == [
            ("16-11-39.1", "HARASSING PHONE CALLS"),
            ("16-5-21", "AGGRAVATED ASSAULT"),
        ]
        assert bibb.charges[0]["bond_amount"] == Decimal("650.00")
        dekalb = rows["dekalb:81441359"]
        assert dekalb.person["date_of_birth"] == date(1980, 2, 14)
        assert dekalb.booking["released_at"] == datetime(2015, 11, 10, 16, 5, tzinfo=EST)
        assert dekalb.booking["booking_number"] == "81441359"
        assert dekalb.charges[0]["bond_type"] == "Cash or Surety"
        assert dekalb.charges[1]["bond_amount"] == Decimal("1395.00")
        muscogee = next(b for k, b in rows.items() if k.startswith("muscogee:"))
        assert muscogee.booking["booked_at"] == datetime(
            2015, 11, 11, tzinfo=ZoneInfo("America/New_York")
        )
        assert "date_of_birth" not in muscogee.person  # a birth year is not a date of birth
        (rejection,) = rejections
        assert (rejection.line, rejection.field) == (6, "release_timestamp")
        assert "release before the booking" in rejection.reason

    def test_minimal_layout_keys_match_the_roster_layout(self) -> None:
        roster, _ = parse("georgia", ROSTERS / "georgia.csv")
        minimal, rejections = parse("georgia", ROSTERS / "georgia_min.csv")
        assert {b.booking_key for b in minimal} & {b.booking_key for b in roster} == {
            "dekalb:2015-11-10T00:00:00-05:00|81441359"
        }
        assert {(r.line, r.field) for r in rejections} == {
            (4, "release_timestamp"),
            (5, "booking_timestamp"),
        }


class TestMultnomah:
    def test_details_joined_to_headerless_charges_by_name(self) -> None:
        bookings, rejections = parse("multnomah", ROSTERS / "multnomah")
        rows = by_person(bookings)
        assert set(rows) == {"500001", "500002"}
        bert = rows["500002"]
        assert bert.booking["booked_at"] == datetime(
            2021, 3, 2, 9, 48, tzinfo=ZoneInfo("America/Los_Angeles")
        )
        assert [
            (c["description"], c["level"], c["disposition"], c["bond_amount"]) for c in bert.charges
        ] == [
            ("BURGLARY I", "felony", "unknown", Decimal("0.00")),
            ("BURGLARY I", "felony", "pending", Decimal("25000.00")),
            ("CRIM MISCH III", "misdemeanor", "convicted", Decimal("500.00")),
        ]
        assert rows["500001"].charges[0]["level"] == "civil_hold"  # PROBATION HOLD (U Unknown)
        reasons = {(r.line, r.field): r.reason for r in rejections}
        # two people named "Doe, Pat": the name-only join cannot tell their charges apart
        assert "share this name" in reasons[(4, "Name")]
        assert "share this name" in reasons[(5, "Name")]
        # the roster counts two trespasses, the charges file lists one
        assert "2 charges counted but 1 found" in reasons[(6, "Charge Type Counts")]

    def test_details_file_path_finds_its_charges_file(self) -> None:
        bookings, _ = parse("multnomah", ROSTERS / "multnomah" / "inmate_details.csv")
        assert {b.person_key for b in bookings} == {"500001", "500002"}

    def test_missing_charges_file(self, tmp_path: Path) -> None:
        (tmp_path / "inmate_details.csv").write_bytes(
            (ROSTERS / "multnomah" / "inmate_details.csv").read_bytes()
        )
        with pytest.raises(GatewayError) as caught:
            parse("multnomah", tmp_path)
        assert "inmate_charges.csv" in caught.value.message

    def test_2022_single_file_with_python_literals(self, tmp_path: Path) -> None:
        bookings, rejections = parse("multnomah", ROSTERS / "multnomah_2022.csv")
        (booking,) = bookings
        assert [(c["description"], c["bond_amount"]) for c in booking.charges] == [
            ("MENACING", Decimal("0.00")),
            ("ASSAULT III", Decimal("10000.00")),
        ]
        assert {(r.line, r.field) for r in rejections} == {(3, "Charges"), (4, "Charges")}
        assert all("not a Python literal" in r.reason for r in rejections)


class TestMappedCsv:
    def write_mapping(self, tmp_path: Path, body: str) -> Path:
        mapping = tmp_path / "mapping.yaml"
        mapping.write_text(body, encoding="utf-8")
        return mapping

    MAPPING = """
source: county-x
timezone: America/Chicago
person_key: [Person ID]
booking_key: Booking No
person:
  name: Name
  date_of_birth: DOB
  sex: Sex
booking:
  booking_number: Booking No
  booked_at: Booked
  released_at: Released
  custody_status: Status
charges:
  separator: " | "
  statute: Statutes
  description: Offenses
  bond_amount: Bonds
"""

    def test_mapping_drives_fields_and_their_repairs(self, tmp_path: Path) -> None:
        data = tmp_path / "roster.csv"
        data.write_text(
            "Person ID,Name,DOB,Sex,Booking No,Booked,Released,Status,Statutes,Offenses,Bonds,Citizenship\n"
            'P1,"TESTER, ALMA JO",1980-02-03,F,B-1,8/19/20242:34 PM,,In custody,'
            '940.19(1) | 9999.99(99K),Battery | Warrant,"$1,000 | ",US\n'
            'P2,"SAMPLE, BETH",not a date,M,B-2,8/19/2024 3:00 PM,,,,,,US\n',
            encoding="utf-8",
        )
        mapping = self.write_mapping(tmp_path, self.MAPPING)
        bookings, rejections = parse("csv", data, mapping=mapping)
        (booking,) = bookings
        assert booking.person_key == "P1"
        assert booking.booking_key == "B-1"
        assert booking.person["first_name"] == "ALMA"
        assert booking.person["date_of_birth"] == date(1980, 2, 3)
        assert booking.booking["booked_at"] == datetime(2024, 8, 19, 14, 34, tzinfo=CHICAGO)
        assert booking.booking["custody_status"] == "in_custody"
        assert booking.charges == (
            {"statute": "940.19(1)", "description": "Battery", "bond_amount": Decimal("1000.00")},
            {"statute": "", "level": "civil_hold", "description": "Warrant", "bond_amount": None},
        )
        assert booking.dropped_fields == ("Citizenship",)
        (rejection,) = rejections
        assert (rejection.line, rejection.field, rejection.value) == (3, "DOB", "not a date")

    def test_headerless_file(self, tmp_path: Path) -> None:
        data = tmp_path / "noheader.csv"
        data.write_text("P9;ROE, EVE;2024-01-02 10:00\n", encoding="utf-8")
        mapping = self.write_mapping(
            tmp_path,
            "source: s\nheader: false\ndelimiter: ';'\ncolumns: [id, name, booked]\nperson_key: id\n"
            "person: {name: name}\nbooking: {booked_at: booked}\n",
        )
        (booking,), rejections = parse("csv", data, mapping=mapping)
        assert rejections == []
        assert booking.booking_key == "P9@2024-01-02T10:00"
        assert booking.person["last_name"] == "ROE"

    @pytest.mark.parametrize(
        ("body", "problem"),
        [
            (
                "source: s\nperson_key: id\nbooking: {booked_at: b}\nperson: {shoe_size: s}\n",
                "person.shoe_size",
            ),
            ("person_key: id\nbooking: {booked_at: b}\n", "`source`"),
            ("source: s\nbooking: {booked_at: b}\n", "`person_key`"),
            ("source: s\nperson_key: id\n", "booking.booked_at"),
            (
                "source: s\nperson_key: id\nbooking: {booked_at: b}\ntimezone: Mars/Base\n",
                "unknown timezone",
            ),
            (
                "source: s\nperson_key: id\nbooking: {booked_at: b}\nperson: {race: Citizenship}\n",
                "never stored",
            ),
            ("- just\n- a list\n", "top level"),
            (
                "source: s\nperson_key: id\nbooking: {booked_at: b}\nextra: 1\n",
                "unknown key 'extra'",
            ),
        ],
    )
    def test_invalid_mappings_are_refused_naming_the_problem(
        self, tmp_path: Path, body: str, problem: str
    ) -> None:
        mapping = self.write_mapping(tmp_path, body)
        with pytest.raises(GatewayError) as caught:
            parse("csv", tmp_path / "x.csv", mapping=mapping)
        assert caught.value.code == GatewayErrorCode.IMPORT_MAPPING_INVALID
        assert problem in caught.value.message

    def test_csv_needs_a_mapping(self) -> None:
        with pytest.raises(GatewayError) as caught:
            format_build(name="csv", options=FormatOptions())
        assert caught.value.code == GatewayErrorCode.IMPORT_MAPPING_INVALID


class TestBadFiles:
    @pytest.mark.parametrize("name", ["dane", "columbia", "georgia"])
    def test_empty_file(self, tmp_path: Path, name: str) -> None:
        empty = tmp_path / "empty.csv"
        empty.write_bytes(b"")
        with pytest.raises(GatewayError) as caught:
            parse(name, empty)
        assert caught.value.code == GatewayErrorCode.IMPORT_FILE_UNREADABLE
        assert "empty" in caught.value.message

    def test_header_only_file_is_zero_rows(self, tmp_path: Path) -> None:
        header_only = tmp_path / "h.csv"
        header_only.write_text((ROSTERS / "columbia.csv").read_text().splitlines()[0] + "\n")
        assert parse("columbia", header_only) == ([], [])

    def test_missing_columns_are_all_named(self, tmp_path: Path) -> None:
        lines = (ROSTERS / "columbia.csv").read_text().splitlines()
        cut = tmp_path / "cut.csv"
        cut.write_text(lines[0].replace("statutes,offenses", "charges") + "\n")
        with pytest.raises(GatewayError) as caught:
            parse("columbia", cut)
        assert caught.value.extra["missing"] == ["statutes", "offenses"]
        assert "statutes, offenses" in caught.value.message

    def test_cp1252_bytes_reject_the_row_naming_column_and_bytes(self, tmp_path: Path) -> None:
        source = (
            (ROSTERS / "columbia.csv")
            .read_text(encoding="utf-8")
            .replace("TESTER, ALMA", "TÉSTER, JOSÉ")
        )
        windows = tmp_path / "windows.csv"
        windows.write_bytes(source.encode("cp1252"))
        bookings, rejections = parse("columbia", windows)
        assert len(bookings) == 2
        bad = next(r for r in rejections if r.line == 2)
        assert bad.field == "inmate_name"
        assert bad.value == "T\\xc9STER, JOS\\xc9 NMI"
        assert "--encoding cp1252" in bad.reason
        # told the encoding, the same file reads correctly
        bookings, _ = parse("columbia", windows, encoding="cp1252")
        assert by_person(bookings)["03616"].person["last_name"] == "TÉSTER"

    def test_utf8_bom_is_ignored(self, tmp_path: Path) -> None:
        bom = tmp_path / "bom.csv"
        bom.write_bytes(b"\xef\xbb\xbf" + (ROSTERS / "columbia.csv").read_bytes())
        assert len(parse("columbia", bom)[0]) == 3

    def test_file_cut_off_mid_row(self, tmp_path: Path) -> None:
        data = (ROSTERS / "columbia.csv").read_text()
        cut = tmp_path / "cut.csv"
        cut.write_text(data[: data.index("Possession of Drug Paraphernalia")])
        bookings, rejections = parse("columbia", cut)
        assert [b.person_key for b in bookings] == ["03616"]
        assert rejections[-1].field == "(row)"
        assert "cut-off" in rejections[-1].reason

    def test_timezone_utc_constant(self) -> None:
        assert UTC.utcoffset(None) == timedelta(0)
