"""How long the fuzzers and the soak run: short in `make test`, as long as before with
TWINTRAIN_LONG_TESTS=1 (`TWINTRAIN_LONG_TESTS=1 make test`). bench/soak.py and
bench/fuzz_loader.py run the long versions on their own.
"""

from __future__ import annotations

import os

LONG = os.environ.get("TWINTRAIN_LONG_TESTS") == "1"


def examples(long: int) -> int:
    """Hypothesis examples for a fuzzer: `long` under TWINTRAIN_LONG_TESTS=1, a third (at
    least 50) in the default run."""
    return long if LONG else max(50, long // 3)
