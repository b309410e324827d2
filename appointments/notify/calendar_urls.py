"""Calendar addresses: an appointment's .ics file, the subscribable feeds, and the staff page that manages feeds."""

from django.urls import path

from .calendar_views import appointment_ics_download, feed_ics, feeds_page

app_name = "calendars"

urlpatterns = [
    path("calendar/appointments/<str:token>.ics", appointment_ics_download, name="appointment"),
    path("calendar/feeds/<str:token>.ics", feed_ics, name="feed"),
    path("staff/calendar/", feeds_page, name="staff-feeds"),
]
