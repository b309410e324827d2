from tests.video.support import (  # noqa: F401 - fixtures
    appointment,
    live_appointment,
    local_video,
    other_kiosk,
    other_worker,
    prism_url,
    twilio_credentials,
    twilio_video,
    worker,
)
