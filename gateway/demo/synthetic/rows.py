"""What the synthetic county's rows mean: one chunk of people, their bookings and charges, as NumPy columns.

This is the single place that decides what a synthetic row says; the PostgreSQL COPY writer and the
bulk_create writer only put these columns into tables. A chunk is a fixed number of people with all of their
bookings, generated from its own random stream seeded by (seed, chunk number). That makes a county
*prefix-stable*: the first N bookings of a seed are the same whatever N is asked for, so a re-run skips what
exists, a larger N extends and a killed run resumes, without ever making a different person with the same key.

Column conventions (writers rely on them): keys are model attribute names; `person_id` and `booking_id` hold
*chunk-local* row numbers that the writer maps to database ids; strings are object arrays and never None;
datetime64[s] is a UTC timestamp and datetime64[D] a date, NaT meaning NULL; float64 NaN means NULL for the
nullable numbers (age, bond).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from gateway.demo.synthetic.pools import NamePools
from gateway.demo.synthetic.tables import (
    AGENCIES,
    BOOKING_AGENCY,
    BOOKING_HOUR_WEIGHTS,
    HISPANIC_RACES,
    HOLD_AGENCY,
    HOUSING_UNITS,
    NON_HISPANIC_RACES,
    PLACES,
    STATUTES,
)
from gateway.records.models import ChargeLevel, CustodyStatus, Disposition

__all__ = [
    "AS_OF",
    "PERSONS_PER_CHUNK",
    "WINDOW_START",
    "ChunkRows",
    "chunk_booking_counts",
    "chunk_rows_generate",
]

PERSONS_PER_CHUNK = 8192  # fixed: changing it changes every county, so it is not a setting
WINDOW_START = date(2018, 1, 1)
AS_OF = date(2026, 1, 1)  # the county as it stood on this day: later bookings are still in custody

_DAY = 86_400
_YEAR = 365.2425 * _DAY
_CENTRAL_OFFSET = (
    6 * 3600
)  # intake hours are local (Central); stored as UTC, ignoring daylight time
_START_S = int(np.datetime64(WINDOW_START, "s").astype(np.int64))
_AS_OF_S = int(np.datetime64(AS_OF, "s").astype(np.int64))
_WINDOW_DAYS = (AS_OF - WINDOW_START).days
_JUVENILE_AGE = 17  # Wisconsin treats 17 and over as adults (Wis. Stat. 938.02(1), rules.md WI-02)
_EXPUNCTION_AGE = 25  # Wis. Stat. 973.015: offence committed under 25


@dataclass(frozen=True)
class ChunkRows:
    """One chunk: `persons` rows, their `bookings` (grouped by person, in date order) and `charges`."""

    chunk: int
    booking_start: int  # county-wide number of this chunk's first booking
    persons: dict[str, np.ndarray]
    bookings: dict[str, np.ndarray]
    charges: dict[str, np.ndarray]

    @property
    def booking_count(self) -> int:
        return len(self.bookings["source_key"])


def _rng(seed: int, chunk: int) -> np.random.Generator:
    return np.random.default_rng([seed, chunk])


def _bookings_per_person(rng: np.random.Generator) -> np.ndarray:
    # Negative binomial: about 58 % booked once, a long tail of people booked again and again (mean 1.9).
    return 1 + np.minimum(rng.negative_binomial(0.6, 0.4, PERSONS_PER_CHUNK), 39)


def chunk_booking_counts(*, seed: int, chunk: int) -> np.ndarray:
    """Bookings per person in a chunk, without generating the rest (used to find where a chunk starts)."""
    return _bookings_per_person(_rng(seed, chunk))


def _weighted(
    rng: np.random.Generator, table: tuple[tuple[str, float], ...], size: int
) -> np.ndarray:
    values = np.array([value for value, _ in table], dtype=object)
    weights = np.array([weight for _, weight in table], dtype=float)
    return values[rng.choice(len(values), size=size, p=weights / weights.sum())]


def _fmt(template: str, *columns: np.ndarray) -> np.ndarray:
    return np.array(
        [template.format(*values) for values in zip(*(c.tolist() for c in columns), strict=True)],
        dtype=object,
    )


def _mask_fmt(mask: np.ndarray, template: str, *columns: np.ndarray) -> np.ndarray:
    """Format only where `mask` is set (rare statuses); "" elsewhere."""
    out = np.full(len(mask), "", dtype=object)
    if mask.any():
        out[mask] = _fmt(template, *(c[mask] for c in columns))
    return out


def chunk_rows_generate(
    *, pools: NamePools, seed: int, chunk: int, booking_start: int
) -> ChunkRows:
    """Generate one chunk. `booking_start` is the sum of the booking counts of all earlier chunks."""
    rng = _rng(seed, chunk)
    counts = _bookings_per_person(rng)
    persons = _persons(rng, pools, seed, chunk)
    bookings, age_at_booking = _bookings(rng, persons, counts, seed, booking_start)
    charges = _charges(rng, bookings)
    _statuses(rng, bookings, charges, age_at_booking, booking_start)
    return ChunkRows(
        chunk=chunk,
        booking_start=booking_start,
        persons=persons,
        bookings=bookings,
        charges=charges,
    )


def _names(
    rng: np.random.Generator, pools: NamePools, sex: np.ndarray, hispanic: np.ndarray
) -> tuple[np.ndarray, ...]:
    n = len(sex)
    female = (sex == "F") | ((sex == "U") & (rng.random(n) < 0.5))
    spanish = hispanic & (rng.random(n) < 0.7)

    def first() -> np.ndarray:
        english = np.where(
            female,
            pools.first_female[rng.integers(0, len(pools.first_female), n)],
            pools.first_male[rng.integers(0, len(pools.first_male), n)],
        )
        latin = np.where(
            female,
            pools.first_female_hispanic[rng.integers(0, len(pools.first_female_hispanic), n)],
            pools.first_male_hispanic[rng.integers(0, len(pools.first_male_hispanic), n)],
        )
        return np.where(spanish, latin, english)

    first_name = first()
    middle_name = np.where(rng.random(n) < 0.6, first(), "")
    last_name = np.where(
        hispanic & (rng.random(n) < 0.8),
        pools.last_hispanic[rng.integers(0, len(pools.last_hispanic), n)],
        pools.last[rng.integers(0, len(pools.last), n)],
    )
    suffix = np.where(
        female,
        "",
        _weighted(rng, (("", 95.6), ("JR", 3.0), ("SR", 0.6), ("II", 0.4), ("III", 0.4)), n),
    )
    return first_name, middle_name, last_name, suffix


def _persons(
    rng: np.random.Generator, pools: NamePools, seed: int, chunk: int
) -> dict[str, np.ndarray]:
    n = PERSONS_PER_CHUNK
    number = chunk * n + np.arange(n)  # county-wide person number: unique within a seed
    sex = _weighted(rng, (("M", 85.0), ("F", 14.5), ("U", 0.5)), n)
    hispanic = rng.random(n) < 0.11
    ethnicity = np.where(hispanic, "Hispanic", "Non-Hispanic")
    ethnicity = np.where(rng.random(n) < 0.04, "", ethnicity)
    race = np.where(
        hispanic, _weighted(rng, HISPANIC_RACES, n), _weighted(rng, NON_HISPANIC_RACES, n)
    )
    first_name, middle_name, last_name, suffix = _names(rng, pools, sex, hispanic)

    place = rng.choice(len(PLACES), size=n, p=_normalised([w for *_, w in PLACES]))
    city = np.array([f"{c}, {s}" for c, s, _, _ in PLACES], dtype=object)[place]
    zip_code = np.array([z for _, _, z, _ in PLACES], dtype=object)[place]
    street = pools.streets[rng.integers(0, len(pools.streets), n)]
    transient = rng.random(n) < 0.05  # no fixed address: rosters leave it blank
    address = np.where(transient, "", _fmt("{}, {}", street, city))
    zip_code = np.where(transient, "", zip_code)

    # Identifiers are fake on their face: SYN prefixes, and SSN areas 900-999, which SSA never issues.
    def some(share: float, values: np.ndarray) -> np.ndarray:
        return np.where(rng.random(n) < share, values, "")

    digits = rng.integers(0, 10**8, size=(3, n))
    ssn = _fmt(
        "{}-{:02d}-{:04d}",
        rng.integers(900, 1000, n),
        rng.integers(1, 100, n),
        rng.integers(1, 10_000, n),
    )
    return {
        "source_key": _fmt(f"s{seed}-p{{:09d}}", number),
        "first_name": first_name,
        "middle_name": middle_name,
        "last_name": last_name,
        "suffix": suffix,
        "date_of_birth": np.full(n, "NaT", dtype="datetime64[D]"),  # set once bookings are dated
        "age": np.full(n, np.nan),
        "age_recorded_on": np.full(n, "NaT", dtype="datetime64[D]"),
        "sex": sex,
        "race": race,
        "ethnicity": ethnicity,
        "address": address,
        "zip_code": zip_code,
        "state_id": some(0.85, _fmt("SYN{:09d}", number + 1)),
        "fbi_number": some(0.45, _fmt("SYNF{:08d}", digits[0])),
        "drivers_license": some(0.55, _fmt("SYND-{:08d}", digits[1])),
        "ssn": some(0.6, ssn),
        "content_hash": np.full(n, "", dtype=object),
    }


def _normalised(weights: list[float] | tuple[float, ...]) -> np.ndarray:
    array = np.asarray(weights, dtype=float)
    return array / array.sum()


def _booking_times(rng: np.random.Generator, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Booking times in seconds (UTC), grouped by person and in date order within a person.

    Each person has an active stretch (exponential, mean about two years) centred anywhere in the window, and
    their bookings fall inside it, so repeat bookings cluster in time as they do on real rosters. Days that
    fall outside the window are reflected back in, which keeps bookings evenly spread over the years instead
    of piling up at either end.
    """
    n = len(counts)
    centre = rng.random(n) * _WINDOW_DAYS
    span = rng.exponential(700.0, n)
    person = np.repeat(np.arange(n), counts)
    day = centre[person] + (rng.random(len(person)) - 0.5) * span[person]
    day = np.abs(day)  # reflect at the start ...
    day = np.where(day >= _WINDOW_DAYS, 2 * _WINDOW_DAYS - day, day)  # ... and at the end
    day = np.clip(np.floor(day), 0, _WINDOW_DAYS - 1).astype(
        np.int64
    )  # a span wider than the window
    hour = rng.choice(24, size=len(person), p=_normalised(BOOKING_HOUR_WEIGHTS))
    seconds = hour * 3600 + rng.integers(0, 3600, len(person))
    booked = _START_S + day * _DAY + seconds + _CENTRAL_OFFSET
    order = np.lexsort((booked, person))
    return person, booked[order]


