"""The county's field sensitivity tags, as the release path hands them to the policy engine."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from gateway.models import FieldSensitivity, SensitivityTag
from gateway.records.selectors import field_tags_get
from policies.types import FIELD_KINDS, FieldTag

pytestmark = pytest.mark.django_db


def test_seeded_tags_in_one_query(django_assert_num_queries) -> None:
    with django_assert_num_queries(1):
        tags = field_tags_get()
    assert "protected_trait" in tags["person.race"]
    assert "immigration_sensitive" in tags["person.address"]
    assert tags["charges.bond_amount"] == []


def test_every_releasable_field_has_a_tag_row() -> None:
    """Issue 2: every field carries tags; a field without a row could never be excluded by tag."""
    assert set(FIELD_KINDS) <= set(field_tags_get())


def test_stored_tags_must_be_tags_the_engine_knows() -> None:
    """An agreement's exclude_tags must name the tags exactly as the county stores them."""
    assert SensitivityTag is FieldTag
    row = FieldSensitivity(field="person.nickname", tags=["direct_identifier", "secret-ish"])
    with pytest.raises(ValidationError, match="secret-ish"):
        row.full_clean()
    row.tags = "direct_identifier"
    with pytest.raises(ValidationError, match="list of tag names"):
        row.full_clean()
    row.tags = [str(FieldTag.DIRECT_IDENTIFIER)]
    row.full_clean()


def test_a_county_edit_applies_to_the_next_read() -> None:
    FieldSensitivity.objects.filter(field="charges.bond_amount").update(
        tags=["immigration_sensitive"]
    )
    FieldSensitivity.objects.filter(field="person.address").delete()
    tags = field_tags_get()
    assert tags["charges.bond_amount"] == ["immigration_sensitive"]
    assert "person.address" not in tags


def test_a_bare_string_is_one_tag() -> None:
    FieldSensitivity.objects.filter(field="housing").update(tags="immigration_sensitive")
    assert field_tags_get()["housing"] == ["immigration_sensitive"]


@pytest.mark.parametrize(
    "garbage", [{"immigration_sensitive": True}, 7, ["protected_trait", 3], False]
)
def test_unreadable_tags_raise_so_the_release_denies(garbage: object) -> None:
    FieldSensitivity.objects.filter(field="person.race").update(tags=garbage)
    with pytest.raises(ValueError, match=r"person\.race"):
        field_tags_get()
