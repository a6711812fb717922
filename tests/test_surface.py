"""The surface crawl: every route, as every kind of caller, and no personal data where none may be.

This test does not read the code. It seeds people with canary values (random strings that appear
nowhere else: names, SSN, address, date of birth, identity numbers, booking numbers, housing, case
numbers, a mugshot's bytes, a face template's descriptor), walks ``gateway.urls`` recursively (included
urlconfs and the admin too; path parameters filled with the seeded objects' real ids), GETs every route
and POSTs plausible release requests to every API route, as:

* anonymous;
* the county's administrator (a superuser: what the admin would show if a record model were registered);
* every role in ``gateway.recipients.roles.Role`` (an account holding only that group);
* a recipient account of every ``policies.types.RecipientType``.

A canary may appear in an answer only inside a record the release path itself returned for that very
request (``RELEASE_PATH``, recorded while the request runs): a released record, already transformed by
the policy, is allowed verbatim, and nothing else is. A staff page may show a record only by going
through the release path too (its preview, or an access function that audits the view: add it to
``RELEASE_PATH``). The clerk's desk does both: a request page draws ``request_preview``'s records
(release_records in preview mode), and the staff lookup answers through
``access_bookings_by_person_for_staff``, which audits every look; the crawl only GETs it, so staff
here see no canary at all. Headers count
as much as bodies, and an echo of a number the caller sent counts too: a denial and a missing booking must
look the same, so nothing about a booking comes back that the release path did not release.

A route is covered the moment it is added to the urlconf; only a path converter or a regex this file
cannot fill makes the crawl fail, asking for a value.
"""

from __future__ import annotations

import base64
import importlib
import itertools
import json
import re
import secrets
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import UUIDConverter
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils import dateformat
from rest_framework.views import APIView

from gateway.faces.models import FaceTemplate
from gateway.models import Booking, Charge, Mugshot, Person, RecipientAccount
from gateway.recipients.roles import Role
from gateway.recipients.services import user_create_with_role
from policies.types import RecipientType
from tests.gateway.api.mixins import county_policies_activate

pytestmark = pytest.mark.django_db

# Functions whose return value may carry records to a caller: the release path (its preview included)
# and the audited staff lookup. What they return during a request is allowed in it.
RELEASE_PATH = (
    "gateway.releases.services.release_records",
    "gateway.records.access.access_bookings_by_person_for_staff",
)
PASSWORD = "crawl-password-0123456789"
PRINCIPALS = [
    "anonymous",
    "superuser",
    *(f"role:{role}" for role in Role),
    *(f"recipient:{kind}" for kind in RecipientType),
]
# Booking states the county holds and must never release (README rule 5), as the jail records them.
STATES: dict[str, dict[str, Any]] = {
    "public": {},
    "sealed": {"sealed_order": "2025CV77"},
    "juvenile": {"juvenile": True},
    "expunged": {"expunged_on": date(2025, 3, 4)},
    "removed": {"removal_order": "Wis. Stat. 165.84(1) order"},
}
DATE_RENDERINGS = ("Y-m-d", "m/d/Y", "n/j/Y", "N j, Y", "F j, Y", "j F Y", "d.m.Y", "Ymd")
REGEX_METACHARACTERS = re.compile(r"[\\()\[\]{}*+?|^$]")
# Every section of a record, asked for by name: the API reads a missing "fields" as "none" (records
# come back empty), which would make every release trivially clean.
SECTIONS = [
    "booking_number",
    "booked_at",
    "released_at",
    "arresting_agency",
    "booking_agency",
    "custody_status",
    "housing",
    "person",
    "charges",
    "status",
]
# Server errors that are not ours to fix, by route. They are still crawled: a canary in them would count.
KNOWN_SERVER_ERRORS = {
    "admin/otp_totp/totpdevice/<int:pk>/config/": "django_otp loads the device before it checks "
    "permission, so an id with no TOTP device raises DoesNotExist (500) instead of answering 404",
    "admin/otp_totp/totpdevice/<int:pk>/qrcode/": "the same, in django_otp's QR code view",
}


def _token(prefix: str, length: int = 12) -> str:
    return prefix + secrets.token_hex(length)[: length - len(prefix)]


