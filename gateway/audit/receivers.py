"""Sign-ins, failed sign-ins, lockouts and sign-outs reach the one audit writer (CJIS 5.4.1.1: logon events).

Django announces these as signals; the receivers only translate them into ``audit_event_record`` calls.
A failed sign-in records a keyed hash of the username typed, never the text: people type passwords into
the username box.
"""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from gateway.audit.models import AuditAction, ReleaseEffect
from gateway.audit.services import audit_event_record, subject_ref

__all__: list[str] = []


def _channel(request: Any) -> str:
    path = str(getattr(request, "path", "") or "")
    return "api" if path.startswith("/api/") else "web"


@receiver(user_logged_in, dispatch_uid="custodian-audit-sign-in")
def _signed_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_event_record(
        action=AuditAction.SIGN_IN,
        actor=user.get_username(),
        outcome=ReleaseEffect.PERMIT,
        detail={"channel": _channel(request)},
    )


@receiver(user_logged_out, dispatch_uid="custodian-audit-sign-out")
def _signed_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_event_record(
        action=AuditAction.SIGN_OUT,
        actor=user.get_username() if user is not None else "anonymous",
        outcome=ReleaseEffect.PERMIT,
        detail={"channel": _channel(request)},
    )


@receiver(user_login_failed, dispatch_uid="custodian-audit-sign-in-failed")
def _sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    typed = str(credentials.get("username") or "")
    audit_event_record(
        action=AuditAction.SIGN_IN_FAILED,
        actor="anonymous",
        outcome=ReleaseEffect.DENY,
        subject_refs=[subject_ref(kind="username", value=typed)] if typed else [],
        detail={"channel": _channel(request)},
    )


@receiver(user_locked_out, dispatch_uid="custodian-audit-account-locked")
def _locked_out(sender: Any, request: Any = None, username: Any = None, **kwargs: Any) -> None:
    """django-axes locked a username+IP (CJ-04): who, as a keyed hash, never the text typed."""
    typed = str(username or "")
    audit_event_record(
        action=AuditAction.ACCOUNT_LOCKED,
        actor="anonymous",
        outcome=ReleaseEffect.DENY,
        subject_refs=[subject_ref(kind="username", value=typed)] if typed else [],
        detail={"channel": _channel(request)},
    )
