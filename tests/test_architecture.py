"""Architecture rules, checked statically over the source tree (no imports of the code under test).

(a) Boundaries (house style B2): nothing in ``policies/`` or ``matching/`` imports ``gateway``, and neither
    engine imports the other — not with ``import``/``from … import``, and not through
    ``importlib.import_module("gateway…")`` or ``__import__``. Only plain values cross into those packages.

(b) One release path (issue 3, rules.md CJ-03, FR-12): person and booking data reach a recipient only
    through ``gateway.releases.services`` (which asks ``policies.decide`` and audits). The checkable
    rule, over every module in ``gateway/`` except migrations:

    1. Only the release path (``gateway/releases/services.py``) and its selector
       (``gateway/releases/selectors.py``) may reference ``booking_export``, the one serializer of
       person and booking rows.
    2. No module may dump models generically: no ``model_to_dict``, no Django serializer
       (``serializers.serialize``, ``get_serializer``, a ``django.core.serializers`` ``Serializer``) under
       whatever name it was imported, no ``call_command("dumpdata")``, and no class (DRF serializer,
       ``ModelForm``) whose ``Meta.model`` is ``Person``, ``Booking``, ``Charge``, ``Mugshot`` or
       ``FaceTemplate``, whatever name the model was imported under.
    3. Outside the release path and its selector, no ``.values()`` / ``.values_list()`` call may name
       a personal field (``ssn``, ``date_of_birth``, ``booking_number``, ``person__last_name`` …):
       that is how rows get flattened into JSON without a serializer. Nowhere may a queryset's
       ``.values()`` / ``.values_list()`` be called with no field names (every column, personal ones
       included); ``.iterator()`` over model instances is not a dump.
    4. Request-facing modules — ``gateway/api/``, ``gateway/web/``, ``gateway/urls.py``,
       ``gateway/faces/tasks.py``, management commands, and any module that imports Django's HTTP,
       shortcut, view, template or admin machinery or DRF — may not read personal attributes
       (``.ssn``, ``.date_of_birth``, ``.booking_number`` …) at all, neither as attributes nor by name
       through ``getattr``/``attrgetter``; they call ``release_records`` and hand back what it returns.
       (``first_name``/``last_name`` are not in this list because ``django.contrib.auth.models.User`` has
       them too.)
    5. Templates (``templates/`` and any app's ``templates/``) may not name a personal attribute, or a
       ``person``, a mugshot ``image`` or a face ``descriptor``, inside ``{{ }}`` or ``{% %}``, except the
       signed-in account's own names (``TEMPLATE_ALLOWED``).

(c) Mugshots and face templates stay in the county (README rule 4): no HTTP response (``HttpResponse``,
    ``FileResponse``, ``StreamingHttpResponse``, ``JsonResponse``, DRF ``Response``) is built from an
    ``.image`` or a ``.descriptor``, directly or through a variable holding one.

(d) The Django admin shows no record: ``Person``, ``Booking``, ``Charge``, ``Mugshot`` and ``FaceTemplate``
    are never registered (``admin.site.register``, ``@admin.register``, any site's ``register``), never
    the ``model`` of an inline or a generic view, and an admin module names no personal field in its
    options (``list_display = ["person__ssn"]``).

Import aliases are resolved per module (``from django.core import serializers as s``, ``from
gateway.records.models import Person as P``, ``PersonModel = Person``), so renaming does not hide a call.
Each check is also run against small bad snippets below, so a broken checker fails the suite.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable, Iterator
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
RECORD_MODELS = {"Person", "Booking", "Charge", "Mugshot", "FaceTemplate"}
RECIPIENT_FACING = (
    "gateway/api/",
    "gateway/web/",
    "gateway/urls.py",
    "gateway/faces/tasks.py",
)
# Importing any of these makes a module request-facing, wherever it lives (a new views.py, an admin.py).
REQUEST_MACHINERY = (
    "django.http",
    "django.shortcuts",
    "django.views",
    "django.template",
    "django.contrib.admin",
    "rest_framework",
)
TEMPLATE_DIRS = ("templates",)
# Names a template may not render: personal attributes, a Person (its str() is the name), a photo, a template.
TEMPLATE_PERSONAL_NAMES = PERSONAL_FIELDS | {"zip", "person", "image", "descriptor"}
# The signed-in account's own names (django.contrib.auth's User), which base.html and home.html greet.
TEMPLATE_ALLOWED = {
    "user.first_name",
    "user.last_name",
    "request.user.first_name",
    "request.user.last_name",
}
QUERYSET_METHODS = {
    "objects",
    "_default_manager",
    "_base_manager",
    "all",
    "filter",
    "exclude",
    "order_by",
    "select_related",
    "prefetch_related",
    "annotate",
    "alias",
    "distinct",
    "using",
    "only",
    "defer",
    "reverse",
    "none",
    "union",
    "intersection",
    "difference",
    "select_for_update",
    "extra",
}
RESPONSE_CLASSES = {
    "HttpResponse",
    "HttpResponseBase",
    "FileResponse",
    "StreamingHttpResponse",
    "JsonResponse",
    "Response",
}
BIOMETRIC_ATTRIBUTES = {"image", "descriptor"}


@functools.cache
def _sources(package: str) -> tuple[tuple[str, ast.Module], ...]:
    """Every module of ``package`` but migrations, parsed once per run (the checkers never change a tree)."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if "/migrations/" not in relative:
            found.append((relative, ast.parse(path.read_text(encoding="utf-8"), filename=relative)))
    return tuple(found)


