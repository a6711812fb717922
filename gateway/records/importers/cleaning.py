"""Cell-level repairs for what real rosters publish, shared by every format.

Each function takes one raw cell and returns a clean value or raises `CellError` with a reason a clerk can act
on; the format turns that into a `RowRejection` naming the column and the raw value. Nothing here guesses
silently: a value is either recognised by a rule written down here or refused.
"""

from __future__ import annotations

import ast
import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any

from gateway.records.models import ChargeLevel, Disposition, Sex

__all__ = [
    "CellError",
    "caches_clear",
    "charge_level_from_text",
    "date_parse",
    "datetime_parse",
    "disposition_from_text",
    "integer_text",
    "is_prohibited_column",
    "literal_parse",
    "money_parse",
    "multi_split",
    "name_split",
    "names_repair",
    "pdf_footer_strip",
    "sex_from_text",
    "statute_clean",
    "text",
]


class CellError(ValueError):
    """One cell could not be read; the message is the reason shown in the import report."""


# Spreadsheet and pandas exports write these for "no value"; a real name or address is never one of them.
_EMPTY_MARKERS = frozenset({"nan", "none", "null", "n/a", "na", "nat", "<na>", "-"})
_SPACES = re.compile(r"\s+")


def text(value: str | None) -> str:
    """Trim, collapse inner whitespace (including the narrow no-break spaces of Tableau exports), and read
    pandas' `nan`, `None`, `Null` and friends as empty."""
    if not value:
        return ""
    if value.isprintable() and "  " not in value:
        cleaned = value.strip()  # the common case: one pass over the text, no regular expression
    elif "  " in value or "\u202f" in value or "\xa0" in value or "\n" in value or "\t" in value:
        cleaned = _SPACES.sub(" ", value.replace("\u202f", " ").replace("\xa0", " ")).strip()
    else:
        cleaned = value.strip()
    if len(cleaned) <= 5 and cleaned.lower() in _EMPTY_MARKERS:
        return ""
    return cleaned


def integer_text(value: str) -> str:
    """Digits of an integer written as `624301.0` (pandas float) or `"1,395"` (thousands separators).

    Leading zeros are kept: Columbia's `02505` is a key, not a number.
    """
    cleaned = text(value).replace(",", "")
    if not cleaned:
        return ""
    if re.fullmatch(r"\d+", cleaned):
        return cleaned
    if re.fullmatch(r"\d+\.0+", cleaned):
        return cleaned.split(".", 1)[0]
    raise CellError(f"not a whole number: {value!r}")


def money_parse(value: str) -> Decimal | None:
    """`$10,000.00`, `$650`, `1,395` -> Decimal; empty -> None. Anything with other words is refused."""
    cleaned = text(value).replace("$", "").replace(",", "").strip()
    if not cleaned:
        return None
    if not re.fullmatch(r"\d+(\.\d+)?", cleaned):
        raise CellError(f"not an amount of money: {value!r}")
    return Decimal(cleaned).quantize(Decimal("0.01"))


def multi_split(value: str, *, separator: str) -> list[str]:
    """Split a multi-valued cell into its positional slots, keeping empty slots ("; ; " is three empties).

    An entirely empty cell is zero slots, so it never pads a longer list with a phantom charge.
    """
    separator = separator.strip()
    if separator not in value:  # one slot, the common case: read it once
        single = text(value)
        return [single] if single else []
    if not text(value):
        return []
    return [text(part) for part in value.split(separator)]


def literal_parse(value: str) -> Any:
    """A Python literal in a cell (`{'A': 1}`, `[{'Type': ...}]`), read with ast.literal_eval, never eval."""
    cleaned = value.strip()
    if not cleaned:
        return None
    try:
        return ast.literal_eval(cleaned)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise CellError(f"not a Python literal: {value[:80]!r}") from None


_FOOTER = re.compile(
    r"\s+\S+\.x\d\s+\d{1,2}/\d{1,2}/\d{2,4}\s+.*?\bPage\s+\d+\s+of\s+\d+\s*$", re.IGNORECASE
)


def pdf_footer_strip(value: str) -> str:
    """Remove the page footer a PDF-to-CSV conversion glued onto a cell
    (`Arrest rpjlbsr.x3 06/29/26 Booking Summary Report, by Date and Time Page 2 of 18` -> `Arrest`)."""
    return text(_FOOTER.sub("", value))


# Columbia publishes holds and other-jurisdiction warrants under made-up codes like 9999.99(99K).
_PLACEHOLDER_STATUTE = re.compile(r"^9{3,}(\.9+)?(\(\w+\))*$")


def statute_clean(value: str) -> tuple[str, bool]:
    """Return (statute, is_placeholder). A placeholder code is not a statute, so it is returned empty."""
    cleaned = text(value)
    if _PLACEHOLDER_STATUTE.match(cleaned):
        return "", True
    return cleaned, False


