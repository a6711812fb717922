"""API v1 routes, mounted at /api/v1/ before the catch-all JSON 404 of gateway/api/urls.py."""

from django.urls import path

from gateway.api.v1.views import RequestDetailView, RequestListView

urlpatterns = [
    path("requests", RequestListView.as_view(), name="api-v1-requests"),
    path("requests/<str:request_id>", RequestDetailView.as_view(), name="api-v1-request"),
]
