"""Admin registrations, by domain (Django discovers this module). No record model is ever registered."""

from gateway.recipients import admin as recipients_admin  # noqa: F401
