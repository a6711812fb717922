"""URL configuration."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from gateway.web import views
from gateway.web.admin import admin_site_protect

admin_site_protect()  # the admin asks for the same second factor as every staff page (CJ-04)

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", views.account, name="account"),
    path("account/two-factor/", views.enrol, name="enrol"),
    path("account/recovery-codes/", views.recovery_codes_renew, name="recovery_codes_renew"),
    path("health/", views.health, name="health"),
    path("desk/", include("gateway.web.clerk_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/", include("gateway.api.urls")),  # last under api/: it ends in a catch-all JSON 404
    path("admin/", admin.site.urls),
]
