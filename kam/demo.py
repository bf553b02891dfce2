"""Helpers that every app's demo generator shares (`manage.py seed_demo`, `seed_opportunities`, ...): a
`Summary` of what was written and how long each step took, and `TimedSteps`, the base that times and reports
each step. Generic on purpose: no app's models here."""

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Summary:
    counts: Counter = field(default_factory=Counter)  # keyed by translatable labels (lazy strings)
    timings: dict[str, float] = field(default_factory=dict)


class TimedSteps:
    """A demo generator's steps, each timed into `self.summary.timings` and reported through `self.progress`."""

    summary: Summary
    progress: Callable[[str], object]

    def _timed(self, label: str, step: Callable[[], object]) -> None:
        started = time.monotonic()
        step()
        self.summary.timings[label] = time.monotonic() - started
        self.progress(f"{label}: {self.summary.timings[label]:.1f}s")
