"""Fixtures shared by the notify tests: Prism for Twilio's Video and Messaging APIs, Twilio settings, people."""

from tests.notify.engine_support import clock, local_sms, scripted  # noqa: F401 - fixtures
from tests.notify.twilio_api import prism_api  # noqa: F401 - fixture
from tests.video.support import (  # noqa: F401 - fixtures
    appointment,
    other_kiosk,
    other_worker,
    prism_url,
    twilio_credentials,
    worker,
)
