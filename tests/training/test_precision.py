"""Mixed precision: the policy a job holds, and what stays float32 under it."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from fbnetv2_tf import data as data_lib
from fbnetv2_tf.cost.losses import ResourceLoss
from fbnetv2_tf.errors import UserError
from fbnetv2_tf.search.config import SearchConfig
from fbnetv2_tf.search.search_model import Supernet
from fbnetv2_tf.specs import parse_arch_string
from fbnetv2_tf.specs.search_space import SearchSpace
from fbnetv2_tf.training import checkpoint, child, precision
from tests.testing.models import MICRO_SPACE


def _data(n=32, seed=0):
  rng = np.random.default_rng(seed)
  labels = rng.integers(0, 4, n).astype("int32")
  images = (rng.normal(0, 0.3, (n, 16, 16, 1)) + labels[:, None, None, None]
            / 2.0 - 0.75).astype("float32")
  ds = tf.data.Dataset.from_tensor_slices(((images, images[::-1]),
                                           (labels, labels[::-1])))
  return ds.batch(16, drop_remainder=True).repeat()


def _net(policy, arch_optimizer=None):
  keras.utils.set_random_seed(0)
  with precision.applied(policy):
    net = Supernet(SearchSpace.from_dict(MICRO_SPACE), num_classes=4,
                   input_channels=1, seed=0)
    net.compile(search_config=SearchConfig(
        weight_lr=0.05, weight_lr_floor=1.0, arch_lr=0.05, warmup_epochs=0,
        loss=ResourceLoss("additive", target=0.02)),
        arch_optimizer=arch_optimizer and arch_optimizer())
    net.build_for_input()
    net.bilevel.build_optimizers()
  return net


def _step(net, steps=2):
  """Runs ``steps`` bilevel steps (eagerly: quicker than tracing them for a
  test); the last logs and how far weights and logits moved."""
  w0 = [np.array(v) for v in net.weight_variables]
  a0 = [np.array(v) for v in net.arch_variables]
  for batch in _data().take(steps):
    logs = net.train_step(batch)
  history = {k: [float(v)] for k, v in logs.items()}
  moved_w = max(float(np.max(np.abs(np.array(v) - w)))
                for v, w in zip(net.weight_variables, w0))
  moved_a = max(float(np.max(np.abs(np.array(v) - a)))
                for v, a in zip(net.arch_variables, a0))
  return history, moved_w, moved_a


def test_applied_sets_the_policy_and_puts_the_previous_one_back():
  assert keras.mixed_precision.global_policy().name == "float32"
  with precision.applied("mixed_bfloat16"):
    assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
    assert keras.layers.Dense(2).compute_dtype == "bfloat16"
  assert keras.mixed_precision.global_policy().name == "float32"
  with pytest.raises(RuntimeError):
    with precision.applied("mixed_float16"):
      raise RuntimeError("the job failed")
  assert keras.mixed_precision.global_policy().name == "float32"


def test_an_unknown_precision_is_a_user_error_and_only_float16_scales():
  with pytest.raises(UserError, match="unknown precision 'float8'"):
    with precision.applied("float8"):
      pass
  assert keras.mixed_precision.global_policy().name == "float32"
  assert [precision.needs_loss_scaling(p) for p in precision.PRECISIONS] == [
      False, True, False]


def test_under_bfloat16_a_step_runs_with_float32_logits_cost_and_outputs():
  net = _net("mixed_bfloat16")
  assert keras.mixed_precision.global_policy().name == "float32"
  assert net.blocks[1].candidates[0].compute_dtype == "bfloat16"
  assert {d.compute_dtype for d in net.decisions.values()} == {"float32"}
  assert {v.dtype for v in net.variables
          if v.dtype.startswith(("float", "bfloat"))} == {"float32"}
  weights = net.sample_weights(4)
  assert {str(w.dtype) for w in weights.values()} == {"<dtype: 'float32'>"}
  logits = net.forward(np.zeros((4, 16, 16, 1), "float32"), weights)
  assert logits.dtype == tf.float32
  assert net.expected_cost(net.probabilities()).dtype == tf.float32
  history, moved_w, moved_a = _step(net)
  assert np.isfinite(history["loss"][0]) and np.isfinite(history["arch_loss"][0])
  # The same seed in float32: bfloat16 rounds, it does not change the step.
  reference, ref_w, ref_a = _step(_net("float32"))
  for name in ("loss", "arch_ce", "cost"):
    assert history[name][0] == pytest.approx(reference[name][0], rel=0.05)
  assert moved_w == pytest.approx(ref_w, rel=0.2)
  assert moved_a == pytest.approx(ref_a, rel=0.2)
  assert {v.dtype for v in net.arch_variables} == {"float32"}
  assert {v.dtype for v in net.bilevel.arch_optimizer.variables
          if v.dtype.startswith("float")} == {"float32"}


def test_under_float16_both_optimizers_scale_the_loss():
  # SGD for the logits: Adam's steps would hardly change with the scale.
  sgd = lambda: keras.optimizers.SGD(0.5)  # pylint: disable=unnecessary-lambda-assignment
  _, ref_w, ref_a = _step(_net("float32", sgd))
  net = _net("mixed_float16", sgd)
  optimizers = (net.optimizer, net.bilevel.arch_optimizer)
  assert all(isinstance(o, keras.optimizers.LossScaleOptimizer)
             for o in optimizers)
  assert isinstance(optimizers[1].inner_optimizer, keras.optimizers.SGD)
  history, moved_w, moved_a = _step(net)
  assert np.isfinite(history["loss"][0]) and np.isfinite(history["arch_loss"][0])
  # Scaled before the gradient and unscaled by apply: the steps are as long
  # as float32's (an unscaled loss would move them 2^15 times less).
  assert moved_w == pytest.approx(ref_w, rel=0.2)
  assert moved_a == pytest.approx(ref_a, rel=0.2)
  assert [float(o.dynamic_scale) for o in optimizers] == [2.0**15] * 2
  assert {v.dtype for v in net.arch_variables} == {"float32"}


def test_a_float16_checkpoint_restores_the_loss_scale_state(tmp_path):
  net = _net("mixed_float16")
  _step(net)
  optimizers = [net.optimizer, net.bilevel.arch_optimizer]
  optimizers[1].dynamic_scale.assign(1024.0)
  path = str(tmp_path / checkpoint.CHECKPOINT)
  checkpoint.save(path, net, optimizers, finished_epochs=1)
  fresh = _net("mixed_float16")
  fresh_optimizers = [fresh.optimizer, fresh.bilevel.arch_optimizer]
  assert checkpoint.restore(path, fresh, fresh_optimizers) == 1
  for a, b in zip(checkpoint._state(net, optimizers),  # pylint: disable=protected-access
                  checkpoint._state(fresh, fresh_optimizers)):  # pylint: disable=protected-access
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  assert float(fresh_optimizers[1].dynamic_scale) == 1024.0


def test_a_child_trained_under_bfloat16_is_saved_as_float32(tmp_path):
  arch = parse_arch_string("t@16/4: conv_k3-c8-s2 | ir_k3-c8-e3 | "
                           "ir_k3_sehsig_hs-c16-s2-e3")
  digits = data_lib.load_dataset("digits", image_size=16).subset(
      max_train=128, seed=0)
  job = child.TrainJob(str(tmp_path), epochs=1, batch_size=32, verbose=0,
                       precision="mixed_bfloat16")
  result = child.train_child(arch, digits, job)
  assert keras.mixed_precision.global_policy().name == "float32"
  assert np.isfinite(result.test_loss) and 0 <= result.test_accuracy <= 1
  model = keras.models.load_model(result.model_path)
  assert {layer.dtype_policy.name for layer in model.layers} == {"float32"}
  images = digits.test_images[:8].astype("float32")
  outputs = model(images)
  assert outputs.dtype == tf.float32 and np.all(np.isfinite(outputs))


def test_xla_under_op_determinism_is_refused_before_anything_runs(tmp_path):
  # Keras would compile without XLA, with a warning only.
  arch = parse_arch_string("t@16/4: conv_k3-c8-s2 | ir_k3-c8-e3")
  job = child.TrainJob(str(tmp_path / "out"), jit_compile=True)
  with pytest.raises(UserError, match="needs deterministic=False"):
    child.check_job(arch, None, job)
  assert not (tmp_path / "out").exists()
  precision.check_jit_compile(jit_compile=True, deterministic=False)
  precision.check_jit_compile(jit_compile=False, deterministic=True)
