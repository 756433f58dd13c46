"""Derivation by evaluation and filling the budget."""

import types

import numpy as np
import pytest

from fbnetv2_tf.search import derive, evaluation, inherit
from fbnetv2_tf.search.search_model import Supernet
from fbnetv2_tf.specs import builtin_spaces
from fbnetv2_tf.specs.arch_string import to_arch_string
from fbnetv2_tf.specs.search_space import SearchSpace
from tests.testing.models import MICRO_SPACE, random_images


def _tiny32_logits(seed, scale=2.0):
  space = builtin_spaces.tiny32()
  rng = np.random.default_rng(seed)
  logits = {d.name: rng.normal(0, scale, d.size) for d in space.decisions()}
  return space, logits, derive.child_cost(space, "mflops", 10, 1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_band_candidates_are_distinct_children_inside_the_band(seed):
  space, logits, cost = _tiny32_logits(seed)
  found = evaluation.band_candidates(space, logits, cost, 0.25, 12, seed)
  assert len(found) == 12
  assert found[0][0] == "argmax" and {o for o, _ in found[1:]} == {"sample"}
  argmax, _ = derive.derive_within_budget(space, logits, cost, 0.25)
  assert found[0][1] == argmax
  strings = {to_arch_string(derive.derive_arch(space, c, "x"))
             for _, c in found}
  assert len(strings) == 12
  for _, choices in found:
    assert 0.9 * 0.25 <= cost(choices) <= 0.25


def test_a_concentrated_distribution_gives_fewer_candidates_not_a_hang():
  space, logits, cost = _tiny32_logits(0, scale=60.0)  # nearly one-hot
  found = evaluation.band_candidates(space, logits, cost, 0.25, 50, 0)
  assert 1 <= len(found) < 50


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_fill_uses_the_budget_and_stops_where_no_change_fits(seed):
  space, logits, cost = _tiny32_logits(seed)
  plain, _ = derive.derive_within_budget(space, logits, cost, 0.25)
  filled, _ = derive.derive_within_budget(space, logits, cost, 0.25,
                                          fill=1.0)
  assert cost(plain) <= cost(filled) <= 0.25
  # Full: no single change adds cost without passing the target.
  for name in filled:
    for option in range(len(logits[name])):
      trial = {**filled, name: option}
      assert not cost(filled) < cost(trial) <= 0.25, (name, option)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_fill_stops_once_it_reaches_its_fraction(seed):
  space, logits, cost = _tiny32_logits(seed)
  plain, _ = derive.derive_within_budget(space, logits, cost, 0.25)
  full, _ = derive.derive_within_budget(space, logits, cost, 0.25, fill=1.0)
  if cost(full) == cost(plain):
    pytest.skip("nothing to fill for this seed")
  aim = (cost(plain) + cost(full)) / 2 / 0.25  # between the two
  part, changes = derive.derive_within_budget(space, logits, cost, 0.25,
                                              fill=aim)
  assert aim * 0.25 <= cost(part) <= cost(full)
  assert changes >= 1 and part != plain


def test_fill_changes_two_decisions_where_no_single_change_fits():
  # a up overshoots (15 > 10), b alone lowers the cost; both together fit.
  def cost(c):
    return 5 + 10 * c["a"] - 6 * c["b"]
  logits = {"a": np.zeros(2), "b": np.zeros(2)}
  toy = types.SimpleNamespace(name="toy")
  choices, changes = derive.fit_budget(toy, logits, cost, 10.0,
                                       {"a": 0, "b": 0}, fill=1.0)
  assert choices == {"a": 1, "b": 1} and changes == 2
  # Without the fill the band already holds it: nothing moves.
  assert derive.fit_budget(toy, logits, cost, 10.0, {"a": 0, "b": 0}) == (
      {"a": 0, "b": 0}, 0)


def test_evaluation_keeps_the_best_scored_candidate():
  net = Supernet(SearchSpace.from_dict(MICRO_SPACE), num_classes=4,
                 input_channels=1, seed=0).build_for_input()
  rng = np.random.default_rng(0)
  for d in net.decisions.values():  # a distribution with some shape
    d.logits.assign(rng.normal(0, 1, d.num_options).astype("float32"))
  images = random_images((64, 16, 16, 1))
  labels = rng.integers(0, 4, 64)
  cost = derive.child_cost(net.space, "mflops", 4, 1)
  target = max(cost(derive.random_choices(net.space, rng)) for _ in range(8))
  derived = evaluation.derive_by_evaluation(
      net, target, "mflops", images[:32], (images, labels), candidates=6,
      band=0.0)
  assert len(derived.candidates) >= 2  # a choice was made
  assert derived.accuracy == max(c["accuracy"] for c in derived.candidates)
  assert derived.cost == pytest.approx(cost(derived.choices)) and (
      derived.cost <= target)
  # The recorded score is the inherited accuracy of the chosen child.
  assert derived.accuracy == inherit.inherited_accuracy(
      net, derived.choices, images[:32], images, labels)
  assert to_arch_string(derived.arch).split(":")[1] == \
      derived.candidates[0]["arch"].split(":")[1]


@pytest.mark.parametrize("kwargs, message", [
    ({"method": "best"}, "derivation"), ({"candidates": 0}, "candidates"),
    ({"fill": 1.5}, "fill"), ({"calibration_images": 0}, "calibration")])
def test_derive_config_refuses_bad_values(kwargs, message):
  with pytest.raises(ValueError, match=message):
    evaluation.DeriveConfig(**kwargs)
