"""API routes. The last one answers every other path under /api/ with a JSON 404."""

from django.urls import include, path, re_path

from gateway.api.views import ReleaseView, not_found

urlpatterns = [
    path("releases/", ReleaseView.as_view(), name="api-releases"),
    path("v1/", include("gateway.api.v1.urls")),
    re_path(r"", not_found, name="api-not-found"),
]
