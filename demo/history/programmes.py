"""The programmes' history: mentors and mentees, events, broadcasts, help-centre feedback."""

from __future__ import annotations

import random
from datetime import datetime

from demo.history.cast import Cast
from demo.history.replay import Replay


def queue_programmes(
    rng: random.Random, cast: Cast, replay: Replay, start: datetime, now: datetime
) -> None:
    """Queue the programme steps on the replay."""
