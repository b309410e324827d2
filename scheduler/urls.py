from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from .root_api import api

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", api.urls),
    path("staff/", include("appointments.staff_urls")),
    path("webhooks/", include("appointments.video.urls")),
    path("kiosk/", include("appointments.kiosk_urls")),
]