@dataclass
class County:
    """What was seeded: the canaries, the ids to fill paths with, the booking numbers to ask for."""

    folded: dict[str, bytes] = field(default_factory=dict)  # matched case-insensitively
    exact: dict[str, bytes] = field(default_factory=dict)  # bytes and base64: matched as they are
    ids: set[int] = field(default_factory=set)
    numbers: dict[str, str] = field(default_factory=dict)  # state -> booking number

    def text(self, label: str, value: str) -> str:
        self.folded[label] = value.lower().encode()
        return value

    def blob(self, label: str, data: bytes) -> bytes:
        self.exact[f"{label} (bytes)"] = data
        self.folded[f"{label} (hex)"] = data.hex().encode()
        self.exact[f"{label} (base64)"] = base64.b64encode(data)
        self.exact[f"{label} (urlsafe base64)"] = base64.urlsafe_b64encode(data).rstrip(b"=")
        return data

    def day(self, label: str, value: date) -> date:
        for rendering in DATE_RENDERINGS:
            self.folded[f"{label} ({rendering})"] = (
                dateformat.format(value, rendering).lower().encode()
            )
        return value


def _person(county: County, n: int) -> Person:
    label = f"person{n}"
    born = date(1931 + secrets.randbelow(25), 1 + secrets.randbelow(12), 1 + secrets.randbelow(28))
    person = Person.objects.create(
        source="crawl",
        source_key=county.text(f"{label}.source_key", _token("pk")),
        first_name=county.text(f"{label}.first_name", _token("Fn")),
        middle_name=county.text(f"{label}.middle_name", _token("Mn")),
        last_name=county.text(f"{label}.last_name", _token("Ln")),
        suffix=county.text(f"{label}.suffix", _token("Sx")),
        date_of_birth=county.day(f"{label}.date_of_birth", born),
        sex="F",
        race="W",
        address=county.text(f"{label}.address", _token("Ad", 24)),
        zip_code=county.text(f"{label}.zip_code", _token("Z", 10)),
        state_id=county.text(f"{label}.state_id", _token("Si")),
        fbi_number=county.text(f"{label}.fbi_number", _token("Fb")),
        drivers_license=county.text(f"{label}.drivers_license", _token("Dl")),
        ssn=county.text(f"{label}.ssn", _token("S", 11)),
    )
    county.ids.add(person.pk)
    return person


def _booking(county: County, person: Person, state: str) -> None:
    label = f"booking-{state}"
    booking = Booking.objects.create(
        person=person,
        source="crawl",
        source_key=county.text(f"{label}.source_key", _token("Bs")),
        booking_number=county.text(f"{label}.booking_number", _token("Bk")),
        booked_at=datetime(2026, 2, 3, 4, 5, tzinfo=UTC),
        booking_agency="Crawl County Sheriff",
        housing=county.text(f"{label}.housing", _token("Hs")),
        **STATES[state],
    )
    charge = Charge.objects.create(
        booking=booking,
        statute="943.20",
        level="felony",
        disposition="convicted",
        description=county.text(f"{label}.charge.description", _token("Cd")),
        case_number=county.text(f"{label}.charge.case_number", _token("Cn")),
    )
    image = county.blob(f"{label}.mugshot", secrets.token_bytes(48))
    sha256 = secrets.token_hex(32)
    mugshot = Mugshot(
        booking=booking,
        sha256=sha256,
        size_bytes=len(image),
        width=64,
        height=64,
        image_format="JPEG",
    )
    mugshot.image.save(sha256, ContentFile(image), save=True)
    template = FaceTemplate.objects.create(
        mugshot=mugshot,
        person=person,
        booking=booking,
        model_id="crawl",
        descriptor=county.blob(f"{label}.descriptor", secrets.token_bytes(64)),
    )
    county.ids |= {booking.pk, charge.pk, mugshot.pk, template.pk}
    county.numbers[state] = booking.booking_number


def county_seed() -> County:
    """Two people: one with a public and a sealed booking, one whose bookings are all restricted."""
    county = County()
    first, second = _person(county, 1), _person(county, 2)
    for state in ("public", "sealed"):
        _booking(county, first, state)
    for state in ("juvenile", "expunged", "removed"):
        _booking(county, second, state)
    return county


# --- the routes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    segments: tuple[Any, ...]  # the pattern of each resolver level, outermost first
    callback: Callable[..., Any]

    @property
    def name(self) -> str:
        return "".join(str(segment) for segment in self.segments)

    @property
    def is_api(self) -> bool:
        view_class = getattr(self.callback, "cls", None)
        return (
            isinstance(view_class, type) and issubclass(view_class, APIView)
        ) or self.name.startswith("api/")


