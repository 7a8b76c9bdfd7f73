"""Demo figures per level: what keeps each demo member exactly at their level."""

from __future__ import annotations

from onboarding.levels.defaults import DEFAULT_LEVELS

# Figures that keep each demo member exactly at their level under the default ladder
# (onboarding.levels.defaults): every level up to theirs met in full, the next one missed by
# the job count — so the first daily evaluation neither promotes nor demotes the demo crowd.
LEVEL_JOBS = {0: (0, 0), 1: (0, 9), 2: (10, 45), 3: (50, 160), 4: (200, 320)}
LEVEL_TENURE_DAYS = {1: (5, 400), 2: (45, 650), 3: (200, 720), 4: (380, 730)}
# Days of tenure a level asks for: a promotion to it happened no earlier.
PROMOTION_TENURE_DAYS = {2: 30, 3: 180, 4: 365}
LEVEL_RATING_FLOOR = {2: 4.35, 3: 4.62, 4: 4.82}
LEVEL_ACCEPTANCE = {3: (0.62, 0.9), 4: (0.72, 0.92)}
LEVEL_CANCELLATION = {4: 0.025}
LEVEL_DISPUTES = {3: 0.03, 4: 0.012}
LEVEL_VERIFIED_SKILLS = {3: 2, 4: 4}
LEVEL_TRAINING = {3: (2, 4), 4: (4, 5)}
LEVEL_CAPS = {level["rank"]: level["max_concurrent_jobs"] for level in DEFAULT_LEVELS}
