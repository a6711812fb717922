"""Load policy YAML files, validate them, and build a ``PolicySet``.

Loading never raises for bad policy content: every problem is collected (file, line, what is wrong) and
an invalid set denies every request, so a typo can only ever make Custodian stricter. Files from later
directories (the county's) replace library documents with the same ``id``; guardrails live in code and
cannot be replaced. The policy version is a SHA-256 over the engine version and every file read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from policies.immigration import registry_terms
from policies.model import Agreement, AgreementPurpose, Forbid, PolicySet, PurposeSpec
from policies.reasons import reason
from policies.schema import SCHEMAS
from policies.text import TermMatcher
from policies.transforms import FieldRule
from policies.types import FIELD_KINDS, Mode, Op, RecipientType

__all__ = [
    "ENGINE_VERSION",
    "IMMIGRATION_KEYWORDS",
    "IMMIGRATION_PURPOSE_ROOT",
    "IMMIGRATION_SENSITIVE_FIELDS",
    "keyword_matcher",
    "policy_files",
    "policy_set_load",
    "purpose_tighten",
    "statute_key",
]

ENGINE_VERSION = "custodian-policies/1"
TEST_SUFFIXES = ("_test.yaml", "_test.yml")

# Guardrail minimums (IM-04, IM-05, IM-11c); a baseline file may add to them but never remove them.
IMMIGRATION_PURPOSE_ROOT = "immigration"
IMMIGRATION_KEYWORDS: tuple[str, ...] = (
    "ICE",
    "ERO",
    "HSI",
    "CBP",
    "USCIS",
    "DHS",
    "287(g)",
    "detainer",
    "deport",
    "deportation",
    "deportable",
    "removal",
    "immigration",
    "immigrant",
    "illegal alien",
    "alien number",
    "undocumented",
    "border patrol",
    "ICE warrant",
    "I-200",
    "I-203",
    "I-205",
    "I-247",
    "I-247A",
    "I-286",
    "visa overstay",
)
IMMIGRATION_SENSITIVE_FIELDS: frozenset[str] = frozenset(
    {"person.address", "person.zip", "released_at", "custody_status", "housing"}
)

_VALIDATORS = {kind: Draft202012Validator(schema) for kind, schema in SCHEMAS.items()}
_GENERALIZE_KINDS = {
    "year": {"date", "datetime"},
    "month": {"date", "datetime"},
    "band": {"number"},
    "zip3": {"zip"},
}


def policy_files(*, dirs: Sequence[Path]) -> tuple[list[Path], list[str]]:
    """Policy documents in load order (directory order, then name), skipping ``*_test.yaml``."""
    files: list[Path] = []
    problems: list[str] = []
    for directory in dirs:
        if not directory.is_dir():
            problems.append(f"{directory}: policy directory does not exist")
            continue
        for path in sorted(directory.iterdir()):
            if path.suffix in {".yaml", ".yml"} and not path.name.endswith(TEST_SUFFIXES):
                files.append(path)
    return files, problems


def _line_of(node: yaml.Node | None, path: Iterable[Any]) -> int:
    """Best line (1-based) for a JSON path inside a composed YAML node tree."""
    if node is None:
        return 1
    line = node.start_mark.line + 1
    for step in path:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == step:
                    child = value_node
                    line = key_node.start_mark.line + 1
                    break
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value)
        ):
            child = node.value[step]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def _duplicate_keys(node: yaml.Node | None, name: str) -> list[str]:
    """PyYAML silently keeps the last duplicate key; in a policy that hides a rule, so reject it."""
    problems: list[str] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if key_node.value in seen:
                problems.append(
                    f"{name}:{key_node.start_mark.line + 1}: duplicate key {key_node.value!r}"
                )
            seen.add(key_node.value)
            problems += _duplicate_keys(value_node, name)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            problems += _duplicate_keys(item, name)
    return problems


def _parse(path: Path) -> tuple[dict[str, Any] | None, yaml.Node | None, list[str]]:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as exc:
        return None, None, [f"{name}:1: cannot read file: {exc}"]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        return None, None, [f"{name}:{line}: YAML syntax error: {problem}"]
    problems = _duplicate_keys(node, name)
    if not isinstance(data, dict):
        return None, node, [*problems, f"{name}:1: a policy document must be a mapping"]
    kind = data.get("kind")
    validator = _VALIDATORS.get(kind) if isinstance(kind, str) else None
    if validator is None:
        line = _line_of(node, ["kind"])
        return None, node, [*problems, f"{name}:{line}: kind must be one of {sorted(SCHEMAS)}"]
    for error in sorted(validator.iter_errors(data), key=lambda err: list(err.absolute_path)):
        steps = list(error.absolute_path)
        if "propertyNames" in error.schema_path:
            steps.append(error.instance)  # point at the offending key, not at its mapping
        where = "/".join(str(step) for step in steps) or "(document)"
        line = _line_of(node, steps)
        problems.append(f"{name}:{line}: {where}: {error.message}")
    return (None if problems else data), node, problems


def purpose_tighten(base: PurposeSpec, requires: dict[str, Any], **changes: Any) -> PurposeSpec:
    """Add ``requires`` to ``base``: requirements only accumulate, never relax (the stricter wins)."""
    return PurposeSpec(
        code=changes.get("code", base.code),
        description=changes.get("description", base.description),
        refused=base.refused or bool(changes.get("refused", False)),
        case_number=base.case_number or bool(requires.get("case_number", False)),
        offense_list=requires.get("offense_list", base.offense_list),
        narrative_min_length=max(
            base.narrative_min_length, int(requires.get("narrative_min_length", 0))
        ),
        documents_any_of=_documents(base.documents_any_of, requires.get("documents_any_of")),
        documents_signed_by_judge=base.documents_signed_by_judge
        or bool(requires.get("documents_signed_by_judge", False)),
        documents_verified_by=max(
            base.documents_verified_by, int(requires.get("documents_verified_by", 0))
        ),
    )


def _documents(base: frozenset[str], extra: list[str] | None) -> frozenset[str]:
    if extra is None:
        return base
    return frozenset(extra) & base if base else frozenset(extra)


def _purpose_specs(
    tree: dict[str, Any], *, parent: PurposeSpec | None, prefix: str
) -> dict[str, PurposeSpec]:
    """Flatten the purpose tree; a child inherits its parent's requirements and may only add to them."""
    specs: dict[str, PurposeSpec] = {}
    for name, node in tree.items():
        code = f"{prefix}{name}"
        spec = purpose_tighten(
            parent or PurposeSpec(code=code, description=""),
            node.get("requires", {}),
            code=code,
            description=node["description"],
            refused=bool(node.get("refused", False)),
        )
        specs[code] = spec
        specs.update(_purpose_specs(node.get("children", {}), parent=spec, prefix=code + "."))
    return specs


