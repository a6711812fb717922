"""Architecture rules, checked statically over the source tree (no imports of the code under test).

(a) Boundaries (house style B2): nothing in ``policies/`` or ``matching/`` imports ``gateway`` — not
    with ``import``/``from … import``, and not through ``importlib.import_module("gateway…")`` or
    ``__import__``. Only plain values cross into those packages.

(b) One release path (issue 3, rules.md CJ-03, FR-12): person and booking data reach a recipient only
    through ``gateway.releases.services`` (which asks ``policies.decide`` and audits). The checkable
    rule, over every module in ``gateway/`` except migrations:

    1. Only the release path (``gateway/releases/services.py``) and its selector
       (``gateway/releases/selectors.py``) may reference ``booking_export``, the one serializer of
       person and booking rows.
    2. No module may dump models generically: no ``model_to_dict``, no ``serializers.serialize``,
       and no DRF serializer whose ``Meta.model`` is ``Person``, ``Booking``, ``Charge`` or
       ``Mugshot``.
    3. Outside the release path and its selector, no ``.values()`` / ``.values_list()`` call may name
       a personal field (``ssn``, ``date_of_birth``, ``booking_number``, ``person__last_name`` …):
       that is how rows get flattened into JSON without a serializer.
    4. Recipient-facing modules — ``gateway/api/``, ``gateway/web/views.py``, ``gateway/urls.py``,
       ``gateway/faces/tasks.py`` and management commands — may not read personal attributes
       (``.ssn``, ``.date_of_birth``, ``.booking_number`` …) at all; they call
       ``release_records`` and hand back what it returns. (``first_name``/``last_name`` are not in this
       list because ``django.contrib.auth.models.User`` has them too.)

    Each check is also run against small bad snippets below, so a broken checker fails the suite.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RELEASE_PATH = {"gateway/releases/services.py", "gateway/releases/selectors.py"}
PERSONAL_FIELDS = {
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "date_of_birth",
    "address",
    "zip_code",
    "state_id",
    "fbi_number",
    "drivers_license",
    "ssn",
    "booking_number",
    "housing",
    "released_at",
}
PERSONAL_ATTRIBUTES = PERSONAL_FIELDS - {"first_name", "last_name", "suffix"}
RECORD_MODELS = {"Person", "Booking", "Charge", "Mugshot"}
RECIPIENT_FACING = (
    "gateway/api/",
    "gateway/web/views.py",
    "gateway/urls.py",
    "gateway/faces/tasks.py",
)


def _sources(package: str) -> Iterator[tuple[str, ast.Module]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if "/migrations/" in relative:
            continue
        yield relative, ast.parse(path.read_text(encoding="utf-8"), filename=relative)


def gateway_imports(tree: ast.AST) -> list[str]:
    """Every way ``tree`` reaches the ``gateway`` package."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "gateway"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "gateway":
                found.append(node.module)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if (
                name in {"import_module", "__import__"}
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and first.value.split(".")[0] == "gateway"
            ):
                found.append(first.value)
    return found


def export_references(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        name = ""
        if isinstance(node, ast.Name):
            name = node.id
        elif isinstance(node, ast.Attribute):
            name = node.attr
        elif isinstance(node, ast.ImportFrom):
            name = next((a.name for a in node.names if a.name == "booking_export"), "")
        if name == "booking_export":
            lines.append(getattr(node, "lineno", 0))
    return lines


def _meta_model(cls: ast.ClassDef) -> str | None:
    for item in cls.body:
        if isinstance(item, ast.ClassDef) and item.name == "Meta":
            for stmt in item.body:
                if isinstance(stmt, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "model" for t in stmt.targets
                ):
                    value = stmt.value
                    if isinstance(value, ast.Name):
                        return value.id
                    if isinstance(value, ast.Attribute):
                        return value.attr
    return None


def generic_dumps(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "model_to_dict":
                lines.append(node.lineno)
            elif isinstance(func, ast.Attribute) and func.attr in {"model_to_dict", "serialize"}:
                owner = func.value
                if func.attr == "model_to_dict" or (
                    isinstance(owner, ast.Name) and owner.id == "serializers"
                ):
                    lines.append(node.lineno)
        elif isinstance(node, ast.ClassDef) and _meta_model(node) in RECORD_MODELS:
            lines.append(node.lineno)
    return lines


def personal_value_dumps(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"values", "values_list"}
        ):
            for arg in node.args:
                if (
                    isinstance(arg, ast.Constant)
                    and isinstance(arg.value, str)
                    and arg.value.split("__")[-1] in PERSONAL_FIELDS
                ):
                    lines.append(node.lineno)
    return lines


def personal_attribute_reads(tree: ast.AST) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in PERSONAL_ATTRIBUTES
    ]


