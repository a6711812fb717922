"""The clerk's desk, under /desk/ (issue 9)."""

from django.urls import path

from gateway.web import clerk

urlpatterns = [
    path("requests/", clerk.queue, name="desk-queue"),
    path("requests/new/", clerk.request_new, name="desk-new"),
    path("requests/<str:request_id>/", clerk.request_page, name="desk-request"),
    path("requests/<str:request_id>/approve/", clerk.request_approve_view, name="desk-approve"),
    path("requests/<str:request_id>/deny/", clerk.request_deny_view, name="desk-deny"),
    path("lookup/", clerk.lookup, name="desk-lookup"),
]
