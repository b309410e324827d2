from django.urls import path

from . import residents, views

app_name = "staff"

urlpatterns = [
    path("", views.home, name="home"),
    path("sessions/", views.my_sessions, name="sessions"),
    path("sessions/<int:appointment_id>/join/", views.join, name="join"),
    path("sessions/<int:appointment_id>/token", views.token, name="token"),
    path("sessions/<int:appointment_id>/end", views.end, name="end"),
    path("community/", views.community_today, name="community"),
    path("community/check-in/<int:appointment_id>", views.check_in, name="check-in"),
    path("office/", views.office, name="office"),
    path("office/flags/<int:session_id>/clear", views.flag_clear, name="flag-clear"),
    path("residents/name/", residents.resident_name, name="resident-name"),
    path("hours/", views.hours_index, name="hours"),
    path("hours/<slug:code>/", views.hours_department, name="hours-department"),
]
