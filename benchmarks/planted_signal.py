"""Planted signal: do the architecture logits learn from cross-entropy?

A search of a micro space on the built-in digits (16 px) in which one
decision has a clearly better option: the block's output width is 2, 4 or
24 channels, and 2 or 4 channels cannot separate ten digits well (capacity
wins). With
``--loss=none`` only cross-entropy moves the logits, so a search that learns
picks 24 channels in (nearly) every seed; with the CE path to the logits cut
(``--cut_ce``, the control) it cannot. The wide option is not option 0, so
uniform logits (argmax ties go to option 0) never pass by accident.

  python benchmarks/planted_signal.py --seeds=10 [--gumbel_mode=hard] [--cut_ce]
      [--input_sizes=16,12,8 --resolution_sampling=all|one]
      [--precision=float32|mixed_float16|mixed_bfloat16]

``--input_sizes`` gives the space a resolution decision (largest first,
the data at the largest), which ``--resolution_sampling`` trains with every
option's network per step (``all``) or one sampled option's (``one``).
``--precision`` builds the supernet under that Keras dtype policy
(``training.precision``): the logits must learn under 16-bit activations too.

The unit suite runs the same experiment (tests/search/test_planted_signal.py).
"""

from __future__ import annotations

import argparse
import tempfile
import time

PLANTED_DECISION = "s1_b0/out"
PLANTED_OPTION = 2  # 24 channels
PLANTED_SPACE = {
    "name": "planted", "input_sizes": [16], "width_divisor": 2,
    "stages": [[{"ops": ["conv_k3"], "out": [8], "stride": 2}],
               [{"ops": ["ir_k3", "ir_k5"], "out": [2, 4, 24], "stride": 2,
                 "expansions": [1, 3]}]]}


def cut_ce(step) -> None:
  """Stops the CE gradient at the decision weights of the arch step."""
  from keras import ops  # pylint: disable=g-import-not-at-top
  original = step.arch_logits
  step.arch_logits = lambda images, weights: original(
      images, {n: ops.stop_gradient(w) for n, w in weights.items()})


def planted_space(input_sizes=(16,)):
  """The planted space, with ``input_sizes`` as its resolution options."""
  from fbnetv2_tf.specs.search_space import SearchSpace  # pylint: disable=g-import-not-at-top
  return SearchSpace.from_dict({**PLANTED_SPACE,
                                "input_sizes": list(input_sizes)})


def run_planted(seed: int, gumbel_mode: str = "soft", cut: bool = False,
                epochs: int = 4, config_overrides: dict | None = None,
                data=None, input_sizes=(16,),
                resolution_sampling: str = "all",
                precision: str = "float32") -> dict:
  """One search; returns the planted decision's probabilities and pick."""
  import dataclasses  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf import data as data_lib  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.cost.losses import ResourceLoss  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.search.config import SearchConfig  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.training import search_job  # pylint: disable=g-import-not-at-top
  data = data or data_lib.load_dataset("digits", image_size=input_sizes[0])
  config = dataclasses.replace(
      SearchConfig(warmup_epochs=1, loss=ResourceLoss("none")),
      **(config_overrides or {}))
  with tempfile.TemporaryDirectory() as out:
    job = search_job.SearchJob(planted_space(input_sizes), out,
                               epochs=epochs, batch_size=32, seed=seed,
                               config=config, verbose=0,
                               gumbel_mode=gumbel_mode,
                               resolution_sampling=resolution_sampling,
                               precision=precision)
    hook = cut_ce if cut else None
    result = search_job.run_search(job, data, step_hook=hook)
  p = result.probabilities[PLANTED_DECISION]
  return {"seed": seed, "p_planted": p[PLANTED_OPTION],
          "picked": int(max(range(len(p)), key=p.__getitem__)) == PLANTED_OPTION,
          "resolution": result.probabilities.get("resolution")}


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--seeds", type=int, default=10)
  parser.add_argument("--gumbel_mode", default="soft")
  parser.add_argument("--epochs", type=int, default=4)
  parser.add_argument("--cut_ce", action="store_true")
  parser.add_argument("--input_sizes", default="16",
                      help="resolution options, largest first (e.g. 16,12,8)")
  parser.add_argument("--resolution_sampling", default="all",
                      choices=("all", "one"))
  parser.add_argument("--precision", default="float32",
                      choices=("float32", "mixed_float16", "mixed_bfloat16"))
  args = parser.parse_args()
  sizes = tuple(int(s) for s in args.input_sizes.split(","))
  from fbnetv2_tf import data as data_lib  # pylint: disable=g-import-not-at-top
  data = data_lib.load_dataset("digits", image_size=sizes[0])
  start, picks = time.time(), 0
  for seed in range(args.seeds):
    r = run_planted(seed, args.gumbel_mode, args.cut_ce, args.epochs, data=data,
                    input_sizes=sizes,
                    resolution_sampling=args.resolution_sampling,
                    precision=args.precision)
    picks += r["picked"]
    resolution = ("" if r["resolution"] is None else ", P(resolution) = "
                  + "/".join(f"{p:.2f}" for p in r["resolution"]))
    print(f"seed {seed}: P(24 channels) = {r['p_planted']:.3f}{resolution}")
  print(f"picked the planted option in {picks} of {args.seeds} seeds "
        f"(mode {args.gumbel_mode}, {'CE cut' if args.cut_ce else 'CE on'}, "
        f"input sizes {args.input_sizes}, resolution sampling "
        f"{args.resolution_sampling}, precision {args.precision}, "
        f"{time.time() - start:.0f} s)")


if __name__ == "__main__":
  main()
