from django.urls import path

from . import dashboard, petitions, planning, reports, residents, slips, views

app_name = "staff"

urlpatterns = [
    path("", views.home, name="home"),
    path("sessions/", views.my_sessions, name="sessions"),
    path("sessions/<int:appointment_id>/join/", views.join, name="join"),
    path("sessions/<int:appointment_id>/end", views.end, name="end"),
    path("community/", views.community_today, name="community"),
    path("community/check-in/<int:appointment_id>", views.check_in, name="check-in"),
    path("community/slips/", slips.slip_list, name="slips"),
    path("community/slips/<int:slip_id>/close", slips.slip_close_page, name="slip-close"),
    path("office/", views.office, name="office"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("office/flags/<int:session_id>/clear", views.flag_clear, name="flag-clear"),
    path("residents/name/", residents.resident_name, name="resident-name"),
    path("petitions/", petitions.petition_list, name="petitions"),
    path("petitions/<str:reference>/", petitions.petition_detail, name="petition"),
    path("hours/", views.hours_index, name="hours"),
    path("hours/<slug:code>/", views.hours_department, name="hours-department"),
    path("planning/", planning.planning, name="planning"),
    path("reports/weekly/", reports.weekly_report, name="report"),
]
