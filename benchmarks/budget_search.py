"""Budget mode: does the derived architecture meet its MFLOPs target?

Searches tiny32 on the built-in digits under several MFLOPs targets (budget
loss, the defaults of tools/search.py) and reports, for each, the expected
cost the search steered, the counted MFLOPs of the derived child, its ratio
to the target, and how many decisions the final budget repair changed. The
aim: counted <= target and within 10 % of it.

  python benchmarks/budget_search.py [--targets=0.15,0.3,0.5] [--epochs=10]
      [--resolution_sampling=all|one]
"""

import argparse
import dataclasses
import json
import math
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def mean_entropy(probabilities) -> float:
  """Mean entropy (nats) of the decisions' final distributions."""
  values = [-sum(p * math.log(p) for p in ps if p > 0)
            for ps in probabilities.values()]
  return sum(values) / len(values)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--targets", default="0.15,0.3,0.5")
  parser.add_argument("--epochs", type=int, default=10)
  parser.add_argument("--warmup_epochs", type=int, default=2)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--entropy_weight", type=float, default=None,
                      help="default: SearchConfig's")
  parser.add_argument("--steer", default=None,
                      help="what the budget term prices: expected|argmax "
                      "(default: ResourceLoss's)")
  parser.add_argument("--resolution_sampling", default="all",
                      choices=("all", "one"),
                      help="every resolution's network per step, or one")
  parser.add_argument("--json", default=None, help="also write results here")
  args = parser.parse_args()
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
  from fbnetv2_tf import data  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.cost.losses import ResourceLoss  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.search.config import SearchConfig  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs import builtin_spaces  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.training.search_job import SearchJob, run_search  # pylint: disable=g-import-not-at-top

  images = data.load_dataset("digits")
  rows = []
  for target in (float(t) for t in args.targets.split(",")):
    with tempfile.TemporaryDirectory() as out:
      loss = ResourceLoss("budget", "mflops", target)
      if args.steer is not None:
        loss = dataclasses.replace(loss, steer=args.steer)
      config = SearchConfig(warmup_epochs=args.warmup_epochs, loss=loss)
      if args.entropy_weight is not None:
        config = dataclasses.replace(config,
                                     entropy_weight=args.entropy_weight)
      job = SearchJob(builtin_spaces.tiny32(), out, epochs=args.epochs,
                      seed=args.seed, verbose=0, config=config,
                      resolution_sampling=args.resolution_sampling)
      start = time.time()
      r = run_search(job, images)
      seconds = time.time() - start
    rows.append({"target": target, "expected": r.expected_cost,
                 "probabilities": r.probabilities,
                 "counted": r.counted_cost, "ratio": r.counted_cost / target,
                 "repairs": r.budget_changes, "arch": r.arch.to_dict(),
                 "entropy": mean_entropy(r.probabilities),
                 "seconds": seconds})
    print(f"  target {target}: counted {r.counted_cost:.4f}, "
          f"{r.budget_changes} repaired, {seconds:.0f} s", file=sys.stderr)
  print(f"tiny32 on digits, {args.epochs} epochs ({args.warmup_epochs} "
        f"warm-up), seed {args.seed}, budget loss, resolution sampling "
        f"{args.resolution_sampling}.\n")
  print("| target MFLOPs | expected (final distribution) | counted (derived) "
        "| counted / target | decisions repaired | mean entropy (nats) |")
  print("|---:|---:|---:|---:|---:|---:|")
  for r in rows:
    print(f"| {r['target']:g} | {r['expected']:.4f} | {r['counted']:.4f} | "
          f"{r['ratio']:.3f} | {r['repairs']} | {r['entropy']:.3f} |")
  if args.json:
    with open(args.json, "w", encoding="utf-8") as f:
      json.dump(rows, f, indent=1)


if __name__ == "__main__":
  main()
