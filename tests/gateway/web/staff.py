"""Staff accounts for web tests, and TOTP codes computed the way an authenticator app does (RFC 6238)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.test import Client

from gateway.recipients.roles import Role
from gateway.recipients.services import (
    staff_role_qualify,
    totp_device_create,
    totp_secret_base32,
    user_create_with_role,
)

PASSWORD = "staff-test-password-0123"


def totp_code(secret_base32: str, *, at: float | None = None, step: int = 30) -> str:
    """The six digits an authenticator shows for ``secret_base32`` now (no django-otp involved)."""
    key = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8))
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


@dataclass
class Staff:
    user: User
    secret: str  # base32
    password: str = PASSWORD

    @property
    def username(self) -> str:
        return self.user.get_username()

    def sign_in(self, client: Client, *, code: str | None = None) -> Any:
        return client.post(
            "/login/",
            {
                "username": self.username,
                "password": self.password,
                "otp_token": totp_code(self.secret) if code is None else code,
            },
        )


def staff_create(
    username: str = "clerk.one", role: Role = Role.CLERK, *, qualified: bool = True
) -> Staff:
    user = user_create_with_role(username=username, password=PASSWORD, role=role)
    if qualified:
        staff_role_qualify(user=user, role=role)
    device = totp_device_create(user=user)
    return Staff(user=user, secret=totp_secret_base32(key_hex=device.key))
