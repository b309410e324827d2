"""API rate limits read from settings on each request, counted in the shared cache (Redis in production)."""

from django.conf import settings
from django.http import HttpRequest
from ninja.throttling import AnonRateThrottle, AuthRateThrottle


class _RateFromSettings:
    setting_name: str

    def __init__(self) -> None:
        # The real rate is read per request, so that it can be changed without rebuilding the API.
        super().__init__(rate="1/s")  # type: ignore[call-arg]

    def allow_request(self, request: HttpRequest) -> bool:
        rate = getattr(settings, self.setting_name, None)
        if not rate:
            return True
        self.rate = rate
        self.num_requests, self.duration = self.parse_rate(rate)  # type: ignore[attr-defined]
        return super().allow_request(request)  # type: ignore[misc]


class AnonymousThrottle(_RateFromSettings, AnonRateThrottle):
    """Public reads (departments, open times), per client address."""

    setting_name = "API_THROTTLE_ANONYMOUS"


class CallerThrottle(_RateFromSettings, AuthRateThrottle):
    """Everything a kiosk or a staff member does, per kiosk or per staff member."""

    setting_name = "API_THROTTLE_CALLER"
