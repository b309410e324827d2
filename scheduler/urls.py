from django.contrib import admin
from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404
from django.urls import include, path
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView

from .health import health
from .root_api import api


@require_GET
@cache_control(max_age=7 * 24 * 3600, public=True)
def favicon(request):
    """Answer the /favicon.ico that browsers ask every site for, with the icon kept in static/."""
    found = finders.find("favicon.ico")
    if not found:
        raise Http404
    return FileResponse(open(found, "rb"), content_type="image/x-icon")  # noqa: SIM115 - FileResponse closes it


urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("health/", health, name="health"),  # for load balancers: database, cache, task worker (200 or 503)
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("admin/", admin.site.urls),
    path("accounts/second-factor/", include("departments.signin_urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", api.urls),
    path("staff/", include("appointments.staff.urls")),
    # SMS outbox and delivery problems (staff/sms/…), and calendar feed management (staff/calendar/…).
    path("staff/", include("appointments.notify.sms_urls")),
    path("", include("appointments.notify.calendar_urls")),
    # Pages a resident opens from an SMS on their own phone (rating an answer).
    path("", include("appointments.notify.public_urls")),
    path("webhooks/", include("appointments.video.urls")),
    path("webhooks/", include("appointments.notify.webhook_urls")),
    path("kiosk/", include("appointments.kiosk.urls")),
    path("kiosk/", include("appointments.kiosk.voice_urls")),  # read aloud and 大字, on every kiosk screen
]
