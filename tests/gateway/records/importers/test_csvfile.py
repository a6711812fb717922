"""csvfile's block reader yields exactly the lines a text file opened with newline="" would."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.records.importers import csvfile

PIECES = st.sampled_from(["a", "é", ",", '"', "\n", "\r", "\r\n", "\xff", "x" * 7])


@settings(max_examples=200, deadline=None)
@given(
    pieces=st.lists(PIECES, max_size=40),
    block=st.integers(min_value=1, max_value=9),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
)
def test_lines_match_a_text_file_whatever_the_block_size(
    pieces: list[str], block: int, encoding: str
) -> None:
    data = "".join(pieces).encode("utf-8")  # read as cp1252 too: every byte decodes, differently
    if encoding == "utf-8-sig":
        data = b"\xef\xbb\xbf" + data
    expected = list(
        io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors="surrogateescape", newline="")
    )
    original, csvfile._BLOCK = csvfile._BLOCK, block
    try:
        assert list(csvfile._lines(io.BytesIO(data), encoding)) == expected
    finally:
        csvfile._BLOCK = original


def test_an_unknown_encoding_is_reported_for_the_whole_file(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("a,b\n1,2\n")
    with pytest.raises(Exception, match="Unknown encoding"):
        list(csvfile.CsvTable(roster, encoding="no-such-codec"))