def keyword_matcher(extra: Iterable[str]) -> TermMatcher:
    """The backstop's terms (IM-11c): the built-in keywords, a baseline's extra ones, and every name
    and abbreviation of the federal immigration registry, all compared in folded form."""
    words = sorted({*IMMIGRATION_KEYWORDS, *extra})
    return TermMatcher([*((word, word) for word in words), *registry_terms()])


def _field_rule(path: str, spec: str | dict[str, Any]) -> FieldRule:
    if isinstance(spec, str):
        op_name, _, param = spec.partition(":")
        return FieldRule(path=path, op=Op(op_name), param=param or None)
    return FieldRule(path=path, op=Op(spec["op"]), param=spec.get("param"))


def _field_problems(rule: FieldRule, where: str) -> list[str]:
    kind = FIELD_KINDS[rule.path]
    if rule.op is Op.DATE_SHIFT and kind not in {"date", "datetime"}:
        return [f"{where}: date_shift needs a date field, {rule.path} is {kind}"]
    if rule.op is Op.GENERALIZE:
        target = str(rule.param or "").partition(":")[0]
        allowed = _GENERALIZE_KINDS.get(target)
        if allowed is None:
            return [f"{where}: generalize target must be one of {sorted(_GENERALIZE_KINDS)}"]
        if kind not in allowed:
            return [f"{where}: generalize:{target} cannot apply to {rule.path} ({kind})"]
    if rule.op is Op.MASK and rule.param is not None and not str(rule.param).isdigit():
        return [f"{where}: mask takes the number of trailing characters to keep"]
    return []


