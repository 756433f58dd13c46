"""Callback helpers: option labels, the heatmap, the progress line."""

import io
import os

from fbnetv2_tf import callbacks
from fbnetv2_tf.callbacks import option_labels, plot_probabilities
from fbnetv2_tf.specs import builtin_spaces


def test_options_are_labelled_by_value():
  labels = option_labels(builtin_spaces.tiny32().decisions())
  assert labels["resolution"] == ["32px", "24px", "16px"]
  assert labels["s0_b0/out"] == ["c8", "c12", "c16"]
  assert labels["s1_b0/expansion"] == ["e1", "e2", "e4"]
  assert labels["s1_b1/op"] == ["ir_k3", "ir_k5", "ir_k3_sehsig_hs", "skip"]
  assert labels["width/s2"] == ["c24", "c32", "c40"]


def test_the_heatmap_is_written_atomically(tmp_path):
  path = str(tmp_path / "p.png")
  plot_probabilities({"resolution": [0.2, 0.8], "w": [0.1, 0.3, 0.6]}, path,
                     "epoch 1", {"resolution": ["32px", "16px"]})
  assert os.path.getsize(path) > 1000
  assert os.listdir(tmp_path) == ["p.png"]
  with open(path, "rb") as f:
    assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_the_progress_line_estimates_the_time_left_of_the_whole_run(
    monkeypatch):
  clock = iter([100.0, 130.0, 190.0])  # begin, after epoch 3, after epoch 4
  monkeypatch.setattr(callbacks.time, "monotonic", lambda: next(clock))
  stream = io.StringIO()
  progress = callbacks.RunProgress("search", stream)
  progress.set_params({"epochs": 10})
  progress.on_train_begin()
  progress.on_epoch_begin(2)  # resumed: two epochs were done before
  progress.on_epoch_end(2)
  progress.on_epoch_begin(3)
  progress.on_epoch_end(3)
  assert stream.getvalue().splitlines() == [
      "search: epoch 3/10 done, 0m30s elapsed, about 3m30s left",
      "search: epoch 4/10 done, 1m30s elapsed, about 4m30s left"]
