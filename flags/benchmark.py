"""Flags of tools/benchmark.py."""

from absl import flags

from . import common


def define_benchmark_flags() -> None:
  common.define_measure_flags()
  flags.DEFINE_list("model", None, "Comma-separated .tflite files or zoo "
                    "names (converted at --dtype with batch 1), timed "
                    "interleaved.")
  flags.DEFINE_integer("num_classes", 1000, "Classes of zoo models.",
                       lower_bound=1)
  flags.DEFINE_integer("input_size", None, "Input resolution of zoo models "
                       "(default: each model's own).", lower_bound=8)
