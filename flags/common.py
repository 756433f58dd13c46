"""Flags shared by several binaries."""

from absl import flags


def define_arch_flags() -> None:
  """--arch, --input_size, --num_classes: what model to build or count."""
  flags.DEFINE_string(
      "arch", None,
      "A zoo model name (e.g. FBNetV2_F1), a path to an arch JSON file, or an "
      "arch string ('name@size/divisor: op-cN-sS-eX, ... | ...').")
  flags.DEFINE_integer("input_size", None,
                       "Overrides the input resolution of the model(s).",
                       lower_bound=8)
  flags.DEFINE_integer("num_classes", 1000, "Classifier outputs.",
                       lower_bound=1)
