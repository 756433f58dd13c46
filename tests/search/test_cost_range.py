"""The cheapest and dearest child of a space, against exhaustive search."""

import itertools

import numpy as np
import pytest

from fbnetv2_tf.cost.latency_table import LatencyTable, required_keys
from fbnetv2_tf.search import derive
from fbnetv2_tf.search.cost_range import cost_range
from fbnetv2_tf.specs import builtin_spaces
from fbnetv2_tf.specs.search_space import SearchSpace
from fbnetv2_tf.specs.space_plan import plan_space

# Small enough to enumerate (2,304 children), with what makes the dynamic
# program non-trivial: a searched stem width feeding a block, a width
# shared by two blocks (a residual pair), a skip, a fixed-expansion
# candidate, grouped ops, a searched head width and two resolutions.
SMALL = SearchSpace.from_dict({
    "name": "small", "width_divisor": 4, "input_sizes": [16, 12],
    "stages": [
        [{"ops": ["conv_k3"], "out": [4, 8], "stride": 2}],
        [{"ops": ["ir_k3", "ir_k5_g2", "ir_k3_e6"], "out": [8, 16],
          "stride": 2, "expansions": [1, 4], "width_group": "g"},
         {"ops": ["ir_k3_sehsig_hs", "skip"], "out": [8, 16],
          "expansions": [2, 3], "width_group": "g"}],
        [{"ops": ["ir_pool"], "out": [16, 24], "expansions": [4]}],
    ]})


# A width shared by the stem and a later block, with a block of its own
# width between them: the decision must stay in the state across that block.
GAP = SearchSpace.from_dict({
    "name": "gap", "width_divisor": 4, "input_sizes": [16],
    "stages": [
        [{"ops": ["conv_k3"], "out": [8, 12], "stride": 2, "width_group": "a"}],
        [{"ops": ["ir_k3", "skip"], "out": [8, 16], "expansions": [1, 2]}],
        [{"ops": ["ir_k3"], "out": [8, 12], "stride": 2, "expansions": [2],
          "width_group": "a"}],
        [{"ops": ["ir_pool"], "out": [16, 24], "expansions": [4]}],
    ]})


def _every_child(space):
  decisions = space.decisions()
  for values in itertools.product(*(range(d.size) for d in decisions)):
    yield {d.name: v for d, v in zip(decisions, values)}


def _random_table(space, input_channels, seed):
  rng = np.random.default_rng(seed)
  keys = sorted(required_keys(plan_space(space, input_channels)))
  return LatencyTable({k: float(rng.uniform(1, 100)) for k in keys})


@pytest.mark.parametrize("metric, input_channels, seed", [
    ("mflops", 1, 0), ("mflops", 3, 0), ("mparams", 3, 0),
    ("latency_ms", 1, 0)])
def test_the_extremes_are_those_of_an_exhaustive_search(metric, input_channels,
                                                        seed):
  table = (_random_table(SMALL, input_channels, seed)
           if metric == "latency_ms" else None)
  cost = derive.child_cost(SMALL, metric, 10, input_channels, table)
  costs = [cost(c) for c in _every_child(SMALL)]
  found = cost_range(SMALL, metric, 10, input_channels, table)
  assert cost(found.cheapest) == pytest.approx(min(costs), rel=1e-6)
  assert cost(found.dearest) == pytest.approx(max(costs), rel=1e-6)


@pytest.mark.parametrize("metric", ["mflops", "mparams"])
def test_a_width_shared_across_another_block_is_kept_in_the_state(metric):
  cost = derive.child_cost(GAP, metric, 10, 3)
  costs = [cost(c) for c in _every_child(GAP)]
  found = cost_range(GAP, metric, 10, 3)
  assert cost(found.cheapest) == pytest.approx(min(costs), rel=1e-9)
  assert cost(found.dearest) == pytest.approx(max(costs), rel=1e-9)


@pytest.mark.parametrize("name", ["tiny32", "fbnetv2_f", "fbnet_v1"])
def test_no_sampled_child_of_a_builtin_space_lies_outside_the_range(name):
  space = builtin_spaces.get_space(name)
  cost = derive.child_cost(space, "mflops", 10, 1)
  found = cost_range(space, "mflops", 10, 1)
  low, high = cost(found.cheapest), cost(found.dearest)
  rng = np.random.default_rng(0)
  samples = [cost(derive.random_choices(space, rng)) for _ in range(100)]
  assert low <= min(samples) and max(samples) <= high
  assert low < high