def routes(patterns: Sequence[Any] | None = None, prefix: tuple[Any, ...] = ()) -> Iterator[Route]:
    """Every URL pattern of ``gateway.urls``, with the included urlconfs' patterns in place."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from routes(entry.url_patterns, (*prefix, entry.pattern))
        elif isinstance(entry, URLPattern):
            yield Route(segments=(*prefix, entry.pattern), callback=entry.callback)


def _fits(regex: str, value: str) -> bool:
    return re.fullmatch(regex, value) is not None


def _values(regex: str, county: County, converter: Any = None) -> list[str]:
    if isinstance(converter, UUIDConverter):
        return [str(uuid.uuid4())]
    literals = [part for part in regex.split("|") if re.fullmatch(r"[\w-]+", part)]
    pool = [*literals, *(str(pk) for pk in sorted(county.ids))]
    return [value for value in dict.fromkeys(pool) if _fits(regex, value)]


def _route_fillings(pattern: RoutePattern, county: County) -> list[str] | None:
    text = str(pattern)
    parts = re.split(r"<(?:[^>:]+:)?(\w+)>", text)
    choices: list[list[str]] = []
    for index, part in enumerate(parts):
        if index % 2 == 0:
            choices.append([part])
            continue
        converter = pattern.converters[part]
        values = _values(converter.regex, county, converter)
        if not values:
            return None
        choices.append(values)
    return ["".join(combination) for combination in itertools.product(*choices)]


def _group_end(regex: str, start: int) -> int:
    """The index of the parenthesis closing the group that opens at ``start``."""
    depth, index = 0, start
    while index < len(regex):
        if regex[index] == "\\":
            index += 2  # an escaped character opens and closes nothing
            continue
        depth += {"(": 1, ")": -1}.get(regex[index], 0)
        if depth == 0:
            return index
        index += 1
    raise ValueError(regex)


def _literal(piece: str) -> str:
    return re.sub(r"\\(\W)", r"\1", piece)  # \. is a dot, \/ a slash


def _regex_fillings(pattern: RegexPattern, county: County) -> list[str] | None:
    regex = str(pattern).removeprefix("^").removesuffix("$").removesuffix(r"\Z")
    pieces: list[list[str]] = []
    position = 0
    for match in re.finditer(r"\(\?P<\w+>", regex):
        if match.start() < position:
            continue
        end = _group_end(regex, match.start())
        values = _values(regex[match.end() : end], county)[:3]
        if not values:
            return None
        pieces += [[_literal(regex[position : match.start()])], values]
        position = end + 1
    pieces.append([_literal(regex[position:])])
    fillings = ["".join(combination) for combination in itertools.product(*pieces)]
    if any(REGEX_METACHARACTERS.search(filling) for filling in fillings):
        return None
    return fillings


def paths(route: Route, county: County) -> list[str] | None:
    """The URLs to request for ``route`` (every combination of seeded ids), or None if it cannot be filled."""
    levels = []
    for segment in route.segments:
        filled = (
            _route_fillings(segment, county)
            if isinstance(segment, RoutePattern)
            else _regex_fillings(segment, county)
        )
        if filled is None:
            return None
        levels.append(filled)
    return ["/" + "".join(combination) for combination in itertools.product(*levels)]


# --- the callers ----------------------------------------------------------------------------------


def principal_create(principal: str) -> User | None:
    if principal == "anonymous":
        return None
    if principal == "superuser":
        return User.objects.create_superuser(username="crawl-admin", password=PASSWORD)
    kind, _, name = principal.partition(":")
    if kind == "role":
        return user_create_with_role(username=f"crawl-{name}", password=PASSWORD, role=Role(name))
    role = Role.VENDOR if name == RecipientType.VENDOR else Role.AGENCY
    user = user_create_with_role(username=f"crawl-{name}", password=PASSWORD, role=role)
    account_name = "Biometrica" if name == RecipientType.VENDOR else f"Crawl {name}"
    RecipientAccount.objects.create(user=user, recipient_type=name, name=account_name)
    return user


def release_bodies(county: County) -> list[dict[str, Any]]:
    """Plausible requests, one per kind of agreement: the vendor's batch of everything, a court's and a
    police agency's single look-ups. They name every seeded booking number and id."""
    public = county.numbers["public"]
    everything = [*county.numbers.values(), "BK-NO-SUCH-BOOKING"]
    common: dict[str, Any] = {
        "on_behalf_of": None,
        "documents": [],
        "fields": SECTIONS,
        "booking_numbers": everything,
        "booking_number": public,
        "ids": sorted(county.ids),
        "id": min(county.ids),
    }
    return [
        {**common, "purpose": "vendor.algorithm-testing", "mode": "batch"},
        {
            **common,
            "purpose": "court.proceedings",
            "mode": "single",
            "case_number": "2026CF000123",
            "booking_numbers": [public],
        },
        {
            **common,
            "purpose": "investigation.violent-felony",
            "mode": "single",
            "case_number": "2026-004512",
            "offense_statute": "940.01",
            "narrative": "Homicide investigation: the suspect was seen leaving the scene on foot.",
            "booking_numbers": [public],
        },
    ]


