"""Supernet = child: at one-hot weights the supernet computes the derived
child's function when the child inherits the supernet's weights."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from fbnetv2_tf.models.supernet import resize_input
from fbnetv2_tf.search.search_model import Supernet
from fbnetv2_tf.search import derive, inherit
from fbnetv2_tf.specs import builtin_spaces
from tests.testing.models import random_images, randomize_batchnorm

TOLERANCE = 1e-5


def _supernet(name, seed=0, padding=None):
  space = builtin_spaces.get_space(name)
  if padding is not None:
    space = dataclasses.replace(space, padding=padding)
  net = Supernet(space, num_classes=10, input_channels=3,
                 seed=seed).build_for_input()
  randomize_batchnorm(net, seed)  # logits of order one, so differences show
  return net


def _identity_choices(space, rng):
  """Random choices that make some stride-1 block's separately decided input
  and output widths equal, where the space has such a block (the supernet's
  blended identity must then be exactly the child's identity)."""
  choices = derive.random_choices(space, rng)
  decisions = {d.name: d for d in space.decisions()}
  for s, b, block in space.blocks():
    out = space.out_decision_name(s, b)
    prev = (space.out_decision_name(s, b - 1) if b else
            space.out_decision_name(s - 1, len(space.stages[s - 1]) - 1)
            if s else None)
    if (block.stride != 1 or prev is None or prev == out
        or prev not in decisions or out not in decisions):
      continue
    common = sorted(set(decisions[prev].options) & set(decisions[out].options))
    if common:
      width = common[rng.integers(len(common))]
      choices[prev] = decisions[prev].options.index(width)
      choices[out] = decisions[out].options.index(width)
      choices[f"s{s}_b{b}/op"] = len(block.ops) - 1 - int(rng.integers(2))
  return choices


def _max_relative_difference(net, choices, images, training):
  weights = {n: tf.constant(v) for n, v in net.one_hot_weights(choices).items()}
  child = inherit.inherit_child(net, choices)
  expected = np.asarray(child(resize_input(images, child.input_shape[1]),
                              training=training))
  got = np.asarray(_forward(net)(images, weights, training))
  return np.abs(got - expected).max() / max(1.0, np.abs(expected).max())


def _forward(net):
  if not hasattr(net, "_test_forward"):
    net._test_forward = {
        t: tf.function(lambda x, w, t=t: net.forward(x, w, training=t))
        for t in (False, True)}
  return lambda x, w, t: net._test_forward[t](x, w)


def _check(name, draws, training=False, padding=None):
  net = _supernet(name, padding=padding)
  space = net.space
  rng = np.random.default_rng(1)
  images = random_images((2, space.max_input_size, space.max_input_size, 3))
  worst = 0.0
  for k in range(draws):
    choices = (_identity_choices(space, rng) if k % 4 == 3
               else derive.random_choices(space, rng))
    worst = max(worst, _max_relative_difference(net, choices, images,
                                                training))
  assert worst < TOLERANCE


def test_tiny32_supernet_equals_its_children_in_inference():
  _check("tiny32", 6)


def test_a_same_padded_supernet_equals_its_same_padded_children():
  # Every tiny32 resolution meets its strided convs at even sizes, where
  # "same" and symmetric padding compute different functions.
  _check("tiny32", 4, padding="same")


def test_a_same_padded_child_inherits_every_weight():
  net = _supernet("tiny32", padding="same")
  choices = derive.random_choices(net.space, np.random.default_rng(4))
  child = inherit.inherit_child(net, choices)
  assert not [l for l in child.layers
              if isinstance(l, keras.layers.ZeroPadding2D)]
  symmetric = inherit.inherit_child(_supernet("tiny32", padding="symmetric"),
                                    choices)
  assert [l.name for l in child.layers if l.weights] == [
      l.name for l in symmetric.layers if l.weights]


def test_tiny32_supernet_equals_its_children_under_batch_statistics():
  """BatchNorm in training mode: per-channel batch statistics of the kept
  channels are the child's, so the match holds there too."""
  _check("tiny32", 4, training=True)


@pytest.mark.slow
@pytest.mark.parametrize("name", builtin_spaces.names())
def test_every_space_equals_its_random_children(name):
  # The 224 px spaces cost about 9 s per child; 8 of them (two with shared
  # identity widths) keep CI within its time.
  _check(name, 20 if name == "tiny32" else 8)


def test_a_child_layer_without_a_twin_is_an_error():
  net = _supernet("tiny32")
  choices = derive.random_choices(net.space, np.random.default_rng(0))
  child = inherit.inherit_child(net, choices)
  with pytest.raises(ValueError, match="no supernet twin"):
    inherit.copy_weights(net, child, {**choices, "s1_b0/op": 99})


def test_recalibration_sets_statistics_to_the_data_average():
  net = _supernet("tiny32")
  choices = derive.random_choices(net.space, np.random.default_rng(2))
  child = inherit.inherit_child(net, choices)
  size = child.input_shape[1]
  images = random_images((64, size, size, 3), seed=3) * 2.0 + 0.5
  inherit.recalibrate_batch_norm(child, images, batch_size=32)
  first = next(l for l in child.layers if "bn" in l.name)
  conv = child.get_layer(first.name.replace("_bn", "_conv"))
  features = np.asarray(keras.Model(child.input, conv.output)(images))
  np.testing.assert_allclose(np.asarray(first.moving_mean),
                             features.mean(axis=(0, 1, 2)), rtol=1e-3,
                             atol=1e-4)
