"""Flags of tools/validate_lut.py."""

from absl import flags

from . import common


def define_validate_lut_flags() -> None:
  flags.DEFINE_string("lut", None, "The LUT JSON file (built by "
                      "fbnetv2-build-lut) to check.")
  # The whole networks are timed on the LUT's runner, with its settings.
  common.define_runner_flags()
  flags.DEFINE_string("space", None, "The space to sample from (default: "
                      "the LUT's).")
  flags.DEFINE_integer("archs", 20, "Architectures sampled from the space.",
                       lower_bound=3)
  flags.DEFINE_integer("input_size", None, "Validate at this input "
                       "resolution instead of the space's (the LUT must hold "
                       "its blocks).", lower_bound=8)
  flags.DEFINE_integer("seed", 0, "Seeds the sampling.")
  flags.DEFINE_string("work_dir", None, "Whole-network .tflite files "
                      "(default: LUT.validation/ beside the table).")
  flags.DEFINE_boolean("calibrate", False, "Fit measured = scale * predicted "
                       "+ offset and store it beside the LUT "
                       "(NAME.calibration.json); searches with --lut apply "
                       "it.")
