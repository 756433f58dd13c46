"""One-hot children beside the blends in the weight step."""

import numpy as np
import pytest

from fbnetv2_tf.search.config import SearchConfig
from fbnetv2_tf.search.cost_range import cost_range
from fbnetv2_tf.search.search_model import Supernet
from fbnetv2_tf.search.weight_sampling import WeightSampler
from fbnetv2_tf.specs.search_space import SearchSpace
from tests.testing.models import MICRO_SPACE


def _net():
  return Supernet(SearchSpace.from_dict(MICRO_SPACE), num_classes=4,
                  input_channels=1, seed=0)


def _is_one_hot(rows):
  return np.all(np.isin(rows, (0.0, 1.0))) and np.allclose(rows.sum(-1), 1)


def test_share_zero_gives_the_blends_of_the_search():
  a, b = _net(), _net()
  blended = WeightSampler(a, 0.0)(32)
  expected = b.sample_weights(32)
  for name in expected:
    np.testing.assert_array_equal(np.asarray(blended[name]),
                                  np.asarray(expected[name]))


def test_uniform_children_take_the_share_and_cover_every_option():
  weights = WeightSampler(_net(), 0.5)(400)
  for name, w in weights.items():
    w = np.asarray(w)
    assert _is_one_hot(w[:200]), name
    assert not _is_one_hot(w[200:]), name  # blends at temperature 5
    counts = w[:200].sum(0)
    # uniform: each option near 200 / k; none missing, none dominant
    assert counts.min() > 0.5 * 200 / len(counts), (name, counts)
    assert counts.max() < 1.5 * 200 / len(counts), (name, counts)


def test_sandwich_trains_the_dearest_and_the_cheapest_child():
  net = _net()
  extremes = cost_range(net.space, "mflops", 4, 1)
  weights = WeightSampler(net, 1.0, "sandwich")(40)
  for name, w in weights.items():
    picks = np.asarray(w).argmax(-1)
    assert np.all(picks[:10] == extremes.dearest.get(name, 0)), name
    assert np.all(picks[10:20] == extremes.cheapest.get(name, 0)), name
    assert _is_one_hot(np.asarray(w))


@pytest.mark.parametrize("kwargs, message", [
    ({"child_share": 1.5}, "child_share"),
    ({"child_sampling": "largest"}, "child_sampling")])
def test_config_refuses_bad_values(kwargs, message):
  with pytest.raises(ValueError, match=message):
    SearchConfig(**kwargs)
