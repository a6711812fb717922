"""How a NIEM message is navigated: namespace families, structures:id/ref/uri links, and the pruning of
elements that must never be read (citizenship, immigration status, place of birth).

Only plain ElementTree elements pass through here; nothing touches Django.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

__all__ = ["Message", "is_niem", "local_name", "structures_attribute", "text_of"]


# release.niem.gov (NIEM 3-5), niem.gov (NIEM 2.x) and NIEMOpen 6.0 on OASIS: every domain (jxdm, humanServices,
# screening…) and niem-core live under these roots. Extensions (nola-ext, OJBC br-ext…) do not.
_NIEM_NAMESPACE = re.compile(
    r"^https?://(?:release\.niem\.gov/niem/|niem\.gov/niem/|docs\.oasis-open\.org/niemopen/ns/model/)"
)
_STRUCTURES_NAMESPACE = re.compile(r"/structures/")

# Elements never read, never stored (rules.md IM-05, IM-06, IM-09), matched on local name in any namespace
# because immigration data often travels in hs:, im: or county extension elements.
_DROPPED_PATTERN = re.compile(
    r"^(?:PersonBirth(?!Date).*"  # place of birth: PersonBirthLocation, PersonBirthPlaceText…
    r"|.*Citizen.*|.*Nationality.*"  # PersonUSCitizenIndicator, PersonCitizenship…, PersonNationality
    r"|.*Alien.*|.*Immigra.*|.*Visa(?:Identification|Category|Type).*"  # alien number, immigration status
    r"|.*SexualOrientation.*|.*GenderIdentity.*)$"  # protected traits the model has no field for
)


# Tags repeat endlessly across messages; caching their two derived facts keeps parsing near expat's speed.
@functools.lru_cache(maxsize=4096)
def local_name(tag: object) -> str:
    if not isinstance(tag, str):
        return ""  # comments and processing instructions
    return tag.rpartition("}")[2]


@functools.lru_cache(maxsize=4096)
def is_niem(tag: object) -> bool:
    return isinstance(tag, str) and tag.startswith("{") and bool(_NIEM_NAMESPACE.match(tag[1:]))


@functools.lru_cache(maxsize=4096)
def _is_dropped(name: str) -> bool:
    return bool(name) and bool(_DROPPED_PATTERN.match(name))


def structures_attribute(element: Element, name: str) -> str | None:
    if not element.attrib:
        return None  # most elements: skip the loop
    for key, value in element.attrib.items():
        namespace, _, local = key[1:].partition("}") if key.startswith("{") else ("", "", key)
        if local == name and _STRUCTURES_NAMESPACE.search(namespace):
            return value.strip().lstrip("#")
    return None


def text_of(element: Element | None) -> str:
    return " ".join((element.text or "").split()) if element is not None else ""


@dataclass
class Message:
    """One message with its links indexed: ids, uris and what was dropped under each linked object."""

    root: Element
    by_id: dict[str, Element] = field(default_factory=dict)
    by_uri: dict[str, list[Element]] = field(default_factory=dict)
    dropped: dict[int, list[str]] = field(default_factory=dict)  # id(owner element) -> local names

    @classmethod
    def index(cls, root: Element) -> Message:
        message = cls(root=root)
        message._prune()
        for element in root.iter():
            identifier = structures_attribute(element, "id")
            if identifier:
                message.by_id.setdefault(identifier, element)
                message.by_uri.setdefault(identifier, []).append(element)
            uri = structures_attribute(element, "uri")
            if uri:
                message.by_uri.setdefault(uri, []).append(element)
        return message

    def _prune(self) -> None:
        """Remove the never-kept elements, remembering which linked object each was under."""
        stack: list[tuple[Element, Element]] = [(self.root, self.root)]
        while stack:
            parent, owner = stack.pop()
            for child in list(parent):
                name = local_name(child.tag)
                if _is_dropped(name):
                    self.dropped.setdefault(id(owner), []).append(name)
                    parent.remove(child)
                    continue
                linked = structures_attribute(child, "id") or structures_attribute(child, "uri")
                stack.append((child, child if linked or name == "Booking" else owner))

    def resolve(self, element: Element) -> Element:
        """Follow `structures:ref` (or an empty `structures:uri` stand-in) to the object it names."""
        if len(element):
            return element
        ref = structures_attribute(element, "ref")
        if ref is not None:
            return self.by_id.get(ref, element)
        uri = structures_attribute(element, "uri")
        if uri is not None:
            return next((other for other in self.by_uri.get(uri, []) if len(other)), element)
        return element

    def unresolved(self, element: Element) -> str | None:
        """The reference an empty element makes that names nothing in this message, if any."""
        if len(element):
            return None
        ref = structures_attribute(element, "ref")
        if ref is not None and ref not in self.by_id:
            return ref
        return None

    def children(self, element: Element, name: str) -> list[Element]:
        """NIEM children called `name` (or `nameReference`, NIEM 2), with references followed."""
        return [
            self.resolve(child)
            for child in element
            if is_niem(child.tag) and local_name(child.tag) in (name, f"{name}Reference")
        ]

    def first(self, element: Element | None, *path: str) -> Element | None:
        for name in path:
            if element is None:
                return None
            found = self.children(element, name)
            element = found[0] if found else None
        return element

    def value(self, element: Element | None, *path: str) -> str:
        return text_of(self.first(element, *path))

    def descendants(self, element: Element, name: str) -> Iterator[Element]:
        """NIEM elements called `name` anywhere under `element`, through any augmentation wrapper."""
        for found in element.iter():
            if found is not element and is_niem(found.tag) and local_name(found.tag) == name:
                yield self.resolve(found)

    def dropped_under(self, *elements: Element) -> tuple[str, ...]:
        names: list[str] = []
        for top in elements:
            for element in top.iter():
                for name in self.dropped.get(id(element), []):
                    if name not in names:
                        names.append(name)
        return tuple(names)
