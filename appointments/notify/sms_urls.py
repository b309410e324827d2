"""Staff pages for SMS, under /staff/sms/: the local outbox and the messages to follow up."""

from django.urls import path

from . import sms_views

app_name = "sms"

urlpatterns = [
    path("sms/outbox/", sms_views.outbox, name="outbox"),
    path("sms/problems/", sms_views.problems, name="problems"),
    path("sms/problems/<int:notification_id>/handled", sms_views.problem_handled, name="handled"),
]