def _agreement(
    data: dict[str, Any], name: str, node: yaml.Node | None
) -> tuple[Agreement, list[str]]:
    problems: list[str] = []
    purposes = []
    for index, item in enumerate(data["purposes"]):
        rules = []
        for path, spec in item["fields"].items():
            where = f"{name}:{_line_of(node, ['purposes', index, 'fields', path])}"
            try:
                rule = _field_rule(path, spec)
            except ValueError:
                problems.append(f"{where}: unknown operator in {spec!r}")
                continue
            problems += _field_problems(rule, where)
            rules.append(rule)
        if item.get("include_non_conviction") and not item.get("non_conviction_legal_basis"):
            line = _line_of(node, ["purposes", index, "include_non_conviction"])
            problems.append(
                f"{name}:{line}: include_non_conviction needs non_conviction_legal_basis (CJ-08)"
            )
        purposes.append(
            AgreementPurpose(
                code=item["code"],
                modes=frozenset(Mode(mode) for mode in item["modes"]),
                max_records=item["max_records"],
                retention_days=item["retention_days"],
                human_review=bool(item.get("human_review", False)),
                labels=tuple(item.get("labels", ())),
                include_non_conviction=bool(item.get("include_non_conviction", False)),
                allow_on_behalf_of=frozenset(item.get("allow_on_behalf_of", ())),
                requires=tuple(sorted(item.get("requires", {}).items())),
                exclude_tags=frozenset(item.get("exclude_tags", ())),
                fields=tuple(sorted(rules, key=lambda rule: rule.path)),
                approvers=int(item.get("approvers", 0)),
            )
        )
    recipient = data["recipient"]
    agreement = Agreement(
        id=data["id"],
        source=name,
        description=data["description"],
        recipient_type=recipient["type"],
        recipient_names=frozenset(str(n).casefold() for n in recipient.get("names", ())),
        recipient_oris=frozenset(str(o).upper() for o in recipient.get("oris", ())),
        status=data["status"],
        approval_reference=data.get("approval_reference"),
        consideration=data.get("consideration", "none"),
        purposes=tuple(purposes),
    )
    return agreement, problems


def _forbid(data: dict[str, Any], name: str) -> Forbid:
    when = data["when"]
    return Forbid(
        id=data["id"],
        rule=data["rule"],
        description=data["description"],
        would_need=data["would_need"],
        citation=data.get("citation", f"rules.md {data['rule']} ({name})"),
        recipient_types=frozenset(when.get("recipient_types", ())),
        recipient_names=frozenset(str(n).casefold() for n in when.get("recipient_names", ())),
        purposes=tuple(when.get("purposes", ())),
        modes=frozenset(when.get("modes", ())),
    )


def _cross_checks(
    agreements: dict[str, Agreement],
    purposes: dict[str, PurposeSpec],
    offense_lists: dict[str, frozenset[str]],
    sensitive: frozenset[str],
) -> list[str]:
    problems = [
        f"purpose {spec.code}: offense_list {spec.offense_list!r} is not defined"
        for spec in purposes.values()
        if spec.offense_list and spec.offense_list not in offense_lists
    ]
    for agreement in agreements.values():
        where = f"{agreement.source}: agreement {agreement.id}"
        for item in agreement.purposes:
            if item.code not in purposes:
                problems.append(f"{where}: purpose {item.code!r} is not in the purpose catalog")
            elif purposes[item.code].refused or item.code.split(".")[0] == IMMIGRATION_PURPOSE_ROOT:
                problems.append(f"{where}: purpose {item.code!r} exists only to be refused (IM-04)")
            if agreement.recipient_type == RecipientType.VENDOR:
                leaked = sorted(rule.path for rule in item.fields if rule.path in sensitive)
                leaked = [path for path in leaked if _op_of(item, path) is not Op.DROP]
                if leaked:
                    problems.append(
                        f"{where}: vendor exports may not carry immigration-sensitive fields "
                        f"{leaked} (IM-05)"
                    )
    problems += _overlaps(list(agreements.values()))
    return problems


