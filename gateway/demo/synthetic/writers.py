"""Two writers for the same columns: PostgreSQL COPY for scale, bulk_create for SQLite.

Rows arrive as NumPy columns named by model attribute (see rows.py); the writer converts them by dtype and by
the model field's type, so neither writer decides anything about what a row means. Ids are reserved up front
so that bookings can point at people and charges at bookings without reading anything back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import numpy as np
from django.db import connection, models

__all__ = ["ids_reserve", "on_postgresql", "rows_write", "tables_lock"]

_NULL = "\\N"
_BULK_BATCH = 2000


def on_postgresql() -> bool:
    return connection.vendor == "postgresql"


def tables_lock(*, model_classes: list[type[models.Model]]) -> None:
    """Hold off other writers for this transaction, so that reserved id blocks cannot interleave.

    SHARE ROW EXCLUSIVE blocks INSERT/UPDATE/DELETE from others but not readers. Only PostgreSQL needs it;
    SQLite serialises writers on its own. Timestamps in COPY text are written in UTC.
    """
    if not on_postgresql():
        return
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in model_classes)
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute("SET LOCAL TIME ZONE 'UTC'")


def ids_reserve(*, model: type[models.Model], count: int) -> int:
    """Reserve `count` consecutive primary keys and return the first; call inside `tables_lock`."""
    if count == 0:
        return 0
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if on_postgresql():
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                "nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
                [table, table, count],
            )
            last = int(cursor.fetchone()[0])
            return last - count + 1
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        highest = int(cursor.fetchone()[0])
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        return max(highest, int(row[0]) if row else 0) + 1


def rows_write(*, model: type[models.Model], columns: dict[str, np.ndarray]) -> None:
    """Insert the rows (columns of equal length, including `id`) with the writer the database suits."""
    if len(columns["id"]) == 0:
        return
    if on_postgresql():
        _copy(model, columns)
    else:
        _bulk_create(model, columns)


def _field(model: type[models.Model], name: str) -> models.Field[object, object]:
    for field in model._meta.concrete_fields:
        if field.attname == name:
            return field
    raise KeyError(f"{model.__name__} has no column {name}")


def _text(field: models.Field[object, object], values: np.ndarray) -> list[str]:
    """One column as PostgreSQL COPY text; strings were made COPY-safe where they were generated."""
    kind = values.dtype.kind
    if kind == "M":
        return [_NULL if v == "NaT" else v for v in values.astype(str).tolist()]
    if kind == "b":
        return np.where(values, "t", "f").tolist()
    if kind in "iu":
        return values.astype(str).tolist()
    if kind == "f":
        pattern = "{:.2f}" if isinstance(field, models.DecimalField) else "{:.0f}"
        return [_NULL if v != v else pattern.format(v) for v in values.tolist()]
    return values.tolist()


def _copy(model: type[models.Model], columns: dict[str, np.ndarray]) -> None:
    names = list(columns)
    texts = [_text(_field(model, name), columns[name]) for name in names]
    payload = "\n".join(map("\t".join, zip(*texts, strict=True))) + "\n"
    quote = connection.ops.quote_name
    sql = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(n) for n in names)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        copy.write(payload.encode())


def _python(field: models.Field[object, object], values: np.ndarray) -> list[object]:
    kind = values.dtype.kind
    if kind == "M":
        if np.datetime_data(values.dtype)[0] == "D":
            return values.astype(object).tolist()
        return [
            None if v is None else v.replace(tzinfo=dt.UTC) for v in values.astype(object).tolist()
        ]
    if kind == "f":
        if isinstance(field, models.DecimalField):
            return [None if v != v else Decimal(f"{v:.2f}") for v in values.tolist()]
        return [None if v != v else int(v) for v in values.tolist()]
    return values.tolist()


def _instances(model: type[models.Model], columns: dict[str, np.ndarray]) -> Iterator[models.Model]:
    names = list(columns)
    converted = [_python(_field(model, name), columns[name]) for name in names]
    for values in zip(*converted, strict=True):
        yield model(**dict(zip(names, values, strict=True)))


def _bulk_create(model: type[models.Model], columns: dict[str, np.ndarray]) -> None:
    model._default_manager.bulk_create(list(_instances(model, columns)), batch_size=_BULK_BATCH)
