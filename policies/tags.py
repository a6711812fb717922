"""Field sensitivity tags: which fields the county's tags take out of one release.

The tags are kept as data by the gateway (issue 2) and handed to ``decide`` as plain values; they are
never read from the request JSON, so a requester cannot untag a field. Tags only ever remove fields:
they cannot add a field to an allow-list, nor lift a built-in restriction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from policies.types import FieldTag

__all__ = ["FieldTags", "tagged_out"]

FieldTags = Mapping[str, Sequence[str]]
_IMMIGRATION_TAG = frozenset({str(FieldTag.IMMIGRATION_SENSITIVE)})


def tagged_out(
    field_tags: FieldTags | None, *, exclude: frozenset[str], immigration: bool
) -> tuple[str, ...]:
    """Field paths (or whole sections, e.g. ``person``) whose tags take them out of this release.

    ``immigration``: fields tagged ``immigration_sensitive`` join the engine's built-in
    immigration-sensitive set (IM-05). ``exclude``: the agreement purpose's ``exclude_tags``. A bare
    string counts as one tag; a value that is not a sequence raises, which ``decide`` turns into a
    deny. Sorted, so the answer can key the allow-list memo.
    """
    wanted = exclude | _IMMIGRATION_TAG if immigration else exclude
    if not field_tags or not wanted:
        return ()
    return tuple(
        sorted(
            path
            for path, tags in field_tags.items()
            if not wanted.isdisjoint((tags,) if isinstance(tags, str) else tags)
        )
    )
