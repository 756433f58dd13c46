"""Flags of tools/export.py."""

from absl import flags

from . import common


def define_export_flags() -> None:
  common.define_arch_flags()
  flags.DEFINE_string("output_dir", None,
                      "Directory for MODEL.keras and MODEL.tflite (created).")
  flags.DEFINE_string("weights", None,
                      "Optional .keras or .weights.h5 file to load into the "
                      "model before export; without it the weights are the "
                      "random initialisation.")
