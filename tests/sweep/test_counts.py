"""Counts derived from a sweep or scenario file are bounded, with a message giving the cap:
ranges whose count overflows, lists of batches or axis values of any length."""

from __future__ import annotations

import math
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.errors import AccelsimError, ScenarioError
from accelsim.scenario import load_scenario
from accelsim.scenario.axes import MAX_RANGE, Range

FINITE = st.floats(allow_nan=False, allow_infinity=False)


@pytest.mark.parametrize("given", [
    Range(0, 1e308, step=1e-300), Range(-1.7e308, 1.7e308, step=1.0),
    Range(1e-300, 1e300, step=1e200, scale="log"), Range(-1.7e308, 1.7e308, num=3),
    Range(1, 1e308, step=1 + 1e-15, scale="log")])
def test_ranges_that_overflowed_give_the_cap_or_say_what_overflows(given):
    with pytest.raises(AccelsimError, match=r"at most 1,000,000|overflow a float"):
        given.values()


@settings(max_examples=300, deadline=None)
@given(start=FINITE, stop=FINITE, step=st.one_of(st.none(), FINITE),
       num=st.integers(1, 2 * MAX_RANGE), log=st.booleans(), integer=st.booleans())
def test_any_finite_range_gives_finite_values_within_the_cap_or_an_error(start, stop, step, num,
                                                                         log, integer):
    given = Range(start, stop, num=None if step is not None else num, step=step,
                  scale="log" if log else "linear", integer=integer)
    started = time.perf_counter()
    try:
        values = given.values()
    except AccelsimError:
        return
    finally:
        assert time.perf_counter() - started < 5.0
    assert 1 <= len(values) <= MAX_RANGE
    assert all(math.isfinite(v) for v in values)


def _scenario(tmp_path, body: str):
    path = tmp_path / "s.toml"
    path.write_text('[scenario]\nname = "counts"\n' + body)
    return path


def test_a_run_lists_at_most_1000_batches_and_says_so_at_once(tmp_path):
    path = _scenario(tmp_path, '[[machines]]\npreset = "tpu-v1"\n[run]\nnetworks = '
                     f'["lenet5"]\nbatch = {list(range(1, 50_001))}\n')
    started = time.perf_counter()
    with pytest.raises(ScenarioError, match=r"run\.batch lists 50,000 values; give at most "
                                            r"1,000"):
        load_scenario(path)
    assert time.perf_counter() - started < 2.0


def test_long_axis_lists_load_in_linear_time_and_repeats_are_still_found(tmp_path):
    values = list(range(1, 50_001))
    path = _scenario(tmp_path, '[sweep]\nmachine = "tpu-v1"\nnetworks = ["lenet5"]\n'
                     f'[sweep.axes]\nbatch = {values}\n')
    started = time.perf_counter()
    assert load_scenario(path).sweep.count() == 50_000
    assert time.perf_counter() - started < 3.0  # 10 s before: a repeat check per value
    path = _scenario(tmp_path, '[sweep]\nmachine = "tpu-v1"\nnetworks = ["lenet5"]\n'
                     f'[sweep.axes]\nbatch = {[*values, 7]}\n')
    with pytest.raises(ScenarioError, match=r"batch\[50000\] = 7 is listed twice"):
        load_scenario(path)
