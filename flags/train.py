"""Flags of tools/train.py."""

from absl import flags

from . import common


def define_train_flags() -> None:
  common.define_data_flags()
  common.define_run_flags()
  common.define_compute_flags()
  flags.DEFINE_string(
      "arch", None,
      "The model to train: an arch.json written by tools/search.py, a zoo "
      "name, or an arch string.")
  flags.DEFINE_float("learning_rate", 0.1, "Initial SGD learning rate "
                     "(cosine to 0).", lower_bound=0)
