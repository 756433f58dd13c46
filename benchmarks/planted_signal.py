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


def run_planted(seed: int, gumbel_mode: str = "soft", cut: bool = False,
                epochs: int = 4, config_overrides: dict | None = None,
                data=None) -> dict:
  """One search; returns the planted decision's probabilities and pick."""
  import dataclasses  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf import data as data_lib  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.cost.losses import ResourceLoss  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.search.config import SearchConfig  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs.search_space import SearchSpace  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.training import search_job  # pylint: disable=g-import-not-at-top
  data = data or data_lib.load_dataset("digits", image_size=16)
  config = dataclasses.replace(
      SearchConfig(warmup_epochs=1, loss=ResourceLoss("none")),
      **(config_overrides or {}))
  with tempfile.TemporaryDirectory() as out:
    job = search_job.SearchJob(SearchSpace.from_dict(PLANTED_SPACE), out,
                               epochs=epochs, batch_size=32, seed=seed,
                               config=config, verbose=0,
                               gumbel_mode=gumbel_mode)
    hook = cut_ce if cut else None
    result = search_job.run_search(job, data, step_hook=hook)
  p = result.probabilities[PLANTED_DECISION]
  return {"seed": seed, "p_planted": p[PLANTED_OPTION],
          "picked": int(max(range(len(p)), key=p.__getitem__)) == PLANTED_OPTION}


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--seeds", type=int, default=10)
  parser.add_argument("--gumbel_mode", default="soft")
  parser.add_argument("--epochs", type=int, default=4)
  parser.add_argument("--cut_ce", action="store_true")
  args = parser.parse_args()
  from fbnetv2_tf import data as data_lib  # pylint: disable=g-import-not-at-top
  data = data_lib.load_dataset("digits", image_size=16)
  start, picks = time.time(), 0
  for seed in range(args.seeds):
    r = run_planted(seed, args.gumbel_mode, args.cut_ce, args.epochs, data=data)
    picks += r["picked"]
    print(f"seed {seed}: P(24 channels) = {r['p_planted']:.3f}")
  print(f"picked the planted option in {picks} of {args.seeds} seeds "
        f"(mode {args.gumbel_mode}, {'CE cut' if args.cut_ce else 'CE on'}, "
        f"{time.time() - start:.0f} s)")


if __name__ == "__main__":
  main()