@pytest.mark.parametrize("package", ["policies", "matching"])
def test_engine_packages_never_import_gateway(package: str) -> None:
    offenders = {
        name: imports for name, tree in _sources(package) if (imports := gateway_imports(tree))
    }
    assert offenders == {}


def test_only_the_release_path_serializes_records() -> None:
    problems = []
    for name, tree in _sources("gateway"):
        if name not in RELEASE_PATH:
            problems += [f"{name}:{n}: booking_export" for n in export_references(tree)]
            problems += [
                f"{name}:{n}: values() of a personal field" for n in personal_value_dumps(tree)
            ]
        problems += [f"{name}:{n}: generic model dump" for n in generic_dumps(tree)]
        if name.startswith(RECIPIENT_FACING) or "/management/commands/" in name:
            problems += [
                f"{name}:{n}: personal attribute read" for n in personal_attribute_reads(tree)
            ]
    assert problems == []


def test_the_release_path_exists_and_uses_the_selector() -> None:
    trees = dict(_sources("gateway"))
    assert export_references(trees["gateway/releases/services.py"])
    release = trees["gateway/releases/services.py"]
    called = {
        node.func.id
        for node in ast.walk(release)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert {"decide", "booking_export"} <= called


BAD_SNIPPETS = {
    "import gateway.models": gateway_imports,
    "from gateway.releases import services as releases": gateway_imports,
    "import importlib\nimportlib.import_module('gateway.releases.selectors')": gateway_imports,
    "__import__('gateway')": gateway_imports,
    "from gateway.releases.selectors import booking_export": export_references,
    "records.booking_export(booking_numbers=[])": export_references,
    "from django.forms.models import model_to_dict\nmodel_to_dict(b)": generic_dumps,
    "from django.core import serializers\nserializers.serialize('json', qs)": generic_dumps,
    "class S(ModelSerializer):\n    class Meta:\n        model = Person\n": generic_dumps,
    "class S(ModelSerializer):\n    class Meta:\n        model = models.Booking\n": generic_dumps,
    "Booking.objects.values('booking_number')": personal_value_dumps,
    "Booking.objects.values_list('pk', 'person__ssn')": personal_value_dumps,
    "def view(request, b):\n    return {'dob': b.person.date_of_birth}": personal_attribute_reads,
}
GOOD_SNIPPETS = {
    "import policies.services\nfrom matching import engine": gateway_imports,
    "from .gatewayish import x": gateway_imports,
    "Booking.objects.values_list('pk', flat=True)": personal_value_dumps,
    "user.first_name": personal_attribute_reads,
    "class S(ModelSerializer):\n    class Meta:\n        model = AuditEntry\n": generic_dumps,
}


@pytest.mark.parametrize(("source", "check"), BAD_SNIPPETS.items())
def test_checkers_catch_violations(source: str, check) -> None:
    assert check(ast.parse(source)) != []


@pytest.mark.parametrize(("source", "check"), GOOD_SNIPPETS.items())
def test_checkers_allow_harmless_code(source: str, check) -> None:
    assert check(ast.parse(source)) == []


ENGINE_PUBLIC_MODULES = {"services", "types", "exceptions"}


def engine_internal_imports(tree: ast.AST) -> list[str]:
    """Imports of ``policies``/``matching`` modules other than their public services, types, exceptions.

    House style B2: the gateway sees the engines only through those three modules, so their internals can
    change without the gateway noticing.
    """
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module in {"policies", "matching"}:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] in {"policies", "matching"} and (
                len(parts) < 2 or parts[1] not in ENGINE_PUBLIC_MODULES
            ):
                found.append(name)
    return found


def test_gateway_reaches_the_engines_only_through_their_public_modules() -> None:
    offenders = {
        path: names
        for path, tree in _sources("gateway")
        if (names := engine_internal_imports(tree))
    }
    assert offenders == {}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from matching.search import GalleryIndex", ["matching.search"]),
        ("import policies.keys", ["policies.keys"]),
        ("from policies import rules", ["policies.rules"]),
        ("from matching.services import faces_embed", []),
        ("from policies.types import Decision", []),
        ("from policies import services", []),
    ],
)
def test_engine_import_checker(source: str, expected: list[str]) -> None:
    assert engine_internal_imports(ast.parse(source)) == expected
