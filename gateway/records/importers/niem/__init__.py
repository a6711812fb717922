"""NIEM Justice booking messages (jxdm `j:Booking`), as a JMS publishes them on booking and on release.

Why it is written the way it is:

* Hostile XML is refused before it is read: the file is parsed with defusedxml with DTDs forbidden, so a
  billion-laughs bomb or an XXE file never expands or fetches anything; the run stops with XML_REFUSED naming
  the problem.
* The same element has a different namespace URI in each NIEM release (niem-core 2.0 / 3.0 / 4.0 / 5.0, jxdm
  4.1 / 5.1 / 7.2, NIEMOpen 6.0), and NIEM-core may be the default namespace. So elements are matched on their
  local name, and only when their namespace belongs to the NIEM family: an extension element that happens to be
  called `PersonSurName` is not mistaken for the real one.
* NIEM links objects by reference (`structures:ref` → `structures:id`, and `structures:uri` for "the same
  object"). The person of a booking, its arrests and charges may sit elsewhere in the message, so each message
  is held (one message is a few kilobytes) until it is complete and links are resolved inside it; memory stays
  constant across a folder or a file of many messages.
* Citizenship, nationality, immigration status and place of birth are removed from the tree before anything is
  read, and named in `dropped_fields` (rules.md IM-05, IM-06, IM-09): what is never read can never leak.
* `line` in every row is the ordinal of the booking (or of the rejected message) across the whole run, which
  base.py allows for XML; a malformed file is reported with its real line and column in the reason.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import ElementTree as DefusedElementTree
from defusedxml.common import (
    DefusedXmlException,
    DTDForbidden,
    EntitiesForbidden,
    ExternalReferenceForbidden,
)

from gateway.exceptions import GatewayError, GatewayErrorCode
from gateway.records.importers.base import FormatOptions, ParsedRow, RowRejection
from gateway.records.importers.niem.fields import RejectionError, booking_parse
from gateway.records.importers.niem.links import Message, is_niem, local_name

__all__ = ["MESSAGE_ROOTS", "NiemFormat", "niem_parse"]

DEFAULT_SOURCE = "niem"

# Document roots of the booking exchanges seen in the wild (NOLA JTMP, OJBC). Another root element is still
# read as one message; these names also mark messages nested in a wrapper, so each is released after use.
MESSAGE_ROOTS = frozenset(
    {"BookingExchange", "BookingReport", "CustodyStatusChangeReport", "CustodyReleaseReport"}
)


# Where the XML refused had its problem, for the error message (read only from the refused file's prolog).
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY\s+%?\s*([\w.-]+)\s+(SYSTEM|PUBLIC)?", re.IGNORECASE)
_PROLOG_BYTES = 65536


class NiemFormat:
    """`--format niem`: a NIEM booking XML file, or a folder of them (read in name order).

    A booking message and the later release message of the same booking are the normal case in one folder,
    so a repeated booking is an update applied in order, not a duplicate.
    """

    REPEATS_ARE_UPDATES = True

    def __init__(self, options: FormatOptions | None = None) -> None:
        self._source = (options.source if options is not None else None) or DEFAULT_SOURCE

    @property
    def source(self) -> str:
        return self._source

    def parse(self, path: Path) -> Iterator[ParsedRow]:
        return niem_parse(path=path)


def niem_parse(*, path: Path) -> Iterator[ParsedRow]:
    """Yield a ParsedBooking or RowRejection for every booking in `path` (a file or a folder of .xml files).

    Raises GatewayError XML_REFUSED for a DTD, entity declaration or external reference (nothing of such a
    file is read), IMPORT_FILE_UNREADABLE for a missing path or an empty folder. A malformed file, a message
    without a booking, and a booking missing its number or subject are rejections, so one bad file in a
    folder does not stop the others.
    """
    ordinal = itertools.count(1)
    for file in _xml_files(path):
        yield from _file_parse(path=file, ordinal=ordinal)


def _xml_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".xml")
        if files:
            return files
        problem = f"The folder {path} holds no .xml files."
    else:
        problem = f"{path} does not exist."
    raise GatewayError(
        problem, code=GatewayErrorCode.IMPORT_FILE_UNREADABLE, extra={"path": str(path)}
    )


def _file_parse(*, path: Path, ordinal: Iterator[int]) -> Iterator[ParsedRow]:
    bookings_seen = 0
    in_file = itertools.count(1)
    root_name = ""
    stack: list[Element] = []
    try:
        for event, element in DefusedElementTree.iterparse(
            str(path), events=("start", "end"), forbid_dtd=True
        ):
            if event == "start":
                stack.append(element)
                root_name = root_name or local_name(element.tag)
                continue
            stack.pop()
            if stack and local_name(element.tag) not in MESSAGE_ROOTS:
                continue
            for row in _message_parse(root=element, path=path, ordinal=ordinal, in_file=in_file):
                bookings_seen += 1
                yield row
            element.clear()
            if stack:
                stack[-1].remove(element)  # a nested message is done: release its memory
    except DefusedXmlException as error:
        raise _refusal(path=path, error=error) from error
    except ParseError as error:
        line, column = error.position
        yield RowRejection(
            line=next(ordinal),
            field="xml",
            value=f"{path.name}:{line}:{column}",
            where=f"{path.name}, line {line}, column {column}",
            reason=f"Malformed XML in {path.name} at line {line}, column {column}: "
            f"{_parse_problem(error)}; the rest of this file was not read.",
        )
        return
    if bookings_seen == 0:
        yield RowRejection(
            line=next(ordinal),
            field=root_name,
            value=path.name,
            where=path.name,
            reason=f"{path.name} holds no j:Booking ({root_name} is not a booking message); "
            "nothing was imported from it.",
        )


def _parse_problem(error: ParseError) -> str:
    return re.sub(r": line \d+, column \d+$", "", str(error))


def _refusal(*, path: Path, error: DefusedXmlException) -> GatewayError:
    """Name what made the XML unsafe, from the file's own prolog when it declares entities."""
    with path.open("rb") as handle:
        prolog = handle.read(_PROLOG_BYTES)
    entities = _ENTITY_DECLARATION.findall(prolog)
    external = [name.decode(errors="replace") for name, kind in entities if kind]
    internal = [name.decode(errors="replace") for name, kind in entities if not kind]
    if external or isinstance(error, ExternalReferenceForbidden):
        problem = "external_entity"
        detail = (
            f"it declares external entities ({', '.join(external) or 'unnamed'}), an XXE attack"
        )
    elif internal or isinstance(error, EntitiesForbidden):
        problem = "entity_expansion"
        detail = (
            f"it declares entities ({', '.join(internal[:5]) or 'unnamed'}), "
            "which can expand into an entity bomb (billion laughs)"
        )
    else:
        problem = "dtd" if isinstance(error, DTDForbidden) else "unsafe_xml"
        detail = "it has a document type declaration (<!DOCTYPE>); booking messages never need one"
    return GatewayError(
        f"Refused {path.name}: {detail}. Nothing in the file was read.",
        code=GatewayErrorCode.XML_REFUSED,
        extra={"path": str(path), "problem": problem},
    )


def _message_parse(
    *, root: Element, path: Path, ordinal: Iterator[int], in_file: Iterator[int]
) -> Iterator[ParsedRow]:
    message = Message.index(root)
    for booking in [e for e in root.iter() if is_niem(e.tag) and local_name(e.tag) == "Booking"]:
        line = next(ordinal)
        # `line` counts bookings across the run; the report names the file and the booking in it.
        where = f"{path.name}, booking {next(in_file)}"
        try:
            parsed = booking_parse(message=message, booking=booking, line=line)
        except RejectionError as rejected:
            yield RowRejection(
                line=line,
                field=rejected.field,
                value=rejected.value,
                reason=f"{rejected.reason} ({path.name})",
                where=where,
            )
            continue
        yield dataclasses.replace(
            parsed,
            mugshots=tuple(
                dataclasses.replace(image, name=f"{where}, image {number}")
                for number, image in enumerate(parsed.mugshots, start=1)
            ),
        )
