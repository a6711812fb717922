"""API routes."""

from django.urls import path

from gateway.api.views import ReleaseView

urlpatterns = [
    path("releases/", ReleaseView.as_view(), name="api-releases"),
]
