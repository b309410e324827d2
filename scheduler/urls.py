from django.contrib import admin
from django.urls import include, path

from .root_api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", api.urls),
    path("staff/", include("appointments.staff_urls")),
    path("webhooks/", include("appointments.video.urls")),
]
