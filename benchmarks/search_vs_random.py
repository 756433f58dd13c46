"""Searched vs. random architectures under one MFLOPs budget.

On Fashion-MNIST (IDX files; Debian: apt-get install dataset-fashion-mnist),
in one run: searches tiny32 under a MFLOPs budget (budget loss), samples
random architectures of the same space whose counted MFLOPs fall in the same
band (90-100 % of the budget, where the budget search lands), trains every
one from scratch with the same recipe and seed, and ranks them by test
accuracy.

  python benchmarks/search_vs_random.py [--target_mflops=0.25] [--random=8]
      [--train_images=12000] [--search_epochs=10] [--train_epochs=10]
      [--gumbel_mode=soft|hard] [--data_dir=/usr/share/datasets/fashion-mnist]
      [--json=out.json]
"""

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

BAND = 0.9  # random archs cost between BAND * target and target


def random_archs(space, target, count, seed):
  """``count`` distinct uniformly random archs in the budget band."""
  from fbnetv2_tf.cost.counting import count_arch  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs import derive  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(seed)
  archs, seen = [], set()
  if count == 0:
    return archs
  for _ in range(200000):
    choices = derive.random_choices(space, rng)
    key = tuple(sorted(choices.items()))
    if key in seen:
      continue
    arch = derive.derive_arch(space, choices, f"random{len(archs)}")
    if BAND * target <= count_arch(arch, 10).mflops <= target:
      seen.add(key)
      archs.append(arch)
      if len(archs) == count:
        return archs
  raise RuntimeError(f"found only {len(archs)} random archs in the band")


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--target_mflops", type=float, default=0.25)
  parser.add_argument("--random", type=int, default=8)
  parser.add_argument("--train_images", type=int, default=12000)
  parser.add_argument("--search_epochs", type=int, default=10)
  parser.add_argument("--warmup_epochs", type=int, default=2)
  parser.add_argument("--train_epochs", type=int, default=10)
  parser.add_argument("--batch_size", type=int, default=128)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--gumbel_mode", default="soft", choices=("soft", "hard"))
  parser.add_argument("--data_dir", default=None)
  parser.add_argument("--json", default=None, help="also write results here")
  args = parser.parse_args()
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
  import keras  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf import data  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.cost.counting import count_arch  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.cost.losses import ResourceLoss  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.models.bilevel import SearchConfig  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs import builtin_spaces  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs.arch_string import to_arch_string  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.training.child import TrainJob, train_child  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.training.search_job import SearchJob, run_search  # pylint: disable=g-import-not-at-top

  space = builtin_spaces.tiny32()
  full = data.load_dataset("fashion_mnist", args.data_dir)
  subset = full.subset(max_train=args.train_images, seed=args.seed)
  work = tempfile.mkdtemp(prefix="search_vs_random_")
  start = time.time()
  searched = run_search(SearchJob(
      space, os.path.join(work, "search"), epochs=args.search_epochs,
      batch_size=args.batch_size, seed=args.seed, verbose=0,
      gumbel_mode=args.gumbel_mode, config=SearchConfig(warmup_epochs=args.warmup_epochs,
                          loss=ResourceLoss("budget", "mflops",
                                            args.target_mflops))),
      data.load_dataset("fashion_mnist", args.data_dir, image_size=32
                        ).subset(max_train=args.train_images, seed=args.seed))
  search_s = time.time() - start
  print(f"  searched in {search_s:.0f} s: {to_arch_string(searched.arch)}",
        file=sys.stderr)
  candidates = [("searched", searched.arch)] + [
      (a.name, a) for a in random_archs(space, args.target_mflops,
                                        args.random, args.seed)]
  rows = []
  for label, arch in candidates:
    keras.backend.clear_session()
    sized = subset if arch.input_size == subset.image_shape[0] else (
        data.load_dataset("fashion_mnist", args.data_dir,
                          image_size=arch.input_size
                          ).subset(max_train=args.train_images, seed=args.seed))
    result = train_child(arch, sized, TrainJob(
        os.path.join(work, label), epochs=args.train_epochs,
        batch_size=args.batch_size, seed=args.seed, verbose=0))
    rows.append({"arch": label, "mflops": count_arch(arch, 10).mflops,
                 "accuracy": result.test_accuracy,
                 "spec": to_arch_string(arch)})
    print(f"  {label}: {result.test_accuracy:.4f}", file=sys.stderr)
  ranked = sorted(rows, key=lambda r: -r["accuracy"])
  rank = 1 + [r["arch"] for r in ranked].index("searched")
  print(f"Fashion-MNIST, {args.train_images} training images, tiny32 under "
        f"{args.target_mflops} MFLOPs; {args.gumbel_mode} Gumbel search "
        f"{args.search_epochs} epochs "
        f"({search_s / 60:.1f} min), every arch trained {args.train_epochs} "
        f"epochs, batch {args.batch_size}, seed {args.seed}.\n")
  print("| rank | arch | MFLOPs | test accuracy | architecture |")
  print("|---:|---|---:|---:|---|")
  for i, r in enumerate(ranked, 1):
    print(f"| {i} | {r['arch']} | {r['mflops']:.4f} | {r['accuracy']:.4f} "
          f"| `{r['spec']}` |")
  accuracies = [r["accuracy"] for r in rows if r["arch"] != "searched"]
  if not accuracies:
    return
  print(f"\nThe searched architecture ranks {rank} of {len(rows)}; random "
        f"mean {np.mean(accuracies):.4f} (min {min(accuracies):.4f}, max "
        f"{max(accuracies):.4f}).")
  if args.json:
    with open(args.json, "w", encoding="utf-8") as f:
      json.dump({"rank": rank, "rows": rows}, f, indent=1)


if __name__ == "__main__":
  main()
