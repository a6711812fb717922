"""Reads of the county's field sensitivity tags, handed to the policy engine as plain values.

The tags are data (issue 2) so that policies are written against them: ``policies.services.decide``
takes them as ``field_tags`` on every release. They come from here, never from the request, so a
requester cannot untag a field; and tags only ever remove fields, so a county deleting a row can
never lift the engine's built-in restrictions.
"""

from __future__ import annotations

from typing import Any

from gateway.records.sensitivity import FieldSensitivity

__all__ = ["field_tags_get"]


def _tag_list(field: str, tags: Any) -> list[str]:
    """A row's tags as a list of names; anything unreadable raises, so the release denies."""
    if isinstance(tags, str):
        return [tags]
    if isinstance(tags, list) and all(isinstance(tag, str) for tag in tags):
        return list(tags)
    raise ValueError(f"field sensitivity tags of {field!r} are not a list of tag names: {tags!r}")


def field_tags_get() -> dict[str, list[str]]:
    """Every field's tags, ``{"person.race": ["quasi_identifier", "protected_trait"], ...}``.

    One query. Not cached: a county's tag edit must apply to the very next release.
    """
    rows = FieldSensitivity.objects.values_list("field", "tags")
    return {field: _tag_list(field, tags) for field, tags in rows}
