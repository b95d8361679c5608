"""bench.load's output lengths: a spread around the mean, the same mean, a fixed order."""

from __future__ import annotations

import pytest

from bench.load import output_lengths


def test_no_spread_is_one_length() -> None:
    assert output_lengths(128, 0) == [128]


def test_a_spread_covers_every_length_once_and_keeps_the_mean() -> None:
    lengths = output_lengths(128, 64)
    assert sorted(lengths) == list(range(64, 193))
    assert sum(lengths) / len(lengths) == 128
    assert lengths != sorted(lengths)  # shuffled, so neighbours differ in length
    assert lengths == output_lengths(128, 64)  # the same order every run


@pytest.mark.parametrize("spread", [-1, 128, 200])
def test_a_spread_that_would_reach_zero_is_refused(spread: int) -> None:
    with pytest.raises(SystemExit):
        output_lengths(128, spread)
