"""Cell repairs, one quirk of the real rosters per case."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.records.importers.cleaning import (
    CellError,
    charge_level_from_text,
    date_parse,
    datetime_parse,
    disposition_from_text,
    integer_text,
    is_prohibited_column,
    literal_parse,
    money_parse,
    multi_split,
    name_split,
    names_repair,
    pdf_footer_strip,
    sex_from_text,
    statute_clean,
    text,
)

CHICAGO = ZoneInfo("America/Chicago")
EST = timezone(timedelta(hours=-5))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # booking time glued to the date (Dane roster)
        ("8/19/20242:34 PM", datetime(2024, 8, 19, 14, 34, tzinfo=CHICAGO)),
        ("8/20/202412:30 AM", datetime(2024, 8, 20, 0, 30, tzinfo=CHICAGO)),
        ("8/20/202412:05 PM", datetime(2024, 8, 20, 12, 5, tzinfo=CHICAGO)),
        # time before the date with a two-digit year (Columbia)
        ("14:27:14 06/22/24", datetime(2024, 6, 22, 14, 27, 14, tzinfo=CHICAGO)),
        # time zone as text, any case (Georgia): taken literally
        ("2015-11-07 00:40:24 EST", datetime(2015, 11, 7, 0, 40, 24, tzinfo=EST)),
        ("2015-07-05 00:20:31 est", datetime(2015, 7, 5, 0, 20, 31, tzinfo=EST)),
        # narrow no-break space before AM/PM (Tableau export)
        ("6/18/2024 11:01:53\u202fPM", datetime(2024, 6, 18, 23, 1, 53, tzinfo=CHICAGO)),
        ("08/22/2024 03:17 AM", datetime(2024, 8, 22, 3, 17, tzinfo=CHICAGO)),
        # bare date: midnight local
        ("2015-07-18", datetime(2015, 7, 18, tzinfo=CHICAGO)),
        ("2015-07-18T10:00:00+02:00", datetime(2015, 7, 18, 8, 0, tzinfo=UTC)),
        ("", None),
        ("nan", None),
    ],
)
def test_datetime_shapes(raw: str, expected: datetime | None) -> None:
    parsed = datetime_parse(raw, zone=CHICAGO)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is not None


@pytest.mark.parametrize(
    "raw",
    [
        "  00:00:00 est",
        "13:00 PM 1/1/2024",
        "2/30/2024",
        "25:61:00 06/25/24",
        "yesterday",
        "1/1/2024 XYZ",
    ],
)
def test_datetime_refuses_what_it_cannot_read(raw: str) -> None:
    with pytest.raises(CellError):
        datetime_parse(raw, zone=CHICAGO)


def test_date_parse_reads_dates_and_refuses_times() -> None:
    assert date_parse("1981-09-25") == date(1981, 9, 25)
    assert date_parse("9/25/1981") == date(1981, 9, 25)
    with pytest.raises(CellError):
        date_parse("1981-09-25 10:00")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("624301.0", "624301"),
        ("1,395", "1395"),
        ("44.0", "44"),
        ("03616", "03616"),
        ("", ""),
        ("nan", ""),
    ],
)
def test_integer_text_repairs_floats_and_separators(raw: str, expected: str) -> None:
    assert integer_text(raw) == expected


@pytest.mark.parametrize("raw", ["44.5", "12a", "-3"])
def test_integer_text_refuses_non_integers(raw: str) -> None:
    with pytest.raises(CellError):
        integer_text(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("$10,000.00", Decimal("10000.00")),
        ("$650", Decimal("650.00")),
        ("1,395", Decimal("1395.00")),
        ("", None),
    ],
)
def test_money(raw: str, expected: Decimal | None) -> None:
    assert money_parse(raw) == expected


@pytest.mark.parametrize("raw", ["Cash or Surety", "$-5", "1.2.3", "$1e400"])
def test_money_refuses_words_negatives_and_nonsense(raw: str) -> None:
    with pytest.raises(CellError):
        money_parse(raw)


def test_multi_split_keeps_empty_slots_by_position() -> None:
    assert multi_split("939.62(1)(A); ; ", separator="; ") == ["939.62(1)(A)", "", ""]
    assert multi_split(" | misdemeanor", separator=" | ") == ["", "misdemeanor"]
    assert multi_split("", separator="; ") == []


def test_literal_parse_reads_literals_and_never_evaluates(tmp_path: Path) -> None:
    assert literal_parse("{'ASSAULT IV (A Misdemeanor)': 2}") == {"ASSAULT IV (A Misdemeanor)": 2}
    assert literal_parse("[{'Type': 'X', 'Bail': '$0'}]") == [{"Type": "X", "Bail": "$0"}]
    marker = tmp_path / "evaluated"
    with pytest.raises(CellError):
        literal_parse(f"__import__('pathlib').Path({str(marker)!r}).touch()")
    assert not marker.exists()
    with pytest.raises(CellError):
        literal_parse("[{'Type': 'X'}")


def test_pdf_footer_is_cut_from_the_cell() -> None:
    leaked = "Writ from DOC / Other County rpjlbsr.x3 06/29/24 Booking Summary Report, by Date and Time Page 3 of 18"
    assert pdf_footer_strip(leaked) == "Writ from DOC / Other County"
    assert pdf_footer_strip("Arrest Warrant") == "Arrest Warrant"


def test_placeholder_statute_is_not_a_statute() -> None:
    assert statute_clean("9999.99(99K)") == ("", True)
    assert statute_clean("9999.99(99L)") == ("", True)
    assert statute_clean("346.63(1)(a)") == ("346.63(1)(a)", False)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("DOE, JR, JORDAN LEE", ("DOE", "JORDAN", "LEE", "JR")),
        ("DOE JR, DAN", ("DOE", "DAN", "", "JR")),
        ("ROE, EVE ANN III", ("ROE", "EVE", "ANN", "III")),
        ("TESTER, ALMA NMI", ("TESTER", "ALMA", "", "")),
        ("BLAKE SLOAN, MALIK PENNY MARY", ("BLAKE SLOAN", "MALIK", "PENNY MARY", "")),
    ],
)
def test_name_split(raw: str, expected: tuple[str, str, str, str]) -> None:
    parts = name_split(raw)
    assert (
        parts["last_name"],
        parts["first_name"],
        parts["middle_name"],
        parts["suffix"],
    ) == expected


def test_suffix_scraped_as_first_name_is_moved() -> None:
    assert names_repair(last="DOE", first="JR", middle="JORDAN LEE") == {
        "last_name": "DOE",
        "first_name": "JORDAN",
        "middle_name": "LEE",
        "suffix": "JR",
    }


def test_nan_and_null_strings_are_empty() -> None:
    assert text("nan") == ""
    assert text("Null") == ""
    assert text("  Nancy  ") == "Nancy"


def test_codes() -> None:
    assert sex_from_text("Male") == "M"
    assert sex_from_text("f") == "F"
    assert sex_from_text("") is None
    with pytest.raises(CellError):
        sex_from_text("Q")
    assert charge_level_from_text("C Felony") == "felony"
    assert charge_level_from_text("Misd") == "misdemeanor"
    assert charge_level_from_text("Civil") == "civil_hold"
    assert charge_level_from_text("U Unknown") == "unknown"
    assert disposition_from_text("Unsentenced") == "pending"
    assert disposition_from_text("Sentenced") == "convicted"
    assert disposition_from_text("Released") == "unknown"


@pytest.mark.parametrize(
    ("column", "prohibited"),
    [
        ("Citizenship", True),
        ("immigration_status", True),
        ("Place of Birth", True),
        ("PersonBirthLocation", False),  # NIEM names are the NIEM format's to drop
        ("birthplace", True),
        ("Country of Birth", True),
        ("Race", False),
        ("Date of Birth", False),
    ],
)
def test_prohibited_columns(column: str, prohibited: bool) -> None:
    assert is_prohibited_column(column) is prohibited
