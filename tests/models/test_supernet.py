"""The supernet: variables, gradients, saving, derivation and cost."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from fbnetv2_tf.cost.counting import count_arch
from fbnetv2_tf.cost.keras_counting import count_keras_model
from fbnetv2_tf.models.child_model import build_child_model
from fbnetv2_tf.search.search_model import Supernet
from fbnetv2_tf.specs import archs_from_json, archs_to_json
from fbnetv2_tf.specs import builtin_spaces
from fbnetv2_tf.search.derive import argmax_choices
from tests.testing.models import random_images


@pytest.fixture(scope="module")
def tiny():
  return Supernet(builtin_spaces.tiny32(), num_classes=10, seed=1
                  ).build_for_input()


def _randomize_logits(net, seed=0):
  rng = np.random.default_rng(seed)
  for v in net.arch_variables:
    v.assign(rng.normal(0, 1, v.shape).astype("float32"))


def test_one_logit_group_per_decision_kept_apart_from_weights(tiny):
  decisions = builtin_spaces.tiny32().decisions()
  assert [v.shape[0] for v in tiny.arch_variables] == [d.size for d in decisions]
  arch = {id(v) for v in tiny.arch_variables}
  weights = {id(v) for v in tiny.weight_variables}
  assert not arch & weights
  assert arch | weights == {id(v) for v in tiny.trainable_variables}


def test_the_supernet_holds_one_conv_per_block_candidate_not_per_width(tiny):
  convs = [v for v in tiny.weight_variables if v.path.endswith("kernel")]
  # tiny32: stem 1 + 2 stages x (3 IR x (expand, dw, project, 2 SE) ...) --
  # what matters: the count does not depend on the number of width options.
  wider = builtin_spaces.tiny32().to_dict()
  for stage in wider["stages"][1:3]:
    for block in stage:
      block["out"] = list(range(block["out"][0], block["out"][-1] + 1, 1))
  net = Supernet(wider, num_classes=10, seed=1).build_for_input()
  assert len([v for v in net.weight_variables if v.path.endswith("kernel")]) \
      == len(convs)
  assert sum(np.prod(v.shape) for v in net.weight_variables) == \
      sum(np.prod(v.shape) for v in tiny.weight_variables)


def _pad_layers(net):
  return [l for l in net._flatten_layers(include_self=False, recursive=True)  # pylint: disable=protected-access
          if isinstance(l, keras.layers.ZeroPadding2D)]


def test_a_same_padded_space_builds_its_candidates_without_pad_layers(tiny):
  space = builtin_spaces.tiny32()
  assert space.padding == "symmetric" and _pad_layers(tiny)
  same = dataclasses.replace(space, padding="same")
  net = Supernet(same, num_classes=10, seed=1).build_for_input()
  assert _pad_layers(net) == []
  assert net.get_config()["space"]["padding"] == "same"
  assert [v.shape for v in net.weight_variables] == [
      v.shape for v in tiny.weight_variables]


def test_gradients_reach_every_logit(tiny):
  x, y = random_images((4, 32, 32, 3)), np.arange(4) % 10
  with tf.GradientTape() as tape:
    logits = tiny(x, training=True)
    loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(
        y, logits, from_logits=True))
    loss += tiny.expected_cost(tiny.sample_weights(), "mflops")
  grads = tape.gradient(loss, tiny.arch_variables)
  for v, g in zip(tiny.arch_variables, grads):
    assert g is not None and np.abs(g.numpy()).max() > 0, v.path


def test_supernet_saves_and_reloads_with_its_logits(tiny, tmp_path):
  _randomize_logits(tiny)
  path = tmp_path / "supernet.keras"
  tiny.save(path)
  reloaded = keras.models.load_model(path)
  for name, value in tiny.logits().items():
    np.testing.assert_array_equal(reloaded.logits()[name], value)
  x = random_images((2, 32, 32, 3))
  w = tiny.one_hot_weights(argmax_choices(tiny.logits()))
  np.testing.assert_allclose(np.asarray(reloaded.forward(x, w)),
                             np.asarray(tiny.forward(x, w)), atol=1e-6)
  assert reloaded.derive_argmax() == tiny.derive_argmax()


def test_argmax_derivation_and_its_child(tiny):
  _randomize_logits(tiny, seed=3)
  arch = tiny.derive_argmax("best")
  choices = argmax_choices(tiny.logits())
  assert arch.input_size == (32, 24, 16)[choices["resolution"]]
  assert archs_from_json(__import__("json").loads(archs_to_json([arch]))) == \
      {"best": arch}
  child = build_child_model(arch, num_classes=10)
  counted = count_arch(arch, 10)
  assert count_keras_model(child).macs == counted.macs
  expected = tiny.expected_cost(tiny.one_hot_weights(choices), "mflops")
  assert float(expected) == pytest.approx(counted.mflops, rel=1e-5)


def test_sampled_derivations_follow_the_distribution(tiny):
  for v in tiny.arch_variables:  # a near-certain first option everywhere
    v.assign(np.array([20.0] + [0.0] * (v.shape[0] - 1), "float32"))
  samples = tiny.derive_samples(5, seed=0)
  assert len({s.name for s in samples}) == 5
  assert all(s.stages == tiny.derive_argmax().stages for s in samples)


def test_temperature_is_set_on_every_decision(tiny):
  tiny.set_temperature(0.5)
  assert {float(d.temperature) for d in tiny.decisions.values()} == {0.5}
  tiny.set_temperature(5.0)


@pytest.mark.slow
@pytest.mark.parametrize("space", ["fbnet_v1", "fbnetv2_f"])
def test_large_builtin_supernets_build_and_cost_their_argmax_child(space):
  net = Supernet(builtin_spaces.get_space(space), num_classes=1000, seed=0)
  net.build_for_input()
  _randomize_logits(net, seed=5)
  arch = net.derive_argmax()
  w = net.one_hot_weights(argmax_choices(net.logits()))
  counted = count_arch(arch, 1000)
  assert float(net.expected_cost(w, "mflops")) == pytest.approx(
      counted.mflops, rel=1e-4)
  assert float(net.expected_cost(w, "mparams")) == pytest.approx(
      counted.mparams, rel=1e-4)