@pytest.fixture
def released(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every record the release path returns from now on, wherever its function was imported to."""
    list(routes())  # imports every view module, so their references to the release path exist
    calls: list[Any] = []
    for dotted in RELEASE_PATH:
        module_name, _, attribute = dotted.rpartition(".")
        original = getattr(importlib.import_module(module_name), attribute)

        def recording(*args: Any, __original: Any = original, **kwargs: Any) -> Any:
            result = __original(*args, **kwargs)
            calls.append(result)
            return result

        for module in [m for n, m in list(sys.modules.items()) if n.split(".")[0] == "gateway"]:
            for name, value in list(vars(module).items()):
                if value is original:
                    monkeypatch.setattr(module, name, recording)
    return calls


# --- looking for canaries -------------------------------------------------------------------------


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _released_records(calls: Sequence[Any]) -> list[Any]:
    records: list[Any] = []
    for result in calls:
        records += _json(list(getattr(result, "records", result) or []))
    return records


def _without(value: Any, records: Sequence[Any]) -> Any:
    """``value`` with every exact copy of a released record taken out, at any depth."""
    if isinstance(value, dict):
        if value in records:
            return None
        return {k: _without(v, records) for k, v in value.items()}
    if isinstance(value, list):
        return [_without(v, records) for v in value]
    return value


def _body(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        data = b"".join(response.streaming_content)
        response.close()
        return data
    return bytes(response.content)


def canaries_in(data: bytes, county: County) -> set[str]:
    folded = data.lower()
    found = {label for label, value in county.folded.items() if value in folded}
    return found | {label for label, value in county.exact.items() if value in data}


def leaked(response: Any, county: County, records: Sequence[Any]) -> tuple[set[str], set[str]]:
    """(canaries in the answer, those of them outside any record the release path returned for it)."""
    body = _body(response)
    headers = "\n".join(f"{k}: {v}" for k, v in response.items()).encode()
    headers += response.cookies.output().encode()
    everywhere = canaries_in(body + b"\n" + headers, county)
    if not everywhere or not records:
        return everywhere, everywhere
    try:
        rest = json.dumps(_without(json.loads(body), records)).encode()
    except ValueError:  # not JSON: a canary is allowed if some released record carries it
        return everywhere, everywhere - canaries_in(json.dumps(records).encode(), county)
    return everywhere, canaries_in(rest + b"\n" + headers, county)


@dataclass
class Crawl:
    requests: int = 0
    leaks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    uncovered: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)  # canaries seen inside released records


def crawl(principal: str, county: County, released: list[Any]) -> Crawl:
    user = principal_create(principal)
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    result = Crawl()
    for route in routes():
        urls = paths(route, county)
        if urls is None:
            result.uncovered.append(route.name)
            continue
        requests: list[tuple[str, str, dict[str, Any] | None]] = [
            ("get", url, None) for url in urls
        ]
        if route.is_api:
            requests += [("post", url, body) for url in urls for body in release_bodies(county)]
        for method, url, body in requests:
            released.clear()
            if method == "get":
                response = client.get(url)
            else:
                response = client.post(url, body, content_type="application/json")
            result.requests += 1
            seen, outside = leaked(response, county, _released_records(released))
            where = f"{principal} {method.upper()} {url} -> {response.status_code}"
            if outside:
                result.leaks.append(f"{where}: {sorted(outside)}")
            result.allowed += [f"{where}: {label}" for label in sorted(seen - outside)]
            if response.status_code >= 500 and route.name not in KNOWN_SERVER_ERRORS:
                result.errors.append(where)
            if user is not None and not response.wsgi_request.user.is_authenticated:
                client.force_login(user)  # a route signed us out: carry on as the same caller
    return result


@pytest.fixture
def county(settings: Any, tmp_path: Path) -> County:
    county_policies_activate(settings=settings, directory=tmp_path)
    settings.MEDIA_ROOT = tmp_path / "media"
    return county_seed()


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_no_route_shows_a_record_outside_the_release_path(
    principal: str, county: County, released: list[Any]
) -> None:
    result = crawl(principal, county, released)
    assert result.uncovered == [], "a route this crawl cannot fill: teach _values() its parameters"
    assert result.leaks == []
    assert result.errors == []
    assert result.requests > len(list(routes()))


def test_the_crawl_sees_what_the_release_path_releases(county: County, released: list[Any]) -> None:
    """The court's agreement keeps names: its permitted look-up carries canaries, inside the released
    records only. This is what shows the detector works end to end and the allowance is that narrow."""
    result = crawl(f"recipient:{RecipientType.COURT}", county, released)
    assert result.leaks == []
    allowed = {line.rpartition(": ")[2] for line in result.allowed}
    assert {"person1.first_name", "person1.last_name", "booking-public.booking_number"} <= allowed
    assert not any("sealed" in label or "person2" in label for label in allowed)
    assert not any(label.startswith("person1.ssn") for label in allowed)  # the court gets it masked


def _field_paths(value: Any, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        found: set[str] = set()
        for key, item in value.items():
            found |= _field_paths(item, f"{prefix}{key}.")
        return found
    if isinstance(value, list):
        return set().union(*(_field_paths(item, prefix) for item in value)) if value else set()
    return {prefix.rstrip(".")}


def test_a_permitted_vendor_release_carries_only_what_the_agreement_allows(
    county: County, released: list[Any], settings: Any
) -> None:
    user = principal_create(f"recipient:{RecipientType.VENDOR}")
    assert user is not None
    client = Client()
    client.force_login(user)
    body = {
        "on_behalf_of": None,
        "purpose": "vendor.algorithm-testing",
        "mode": "batch",
        "booking_numbers": list(county.numbers.values()),
        "fields": SECTIONS,
    }
    response = client.post("/api/releases/", body, content_type="application/json")
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["status"] == "released"
    assert answer["records"] == _released_records(released)
    assert len(answer["records"]) == 1  # the public booking; every restricted one is left out
    assert answer["records"][0]["person"][
        "date_of_birth"
    ]  # not an empty record: fields were released
    agreement = yaml.safe_load((Path(settings.POLICY_DIRS[-1]) / "vendor.yaml").read_text())
    allowed = set(agreement["purposes"][0]["fields"])
    assert _field_paths(answer["records"]) <= allowed
    assert (
        canaries_in(response.content, county) == set()
    )  # every kept field is pseudonymized or coarsened


def test_every_route_can_be_filled(county: County) -> None:
    names = {route.name for route in routes()}
    assert {"api/releases/", "admin/", "health/"} <= names
    assert [route.name for route in routes() if paths(route, county) is None] == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (r"^(?P<app_label>auth|gateway)/$", ["auth/", "gateway/"]),
        (r"^bookings/(?P<pk>[0-9]+)/$", ["bookings/7/"]),
        (r"^files/(?P<sha>[a-f]{40})\.json$", None),  # nothing seeded fits: reported, not skipped
        (r"^feeds/(?P<pk>\d+)\.xml$", ["feeds/7.xml"]),
    ],
)
def test_regex_routes_are_filled_with_literals_and_ids(
    source: str, expected: list[str] | None
) -> None:
    county = County(ids={7})
    assert _regex_fillings(RegexPattern(source), county) == expected


def test_canaries_are_found_folded_and_exact() -> None:
    county = County()
    county.text("name", "Fn0a1b2c3d4e")
    county.blob("photo", b"\x00\x01\xfe")
    county.day("dob", date(1944, 2, 9))
    assert canaries_in(b"<td>FN0A1B2C3D4E</td>", county) == {"name"}
    assert canaries_in(b"x\x00\x01\xfey", county) == {"photo (bytes)"}
    assert canaries_in(base64.b64encode(b"\x00\x01\xfe"), county) == {"photo (base64)"}
    assert canaries_in(b"born Feb. 9, 1944", county) == {"dob (N j, Y)"}


def test_only_exact_released_records_are_allowed() -> None:
    record: dict[str, Any] = {"person": {"first_name": "Fnabc"}}
    answer = {"records": [record], "debug": {"person": {"first_name": "Fnabc", "ssn": "x"}}}
    assert _without(answer, [record]) == {"records": [None], "debug": answer["debug"]}
