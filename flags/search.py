"""Flags of tools/search.py."""

from absl import flags

from . import common


def define_search_flags() -> None:
  common.define_data_flags()
  common.define_run_flags()
  common.define_compute_flags()
  common.define_derive_flags()
  flags.DEFINE_enum("derive", "argmax", ["argmax", "evaluate"],
                    "argmax: every decision's most likely option, fitted "
                    "into the budget band; evaluate: the best of "
                    "--candidates in-band candidates by inherited accuracy "
                    "on the architecture split.")
  flags.DEFINE_float("child_share", 0.0,
                     "Share of each weight batch that trains one-hot "
                     "children of the whole space instead of blends of the "
                     "learned distribution, so that inherited weights rank "
                     "children the search did not prefer.",
                     lower_bound=0, upper_bound=1)
  flags.DEFINE_enum("child_sampling", "uniform", ["uniform", "sandwich"],
                    "How those children are drawn: uniform, or sandwich "
                    "(the dearest and the cheapest child beside uniform "
                    "ones).")
  flags.DEFINE_string("space", "tiny32",
                      "A built-in search space (tiny32, fbnetv2_f, fbnet_v1, "
                      "mnv3_small32) "
                      "or a search-space JSON file.")
  flags.DEFINE_integer("warmup_epochs", None,
                       "Epochs that train the weights only (default: 20 % "
                       "of --epochs, rounded: 2 of the default 10).",
                       lower_bound=0)
  flags.DEFINE_enum("loss", None, ["budget", "additive", "fbnet", "none"],
                    "Architecture loss (default: budget with a target, none "
                    "without): budget meets the target with an "
                    "augmented Lagrangian (derived arch at or under it); "
                    "additive CE + lambda*cost/target; fbnet "
                    "CE*a*log(cost)^b; none CE only.")
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
                     "lambda of the additive loss.", lower_bound=0)
  flags.DEFINE_float("budget_penalty", 20.0,
                     "Budget loss: weight of its quadratic term.",
                     lower_bound=0)
  flags.DEFINE_float("dual_lr", 0.02,
                     "Budget loss: step of its Lagrange multiplier per "
                     "architecture step.", lower_bound=0)
  flags.DEFINE_float("cost_scale", 1.0,
                     "The fbnet loss uses log(cost_scale * cost): make the "
                     "scaled cost exceed 1 (e.g. 1000 below 1 MFLOP).",
                     lower_bound=0)
  flags.DEFINE_float("weight_lr", 0.1, "SGD learning rate of the weights "
                     "(cosine to --weight_lr_floor of it).", lower_bound=0)
  flags.DEFINE_float("weight_lr_floor", 0.1,
                     "Where the weights' cosine learning rate ends, as a "
                     "fraction of --weight_lr.", lower_bound=0, upper_bound=1)
  flags.DEFINE_float("arch_lr", 0.1, "Adam learning rate of the logits.",
                     lower_bound=0)
  flags.DEFINE_float("entropy_weight", 0.0,
                     "Weight of the decisions' mean entropy in the "
                     "architecture loss: makes decisions commit, so the "
                     "argmax child meets the budget the distribution met.",
                     lower_bound=0)
  flags.DEFINE_enum("gumbel_mode", "soft", ["soft", "hard"],
                    "soft: each example trains a blend of options that "
                    "sharpens as the temperature falls (FBNetV2); hard: "
                    "straight-through, each example trains one sampled "
                    "child (slower to train in short searches).")
  flags.DEFINE_enum("resolution_sampling", "all", ["all", "one"],
                    "all: each step runs the supernet at every resolution "
                    "option of the space and mixes the logits by the "
                    "decision's weights; one: each step runs it once, at "
                    "one sampled resolution (one network's compute instead "
                    "of sum (size / largest)^2 of them).")
  flags.DEFINE_float("temperature", 5.0,
                     "Gumbel temperature of the warm-up and the first "
                     "architecture epoch.", lower_bound=0)
  flags.DEFINE_float("final_temperature", 0.2,
                     "Temperature of the last epoch (geometric decay in "
                     "between, whatever --epochs); 0 uses FBNet's fixed "
                     "--temperature_decay per epoch instead.", lower_bound=0)
  flags.DEFINE_float("temperature_decay", 0.045,
                     "With --final_temperature=0: temperature *= "
                     "exp(-decay) every epoch (FBNet).", lower_bound=0)
