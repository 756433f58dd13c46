"""Flags of tools/build_lut.py."""

from absl import flags

from . import common


def define_build_lut_flags() -> None:
  common.define_measure_flags()
  flags.DEFINE_string("space", "tiny32", "A built-in search space (tiny32, "
                      "fbnetv2_f, fbnet_v1, mnv3_small32) or a search-space JSON file.")
  flags.DEFINE_string("output", None, "The LUT JSON file; an existing one "
                      "measured with the same settings is resumed.")
  flags.DEFINE_integer("input_channels", 3, "Image channels of the data the "
                       "search will use (1 for digits and Fashion-MNIST).",
                       lower_bound=1)
  flags.DEFINE_integer("num_classes", 10, "Classes of that data (the head "
                       "candidates' width).", lower_bound=1)
  flags.DEFINE_integer("max_grid", None, "Keep at most this many channel "
                       "values per axis of each (op, size, stride) group; "
                       "lookups interpolate between them.", lower_bound=2)
  flags.DEFINE_string("cache_dir", None, "Converted candidates (default: "
                      "OUTPUT.cache beside the table).")
  flags.DEFINE_integer("workers", 2, "Conversion processes.", lower_bound=1)
  flags.DEFINE_enum("hswish", None, ["fused", "delegable"], "The form the "
                    "candidates' h-swish is converted in: one fused op, or "
                    "elementwise ops XNNPACK runs in int8 (default: "
                    "delegable for --dtype=int8, fused for fp32).")
  flags.DEFINE_integer("limit", None, "Measure only the first N candidates "
                       "(a partial table, or a sample to time a build).",
                       lower_bound=1)