def _templates() -> Iterator[tuple[str, str]]:
    roots = [ROOT / d for d in TEMPLATE_DIRS] + sorted(ROOT.glob("gateway/**/templates"))
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix in {".html", ".txt", ".xml", ".json"}:
                yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")


# --- names: what a module's local names stand for ------------------------------------------------


def aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> dotted name it was imported (or assigned at module level) as.

    ``from django.core import serializers as s`` gives ``s -> django.core.serializers``; ``import
    django.core.serializers`` gives ``django -> django``; ``from .models import Person as P`` gives
    ``P -> .models.Person``; a module-level ``PersonModel = P`` gives ``PersonModel -> .models.Person``.
    """
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    found[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    found[top] = top
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            for alias in node.names:
                joined = f"{module}.{alias.name}" if module and not module.endswith(".") else ""
                found[alias.asname or alias.name] = joined or f"{module}{alias.name}"
    for stmt in getattr(tree, "body", []):
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and isinstance(stmt.value, ast.Name | ast.Attribute)
            and (target := qualified(stmt.value, found))
        ):
            found[stmt.targets[0].id] = target
    return found


def qualified(node: ast.AST, names: dict[str, str]) -> str:
    """The dotted name ``node`` (a Name or an attribute chain) refers to, or "" for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ""
    parts.append(names.get(node.id, node.id))
    return ".".join(reversed(parts))


def _model_named(node: ast.AST, names: dict[str, str]) -> str | None:
    """The record model ``node`` names (``Person``, ``P`` imported as Person, ``apps.get_model(…)``)."""
    if isinstance(node, ast.Call):
        strings = [a.value for a in node.args if isinstance(a, ast.Constant)]
        if qualified(node.func, names).endswith("get_model") and strings:
            model = str(strings[-1]).split(".")[-1]
            return model if model in RECORD_MODELS else None
        return None
    model = qualified(node, names).split(".")[-1]
    return model if model in RECORD_MODELS else None


