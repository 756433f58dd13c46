"""Searched vs. random architectures under one MFLOPs budget, seed-averaged.

On Fashion-MNIST (Debian: apt-get install dataset-fashion-mnist), in one run:
``--search_seeds`` budget searches of tiny32, ``--random`` uniformly random
architectures of the same space whose counted MFLOPs lie in the band where
the budget search lands (0.9-1.0x the target), and every one of them trained
from scratch with ``--train_seeds`` seeds (same recipe); each architecture is
scored by its mean test accuracy over its seeds, and each searched one is
ranked against the random ones.

  python benchmarks/search_vs_random.py [--target_mflops=0.25]
      [--train_images=20000] [--search_seeds=3] [--random=8] [--train_seeds=2]
      [--results=search_vs_random.json] [--report_only]

Resumable: finished searches and trainings are kept in ``--results``; run
the same command again to continue.
"""

import argparse
import os
import sys
import tempfile
import time

import numpy as np

import _common

BAND = 0.9  # random archs cost between BAND * target and target


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--target_mflops", type=float, default=0.25)
  parser.add_argument("--train_images", type=int, default=20000)
  parser.add_argument("--search_seeds", type=int, default=3)
  parser.add_argument("--random", type=int, default=8)
  parser.add_argument("--train_seeds", type=int, default=2)
  # A search epoch of 20,000 images costs about 4 minutes on 2 cores.
  parser.add_argument("--search_epochs", type=int, default=3)
  parser.add_argument("--warmup_epochs", type=int, default=1)
  parser.add_argument("--train_epochs", type=int, default=5)
  parser.add_argument("--batch_size", type=int, default=128)
  parser.add_argument("--data_dir", default=None)
  parser.add_argument("--results", default="search_vs_random.json")
  parser.add_argument("--report_only", action="store_true",
                      help="print the table of what --results holds; run "
                      "nothing")
  args = parser.parse_args()
  from fbnetv2_tf.cost.counting import count_arch  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.cost.losses import ResourceLoss  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.search.config import SearchConfig  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs import ArchSpec, builtin_spaces  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs.arch_string import to_arch_string  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.training.search_job import SearchJob, run_search  # pylint: disable=g-import-not-at-top

  space = builtin_spaces.tiny32()
  fmnist = _common.FashionMnist(args.data_dir, args.train_images, 0)
  results = _common.Results(args.results, args.report_only)
  work = tempfile.mkdtemp(prefix="search_vs_random_")
  start = time.time()

  def search(seed):
    t = time.time()
    r = run_search(SearchJob(
        space, os.path.join(work, f"search{seed}"), epochs=args.search_epochs,
        batch_size=args.batch_size, seed=seed, verbose=0,
        config=SearchConfig(warmup_epochs=args.warmup_epochs,
                            loss=ResourceLoss("budget", "mflops",
                                              args.target_mflops))),
        fmnist.at(space.max_input_size))
    return {"arch": r.arch.to_dict(), "minutes": (time.time() - t) / 60,
            "repairs": r.budget_changes}

  def train(label, arch):
    accuracies = [results.get_or_run(
        f"train/{to_arch_string(arch)}/{seed}",
        lambda seed=seed: _common.train_from_scratch(
            arch, fmnist.at(arch.input_size),
            os.path.join(work, f"train_{label}_{seed}"), args.train_epochs,
            args.batch_size, seed))
        for seed in range(args.train_seeds)]
    accuracies = [a for a in accuracies if a is not None]
    if not accuracies:
      return None
    return {"arch": label, "mflops": count_arch(arch, 10, 1).mflops,
            "mean": float(np.mean(accuracies)),
            "spread": float(np.max(accuracies) - np.min(accuracies)),
            "accuracies": accuracies, "spec": to_arch_string(arch)}

  # Order: the first search, the random architectures, then the other
  # searches, so that a run cut short still compares something.
  rows = []
  for seed in range(args.search_seeds):
    found = results.get_or_run(f"search/{seed}", lambda seed=seed: search(seed))
    if found is not None:
      arch = ArchSpec.from_dict(f"searched{seed}", found["arch"])
      rows.append(train(arch.name, arch))
    if seed == 0:
      rows.extend(train(arch.name, arch) for _, arch in _common.random_archs(
          space, BAND * args.target_mflops, args.target_mflops, args.random,
          0))
  report(args, [r for r in rows if r is not None], results,
         time.time() - start)


def report(args, rows, results, seconds):
  ranked = sorted(rows, key=lambda r: -r["mean"])
  random_means = [r["mean"] for r in rows if r["arch"].startswith("random")]
  print(f"Fashion-MNIST, {args.train_images} training images, tiny32 under "
        f"{args.target_mflops} MFLOPs; {args.search_seeds} searches of "
        f"{args.search_epochs} epochs ({args.warmup_epochs} warm-up), "
        f"{args.random} random architectures in the band "
        f"[{BAND * args.target_mflops:g}, {args.target_mflops:g}]; every "
        f"architecture trained {args.train_epochs} epochs with "
        f"{args.train_seeds} seeds, batch {args.batch_size} "
        f"({seconds / 60:.0f} min this run).\n")
  print("| rank | arch | MFLOPs | mean test accuracy | spread (max-min) "
        "| architecture |")
  print("|---:|---|---:|---:|---:|---|")
  for i, r in enumerate(ranked, 1):
    print(f"| {i} | {r['arch']} | {r['mflops']:.4f} | {r['mean']:.4f} | "
          f"{r['spread']:.4f} | `{r['spec']}` |")
  if not random_means:
    return
  print(f"\nRandom: mean {np.mean(random_means):.4f}, min "
        f"{min(random_means):.4f}, max {max(random_means):.4f}.")
  for r in rows:
    if r["arch"].startswith("searched"):
      beaten = sum(r["mean"] > m for m in random_means)
      seed = r["arch"][len("searched"):]
      repairs = results.items[f"search/{seed}"]["repairs"]
      print(f"{r['arch']}: beats {beaten} of {len(random_means)} random "
            f"architectures ({repairs} decision(s) repaired after the "
            f"argmax).")
  sys.stdout.flush()


if __name__ == "__main__":
  main()
