"""JSON Schemas for the three kinds of policy document (baseline, agreement, forbid).

Schemas check shape; ``policies.loader`` adds the cross-file checks (unknown purposes, overlapping
agreements, fields an operator cannot apply to). Any violation makes the whole policy set invalid, and an
invalid set denies every request (fail closed, governance.md section 3.3).
"""

from __future__ import annotations

from typing import Any

from policies.types import FIELD_KINDS, DocumentKind, FieldTag, Mode, Op, RecipientType

__all__ = ["AGREEMENT_SCHEMA", "BASELINE_SCHEMA", "FORBID_SCHEMA", "SCHEMAS"]

_ID = {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]*$"}
_PURPOSE_CODE = {"type": "string", "pattern": r"^[a-z0-9-]+(\.[a-z0-9-]+)*$"}
_TEXT = {"type": "string", "minLength": 1}
_RULE_ID = {"type": "string", "pattern": r"^[A-Z]{2,4}-[0-9]{2}$"}
_RECIPIENT_TYPE = {"enum": [str(member) for member in RecipientType]}

_REQUIRES = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "case_number": {"type": "boolean"},
        "offense_list": {"type": "string"},
        "narrative_min_length": {"type": "integer", "minimum": 0},
        "documents_any_of": {
            "type": "array",
            "items": {"enum": [str(member) for member in DocumentKind]},
            "uniqueItems": True,
        },
        "documents_signed_by_judge": {"type": "boolean"},
        "documents_verified_by": {"type": "integer", "minimum": 0},
    },
}

_PURPOSE_NODE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["description"],
    "properties": {
        "description": _TEXT,
        "refused": {"type": "boolean"},
        "requires": _REQUIRES,
        "children": {"type": "object", "additionalProperties": {"$ref": "#/$defs/purpose"}},
    },
}

BASELINE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$defs": {"purpose": _PURPOSE_NODE},
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "id", "description", "purposes", "offense_lists"],
    "properties": {
        "kind": {"const": "baseline"},
        "id": _ID,
        "description": _TEXT,
        "recipient_types": {"type": "object", "additionalProperties": _TEXT},
        "purposes": {"type": "object", "additionalProperties": {"$ref": "#/$defs/purpose"}},
        "offense_lists": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": _TEXT, "minItems": 1},
        },
        "immigration_keywords": {"type": "array", "items": _TEXT},
        "immigration_sensitive_fields": {
            "type": "array",
            "items": {"enum": sorted(FIELD_KINDS)},
        },
    },
}

_FIELD_SPEC = {
    "oneOf": [
        {"type": "string", "pattern": r"^[a-z_]+(:[a-z0-9]+(:[0-9]+)?)?$"},
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["op"],
            "properties": {
                "op": {"enum": [str(member) for member in Op]},
                "param": {"type": ["string", "integer"]},
                "why": _TEXT,
            },
        },
    ]
}

_AGREEMENT_PURPOSE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["code", "modes", "max_records", "retention_days", "fields"],
    "properties": {
        "code": _PURPOSE_CODE,
        "modes": {
            "type": "array",
            "items": {"enum": [str(Mode.SINGLE), str(Mode.BATCH)]},
            "minItems": 1,
            "uniqueItems": True,
        },
        "max_records": {"type": "integer", "minimum": 1},
        "retention_days": {"type": "integer", "minimum": 0},
        "human_review": {"type": "boolean"},
        "approvers": {"type": "integer", "minimum": 1, "maximum": 2},
        "labels": {"type": "array", "items": _TEXT},
        "include_non_conviction": {"type": "boolean"},
        "non_conviction_legal_basis": _TEXT,
        "allow_on_behalf_of": {"type": "array", "items": _RECIPIENT_TYPE, "uniqueItems": True},
        "requires": _REQUIRES,
        "exclude_tags": {
            "type": "array",
            "items": {"enum": [str(member) for member in FieldTag]},
            "uniqueItems": True,
        },
        "fields": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"enum": sorted(FIELD_KINDS)},
            "additionalProperties": _FIELD_SPEC,
        },
    },
}

AGREEMENT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "id", "description", "recipient", "status", "purposes"],
    "properties": {
        "kind": {"const": "agreement"},
        "id": _ID,
        "description": _TEXT,
        "recipient": {
            "type": "object",
            "additionalProperties": False,
            "required": ["type"],
            "properties": {
                "type": _RECIPIENT_TYPE,
                "names": {"type": "array", "items": _TEXT},
                "oris": {"type": "array", "items": _TEXT},
            },
        },
        "status": {"enum": ["active", "draft", "suspended"]},
        "approval_reference": {"type": ["string", "null"]},
        "consideration": {"enum": ["none", "money", "in_kind_data", "in_kind_services"]},
        "purposes": {"type": "array", "items": _AGREEMENT_PURPOSE, "minItems": 1},
    },
}

FORBID_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "id", "rule", "description", "would_need", "when"],
    "properties": {
        "kind": {"const": "forbid"},
        "id": _ID,
        "rule": _RULE_ID,
        "description": _TEXT,
        "would_need": _TEXT,
        "citation": _TEXT,
        "when": {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {
                "recipient_types": {"type": "array", "items": _RECIPIENT_TYPE},
                "recipient_names": {"type": "array", "items": _TEXT},
                "purposes": {"type": "array", "items": _PURPOSE_CODE},
                "modes": {"type": "array", "items": {"enum": [str(member) for member in Mode]}},
            },
        },
    },
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "baseline": BASELINE_SCHEMA,
    "agreement": AGREEMENT_SCHEMA,
    "forbid": FORBID_SCHEMA,
}
