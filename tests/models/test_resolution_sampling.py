"""One resolution per step (``SupernetNetwork(resolution_sampling="one")``).

A step runs the network at one sampled resolution instead of every one;
under one-hot weights it must compute exactly what the mix of every
resolution computes (children, derivation, ``test_step`` and
``search.inherit`` rely on it), and its compiled train step must update the
BatchNorm statistics of the branch it ran.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from fbnetv2_tf.cost.losses import ResourceLoss
from fbnetv2_tf.models.supernet import resize_input
from fbnetv2_tf.search import derive, inherit
from fbnetv2_tf.search.config import SearchConfig
from fbnetv2_tf.search.search_model import Supernet
from fbnetv2_tf.search.weight_sampling import WeightSampler
from fbnetv2_tf.specs import builtin_spaces
from fbnetv2_tf.specs.search_space import RESOLUTION, SearchSpace
from tests.testing.models import MICRO_SPACE, random_images, randomize_batchnorm


def _pair(space, **kwargs):
  """An "all" and a "one" supernet with the same weights."""
  every = Supernet(space, seed=0, **kwargs).build_for_input()
  one = Supernet(space, seed=0, resolution_sampling="one",
                 **kwargs).build_for_input()
  randomize_batchnorm(every, 0)
  one.set_weights(every.get_weights())
  return every, one


@pytest.fixture(scope="module")
def tiny_pair():
  return _pair(builtin_spaces.tiny32(), num_classes=10)


def _choices_at_every_resolution(space, seed=0):
  rng = np.random.default_rng(seed)
  found = []
  for size in range(len(space.input_sizes)):
    choices = derive.random_choices(space, rng)
    choices[RESOLUTION] = size
    found.append(choices)
  return found


@pytest.mark.parametrize("training", [False, True])
def test_one_hot_weights_give_exactly_the_logits_of_every_resolution(
    tiny_pair, training):
  every, one = tiny_pair
  images = random_images((4, 32, 32, 3))
  for choices in _choices_at_every_resolution(every.space):
    one.set_weights(every.get_weights())  # "all" updated every branch's BN
    weights = every.one_hot_weights(choices)
    np.testing.assert_array_equal(
        np.asarray(one.forward(images, weights, training=training)),
        np.asarray(every.forward(images, weights, training=training)))


def test_one_hot_weights_agree_exactly_under_tf_function(tiny_pair):
  every, one = tiny_pair
  one.set_weights(every.get_weights())
  images = tf.constant(random_images((4, 32, 32, 3), seed=1))
  run_every = tf.function(lambda w: every.forward(images, w, training=False))
  run_one = tf.function(lambda w: one.forward(images, w, training=False))
  for choices in _choices_at_every_resolution(every.space, seed=1):
    weights = {n: tf.constant(v)
               for n, v in every.one_hot_weights(choices).items()}
    np.testing.assert_array_equal(np.asarray(run_one(weights)),
                                  np.asarray(run_every(weights)))


def test_an_inherited_child_computes_the_one_resolution_supernet(tiny_pair):
  _, one = tiny_pair
  images = random_images((2, 32, 32, 3), seed=2)
  for choices in _choices_at_every_resolution(one.space, seed=2):
    child = inherit.inherit_child(one, choices)
    size = one.space.input_sizes[choices[RESOLUTION]]
    expected = np.asarray(child(resize_input(images, size), training=False))
    got = np.asarray(one.forward(images, one.one_hot_weights(choices),
                                 training=False))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_soft_weights_run_the_sampled_branch_and_train_its_logits(tiny_pair):
  every, one = tiny_pair
  one.set_weights(every.get_weights())
  images = random_images((4, 32, 32, 3), seed=3)
  labels = np.arange(4) % 10
  with tf.GradientTape() as tape:
    weights = one.sample_weights(4)
    logits = one.forward(images, weights, training=False)
    loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(
        labels, logits, from_logits=True))
  grad = tape.gradient(loss, one.decisions[RESOLUTION].logits)
  assert weights[RESOLUTION].shape == (1, 3)  # one sample for the batch
  assert weights["width/s1"].shape == (4, 2)  # the others per example
  # The value: the sampled branch's logits, as "all" computes them with the
  # resolution alone one-hot at the sample's argmax.
  j = int(np.argmax(np.asarray(weights[RESOLUTION])[0]))
  at_j = dict(weights, **{RESOLUTION: np.eye(3, dtype="float32")[j]})
  np.testing.assert_array_equal(
      np.asarray(logits),
      np.asarray(every.forward(images, at_j, training=False)))
  # The straight-through factor gives the resolution logits a gradient.
  assert grad is not None and np.abs(np.asarray(grad)).max() > 0


def test_the_sampled_resolution_follows_the_distribution():
  net = Supernet(SearchSpace.from_dict(MICRO_SPACE), num_classes=4,
                 input_channels=1, seed=0,
                 resolution_sampling="one").build_for_input()
  net.decisions[RESOLUTION].logits.assign(np.log([0.8, 0.2]).astype("float32"))
  net.set_temperature(1.0)
  picks = [int(np.argmax(np.asarray(net.sample_weights(8)[RESOLUTION])[0]))
           for _ in range(400)]
  # A Gumbel-max sample of softmax(alpha): P(option 0) = 0.8.
  assert np.mean(np.asarray(picks) == 0) == pytest.approx(0.8, abs=0.06)


def test_children_of_the_weight_batch_share_the_step_resolution():
  net = Supernet(SearchSpace.from_dict(MICRO_SPACE), num_classes=4,
                 input_channels=1, seed=0,
                 resolution_sampling="one").build_for_input()
  weights = WeightSampler(net, 0.5, "sandwich")(8)
  assert weights[RESOLUTION].shape == (1, 2)
  assert weights["width/a"].shape == (8, 2)
  # Half the rows are one-hot children.
  rows = np.asarray(weights["width/a"])
  assert np.sum(np.max(rows, axis=1) == 1.0) >= 4


def _search_net(resolution_sampling):
  keras.utils.set_random_seed(0)
  net = Supernet(SearchSpace.from_dict(MICRO_SPACE), num_classes=4,
                 input_channels=1, seed=0,
                 resolution_sampling=resolution_sampling)
  net.compile(search_config=SearchConfig(
      loss=ResourceLoss("budget", "mflops", 0.02), child_share=0.25))
  return net.build_for_input()


def _data():
  rng = np.random.default_rng(0)
  labels = rng.integers(0, 4, 32).astype("int32")
  images = (rng.normal(0, 0.3, (32, 16, 16, 1))
            + labels[:, None, None, None] / 2.0 - 0.75).astype("float32")
  ds = tf.data.Dataset.from_tensor_slices(((images, images[::-1]),
                                           (labels, labels[::-1])))
  return ds.batch(16, drop_remainder=True).repeat()


def test_a_compiled_search_step_updates_batchnorm_and_every_logit():
  net = _search_net("one")
  state = [np.array(v) for v in net.non_trainable_variables
           if "moving" in v.path]
  logits = net.logits()
  history = net.fit(_data(), epochs=1, steps_per_epoch=3, verbose=0).history
  assert np.isfinite(history["loss"][-1]) and np.isfinite(
      history["arch_loss"][-1])
  moved = [not np.array_equal(a, np.array(v)) for a, v in zip(
      state, [v for v in net.non_trainable_variables if "moving" in v.path])]
  assert all(moved)
  assert all(not np.array_equal(logits[n], v) for n, v in net.logits().items())


def test_a_compiled_step_updates_batchnorm_once_at_the_sampled_size():
  net = Supernet(SearchSpace.from_dict(MICRO_SPACE), num_classes=4,
                 input_channels=1, seed=0,
                 resolution_sampling="one").build_for_input()
  twin = Supernet(SearchSpace.from_dict(MICRO_SPACE), num_classes=4,
                  input_channels=1, seed=0).build_for_input()
  twin.set_weights(net.get_weights())
  images = tf.constant(random_images((4, 16, 16, 1), seed=4))
  choices = {d.name: 0 for d in net.decision_list}
  choices[RESOLUTION] = 1  # 8 px
  weights = {n: tf.constant(v) for n, v in net.one_hot_weights(choices).items()}
  tf.function(lambda: net.forward(images, weights, training=True))()
  w = {n: v[None, :] for n, v in twin.one_hot_weights(choices).items()}
  twin._network(resize_input(images, 8), w, True)  # pylint: disable=protected-access
  for a, b in zip(net.non_trainable_variables, twin.non_trainable_variables):
    np.testing.assert_allclose(np.array(a), np.array(b), rtol=1e-5, atol=1e-6,
                               err_msg=a.path)


def test_the_option_is_serialised_and_checked():
  net = Supernet(SearchSpace.from_dict(MICRO_SPACE), num_classes=4,
                 input_channels=1, resolution_sampling="one")
  assert net.get_config()["resolution_sampling"] == "one"
  assert Supernet.from_config(net.get_config()).resolution_sampling == "one"
  with pytest.raises(ValueError, match="resolution_sampling"):
    Supernet(SearchSpace.from_dict(MICRO_SPACE), resolution_sampling="some")
