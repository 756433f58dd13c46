"""The supernet's bilevel train step under model.fit."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from fbnetv2_tf.cost.losses import ResourceLoss
from fbnetv2_tf.search.search_model import Supernet
from fbnetv2_tf.search.config import SearchConfig
from fbnetv2_tf.search.schedules import TemperatureSchedule
from fbnetv2_tf.specs.search_space import SearchSpace
from tests.testing.models import MICRO_SPACE

def _data(n=64, seed=0):
  rng = np.random.default_rng(seed)
  labels = rng.integers(0, 4, n).astype("int32")
  images = (rng.normal(0, 0.3, (n, 16, 16, 1)) + labels[:, None, None, None]
            / 2.0 - 0.75).astype("float32")
  ds = tf.data.Dataset.from_tensor_slices(((images, images[::-1]),
                                           (labels, labels[::-1])))
  return ds.batch(16, drop_remainder=True).repeat()


def _net(weight_lr=0.05, arch_lr=0.05, loss=None, warmup=0,
         temperature=TemperatureSchedule(), entropy_weight=0.0):
  keras.utils.set_random_seed(0)
  net = Supernet(SearchSpace.from_dict(MICRO_SPACE), num_classes=4,
                 input_channels=1, seed=0)
  net.compile(search_config=SearchConfig(
      weight_lr=weight_lr, weight_lr_floor=1.0, arch_lr=arch_lr,
      arch_weight_decay=0.0, warmup_epochs=warmup, temperature=temperature,
      entropy_weight=entropy_weight, loss=loss or ResourceLoss("none")))
  return net


def _uniform(net):
  return {n: np.full(d.num_options, 1 / d.num_options, "float32")
          for n, d in net.decisions.items()}


def _weights(net):
  return [np.array(v) for v in net.weight_variables]


def _logits(net):
  return [np.array(v) for v in net.arch_variables]


def _changed(before, after):
  return sum(not np.array_equal(a, b) for a, b in zip(before, after))


def test_compile_takes_keras_signature_and_the_config_as_a_keyword():
  net = Supernet(SearchSpace.from_dict(MICRO_SPACE), num_classes=4,
                 input_channels=1, seed=0)
  with pytest.raises(TypeError, match="search_config="):
    net.compile(SearchConfig())
  net.compile(keras.optimizers.SGD(0.25), search_config=SearchConfig())
  assert float(net.optimizer.learning_rate) == 0.25


def test_warm_up_trains_weights_only_then_both():
  net = _net(warmup=1).build_for_input()
  w0, a0 = _weights(net), _logits(net)
  net.fit(_data(), epochs=1, steps_per_epoch=4, verbose=0, shuffle=False)
  w1, a1 = _weights(net), _logits(net)
  assert _changed(w0, w1) > len(w0) // 2
  assert _changed(a0, a1) == 0
  net.fit(_data(), epochs=2, initial_epoch=1, steps_per_epoch=4, verbose=0, shuffle=False)
  assert _changed(a1, _logits(net)) == len(a1)


def test_the_architecture_step_leaves_the_weights_alone():
  net = _net(weight_lr=0.0).build_for_input()
  w0, a0 = _weights(net), _logits(net)
  history = net.fit(_data(), epochs=1, steps_per_epoch=4, verbose=0, shuffle=False).history
  assert _changed(w0, _weights(net)) == 0
  assert _changed(a0, _logits(net)) == len(a0)
  assert history["arch_ce"][0] > 0 and history["loss"][0] > 0


def test_logged_metrics_describe_the_distribution():
  net = _net(warmup=5, temperature=TemperatureSchedule.fbnet(4.0, 0.5))
  history = net.fit(_data(), epochs=2, steps_per_epoch=2, verbose=0,
                    shuffle=False).history
  np.testing.assert_allclose(history["temperature"], [4.0, 4.0 * np.exp(-0.5)],
                             rtol=1e-6)
  # Logits stay uniform in warm-up: entropy is the mean of log(options).
  sizes = [d.num_options for d in net.decisions.values()]
  assert history["entropy"][-1] == pytest.approx(np.mean(np.log(sizes)),
                                                 rel=1e-5)
  uniform = _uniform(net)
  assert history["cost"][-1] == pytest.approx(
      float(net.expected_cost(uniform)), rel=1e-5)
  assert history["arch_loss"] == [0.0, 0.0]  # no architecture step yet


def test_the_schedule_anneals_from_initial_to_final_without_a_callback():
  net = _net(warmup=1, temperature=TemperatureSchedule(4.0, 0.25))
  history = net.fit(_data(), epochs=4, steps_per_epoch=1, verbose=0,
                    shuffle=False).history
  np.testing.assert_allclose(history["temperature"], [4.0, 4.0, 1.0, 0.25],
                             rtol=1e-6)


def _argmax_child_cost(net):
  return float(net.expected_cost(
      {n: np.eye(d.num_options, dtype="float32")[int(np.argmax(d.logits))]
       for n, d in net.decisions.items()}))


def test_a_budget_below_the_argmax_child_moves_the_argmax_to_cheaper_options():
  net = _net(loss=ResourceLoss("budget", target=0.01, penalty=5.0)).build_for_input()
  before = _argmax_child_cost(net)
  net.fit(_data(), epochs=3, steps_per_epoch=4, verbose=0, shuffle=False)
  assert _argmax_child_cost(net) < 0.9 * before


def test_a_budget_below_the_current_cost_lowers_the_expected_cost():
  net = _net(loss=ResourceLoss("budget", target=0.01, penalty=5.0,
                               steer="expected")).build_for_input()
  uniform = _uniform(net)
  before = float(net.expected_cost(uniform))
  assert before > 0.02
  history = net.fit(_data(), epochs=3, steps_per_epoch=4, verbose=0, shuffle=False).history
  assert history["cost"][-1] < 0.9 * before
  assert history["cost"] == sorted(history["cost"], reverse=True)


def test_argmax_steering_prices_the_argmax_child_with_the_expected_gradient():
  from fbnetv2_tf.search.bilevel import _straight_through_argmax
  logits = tf.Variable([0.2, 1.0, -0.5])
  option_costs = tf.constant([1.0, 3.0, 7.0])
  with tf.GradientTape(persistent=True) as tape:
    p = tf.nn.softmax(logits)
    hard = tf.reduce_sum(_straight_through_argmax(p) * option_costs)
    soft = tf.reduce_sum(p * option_costs)
  assert float(hard) == 3.0  # option 1, the argmax, not the blend
  assert float(soft) != pytest.approx(3.0)
  np.testing.assert_allclose(tape.gradient(hard, logits),
                             tape.gradient(soft, logits), rtol=1e-6)


def test_the_entropy_term_makes_the_decisions_commit():
  final_entropy = {}
  for weight in (0.0, 10.0):
    net = _net(weight_lr=0.0, entropy_weight=weight).build_for_input()
    history = net.fit(_data(), epochs=2, steps_per_epoch=4, verbose=0,
                      shuffle=False).history
    final_entropy[weight] = history["entropy"][-1]
  # Same seed, same data: only the term differs.
  assert final_entropy[10.0] < final_entropy[0.0] - 0.02


def test_evaluate_scores_the_argmax_child_and_keeps_batchnorm_statistics():
  net = _net().build_for_input()
  net.fit(_data(), epochs=1, steps_per_epoch=4, verbose=0, shuffle=False)
  state = [np.array(v) for v in net.non_trainable_variables]
  images = np.random.default_rng(1).normal(0, 1, (16, 16, 16, 1)).astype("float32")
  labels = np.arange(16) % 4
  result = net.evaluate(images, labels, batch_size=16, verbose=0,
                        return_dict=True)
  assert _changed(state, [np.array(v) for v in net.non_trainable_variables]) == 0
  one_hot = net.one_hot_weights({n: int(np.argmax(v))
                                 for n, v in net.logits().items()})
  logits = net.forward(images, one_hot, training=True)
  expected = np.mean(np.argmax(np.asarray(logits), -1) == labels)
  assert result["accuracy"] == pytest.approx(expected)


def test_fit_takes_the_input_channels_from_the_data():
  keras.utils.set_random_seed(0)
  net = Supernet(SearchSpace.from_dict(MICRO_SPACE), num_classes=4,
                 input_channels=3, seed=0)
  net.compile(search_config=SearchConfig(loss=ResourceLoss("none")))
  net.fit(_data(), epochs=1, steps_per_epoch=1, verbose=0)
  assert net.input_channels == 1 and net.plan.input_channels == 1
