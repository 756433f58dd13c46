"""Budget repair of a derived architecture: greedy along the logits."""

import numpy as np
import pytest

from fbnetv2_tf.cost.counting import count_arch
from fbnetv2_tf.search import derive
from fbnetv2_tf.specs import builtin_spaces


def _mflops(space):
  return lambda c: count_arch(derive.derive_arch(space, c), 10).mflops


def _random_logits(space, seed):
  rng = np.random.default_rng(seed)
  return {d.name: rng.normal(0, 2, d.size) for d in space.decisions()}


@pytest.mark.parametrize("seed", range(5))
def test_repaired_choices_meet_the_budget(seed):
  space = builtin_spaces.tiny32()
  logits = _random_logits(space, seed)
  cost = _mflops(space)
  start = cost(derive.argmax_choices(logits))
  target = 0.6 * start
  choices, changes = derive.fit_budget(space, logits, cost, target)
  assert cost(choices) <= target
  assert changes >= 1
  # Every change moved a decision away from the argmax.
  argmax = derive.argmax_choices(logits)
  assert sum(choices[k] != argmax[k] for k in argmax) <= changes


def test_choices_under_budget_are_left_alone():
  space = builtin_spaces.tiny32()
  logits = _random_logits(space, 7)
  cost = _mflops(space)
  argmax = derive.argmax_choices(logits)
  choices, changes = derive.fit_budget(space, logits, cost, cost(argmax))
  assert (choices, changes) == (argmax, 0)


def test_the_cheapest_probability_loss_per_cost_goes_first():
  space = builtin_spaces.tiny32()
  logits = {d.name: np.zeros(d.size) for d in space.decisions()}
  # The resolution is almost a tie between its first two options; any other
  # step down would give up a lot of probability.
  for name in logits:
    logits[name][-1] = 10.0
  logits["resolution"] = np.array([5.0, 4.99, -10.0])
  cost = _mflops(space)
  argmax = derive.argmax_choices(logits)
  target = cost({**argmax, "resolution": 1})
  choices, changes = derive.fit_budget(space, logits, cost, target)
  assert changes == 1 and choices == {**argmax, "resolution": 1}


def test_an_impossible_budget_is_an_error():
  space = builtin_spaces.tiny32()
  with pytest.raises(ValueError, match="costs at most"):
    derive.fit_budget(space, _random_logits(space, 0), _mflops(space), 1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_a_cheap_argmax_is_filled_up_into_the_band(seed):
  space = builtin_spaces.tiny32()
  logits = _random_logits(space, seed)
  cost = _mflops(space)
  start = cost(derive.argmax_choices(logits))
  target = min(2.5 * start, 1.2)  # the largest child costs 1.66
  assert target > start
  choices, changes = derive.fit_budget(space, logits, cost, target,
                                       lower=0.9 * target)
  assert 0.9 * target <= cost(choices) <= target
  assert changes >= 1


def test_an_undecided_decision_is_flipped_once_rather_than_compensated():
  """Resolution 32 vs 24 left at 50/50 with the argmax on 32: flipping the
  resolution alone lands in the band, and costs no probability."""
  space = builtin_spaces.tiny32()
  cost = _mflops(space)
  logits = {d.name: np.eye(d.size)[d.size - 1] * 5.0 for d in space.decisions()}
  logits["resolution"] = np.array([1.0, 1.0 - 1e-6, -5.0])
  argmax = derive.argmax_choices(logits)
  assert argmax["resolution"] == 0
  low_res = cost({**argmax, "resolution": 1})
  target = low_res / 0.95
  assert cost(argmax) > target  # the argmax misses the band
  choices, changes = derive.fit_budget(space, logits, cost, target,
                                       lower=0.9 * target)
  assert changes == 1
  assert choices == {**argmax, "resolution": 1}
