"""Fixtures the API tests share.

The endpoint contract lives outside a test module; pytest rewrites its asserts all the same.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from gateway.models import RecipientAccount

pytest.register_assert_rewrite("tests.gateway.api.mixins")


@pytest.fixture
def vendor() -> APIClient:
    user = User.objects.create_user(username="vendor-user", password="x" * 16)
    RecipientAccount.objects.create(user=user, recipient_type="vendor", name="Biometrica")
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client
