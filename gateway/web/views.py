"""Thin web views: the signed-in home page and a health check."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from gateway.web.health import health_report_get


@login_required
def home(request: HttpRequest) -> HttpResponse:
    roles = sorted(request.user.groups.values_list("name", flat=True))
    return render(request, "gateway/home.html", {"roles": roles})


def health(request: HttpRequest) -> JsonResponse:
    """Each part's state for the county's monitoring: 200 when every required part is ok, else 503.

    Reveals no records, paths or keys (see gateway.web.health).
    """
    report = health_report_get()
    return JsonResponse(report.as_dict(), status=200 if report.healthy else 503)
