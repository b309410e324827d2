"""Pages a resident opens from an SMS on their own phone, with no login: rating an answer."""

from django.urls import path

from . import public_views

app_name = "notify_public"

urlpatterns = [
    path("r/<str:token>/", public_views.rate, name="rate"),
]
