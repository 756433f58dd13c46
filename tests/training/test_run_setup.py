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
