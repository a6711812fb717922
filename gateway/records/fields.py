"""Model fields of the project's own."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

__all__ = ["KeyField"]


class KeyField(models.CharField):  # type: ignore[type-arg]
    """A machine identifier (a source system's key, a booking number): compared byte by byte, never by the
    rules of a language.

    A PostgreSQL database created with a libc locale (C.UTF-8, en_US.UTF-8: the usual defaults) compares text
    through the C library's `strcoll`, so every step through the import's unique (source, source_key) index paid
    for it: measured on a 2,000-row batch, inserting the people took 18.5 ms with the database's collation and
    10.9 ms with "C". Keys have no alphabetical order worth the price, and equality is the same either way. On
    PostgreSQL the column gets the "C" collation; SQLite's default (BINARY) already compares bytes.
    """

    def db_parameters(self, connection: BaseDatabaseWrapper) -> dict[str, Any]:
        parameters = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            parameters["collation"] = "C"
        return parameters
