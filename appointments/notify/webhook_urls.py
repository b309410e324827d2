"""Provider callbacks for SMS (signed by Twilio)."""

from django.urls import path

from . import webhooks

urlpatterns = [
    path("twilio/sms", webhooks.twilio_sms, name="sms-webhook"),
]
