"""Thin web views: the signed-in home page and a health check."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


@login_required
def home(request: HttpRequest) -> HttpResponse:
    roles = sorted(request.user.groups.values_list("name", flat=True))
    return render(request, "gateway/home.html", {"roles": roles})


def health(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for the county's monitoring; reveals no records."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
