"""Shared builders for the registry and document tests: staff users and a plain PDF."""

from __future__ import annotations

from django.contrib.auth.models import Group, User

from gateway.recipients.roles import Role
from gateway.recipients.services import staff_role_qualify


def pdf(pages: int = 1, extra: bytes = b"") -> bytes:
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(pages))
    body = [
        b"%PDF-1.4",
        b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj",
        b"2 0 obj << /Type /Pages /Kids [" + kids + b"] /Count %d >> endobj" % pages,
        *(b"%d 0 obj << /Type /Page /Parent 2 0 R >> endobj" % (3 + i) for i in range(pages)),
        extra,
        b"trailer << /Root 1 0 R >>",
        b"%%EOF",
    ]
    return b"\n".join(body)


def staff(username: str, role: Role = Role.CLERK) -> User:
    user = User.objects.create_user(username=username, password="x")
    user.groups.add(Group.objects.get_or_create(name=str(role))[0])
    staff_role_qualify(user=user, role=role)  # CJ-06: a role works only while qualified
    return user