def _contradictions(agreements: Iterable[Agreement]) -> list[str]:
    """Agreements marked active whose own terms deny every request (``standing_denials``).

    The set stays valid, since such an agreement can only deny, but ``policy validate`` fails on
    it: the county meant to switch something on that the engine will never let through.
    """
    found = []
    for agreement in agreements:
        if agreement.status != "active":
            continue
        for code, what in agreement.standing_denials():
            denial = reason(code, what)
            found.append(
                f"{agreement.source}: agreement {agreement.id} is active but {what}, so every "
                f"request under it is denied ({code}; {denial.citation})"
            )
    return found


def _op_of(item: AgreementPurpose, path: str) -> Op:
    return next(rule.op for rule in item.fields if rule.path == path)


def _overlaps(agreements: list[Agreement]) -> list[str]:
    """Two active agreements that could both answer one request are ambiguous (governance.md 3.10)."""
    problems = []
    active = [agreement for agreement in agreements if agreement.status == "active"]
    for index, first in enumerate(active):
        for second in active[index + 1 :]:
            if first.recipient_type != second.recipient_type:
                continue
            names_overlap = (
                not first.recipient_names
                or not second.recipient_names
                or bool(first.recipient_names & second.recipient_names)
            )
            if not names_overlap:
                continue
            for a in first.purposes:
                for b in second.purposes:
                    if a.covers(b.code) or b.covers(a.code):
                        problems.append(
                            f"agreements {first.id} ({first.source}) and {second.id} "
                            f"({second.source}) both cover {first.recipient_type} purpose "
                            f"{min(a.code, b.code, key=len)}; make them disjoint"
                        )
    return problems


def policy_set_load(*, dirs: Sequence[Path]) -> PolicySet:
    """Read every policy file under ``dirs`` and return the set (invalid sets carry ``problems``)."""
    files, problems = policy_files(dirs=dirs)
    digest = hashlib.sha256(ENGINE_VERSION.encode())
    baseline: dict[str, Any] | None = None
    agreements: dict[str, Agreement] = {}
    forbids: dict[str, Forbid] = {}
    for path in files:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            problems.append(f"{path}:1: cannot read file: {exc}")
            continue
        digest.update(b"\x00" + path.name.encode() + b"\x00" + raw)
        data, node, file_problems = _parse(path)
        problems += file_problems
        if data is None:
            continue
        if data["kind"] == "baseline":
            baseline = data
        elif data["kind"] == "agreement":
            agreement, agreement_problems = _agreement(data, str(path), node)
            problems += agreement_problems
            agreements[agreement.id] = agreement
        else:
            forbids[data["id"]] = _forbid(data, str(path))
    version = "sha256:" + digest.hexdigest()
    if baseline is None:
        problems.append("no baseline policy (kind: baseline) was found; nothing can be permitted")
        return PolicySet(version=version, problems=tuple(problems))
    purposes = _purpose_specs(baseline["purposes"], parent=None, prefix="")
    offense_lists = {
        name: frozenset(statute_key(item) for item in items)
        for name, items in baseline["offense_lists"].items()
    }
    sensitive = IMMIGRATION_SENSITIVE_FIELDS | frozenset(
        baseline.get("immigration_sensitive_fields", ())
    )
    problems += _cross_checks(agreements, purposes, offense_lists, sensitive)
    return PolicySet(
        version=version,
        problems=tuple(problems),
        contradictions=tuple(_contradictions(agreements.values())),
        sources=tuple(str(path) for path in files),
        purposes=purposes,
        offense_lists=offense_lists,
        keywords=keyword_matcher(baseline.get("immigration_keywords", ())),
        sensitive_fields=sensitive,
        agreements=tuple(agreements.values()),
        forbids=tuple(forbids.values()),
    )


def statute_key(statute: str) -> str:
    """Normalise a statute citation: "Wis. Stat. § 940.01(1)(a)" -> "940.01(1)(a)"."""
    text = str(statute).casefold().replace("wis.", "").replace("stat.", "").replace("§", "")
    return "".join(text.split())
