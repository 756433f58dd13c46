"""Flags of tools/derive.py."""

from absl import flags

from . import common


def define_derive_flags() -> None:
  common.define_derive_flags()
  flags.DEFINE_string("search_dir", None,
                      "A finished search's --output_dir (fbnetv2-search).")
  flags.DEFINE_list("targets", None,
                    "Comma-separated budgets, in --metric's unit.")
  flags.DEFINE_enum("metric", None, ["mflops", "mparams", "latency_ms"],
                    "The targets' unit (default: the search's metric).")
  flags.DEFINE_string("lut", None, "Latency lookup table JSON, for "
                      "--metric=latency_ms (default: the search's --lut).")
  flags.DEFINE_float("band", None,
                     "Lowest acceptable fraction of each target (default: "
                     "the search's, 0.9).", lower_bound=0, upper_bound=1)
  flags.DEFINE_string("output_dir", None, "Where arch_TARGET.json, "
                      "derive_result.json and pareto.png go.")