def _imported_modules(tree: ast.AST) -> list[str]:
    modules = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from django.contrib import admin` imports django.contrib.admin
            modules += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return modules


def request_facing(name: str, tree: ast.AST) -> bool:
    """Whether module ``name`` answers requests (by where it lives, or by what it imports)."""
    if name.startswith(RECIPIENT_FACING) or "/management/commands/" in name:
        return True
    return any(
        module == prefix or module.startswith(prefix + ".")
        for module in _imported_modules(tree)
        for prefix in REQUEST_MACHINERY
    )


# --- (a) boundaries -----------------------------------------------------------------------------


def package_imports(tree: ast.AST, package: str) -> list[str]:
    """Every way ``tree`` reaches the top-level ``package``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == package]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == package:
                found.append(node.module)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if (
                name in {"import_module", "__import__"}
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and first.value.split(".")[0] == package
            ):
                found.append(first.value)
    return found


def gateway_imports(tree: ast.AST) -> list[str]:
    return package_imports(tree, "gateway")


def policies_imports(tree: ast.AST) -> list[str]:
    return package_imports(tree, "policies")


def matching_imports(tree: ast.AST) -> list[str]:
    return package_imports(tree, "matching")


# --- (b) one release path -----------------------------------------------------------------------


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


def _meta_model(cls: ast.ClassDef, names: dict[str, str]) -> str | None:
    for item in cls.body:
        if isinstance(item, ast.ClassDef) and item.name == "Meta":
            for stmt in item.body:
                if isinstance(stmt, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "model" for t in stmt.targets
                ):
                    return _model_named(stmt.value, names)
    return None


def _is_generic_dump(func: ast.AST, names: dict[str, str]) -> bool:
    target = qualified(func, names)
    parts = target.split(".")
    if parts[-1] == "model_to_dict" or parts[-2:] in (
        ["serializers", "serialize"],
        ["serializers", "get_serializer"],
    ):
        return True
    # Serializer() from django.core.serializers.json/python/xml_serializer/pyyaml/jsonl
    return target.startswith("django.core.serializers.") and parts[-1] == "Serializer"


def _is_dumpdata(call: ast.Call, names: dict[str, str]) -> bool:
    first = call.args[0] if call.args else None
    return (
        qualified(call.func, names).split(".")[-1] == "call_command"
        and isinstance(first, ast.Constant)
        and first.value == "dumpdata"
    )


def generic_dumps(tree: ast.AST) -> list[int]:
    names = aliases(tree)
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if _is_generic_dump(node.func, names) or _is_dumpdata(node, names):
                lines.append(node.lineno)
        elif isinstance(node, ast.ClassDef) and _meta_model(node, names) is not None:
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


def _queryset_like(node: ast.AST, querysets: set[str]) -> bool:
    while isinstance(node, ast.Attribute | ast.Call):
        if isinstance(node, ast.Call):
            node = node.func
            continue
        if node.attr in QUERYSET_METHODS:
            return True
        node = node.value
    return isinstance(node, ast.Name) and node.id in querysets


def _queryset_names(tree: ast.AST) -> set[str]:
    """Names bound to a queryset in this module: assigned from one, or annotated ``QuerySet[…]``."""
    found: set[str] = set()
    for _ in range(3):  # qs = Person.objects.all(); rows = qs.filter(...): a few hops are enough
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and _queryset_like(node.value, found):
                found |= {t.id for t in node.targets if isinstance(t, ast.Name)}
            elif isinstance(node, ast.AnnAssign | ast.arg):
                annotation = node.annotation
                target = node.target if isinstance(node, ast.AnnAssign) else None
                named = node.arg if isinstance(node, ast.arg) else getattr(target, "id", "")
                if annotation is not None and "QuerySet" in ast.unparse(annotation) and named:
                    found.add(named)
    return found


def whole_row_dumps(tree: ast.AST) -> list[int]:
    """``.values()`` / ``.values_list()`` on a queryset with no field named: every column comes out."""
    querysets = _queryset_names(tree)
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"values", "values_list"}
        and not node.args
        and _queryset_like(node.func.value, querysets)
    ]


def _names_personal_attribute(value: object) -> bool:
    return isinstance(value, str) and any(
        part in PERSONAL_ATTRIBUTES for part in re.split(r"\.|__", value)
    )


def personal_attribute_reads(tree: ast.AST) -> list[int]:
    """``x.ssn``, and ``getattr(x, "ssn")`` / ``attrgetter("person.ssn")`` / ``x.__getattribute__("ssn")``."""
    names = aliases(tree)
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in PERSONAL_ATTRIBUTES:
            lines.append(node.lineno)
        elif isinstance(node, ast.Call):
            function = qualified(node.func, names).split(".")[-1]
            if isinstance(node.func, ast.Attribute) and node.func.attr == "__getattribute__":
                function = "getattr"
            strings = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if function in {"getattr", "attrgetter"} and any(
                map(_names_personal_attribute, strings)
            ):
                lines.append(node.lineno)
    return lines


_TEMPLATE_EXPRESSION = re.compile(r"\{\{(.*?)\}\}|\{%(.*?)%\}", re.DOTALL)
_TEMPLATE_STRING = re.compile(r"\"([^\"]*)\"|'([^']*)'")
_TEMPLATE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*")


def _template_name_is_personal(dotted: str) -> bool:
    if dotted in TEMPLATE_ALLOWED:
        return False
    return any(part in TEMPLATE_PERSONAL_NAMES for part in re.split(r"\.|__", dotted))


def template_personal_names(text: str) -> list[int]:
    """Lines of ``{{ }}`` / ``{% %}`` expressions naming a personal attribute, a person, photo or template.

    Both variable paths (``booking.person.ssn``) and strings (``|attr:"ssn"``) count.
    """
    lines = []
    for match in _TEMPLATE_EXPRESSION.finditer(text):
        expression = match.group(1) if match.group(1) is not None else match.group(2)
        strings = [a or b for a, b in _TEMPLATE_STRING.findall(expression)]
        bare = _TEMPLATE_STRING.sub(" ", expression)
        dotted = _TEMPLATE_NAME.findall(bare) + strings
        if any(_template_name_is_personal(name) for name in dotted):
            lines.append(text.count("\n", 0, match.start()) + 1)
    return lines


# --- (c) mugshots and face templates stay in the county ---------------------------------------


def _mentions(node: ast.AST, tainted: set[str]) -> bool:
    return any(
        (isinstance(n, ast.Attribute) and n.attr in BIOMETRIC_ATTRIBUTES)
        or (isinstance(n, ast.Name) and n.id in tainted)
        for n in ast.walk(node)
    )


def _biometric_names(tree: ast.AST) -> set[str]:
    """Names holding a photo or descriptor: ``f = m.image.open()``, ``with m.image.open() as f``, …"""
    tainted: set[str] = set()
    for _ in range(3):
        for node in ast.walk(tree):
            pairs: list[tuple[ast.AST, ast.AST | None]] = []
            if isinstance(node, ast.Assign):
                pairs = [(t, node.value) for t in node.targets]
            elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.NamedExpr):
                pairs = [(node.target, node.value)]
            elif isinstance(node, ast.withitem):
                pairs = [(node.optional_vars, node.context_expr)] if node.optional_vars else []
            elif isinstance(node, ast.For | ast.comprehension):
                pairs = [(node.target, node.iter)]
            for target, value in pairs:
                if value is not None and _mentions(value, tainted):
                    tainted |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return tainted


def biometric_responses(tree: ast.AST) -> list[int]:
    """HTTP responses built from a mugshot's ``.image`` or a template's ``.descriptor``."""
    names = aliases(tree)
    tainted = _biometric_names(tree)
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and qualified(node.func, names).split(".")[-1] in RESPONSE_CLASSES
            and any(_mentions(a, tainted) for a in [*node.args, *(k.value for k in node.keywords)])
        ):
            lines.append(node.lineno)
    return lines


# --- (d) the admin shows no record --------------------------------------------------------------


def _registered_models(call: ast.Call, names: dict[str, str]) -> list[str]:
    if not call.args:
        return []
    first = call.args[0]
    items = first.elts if isinstance(first, ast.List | ast.Tuple | ast.Set) else [first]
    return [model for item in items if (model := _model_named(item, names))]


def record_admin_exposures(tree: ast.AST) -> list[int]:
    """Record models registered in an admin site, used as an inline's (or a generic view's) ``model``,
    or personal fields named in an admin module's options."""
    names = aliases(tree)
    admin_module = any(m.startswith("django.contrib.admin") for m in _imported_modules(tree))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            function = qualified(node.func, names).split(".")[-1]
            if function == "register" and _registered_models(node, names):
                lines.append(node.lineno)
        elif isinstance(node, ast.ClassDef) and node.name != "Meta":
            for stmt in node.body:
                if (
                    isinstance(stmt, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "model" for t in stmt.targets)
                    and _model_named(stmt.value, names)
                ):
                    lines.append(stmt.lineno)
        elif (
            admin_module
            and isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and any(p in PERSONAL_ATTRIBUTES | {"person"} for p in node.value.split("__"))
        ):
            lines.append(node.lineno)
    return lines


# --- the tree ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("policies", gateway_imports),
        ("matching", gateway_imports),
        ("policies", matching_imports),
        ("matching", policies_imports),
    ],
    ids=["policies-gateway", "matching-gateway", "policies-matching", "matching-policies"],
)
def test_engine_packages_import_neither_gateway_nor_each_other(
    package: str, forbidden: Callable[[ast.AST], list[str]]
) -> None:
    offenders = {name: imports for name, tree in _sources(package) if (imports := forbidden(tree))}
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
        problems += [f"{name}:{n}: values() of every column" for n in whole_row_dumps(tree)]
        if request_facing(name, tree):
            problems += [
                f"{name}:{n}: personal attribute read" for n in personal_attribute_reads(tree)
            ]
    assert problems == []


def test_templates_render_no_personal_attributes() -> None:
    problems = [
        f"{name}:{n}: personal name in a template expression"
        for name, text in _templates()
        for n in template_personal_names(text)
    ]
    assert problems == []


def test_the_template_scan_sees_the_templates() -> None:
    assert {"templates/base.html", "templates/gateway/home.html"} <= dict(_templates()).keys()


def test_no_response_carries_a_mugshot_or_a_face_template() -> None:
    problems = [
        f"{name}:{n}: response built from an image or descriptor"
        for name, tree in _sources("gateway")
        for n in biometric_responses(tree)
    ]
    assert problems == []


def test_the_admin_shows_no_record() -> None:
    problems = [
        f"{name}:{n}: record model or personal field in the admin"
        for name, tree in _sources("gateway")
        for n in record_admin_exposures(tree)
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
    "from matching.services import faces_embed": matching_imports,
    "import matching.types as t": matching_imports,
    "importlib.import_module('matching.search')": matching_imports,
    "from policies.types import RecipientType": policies_imports,
    "import policies": policies_imports,
    "__import__('policies.services')": policies_imports,
    "from gateway.releases.selectors import booking_export": export_references,
    "records.booking_export(booking_numbers=[])": export_references,
    "from django.forms.models import model_to_dict\nmodel_to_dict(b)": generic_dumps,
    "from django.forms import model_to_dict as flat\nflat(b)": generic_dumps,
    "from django.core import serializers\nserializers.serialize('json', qs)": generic_dumps,
    "from django.core import serializers as s\ns.serialize('json', qs)": generic_dumps,
    "from django.core.serializers import serialize\nserialize('json', qs)": generic_dumps,
    "from django.core.serializers import serialize as dump\ndump('json', qs)": generic_dumps,
    "import django.core.serializers\ndjango.core.serializers.serialize('json', qs)": generic_dumps,
    "from django.core.serializers import get_serializer\nget_serializer('json')()": generic_dumps,
    "from django.core.serializers.json import Serializer\nSerializer().serialize(qs)": generic_dumps,
    "from django.core.management import call_command\ncall_command('dumpdata', 'gateway')": (
        generic_dumps
    ),
    "class S(ModelSerializer):\n    class Meta:\n        model = Person\n": generic_dumps,
    "class S(ModelSerializer):\n    class Meta:\n        model = models.Booking\n": generic_dumps,
    (
        "from gateway.records.models import Person as P\n"
        "class S(ModelSerializer):\n    class Meta:\n        model = P\n"
    ): generic_dumps,
    (
        "from gateway import models as m\n"
        "class S(ModelSerializer):\n    class Meta:\n        model = m.Mugshot\n"
    ): generic_dumps,
    (
        "from .records.models import Charge as C\nRow = C\n"
        "class F(ModelForm):\n    class Meta:\n        model = Row\n"
    ): generic_dumps,
    "class S(ModelSerializer):\n    class Meta:\n        model = apps.get_model('gateway', 'Person')\n": (
        generic_dumps
    ),
    "class S(ModelSerializer):\n    class Meta:\n        model = FaceTemplate\n": generic_dumps,
    "Booking.objects.values('booking_number')": personal_value_dumps,
    "Booking.objects.values_list('pk', 'person__ssn')": personal_value_dumps,
    "Person.objects.values()": whole_row_dumps,
    "Person.objects.values_list()": whole_row_dumps,
    "Person.objects.filter(pk__in=ids).values().iterator()": whole_row_dumps,
    "Person.objects.values_list(named=True)": whole_row_dumps,
    "booking.charges.all().values()": whole_row_dumps,
    "qs = Person.objects.all()\nrows = qs.filter(sex='F')\nlist(rows.values())": whole_row_dumps,
    "def dump(people: QuerySet[Person]):\n    return list(people.values())": whole_row_dumps,
    "def view(request, b):\n    return {'dob': b.person.date_of_birth}": personal_attribute_reads,
    "def view(request, person):\n    return getattr(person, 'ssn')": personal_attribute_reads,
    "getattr(booking, 'booking_number', None)": personal_attribute_reads,
    "from operator import attrgetter\nattrgetter('person.ssn')(b)": personal_attribute_reads,
    "import operator as op\nop.attrgetter('pk', 'date_of_birth')": personal_attribute_reads,
    "person.__getattribute__('drivers_license')": personal_attribute_reads,
    "from django.http import FileResponse\nFileResponse(mugshot.image.open())": biometric_responses,
    "from django.http import FileResponse as F\nF(m.image.open('rb'), as_attachment=True)": (
        biometric_responses
    ),
    "HttpResponse(mugshot.image.read(), content_type='image/jpeg')": biometric_responses,
    "StreamingHttpResponse(iter([m.image.read()]))": biometric_responses,
    "HttpResponse(content=open(m.image.path, 'rb'))": biometric_responses,
    "with m.image.open() as handle:\n    data = handle.read()\nreturn HttpResponse(data)": (
        biometric_responses
    ),
    "from rest_framework.response import Response\nResponse({'d': t.descriptor.hex()})": (
        biometric_responses
    ),
    "from django.contrib import admin\nadmin.site.register(Person)": record_admin_exposures,
    "from django.contrib import admin\nadmin.site.register([Booking, Charge])": (
        record_admin_exposures
    ),
    "from django.contrib import admin\n@admin.register(Mugshot)\nclass A(admin.ModelAdmin):\n    pass": (
        record_admin_exposures
    ),
    "from django.contrib.admin import register\n@register(FaceTemplate)\nclass A:\n    pass": (
        record_admin_exposures
    ),
    "from gateway.models import Person as P\nmy_site.register(P, PersonAdmin)": (
        record_admin_exposures
    ),
    "class BookingInline(admin.TabularInline):\n    model = Booking": record_admin_exposures,
    "class PersonDetail(DetailView):\n    model = Person": record_admin_exposures,
    (
        "from django.contrib import admin\n"
        "class A(admin.ModelAdmin):\n    list_display = ['pk', 'person__ssn']"
    ): record_admin_exposures,
}
GOOD_SNIPPETS = {
    "import policies.services\nfrom matching import engine": gateway_imports,
    "from .gatewayish import x": gateway_imports,
    "import policiesque\nfrom gateway.models import Person": policies_imports,
    "from .matching import x": matching_imports,
    "Booking.objects.values_list('pk', flat=True)": personal_value_dumps,
    "user.first_name": personal_attribute_reads,
    "getattr(settings, 'FACE_EMBEDDER', None)": personal_attribute_reads,
    "getattr(user, 'first_name')": personal_attribute_reads,
    "class S(ModelSerializer):\n    class Meta:\n        model = AuditEntry\n": generic_dumps,
    "from gateway.models import AuditEntry as Person\nclass S:\n    class Meta:\n        model = Person": (
        generic_dumps
    ),
    "from django.core.serializers.json import DjangoJSONEncoder\njson.dumps(x, cls=DjangoJSONEncoder)": (
        generic_dumps
    ),
    "from django.core.management import call_command\ncall_command('migrate')": generic_dumps,
    "counts = {'a': 1}\nsum(counts.values())": whole_row_dumps,
    "sections.get('person', {}).values()": whole_row_dumps,
    # A related manager's name alone is not told apart from a mapping's (self.charges.values() in the
    # importers' mapping spec); .all() / .filter() first, or a QuerySet annotation, make it a queryset.
    "self.charges.values()": whole_row_dumps,
    "Person.objects.iterator()": whole_row_dumps,
    "Person.objects.values_list('pk', flat=True).iterator()": whole_row_dumps,
    "FaceTemplate.objects.values('pk', 'person_id')": whole_row_dumps,
    "with mugshot.image.open('rb') as handle:\n    template = embed(handle.read())": (
        biometric_responses
    ),
    "JsonResponse({'status': 'ok'})": biometric_responses,
    "from django.contrib import admin\nadmin.site.register(AuditEntry)": record_admin_exposures,
    "atexit.register(cleanup)": record_admin_exposures,
    "class M(Model):\n    class Meta:\n        model = Person": record_admin_exposures,
    "list_display = ['person__ssn']  # not an admin module": record_admin_exposures,
}
BAD_TEMPLATES = [
    "<td>{{ booking.person.ssn }}</td>",
    "{{ person.last_name|upper }}",
    "{% for b in bookings %}\n<p>{{ b.booking_number }}</p>{% endfor %}",
    "{{ b.person }}",
    '<img src="{{ mugshot.image.url }}">',
    '{{ booking|attr:"date_of_birth" }}',
    "{% with dob=row.person.date_of_birth %}{{ dob }}{% endwith %}",
    "{{ record.person.zip }}",
    "{{ booking.person.first_name }}",
]
GOOD_TEMPLATES = [
    "<h1>Welcome, {{ user.get_full_name|default:user.username }}</h1>",
    "{{ user.first_name }} {{ user.last_name }}",
    "{% for role in roles %}<strong>{{ role }}</strong>{% endfor %}",
    '{% url "login" %} {% csrf_token %} {{ form.username }}',
    "<p>Address and date of birth are never shown here.</p>",
    "{# person.ssn is only ever seen through the release preview #}",
]


@pytest.mark.parametrize(("source", "check"), BAD_SNIPPETS.items())
def test_checkers_catch_violations(source: str, check: Callable[[ast.AST], list[object]]) -> None:
    assert check(ast.parse(source)) != []


@pytest.mark.parametrize(("source", "check"), GOOD_SNIPPETS.items())
def test_checkers_allow_harmless_code(
    source: str, check: Callable[[ast.AST], list[object]]
) -> None:
    assert check(ast.parse(source)) == []


@pytest.mark.parametrize("text", BAD_TEMPLATES)
def test_template_checker_catches_personal_names(text: str) -> None:
    assert template_personal_names(text) != []


def test_template_checker_reports_the_line() -> None:
    assert template_personal_names("<p>\n{{ b.booking_number }}\n</p>") == [2]


@pytest.mark.parametrize("text", GOOD_TEMPLATES)
def test_template_checker_allows_harmless_templates(text: str) -> None:
    assert template_personal_names(text) == []


@pytest.mark.parametrize(
    ("name", "source", "expected"),
    [
        ("gateway/records/views.py", "from django.shortcuts import render", True),
        ("gateway/records/admin.py", "from django.contrib import admin", True),
        ("gateway/faces/api.py", "from rest_framework.views import APIView", True),
        ("gateway/web/pages.py", "", True),
        ("gateway/management/commands/x.py", "", True),
        ("gateway/records/selectors.py", "from django.db import models", False),
    ],
)
def test_request_facing_modules_are_recognised(name: str, source: str, expected: bool) -> None:
    assert request_facing(name, ast.parse(source)) is expected


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
