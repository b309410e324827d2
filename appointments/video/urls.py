from django.urls import path

from . import webhooks

urlpatterns = [
    path("twilio/video", webhooks.twilio_video, name="video-webhook"),
]
