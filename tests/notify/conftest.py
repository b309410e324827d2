"""Fixtures shared by the notify tests: Prism for Twilio's Video and Messaging APIs, Twilio settings, people."""

import pytest
from django.utils import translation

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


@pytest.fixture(autouse=True)
def chinese_by_default():
    """Start each test in the site's default language, whatever an earlier test left active in this thread."""
    with translation.override("zh-hans"):
        yield
