"""Periodic jobs: a kind enqueued once per slot of its schedule (every N seconds, or a
cron expression), however many workers run it.

    await work(queue, ["digest"], digest, periodic=[Periodic("digest", Cron("0 7 * * 1"))])

Each worker's scheduler asks the queue for the latest slot's job every `tick`;
`JobQueue.enqueue_slot` makes the askers take turns and enqueues the slot's job only
when none exists for it in any status (its dedup key names the slot). Slots missed
while no worker ran are not made up: only the latest one is enqueued.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from attrs import field, frozen

from tether.errors import InvalidValue
from tether.tutor.records import ONCE, Retry

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class Schedule(Protocol):
    def slot(self, now: dt.datetime) -> dt.datetime:
        """The latest slot at or before `now` (UTC)."""
        ...


@frozen
class Every:
    """Slots `interval` apart, counted from the Unix epoch (so every worker agrees)."""

    interval: dt.timedelta

    def __attrs_post_init__(self) -> None:
        if self.interval < dt.timedelta(seconds=1):
            raise InvalidValue("tutor.jobs: a periodic interval is 1 second or more")

    def slot(self, now: dt.datetime) -> dt.datetime:
        return now - (now - EPOCH) % self.interval


# (name, lowest, highest) of the five cron fields, in order.
FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("weekday", 0, 7))


def _values(text: str, name: str, low: int, high: int) -> frozenset[int]:
    """The values one cron field allows: `*`, `n`, `a-b`, any of them `/step`, lists."""
    allowed: set[int] = set()
    for part in text.split(","):
        span, _, step_text = part.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if span == "*":
                first, last = low, high
            elif "-" in span:
                first, last = (int(n) for n in span.split("-", 1))
            else:
                first = last = int(span)
        except ValueError:
            raise InvalidValue(f"tutor.jobs: cron {name} {part!r} is not a number") from None
        if not low <= first <= last <= high or step < 1:
            raise InvalidValue(f"tutor.jobs: cron {name} {part!r} is outside {low}-{high}")
        allowed.update(range(first, last + 1, step))
    return frozenset(allowed)


@frozen
class Cron:
    """Slots of a five-field cron expression in UTC (minute hour day month weekday;
    `*`, `n`, `a-b`, `/step`, lists; weekday 0 or 7 is Sunday; when both day and
    weekday are restricted either one matching is enough, as in cron)."""

    expression: str
    fields: tuple[frozenset[int], ...] = field(init=False)
    # Cron's rule: with both day and weekday restricted, either one matching will do.
    either_day: bool = field(init=False)

    def __attrs_post_init__(self) -> None:
        parts = self.expression.split()
        if len(parts) != len(FIELDS):
            raise InvalidValue("tutor.jobs: a cron expression has 5 fields")
        values = tuple(_values(part, *spec) for part, spec in zip(parts, FIELDS, strict=True))
        object.__setattr__(self, "fields", values)
        object.__setattr__(self, "either_day", parts[2] != "*" and parts[4] != "*")

    def _day_matches(self, t: dt.datetime) -> bool:
        _, _, days, months, weekdays = self.fields
        weekday = (t.weekday() + 1) % 7  # cron: Sunday is 0 (or 7)
        day_ok = t.day in days
        weekday_ok = weekday in weekdays or (weekday == 0 and 7 in weekdays)
        on_day = (day_ok or weekday_ok) if self.either_day else (day_ok and weekday_ok)
        return t.month in months and on_day

    def slot(self, now: dt.datetime) -> dt.datetime:
        minutes, hours = self.fields[0], self.fields[1]
        t = now.astimezone(dt.UTC).replace(second=0, microsecond=0)
        minute = dt.timedelta(minutes=1)
        for _ in range(8 * 366 * 24):  # days, hours and minutes stepped back: 8 years
            if not self._day_matches(t):
                t = t.replace(hour=0, minute=0) - minute
            elif t.hour not in hours:
                t = t.replace(minute=0) - minute
            elif t.minute not in minutes:
                t -= minute
            else:
                return t
        raise InvalidValue(f"tutor.jobs: cron {self.expression!r} never matches")


@frozen
class Periodic:
    """A kind enqueued once per slot of `schedule`, with `payload`, retried as `retry`."""

    kind: str
    schedule: Schedule
    payload: Any = None
    retry: Retry = ONCE
