"""Rate limits of the API and the console's sign-in: sliding one-minute windows per key, kept
in this process (each API process of a deployment counts for itself)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from starlette.requests import Request

from policies import Policy
from service.errors import ServiceError

WINDOW_SECONDS = 60.0
MAX_KEYS = 100_000  # the oldest keys are forgotten first, so a flood cannot exhaust memory


class RateLimited(ServiceError):
    kind = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class Window:
    """At most ``per_minute`` events per key in any 60 seconds."""

    per_minute: int
    _events: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: str, now: float) -> deque[float]:
        events = self._events.get(key)
        if events is None:
            events = self._events[key] = deque()
            while len(self._events) > MAX_KEYS:
                self._events.popitem(last=False)
        self._events.move_to_end(key)
        while events and events[0] <= now - WINDOW_SECONDS:
            events.popleft()
        return events

    def _wait(self, events: deque[float], now: float) -> int:
        """Whole seconds until the oldest event leaves the window, if the window is full."""
        if len(events) < self.per_minute:
            return 0
        return max(1, int(events[0] + WINDOW_SECONDS - now + 0.999))

    def wait(self, key: str, now: float | None = None) -> int:
        """Seconds until ``key`` may act again (0: it may now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return self._wait(self._recent(key, now), now)

    def hit(self, key: str, now: float | None = None) -> int:
        """Count an event of ``key``; return the seconds to wait if it went over the limit."""
        now = time.monotonic() if now is None else now
        with self._lock:
            events = self._recent(key, now)
            if wait := self._wait(events, now):
                return wait
            events.append(now)
            return 0


@dataclass
class Limits:
    sign_in_failures: Window
    token_failures: Window
    requests: Window
    public: Window  # pages read without signing in, per client address

    @classmethod
    def of(cls, policy: Policy) -> Limits:
        api = policy.api
        return cls(Window(api["sign_in_failures_per_minute"]),
                   Window(api["token_failures_per_minute"]),
                   Window(api["requests_per_minute"]),
                   Window(policy.web.public_requests_per_minute))


class PublicPagesOff(ServiceError):
    kind = "not_found"


def admit_public(request: Request) -> None:
    """A dependency of what is read without signing in (the public pages and their API): the
    policy publishes them, and the client's address is within its rate."""
    if not request.app.state.home.policy.web.public_pages:
        raise PublicPagesOff("the platform publishes no public pages")
    address = request.client.host if request.client else "?"
    if wait := request.app.state.limits.public.hit(f"public:{address}"):
        raise RateLimited(f"too many requests: wait {wait} s and try again", wait)
