"""What every training binary does before it trains: record its flags,
refuse to resume under other ones, load the data, pick the strategy."""

from __future__ import annotations

import json
import os
from typing import Any, Mapping

from fbnetv2_tf.errors import UserError
from fbnetv2_tf.specs.files import read_json, write_atomically

RUN_FLAGS = "flags.json"
# Flags that may change between a run and its resumption: how it reports,
# where it runs, and how the finished supernet is derived (which happens
# after training, so it never makes a resumed run differ).
_FREE_TO_CHANGE = frozenset({"verbose", "strategy", "cpu_replicas", "derive",
                             "candidates", "fill", "calibration_images"})


def record_flags(output_dir: str, values: Mapping[str, Any],
                 defaults: Mapping[str, Any] | None = None) -> None:
  """Writes ``values`` to ``output_dir/flags.json``; when the directory
  holds an earlier run, its flags must match (resuming is only exact under
  the same flags). A flag the earlier run did not record (made by an older
  version) counts as having had its value in ``defaults``."""
  os.makedirs(output_dir, exist_ok=True)
  path = os.path.join(output_dir, RUN_FLAGS)
  values = dict(values)
  defaults = defaults or {}
  if os.path.exists(path):
    earlier = read_json(path)
    earlier = {**{k: v for k, v in defaults.items() if k not in earlier},
               **earlier}
    changed = sorted(k for k in set(values) | set(earlier)
                     if k not in _FREE_TO_CHANGE
                     and values.get(k) != earlier.get(k))
    if changed:
      k = changed[0]
      raise UserError(f"{output_dir} holds a run with other settings "
                      f"({k}={earlier.get(k)!r}, now {values.get(k)!r}); "
                      "resume with the same settings or use another output "
                      "directory")
  write_atomically(path, json.dumps(values, indent=1, sort_keys=True) + "\n")


def load_data(dataset: str, data_dir: str | None, image_size: int,
              max_train_images: int | None, seed: int,
              input_pipeline: str = "memory", bad_files: str = "fail",
              max_test_images: int | None = None):
  """The dataset at ``image_size`` px, in memory or streamed, optionally a
  deterministic subset of its train and test splits."""
  from fbnetv2_tf import data as data_lib  # pylint: disable=g-import-not-at-top
  data = data_lib.load_dataset(dataset, data_dir, image_size=image_size,
                               pipeline=input_pipeline, bad_files=bad_files)
  if max_train_images is not None or max_test_images is not None:
    data = data.subset(max_train=max_train_images, max_test=max_test_images,
                       seed=seed)
  return data


def load_data_from_flags(values, image_size: int):
  """``load_data`` with the data flags (``flags.common.define_data_flags``)
  of a binary; ``values`` is absl's FLAGS."""
  return load_data(values.dataset, values.data_dir, image_size,
                   values.max_train_images, values.seed,
                   values.input_pipeline, values.bad_files,
                   values.max_test_images)


def strategy(name: str, cpu_replicas: int | None):
  """The ``tf.distribute`` strategy, after splitting the CPU if asked."""
  from fbnetv2_tf.training import strategy as strategies  # pylint: disable=g-import-not-at-top
  if cpu_replicas:
    strategies.split_cpu(cpu_replicas)
  return strategies.make_strategy(name)


def make_deterministic(seed: int, deterministic: bool = True) -> None:
  """Seeds every generator and, if ``deterministic``, fixes TensorFlow's
  numerics for this process; otherwise puts TensorFlow's defaults back (a
  faster kernel may then be picked, and results vary in their last bits).

  Op determinism alone is not enough for a search that is resumed or runs
  next to another process: Grappler, the graph optimiser, rewrote the
  architecture phase's train function differently in those cases (measured:
  362 of 409 variables differed in their last bits after one architecture
  epoch, and a short search amplifies that into a different argmax). With
  its meta-optimiser off the killed-and-resumed, the concurrent and the
  uninterrupted runs matched bit for bit, and the search was no slower.

  Some ops have no deterministic kernel on GPUs; with determinism on,
  TensorFlow then raises rather than run them (``cli`` turns that into one
  line).
  """
  import keras  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from tensorflow.python.framework import config as tf_config  # pylint: disable=g-import-not-at-top,g-direct-tensorflow-import
  keras.utils.set_random_seed(seed)
  if deterministic:
    tf.config.experimental.enable_op_determinism()
  else:
    # TensorFlow exports no public switch back; without it a later job of
    # the same process (a test, a benchmark's next run) would inherit the
    # earlier one's setting.
    tf_config.disable_op_determinism()
  tf.config.optimizer.set_experimental_options(
      {"disable_meta_optimizer": deterministic})
