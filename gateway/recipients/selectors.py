"""Reads of the recipient registry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.recipients.models import RecipientAccount

__all__ = ["recipient_registered"]


def recipient_registered(*, party: Mapping[str, Any]) -> bool:
    """Whether ``party`` (type, name, ORI) is a registered recipient with an active account.

    An ORI, when both sides have one, must match; otherwise type and name must (case-insensitive).
    Used for proxies and for reveals, where the gateway must know, not trust, who a party is.
    """
    kind = str(party.get("type") or "").strip()
    name = str(party.get("name") or "").strip()
    ori = str(party.get("ori") or "").strip()
    if not kind or not (name or ori):
        return False
    active = RecipientAccount.objects.filter(recipient_type=kind, active=True)
    if ori and active.filter(ori__iexact=ori).exists():
        return True
    return bool(name) and active.filter(name__iexact=name).exists()
