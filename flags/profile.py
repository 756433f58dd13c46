"""Flags of tools/profile.py."""

from absl import flags

from . import common

FORMATS = ("text", "json")


def define_profile_flags() -> None:
  common.define_arch_flags()
  flags.DEFINE_integer("input_channels", 3, "Image channels the stem sees "
                       "(1 for grayscale data such as digits).",
                       lower_bound=1)
  flags.DEFINE_enum("format", "text", FORMATS,
                    "text: per-layer table and totals; json: "
                    '{name: {"flops_m", "params_m", "input_size"}}.')
