"""Defaults and limits that more than one part of TwinTrain applies, written once.

The CLI, the session and the app's Worker Limits dialog must agree: a hang timeout that is 120 s
on the command line and something else in the app would make the two runs differ for no reason
a user could see.
"""

from __future__ import annotations

HANG_TIMEOUT_S = 120.0  # a worker that sends nothing this long is declared unresponsive
MIN_HANG_TIMEOUT_S = 5.0  # below it a framework's import alone would trip the timeout
START_TIMEOUT_S = 300.0  # the floor of the hang timeout while a worker imports and builds
MIN_MEMORY_MB = 64  # less than any framework needs just to start: a lower cap is a typo
MAX_WARMUP_STEPS = 5  # leading steps left out of step-time figures (engine.summary.warmup_steps)
