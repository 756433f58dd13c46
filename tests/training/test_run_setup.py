"""Recorded flags and resuming."""

import json

import pytest

from fbnetv2_tf.errors import UserError
from fbnetv2_tf.training import run_setup


def _recorded(tmp_path, values):
  (tmp_path / run_setup.RUN_FLAGS).write_text(json.dumps(values))


def test_a_flag_an_older_run_lacks_counts_as_its_default(tmp_path):
  _recorded(tmp_path, {"epochs": 3})  # made before child_share existed
  run_setup.record_flags(str(tmp_path), {"epochs": 3, "child_share": 0.0},
                         {"epochs": 10, "child_share": 0.0})
  _recorded(tmp_path, {"epochs": 3})
  with pytest.raises(UserError, match="child_share"):
    run_setup.record_flags(str(tmp_path), {"epochs": 3, "child_share": 0.5},
                           {"epochs": 10, "child_share": 0.0})


def test_derivation_flags_may_change_on_resume_training_flags_may_not(
    tmp_path):
  _recorded(tmp_path, {"epochs": 3, "derive": "argmax", "candidates": 16})
  run_setup.record_flags(str(tmp_path), {"epochs": 3, "derive": "evaluate",
                                         "candidates": 4})
  with pytest.raises(UserError, match="epochs=3"):
    run_setup.record_flags(str(tmp_path), {"epochs": 4, "derive": "evaluate",
                                           "candidates": 4})


def test_make_deterministic_seeds_always_and_fixes_numerics_when_asked():
  import keras  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tensorflow.python.framework import config as tf_config  # pylint: disable=g-import-not-at-top,g-direct-tensorflow-import

  def state():
    return (tf_config.is_op_determinism_enabled(),
            tf.config.optimizer.get_experimental_options().get(
                "disable_meta_optimizer"))

  draws = []
  for deterministic in (False, True):
    run_setup.make_deterministic(7, deterministic)
    draws.append(float(keras.random.uniform(())))
    assert state() == (deterministic, deterministic)
  assert draws[0] == draws[1]  # seeded the same either way
  run_setup.make_deterministic(7, True)  # as the other tests' searches leave it