def _release_times(rng: np.random.Generator, person: np.ndarray, booked: np.ndarray) -> np.ndarray:
    # Length of stay: median 30 hours, mean about nine days (Milwaukee: ~950 held, ~33,500 bookings a year).
    stay = np.clip(np.exp(rng.normal(np.log(30.0), 2.0, len(booked))), 0.5, 3 * 365 * 24) * 3600
    released = booked + stay.astype(np.int64)
    # Out before the same person's next booking.
    same = person[1:] == person[:-1]
    released[:-1] = np.where(same, np.minimum(released[:-1], booked[1:] - 3600), released[:-1])
    return np.maximum(released, booked + 900)


def _birth_dates(
    rng: np.random.Generator,
    persons: dict[str, np.ndarray],
    counts: np.ndarray,
    person: np.ndarray,
    booked: np.ndarray,
) -> np.ndarray:
    """Set birth dates (or, where a roster publishes only an age, the age); return age at each booking.

    The birth date follows from the age at first booking, so a few people are first booked as juveniles.
    """
    n = len(counts)
    first = np.cumsum(counts) - counts
    last = np.cumsum(counts) - 1
    juvenile_start = rng.random(n) < 0.015
    age_first = np.where(juvenile_start, rng.uniform(13.5, 17.0, n), 17.0 + rng.gamma(2.0, 7.0, n))
    birth_s = booked[first] - (np.minimum(age_first, 79.0) * _YEAR).astype(np.int64)
    age_at_booking = (booked - birth_s[person]) / _YEAR
    no_birth_date = rng.random(n) < 0.07  # such rosters show the age at the person's last booking
    persons["date_of_birth"] = np.where(
        no_birth_date, np.datetime64("NaT"), (birth_s // _DAY).astype("datetime64[D]")
    )
    persons["age"] = np.where(no_birth_date, np.floor(age_at_booking[last]), np.nan)
    persons["age_recorded_on"] = np.where(
        no_birth_date,
        booked[last].astype("datetime64[s]").astype("datetime64[D]"),
        np.datetime64("NaT"),
    )
    return age_at_booking


def _custody(rng: np.random.Generator, released: np.ndarray) -> dict[str, np.ndarray]:
    """Custody as of AS_OF: not yet released means in custody, with a housing unit; a few unknown."""
    b = len(released)
    unknown = rng.random(b) < 0.002
    in_custody = (released > _AS_OF_S) & ~unknown
    status = np.where(
        unknown,
        CustodyStatus.UNKNOWN.value,
        np.where(in_custody, CustodyStatus.IN_CUSTODY.value, CustodyStatus.RELEASED.value),
    )
    unit = _weighted(rng, tuple((u, 1.0) for u in HOUSING_UNITS), b)
    housing = np.where(in_custody, _fmt("{}-{:02d}", unit, rng.integers(1, 49, b)), "")
    released_at = np.where(
        in_custody | unknown, np.datetime64("NaT"), released.astype("datetime64[s]")
    )
    return {
        "released_at": released_at.astype("datetime64[s]"),
        "custody_status": status.astype(object),
        "housing": housing.astype(object),
    }


def _bookings(
    rng: np.random.Generator,
    persons: dict[str, np.ndarray],
    counts: np.ndarray,
    seed: int,
    booking_start: int,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    person, booked = _booking_times(rng, counts)
    b = len(person)
    number = booking_start + np.arange(b)
    released = _release_times(rng, person, booked)
    age_at_booking = _birth_dates(rng, persons, counts, person, booked)
    custody = _custody(rng, released)
    bookings = {
        "person_id": person,
        "source_key": _fmt(f"s{seed}-b{{:09d}}", number),
        "booking_number": _fmt("SYN-{:09d}", number + 1),
        "booked_at": booked.astype("datetime64[s]"),
        "released_at": custody["released_at"],
        "arresting_agency": _weighted(rng, AGENCIES, b),
        "booking_agency": np.full(b, BOOKING_AGENCY, dtype=object),
        "custody_status": custody["custody_status"],
        "housing": custody["housing"],
        "juvenile": age_at_booking < _JUVENILE_AGE,
        "content_hash": np.full(b, "", dtype=object),
    }
    return bookings, age_at_booking


_STATUTE_WEIGHTS = _normalised([s.weight for s in STATUTES])
_STATUTE_CODE = np.array([s.statute for s in STATUTES], dtype=object)
_STATUTE_TEXT = np.array([s.description for s in STATUTES], dtype=object)
_STATUTE_LEVEL = np.array([s.level.value for s in STATUTES], dtype=object)
_STATUTE_BOND = np.array([s.bond for s in STATUTES], dtype=float)
_STATUTE_CASE = np.array([s.case_type for s in STATUTES], dtype=object)
_STATUTE_SERIOUS = np.array([s.serious for s in STATUTES])
_SUPERVISION_HOLDS = frozenset({"973.10", "302.113(8m)"})  # probation / extended supervision


def _charges(rng: np.random.Generator, bookings: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    b = len(bookings["source_key"])
    per_booking = 1 + np.minimum(rng.negative_binomial(1.0, 0.55, b), 29)  # mean 1.8, up to 30
    booking = np.repeat(np.arange(b), per_booking)
    c = len(booking)
    first = np.repeat(np.cumsum(per_booking) - per_booking, per_booking)
    sequence = np.arange(c) - first + 1
    # Multiple counts of one offence are common: a charge repeats the one before it 30 % of the time.
    drawn = rng.choice(len(STATUTES), size=c, p=_STATUTE_WEIGHTS)
    repeat = (rng.random(c) < 0.3) & (sequence > 1)
    statute = drawn[np.maximum.accumulate(np.where(repeat, 0, np.arange(c)))]
    level = _STATUTE_LEVEL[statute]
    disposition = _dispositions(rng, level, bookings["booked_at"][booking])

    # A probation hold is usually booked by the agent, not by a police department.
    lead_hold = np.isin(_STATUTE_CODE[statute[sequence == 1]], list(_SUPERVISION_HOLDS))
    bookings["arresting_agency"] = np.where(
        lead_hold & (rng.random(b) < 0.7), HOLD_AGENCY, bookings["arresting_agency"]
    ).astype(object)
    bond_amount, bond_type = _bonds(rng, statute, level)
    return {
        "booking_id": booking,
        "sequence": sequence,
        "statute": _STATUTE_CODE[statute],
        "description": _STATUTE_TEXT[statute],
        "level": level,
        "disposition": disposition,
        "bond_amount": bond_amount,
        "bond_type": bond_type,
        "case_number": _case_numbers(rng, bookings["booked_at"], booking, statute),
        "_serious": _STATUTE_SERIOUS[statute],  # underscore: for status rules only, never written
    }


def _dispositions(rng: np.random.Generator, level: np.ndarray, booked_at: np.ndarray) -> np.ndarray:
    """Cases close over months: pending fades with time since booking; holds have no disposition.

    Dismissals are common because Wisconsin pleas often dismiss counts and read them in.
    """
    c = len(level)
    days_open = (_AS_OF_S - booked_at.astype(np.int64)) / _DAY
    pending = rng.random(c) < 0.03 + 0.97 * np.exp(-days_open / 150.0)
    outcome = rng.random(c)
    disposition = np.where(
        outcome < 0.52,
        Disposition.CONVICTED.value,
        np.where(outcome < 0.955, Disposition.DISMISSED.value, Disposition.ACQUITTED.value),
    )
    disposition = np.where(pending, Disposition.PENDING.value, disposition)
    hold = level == ChargeLevel.CIVIL_HOLD.value
    return np.where(hold, Disposition.UNKNOWN.value, disposition).astype(object)


def _case_numbers(
    rng: np.random.Generator, booked_at: np.ndarray, booking: np.ndarray, statute: np.ndarray
) -> np.ndarray:
    """CCAP-style case numbers (2024CF001234): one felony, one misdemeanour and one traffic case per
    booking, each charge filed in the one its statute belongs to; holds have none."""
    year = booked_at.astype("datetime64[Y]").astype(int) + 1970
    case_type = _STATUTE_CASE[statute]
    case_number = np.full(len(booking), "", dtype=object)
    for kind in ("CF", "CM", "CT"):
        numbers = _fmt(f"{{}}{kind}{{:06d}}", year, rng.integers(1, 20_000, len(booked_at)))
        case_number = np.where(case_type == kind, numbers[booking], case_number)
    return case_number.astype(object)


def _bonds(
    rng: np.random.Generator, statute: np.ndarray, level: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    c = len(statute)
    felony = level == ChargeLevel.FELONY.value
    hold = level == ChargeLevel.CIVIL_HOLD.value
    median = _STATUTE_BOND[statute]
    cash = np.maximum(np.round(median * np.exp(rng.normal(0.0, 0.6, c)) / 50.0) * 50.0, 50.0)
    u = rng.random(c)
    # Felonies mostly get cash bail; misdemeanours are often released on a signature bond.
    kind = np.where(
        felony,
        np.where(u < 0.85, "CASH", np.where(u < 0.95, "SIGNATURE", "NO BAIL")),
        np.where(u < 0.45, "CASH", np.where(u < 0.95, "SIGNATURE", "")),
    )
    kind = np.where(hold, "HOLD - NO BAIL", kind).astype(object)
    amount = np.where(kind == "CASH", cash, np.where(kind == "SIGNATURE", median, np.nan))
    return amount, kind


def _statuses(
    rng: np.random.Generator,
    bookings: dict[str, np.ndarray],
    charges: dict[str, np.ndarray],
    age_at_booking: np.ndarray,
    booking_start: int,
) -> None:
    """Juvenile, sealed, expunged and removed, each with its date and order reference, where the law allows.

    Removal (Wis. Stat. 165.84) only for people released with every criminal charge dismissed or acquitted;
    expunction (973.015) only for a conviction of someone under 25 and never for the serious offences; sealing
    mostly for juvenile bookings. An order dated after AS_OF has not happened yet, so it is left out.
    """
    b = len(bookings["source_key"])
    booking = charges["booking_id"]
    criminal = charges["level"] != ChargeLevel.CIVIL_HOLD.value
    cleared = criminal & np.isin(
        charges["disposition"], [Disposition.DISMISSED.value, Disposition.ACQUITTED.value]
    )
    convicted = charges["disposition"] == Disposition.CONVICTED.value
    n_criminal = np.bincount(booking, weights=criminal, minlength=b)
    n_cleared = np.bincount(booking, weights=cleared, minlength=b)
    any_convicted = np.bincount(booking, weights=convicted, minlength=b) > 0
    any_serious = np.bincount(booking, weights=charges.pop("_serious"), minlength=b) > 0

    booked_day = bookings["booked_at"].astype("datetime64[D]")
    released_day = bookings["released_at"].astype("datetime64[D]")
    number = booking_start + np.arange(b) + 1

    def order(
        eligible: np.ndarray, share: float, base: np.ndarray, low: int, high: int
    ) -> np.ndarray:
        when = base + rng.integers(low, high, b).astype("timedelta64[D]")
        granted = eligible & (rng.random(b) < share) & (when < np.datetime64(AS_OF))
        return np.where(granted, when, np.datetime64("NaT"))

    removable = (n_criminal > 0) & (n_cleared == n_criminal) & ~np.isnat(released_day)
    removed_on = order(removable, 0.12, released_day, 60, 1200)
    expungeable = (age_at_booking < _EXPUNCTION_AGE) & any_convicted & ~any_serious
    expunged_on = order(expungeable, 0.3, booked_day, 365, 1800)
    sealed_on = order(np.ones(b, dtype=bool), 0.008, booked_day, 30, 1500)
    sealed_on = np.where(
        np.isnat(sealed_on) & bookings["juvenile"],
        order(bookings["juvenile"], 0.35, booked_day, 30, 900),
        sealed_on,
    )

    for field, order_field, dates, template in (
        ("removed_on", "removal_order", removed_on, "SYN-165.84-{}-{:09d}"),
        ("expunged_on", "expunged_order", expunged_on, "SYN-EXP-{}-{:09d}"),
        ("sealed_on", "sealed_order", sealed_on, "SYN-SEAL-{}-{:09d}"),
    ):
        has = ~np.isnat(dates)
        year = dates.astype("datetime64[Y]").astype(np.int64) + 1970
        bookings[field] = dates.astype("datetime64[D]")
        bookings[order_field] = _mask_fmt(has, template, year, number)
