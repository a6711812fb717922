"""`--format csv --mapping FILE`: any roster CSV, described by a small YAML or JSON mapping file.

The mapping names, for each model field, the column it comes from; how a cell is read follows from the field
(a DateTimeField gets the date-time repairs, a DecimalField the money repairs, `sex` the sex codes ...), so a
mapping never has to describe the quirks. The format is documented with an example in docs/importing.md.
An invalid mapping raises IMPORT_MAPPING_INVALID naming every problem at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from django.db import models

from gateway.exceptions import GatewayError, GatewayErrorCode
from gateway.records.importers.base import FormatOptions, ParsedBooking, ParsedRow
from gateway.records.importers.cleaning import (
    CellError,
    charge_level_from_text,
    date_parse,
    datetime_parse,
    disposition_from_text,
    integer_text,
    is_prohibited_column,
    money_parse,
    multi_split,
    name_split,
    sex_from_text,
    statute_clean,
    text,
)
from gateway.records.importers.csvfile import CsvRecord, CsvTable, FieldError, rows_build
from gateway.records.importers.dane import booking_minute_key
from gateway.records.models import Booking, Charge, ChargeLevel, CustodyStatus, Person

__all__ = ["MappedCsvFormat", "MappingSpec", "mapping_load"]

_TOP_KEYS = {"source", "timezone", "encoding", "delimiter", "header", "columns", "person_key",
             "booking_key", "person", "booking", "charges", "constants"}  # fmt: skip
_KEYS_NOT_MAPPABLE = {
    "id",
    "source",
    "source_key",
    "content_hash",
    "created_at",
    "updated_at",
    "person",
    "booking",
}
_TRUE = {"y", "yes", "true", "1", "t"}
_FALSE = {"n", "no", "false", "0", "f"}


@dataclass(frozen=True, slots=True)
class MappingSpec:
    """A validated mapping file."""

    source: str
    zone: tzinfo
    encoding: str | None
    delimiter: str
    columns: tuple[str, ...] | None  # for a headerless file
    person_key: tuple[str, ...]
    booking_key: tuple[str, ...]  # empty: person key + booking minute
    person: Mapping[str, str]
    booking: Mapping[str, str]
    charges: Mapping[str, str]
    charge_separator: str
    constants: Mapping[str, Mapping[str, Any]]

    def required_columns(self) -> list[str]:
        used = [*self.person_key, *self.booking_key, *self.person.values(), *self.booking.values()]
        used += list(self.charges.values())
        return list(dict.fromkeys(used))


def _invalid(problems: Sequence[str], path: Path) -> GatewayError:
    return GatewayError(
        f"Mapping {path} is invalid: " + "; ".join(problems) + ".",
        code=GatewayErrorCode.IMPORT_MAPPING_INVALID,
        extra={"problems": list(problems), "path": str(path)},
    )


def _mappable(model: type[models.Model]) -> set[str]:
    return {f.name for f in model._meta.concrete_fields if f.name not in _KEYS_NOT_MAPPABLE}


def _columns(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return ()


def mapping_load(path: Path) -> MappingSpec:
    """Read and check a mapping file (YAML, or JSON which is YAML too)."""
    try:
        raw = path.read_text(encoding="utf-8")
        data = json.loads(raw) if path.suffix.lower() == ".json" else yaml.safe_load(raw)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as error:
        raise _invalid([f"cannot be read: {error}"], path) from None
    if not isinstance(data, dict):
        raise _invalid(["the top level must be a mapping of keys"], path)
    problems = [f"unknown key {key!r}" for key in data if key not in _TOP_KEYS]
    source = data.get("source")
    if not isinstance(source, str) or not source.strip() or len(source) > 40:
        problems.append(
            "`source` (the name stored with every record, up to 40 characters) is required"
        )
    person_key = _columns(data.get("person_key"))
    if not person_key:
        problems.append("`person_key` (a column or list of columns) is required")
    sections: dict[str, dict[str, str]] = {}
    for section, model in (("person", Person), ("booking", Booking), ("charges", Charge)):
        fields = data.get(section) or {}
        if not isinstance(fields, dict):
            problems.append(f"`{section}` must map field names to column names")
            continue
        allowed = _mappable(model) | ({"name"} if section == "person" else set())
        allowed |= {"separator"} if section == "charges" else set()
        for name, column in fields.items():
            if name not in allowed:
                problems.append(
                    f"`{section}.{name}` is not a field (known: {', '.join(sorted(allowed))})"
                )
            elif not isinstance(column, str):
                problems.append(f"`{section}.{name}` must be a column name")
        sections[section] = {k: v for k, v in fields.items() if isinstance(v, str)}
    zone: tzinfo = ZoneInfo("UTC")
    try:
        zone = ZoneInfo(str(data.get("timezone", "UTC")))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"unknown timezone {data.get('timezone')!r} (use e.g. America/Chicago)")
    if "booked_at" not in sections.get("booking", {}) and not data.get("booking_key"):
        problems.append("map `booking.booked_at` or give a `booking_key`")
    columns = _columns(data.get("columns")) if data.get("header") is False else None
    if data.get("header") is False and not columns:
        problems.append("`header: false` needs `columns`, the column names in file order")
    for column in [*sections.get("person", {}).values(), *sections.get("booking", {}).values()]:
        if is_prohibited_column(column):
            problems.append(
                f"column {column!r} looks like citizenship/immigration/place of birth: never stored"
            )
    if problems:
        raise _invalid(problems, path)
    charges = dict(sections.get("charges", {}))
    separator = charges.pop("separator", "; ")
    constants = data.get("constants") or {}
    return MappingSpec(
        source=str(source).strip(),
        zone=zone,
        encoding=data.get("encoding"),
        delimiter=str(data.get("delimiter", ",")),
        columns=columns,
        person_key=person_key,
        booking_key=_columns(data.get("booking_key")),
        person=sections.get("person", {}),
        booking=sections.get("booking", {}),
        charges=charges,
        charge_separator=separator,
        constants={k: dict(v) for k, v in constants.items() if isinstance(v, dict)},
    )


def _boolean(raw: str) -> bool:
    lowered = text(raw).lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE or not lowered:
        return False
    raise CellError(f"not yes/no: {raw!r}")


def _custody(raw: str) -> str:
    lowered = text(raw).lower()
    if not lowered:
        return CustodyStatus.UNKNOWN.value
    if "release" in lowered or "bonded" in lowered:
        return CustodyStatus.RELEASED.value
    if "custody" in lowered or lowered in {"in jail", "booked", "held", "yes", "y"}:
        return CustodyStatus.IN_CUSTODY.value
    return CustodyStatus.UNKNOWN.value


def _optional_int(raw: str) -> int | None:
    digits = integer_text(raw)
    return int(digits) if digits else None


def _reader(model: type[models.Model], name: str, zone: tzinfo) -> Callable[[str], Any]:
    """How a cell for this model field is read: chosen by the field, so mappings never describe quirks."""
    special: dict[str, Callable[[str], Any]] = {
        "sex": lambda raw: sex_from_text(raw) or "U",
        "level": charge_level_from_text,
        "disposition": disposition_from_text,
        "custody_status": _custody,
    }
    if name in special:
        return special[name]
    spec = model._meta.get_field(name)
    if isinstance(spec, models.DateTimeField):
        return partial(datetime_parse, zone=zone)
    if isinstance(spec, models.DateField):
        return date_parse
    if isinstance(spec, models.DecimalField):
        return money_parse
    if isinstance(spec, models.BooleanField):
        return _boolean
    if isinstance(spec, models.IntegerField):
        return _optional_int
    return text


class MappedCsvFormat:
    """A CSV file read through a mapping file."""

    def __init__(self, options: FormatOptions) -> None:
        if options.mapping is None:
            raise GatewayError(
                "--format csv needs --mapping FILE (see docs/importing.md).",
                code=GatewayErrorCode.IMPORT_MAPPING_INVALID,
            )
        self.options = options
        self.spec = mapping_load(options.mapping)

    @property
    def source(self) -> str:
        return self.options.source or self.spec.source

    def parse(self, path: Path) -> Iterator[ParsedRow]:
        spec = self.spec
        encoding = (
            self.options.encoding
            if self.options.encoding != "utf-8"
            else (spec.encoding or "utf-8")
        )
        table = CsvTable(
            path,
            encoding=encoding,
            required=spec.required_columns(),
            fieldnames=spec.columns,
            delimiter=spec.delimiter,
        )
        readers = {
            section: {name: _reader(model, name, spec.zone) for name in fields if name != "name"}
            for section, model, fields in (
                ("person", Person, spec.person),
                ("booking", Booking, spec.booking),
                ("charges", Charge, spec.charges),
            )
        }
        yield from rows_build(table, partial(self._booking, readers=readers))

    def _booking(
        self, record: CsvRecord, *, readers: dict[str, dict[str, Callable[[str], Any]]]
    ) -> ParsedBooking:
        spec = self.spec
        person_key = "|".join(record.text(column) for column in spec.person_key)
        if not person_key.strip("|"):
            raise FieldError(field=spec.person_key[0], value="", reason="the person key is empty")
        person: dict[str, Any] = dict(spec.constants.get("person", {}))
        if "name" in spec.person:
            person.update(record.parse(spec.person["name"], name_split))
        for name, column in spec.person.items():
            if name != "name":
                person[name] = record.parse(column, readers["person"][name])
        booking: dict[str, Any] = dict(spec.constants.get("booking", {}))
        for name, column in spec.booking.items():
            booking[name] = record.parse(column, readers["booking"][name])
        if spec.booking_key:
            booking_key = "|".join(record.text(column) for column in spec.booking_key)
        elif booking.get("booked_at") is not None:
            booking_key = booking_minute_key(
                person_key=person_key, booked_at=booking["booked_at"], zone=spec.zone
            )
        else:
            raise FieldError(
                field=spec.booking["booked_at"],
                value="",
                reason="no booking time to key the booking",
            )
        return ParsedBooking(
            line=record.line,
            person_key=person_key,
            person={
                k: v for k, v in person.items() if v is not None or k in {"date_of_birth", "age"}
            },
            booking_key=booking_key,
            booking=booking,
            charges=self._charges(record, readers=readers["charges"]),
            dropped_fields=record.dropped,
            charges_reported=bool(self.spec.charges),  # a mapping without charges leaves them alone
        )

    def _charges(
        self, record: CsvRecord, *, readers: dict[str, Callable[[str], Any]]
    ) -> tuple[dict[str, Any], ...]:
        spec = self.spec
        if not spec.charges:
            return ()
        slots = {
            name: multi_split(record.raw(column), separator=spec.charge_separator)
            for name, column in spec.charges.items()
        }
        count = max(len(values) for values in slots.values())
        for name, values in slots.items():
            if values and len(values) != count:
                column = spec.charges[name]
                raise FieldError(
                    field=column,
                    value=record.raw(column),
                    reason=f"{len(values)} slots where another charge column has {count}: they must align",
                )
        charges = []
        for position in range(count):
            charge: dict[str, Any] = dict(spec.constants.get("charges", {}))
            for name, values in slots.items():
                if not values:
                    continue
                raw = values[position]
                if name == "statute":
                    statute, placeholder = statute_clean(raw)
                    charge["statute"] = statute
                    if placeholder and "level" not in slots:
                        charge["level"] = ChargeLevel.CIVIL_HOLD.value
                    continue
                try:
                    charge[name] = readers[name](raw)
                except CellError as error:
                    raise FieldError(
                        field=spec.charges[name], value=raw, reason=str(error)
                    ) from None
            charges.append({k: v for k, v in charge.items() if v is not None or k == "bond_amount"})
        return tuple(charges)