_TEXT_ZONES: dict[str, tzinfo] = {
    name: timezone(timedelta(hours=hours))
    for name, hours in {
        "UTC": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5,
        "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    }.items()
}  # fmt: skip
_DT_PATTERNS = [
    # 8/19/20262:34 PM (glued), 8/19/2026 2:34 PM, 6/18/2026 11:01:53 PM, 08/22/2026 02:11 AM
    re.compile(
        r"^(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4}|\d{2})(?:\s*(?P<H>\d{1,2}):(?P<M>\d{2})"
        r"(?::(?P<S>\d{2}))?\s*(?P<ampm>[AP]\.?M\.?)?)?(?:\s+(?P<tz>[A-Z]{1,4}))?$",
        re.IGNORECASE,
    ),
    # 2017-11-07 00:40:24 EST, 2017-11-07T00:40:24, 2017-07-18
    re.compile(
        r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[ T](?P<H>\d{1,2}):(?P<M>\d{2})"
        r"(?::(?P<S>\d{2})(?:\.\d+)?)?\s*(?P<ampm>[AP]M)?)?\s*(?P<tz>[A-Z]{1,4}|[+-]\d{2}:?\d{2})?$",
        re.IGNORECASE,
    ),
    # 14:27:14 06/22/26 (time first, two-digit year)
    re.compile(
        r"^(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?\s*(?P<ampm>[AP]M)?\s+"
        r"(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4}|\d{2})(?:\s+(?P<tz>[A-Z]{1,4}))?$",
        re.IGNORECASE,
    ),
]


def _year(raw: str) -> int:
    year = int(raw)
    if len(raw) == 2:  # two-digit years on rosters are this century's: 26 -> 2026
        year += 2000
    return year


def _zone(raw: str | None, default: tzinfo) -> tzinfo:
    if not raw:
        return default
    upper = raw.upper()
    if upper in _TEXT_ZONES:
        # Taken literally: "EST" is UTC-5 even in July. A roster that writes EST all year is wrong in summer,
        # but an importer that second-guesses a stated zone would be wrong whenever the roster is right.
        return _TEXT_ZONES[upper]
    match = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", raw)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        return timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))
    raise CellError(f"unknown time zone {raw!r}")


def _iso_fast(cleaned: str, zone: tzinfo) -> datetime | None:
    """`2017-11-07 00:40:24 EST` through the C ISO parser; None to fall back to the general patterns."""
    try:
        naive = datetime.fromisoformat(cleaned[:19])
    except ValueError:
        return None
    rest = cleaned[19:].strip()
    if not rest:
        return naive.replace(tzinfo=zone)
    named = _TEXT_ZONES.get(rest.upper())
    return naive.replace(tzinfo=named) if named is not None else None


def datetime_parse(value: str, *, zone: tzinfo) -> datetime | None:
    """Every date-time shape the rosters use, as an aware datetime; a bare date is midnight local time.

    `zone` is the jail's own zone, used when the cell names none (Dane and Columbia: America/Chicago).
    """
    return _datetime_parse_cached(value, zone)


def caches_clear() -> None:
    """Forget the date-times parsed so far; CsvTable calls it for each file, so no file is read faster (or
    measured faster) for following another."""
    _datetime_parse_cached.cache_clear()


# Rosters repeat date-times a lot (a release run stamps many bookings with the same minute; half the release
# cells of the Georgia database are repeats), and a datetime is immutable, so parsed values are shared. Bounded,
# so memory stays constant however long the file.
@lru_cache(maxsize=8192)
def _datetime_parse_cached(value: str, zone: tzinfo) -> datetime | None:
    cleaned = text(value)
    if not cleaned:
        return None
    if len(cleaned) >= 19 and cleaned[4] == "-" and cleaned[10] in " T" and cleaned[13] == ":":
        fast = _iso_fast(cleaned, zone)
        if fast is not None:
            return fast
    for pattern in _DT_PATTERNS:
        match = pattern.match(cleaned)
        if match:
            break
    else:
        raise CellError(f"not a date and time: {value!r}")
    parts = match.groupdict()
    hour = int(parts["H"] or 0)
    ampm = (parts.get("ampm") or "").replace(".", "").upper()
    if ampm:
        if not 1 <= hour <= 12:
            raise CellError(f"not a date and time: {value!r} (hour {hour} with {ampm})")
        hour = hour % 12 + (12 if ampm == "PM" else 0)
    try:
        naive = datetime(  # noqa: DTZ001 - made aware on the next line with the roster's own zone
            _year(parts["y"]),
            int(parts["m"]),
            int(parts["d"]),
            hour,
            int(parts["M"] or 0),
            int(parts["S"] or 0),
        )
    except ValueError as error:
        raise CellError(f"not a date and time: {value!r} ({error})") from None
    return naive.replace(tzinfo=_zone(parts.get("tz"), zone))


def date_parse(value: str) -> date | None:
    """A calendar date (DOB, order date) in any of the roster shapes; a time part is refused."""
    cleaned = text(value)
    if not cleaned:
        return None
    parsed = datetime_parse(cleaned, zone=UTC)
    if parsed is None or parsed.time() != time(0, 0) or ":" in cleaned:
        raise CellError(f"not a date: {value!r}")
    return parsed.date()


_SEX = {
    "m": Sex.MALE, "male": Sex.MALE, "f": Sex.FEMALE, "female": Sex.FEMALE,
    "x": Sex.OTHER, "other": Sex.OTHER, "nonbinary": Sex.OTHER, "non-binary": Sex.OTHER,
    "u": Sex.UNKNOWN, "unknown": Sex.UNKNOWN,
}  # fmt: skip


def sex_from_text(value: str) -> str | None:
    """`m`, `Male`, `F` ... -> a Sex value; empty -> None (not published); anything else is refused."""
    cleaned = text(value).lower()
    if not cleaned:
        return None
    if cleaned not in _SEX:
        raise CellError(f"unknown sex code {value!r}")
    return _SEX[cleaned].value


def charge_level_from_text(value: str) -> str:
    """The level from whatever the roster says (`Felony`, `Misd`, `C Felony`, `Civil`, `hold`)."""
    lowered = text(value).lower()
    if "felony" in lowered or lowered in {"f", "fel"}:
        return ChargeLevel.FELONY.value
    if "misd" in lowered or lowered in {"m", "mis"}:
        return ChargeLevel.MISDEMEANOR.value
    if "civil" in lowered or "hold" in lowered or "violation" in lowered:
        return ChargeLevel.CIVIL_HOLD.value
    return ChargeLevel.UNKNOWN.value


def disposition_from_text(value: str) -> str:
    """The disposition from a roster status (`Unsentenced` is pending, `Sentenced`/`Prison` convicted)."""
    lowered = text(value).lower()
    if not lowered:
        return Disposition.UNKNOWN.value
    if lowered.startswith(("unsentenced", "pending", "pretrial", "awaiting")):
        return Disposition.PENDING.value
    if lowered.startswith(("sentenced", "prison", "convicted", "guilty")):
        return Disposition.CONVICTED.value
    if lowered.startswith(("dismissed", "nolle", "dropped")):
        return Disposition.DISMISSED.value
    if lowered.startswith(("acquitted", "not guilty")):
        return Disposition.ACQUITTED.value
    return Disposition.UNKNOWN.value


_SUFFIXES = frozenset({"JR", "SR", "II", "III", "IV", "V"})
_NO_MIDDLE = frozenset({"NMI", "NMN"})  # "no middle initial/name" is not a middle name


def _is_suffix(word: str) -> bool:
    return word.upper().rstrip(".") in _SUFFIXES


def names_repair(*, last: str, first: str, middle: str, suffix: str = "") -> dict[str, str]:
    """Put a suffix read as a first name back where it belongs.

    `DOE, JR, JORDAN LEE` comes out of scrapers as last=DOE, first=JR, middle=JORDAN LEE; a trailing
    `JR` on the last or middle name is moved the same way. `NMI` (no middle initial) becomes empty.
    """
    last, first, middle, suffix = text(last), text(first), text(middle), text(suffix)
    if first and _is_suffix(first) and middle:
        suffix = suffix or first.rstrip(".")
        first, _, middle = middle.partition(" ")
    for name in ("last", "middle"):
        words = (last if name == "last" else middle).split(" ")
        if len(words) > 1 and _is_suffix(words[-1]) and not suffix:
            suffix = words[-1].rstrip(".")
            if name == "last":
                last = " ".join(words[:-1])
            else:
                middle = " ".join(words[:-1])
    if middle.upper() in _NO_MIDDLE:
        middle = ""
    return {"last_name": last, "first_name": first, "middle_name": middle, "suffix": suffix.upper()}


def name_split(value: str) -> dict[str, str]:
    """`LAST, FIRST MIDDLE` (also `LAST, SUFFIX, FIRST MIDDLE` and `LAST SUFFIX, FIRST`) into name parts."""
    cleaned = text(value)
    if not cleaned:
        raise CellError("no name")
    parts = [text(part) for part in cleaned.split(",")]
    last = parts[0]
    rest = " ".join(part for part in parts[1:] if part)
    if len(parts) > 2 and _is_suffix(parts[1]):
        rest = " ".join([*parts[2:], parts[1]])
    first, _, middle = rest.partition(" ")
    words = middle.split(" ") if middle else []
    suffix = ""
    if words and _is_suffix(words[-1]):
        suffix = words.pop().rstrip(".")
    return names_repair(last=last, first=first, middle=" ".join(words), suffix=suffix)


# Citizenship, immigration status and place of birth are never stored (rules.md IM-05, IM-06, IM-09).
_PROHIBITED = re.compile(
    r"citizen|immigra|alien|nationality|place.?of.?birth|birth.?place|country.?of.?birth|"
    r"birth.?country|birth.?state|pob\b|\bice.?(hold|detainer)|visa|passport",
    re.IGNORECASE,
)


@lru_cache(maxsize=4096)
def is_prohibited_column(name: str) -> bool:
    """Whether a column carries citizenship, immigration status or place of birth and must be dropped."""
    return bool(_PROHIBITED.search(name.replace("_", " ")))
