"""The second factor's pages: the code, first enrolment, and a recovery code."""

from django.urls import path

from . import signin_views

app_name = "signin"
urlpatterns = [
    path("", signin_views.verify, name="verify"),
    path("enrol/", signin_views.enrol, name="enrol"),
    path("recovery/", signin_views.recovery, name="recovery"),
]
