"""The endpoint contract lives outside a test module; have pytest rewrite its asserts all the same."""

import pytest

pytest.register_assert_rewrite("tests.gateway.api.mixins")
