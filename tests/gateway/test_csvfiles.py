"""Every CSV cell a spreadsheet would run as a formula is quoted (OWASP CSV injection, issue 8.11)."""

from __future__ import annotations

import csv
import io

import pytest

from gateway.csvfiles import csv_cell, csv_rows_write


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2+3", "@SUM(A1)", "\t=x", "\r=x"])
def test_formula_prefixes_are_neutralised(text: str) -> None:
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Doe, Jane", "", "a=b", 0.25, -3, None])
def test_ordinary_values_and_numbers_are_left_alone(value: object) -> None:
    assert csv_cell(value) == value


def test_rows_are_written_safely() -> None:
    handle = io.StringIO()
    assert (
        csv_rows_write(handle=handle, header=["name", "n"], rows=[["=cmd|' /C calc'!A0", -1]]) == 1
    )
    rows = list(csv.reader(io.StringIO(handle.getvalue())))
    assert rows == [["name", "n"], ["'=cmd|' /C calc'!A0", "-1"]]
