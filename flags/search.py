"""Flags of tools/search.py."""

from absl import flags

from flags import common


def define_search_flags() -> None:
  common.define_data_flags()
  common.define_run_flags()
  flags.DEFINE_string("space", "tiny32",
                      "A built-in search space (tiny32, fbnetv2_f, fbnet_v1) "
                      "or a search-space JSON file.")
  flags.DEFINE_integer("warmup_epochs", 2,
                       "Epochs that train the weights only.", lower_bound=0)
  flags.DEFINE_enum("loss", "budget", ["budget", "additive", "fbnet", "none"],
                    "Architecture loss: budget drives the cost to the target "
                    "(derived arch at or under it); additive CE + "
                    "lambda*cost/target; fbnet CE*a*log(cost)^b; none CE.")
  flags.DEFINE_float("target_mflops", None, "Cost target in MFLOPs.",
                     lower_bound=0)
  flags.DEFINE_float("target_mparams", None,
                     "Cost target in millions of parameters.", lower_bound=0)
  flags.DEFINE_float("target_ms", None,
                     "Latency target in ms (needs --lut).", lower_bound=0)
  flags.DEFINE_string("lut", None, "Latency lookup table JSON (for "
                      "--target_ms or --cost_metric=latency_ms).")
  flags.DEFINE_enum("cost_metric", None, ["mflops", "mparams", "latency_ms"],
                    "Cost of the fbnet loss (default: the target's metric, "
                    "else mflops).")
  flags.DEFINE_float("cost_weight", 1.0,
                     "lambda of the budget and additive losses.", lower_bound=0)
  flags.DEFINE_float("cost_scale", 1.0,
                     "The fbnet loss uses log(cost_scale * cost): make the "
                     "scaled cost exceed 1 (e.g. 1000 below 1 MFLOP).",
                     lower_bound=0)
  flags.DEFINE_float("weight_lr", 0.1, "SGD learning rate of the weights "
                     "(cosine to 0).", lower_bound=0)
  flags.DEFINE_float("arch_lr", 0.01, "Adam learning rate of the logits.",
                     lower_bound=0)
  flags.DEFINE_enum("gumbel_mode", "soft", ["soft", "hard"],
                    "soft: every step trains the blend of all options "
                    "(FBNetV2); hard: straight-through, one sampled child "
                    "per step.")
  flags.DEFINE_float("temperature", 5.0, "Initial Gumbel temperature.",
                     lower_bound=0)
  flags.DEFINE_float("temperature_decay", 0.045,
                     "Temperature *= exp(-decay) every epoch.", lower_bound=0)
