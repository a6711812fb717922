"""URL configuration."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from gateway.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("health/", views.health, name="health"),
    path("desk/", include("gateway.web.clerk_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/", include("gateway.api.urls")),  # last under api/: it ends in a catch-all JSON 404
    path("admin/", admin.site.urls),
]
