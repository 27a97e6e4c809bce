"""How many due feeds one claim leases: a pool's worth at first, then about two seconds of work
at the cycle's pace, never more than 20 pools."""

from __future__ import annotations

import pytest

from bot.poll_decisions import claim_size


@pytest.mark.parametrize(
    ("done", "elapsed", "pool", "expected"),
    [
        (0, 0.0, 50, 50),  # the first claim: nothing measured yet
        (0, 3.0, 50, 50),  # nothing finished in 3 s (slow feeds): a pool at a time
        (30, 60.0, 50, 50),  # 0.5 feeds/s: still a pool, never less
        (500, 1.0, 50, 1000),  # 500 feeds/s: 2 s of work
        (5000, 1.0, 50, 1000),  # 5,000 feeds/s: capped at 20 pools
        (100, 1.0, 50, 200),
        (10, 1.0, 0, 20),  # a pool of 0 counts as 1
    ],
)
def test_claim_size(done: int, elapsed: float, pool: int, expected: int) -> None:
    assert claim_size(done, elapsed, pool) == expected
