"""Format name -> factory, resolved lazily so a format module is imported only when it is used.

Adding a format is one line here: its name and "module:attribute" of a `FormatFactory` (usually the class).
A format whose module is not there yet (e.g. while it is being written) is simply not offered.
"""

from __future__ import annotations

import importlib

from gateway.exceptions import GatewayError, GatewayErrorCode
from gateway.records.importers.base import BookingFormat, FormatFactory, FormatOptions

__all__ = ["FORMATS", "format_build", "format_names"]

FORMATS: dict[str, str] = {
    "dane": "gateway.records.importers.dane:DaneFormat",
    "columbia": "gateway.records.importers.columbia:ColumbiaFormat",
    "georgia": "gateway.records.importers.georgia:GeorgiaFormat",
    "multnomah": "gateway.records.importers.multnomah:MultnomahFormat",
    "csv": "gateway.records.importers.mapped:MappedCsvFormat",
    "niem": "gateway.records.importers.niem:NiemFormat",
}


def _factory_load(name: str) -> FormatFactory | None:
    module_name, _, attribute = FORMATS[name].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise  # the format exists but is broken: say so, do not pretend it is unknown
        return None
    factory: FormatFactory | None = getattr(module, attribute, None)
    return factory


def format_names() -> list[str]:
    """The formats that can actually be used in this checkout, sorted."""
    return sorted(name for name in FORMATS if _factory_load(name) is not None)


def format_build(*, name: str, options: FormatOptions) -> BookingFormat:
    """Build the named format, or fail with IMPORT_FORMAT_UNKNOWN listing the known ones."""
    factory = _factory_load(name) if name in FORMATS else None
    if factory is None:
        known = format_names()
        raise GatewayError(
            f"Unknown import format {name!r}; known formats: {', '.join(known)}.",
            code=GatewayErrorCode.IMPORT_FORMAT_UNKNOWN,
            extra={"format": name, "known": known},
        )
    return factory(options)
