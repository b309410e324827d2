"""The kiosk's voice and large-text switches and its spoken clips (beside the kiosk's screens, not among them)."""

from django.urls import path

from . import voice_views

app_name = "kiosk_voice"

urlpatterns = [
    path("voice/", voice_views.voice_switch, name="switch"),
    path("voice/say/<str:token>/", voice_views.say, name="say"),
    path("elder/", voice_views.elder_switch, name="elder"),
]
