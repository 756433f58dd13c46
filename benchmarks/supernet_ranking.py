"""Does the trained supernet rank architectures as training from scratch does?

On Fashion-MNIST (Debian: apt-get install dataset-fashion-mnist), in one run:
``--archs`` uniformly random architectures whose counted MFLOPs lie in
``--band`` (fractions of the target) are trained from scratch with
``--train_seeds`` seeds; a search of tiny32 (the library's defaults, budget
loss at the target) trains the supernet; then each architecture is scored
as a child of the trained supernet (inherited weights, BatchNorm statistics
recalibrated on training images). Reports Kendall's tau between the
inherited and the mean from-scratch accuracy and writes a scatter plot.

  python benchmarks/supernet_ranking.py [--archs=16] [--band=0.5,1.0]
      [--train_seeds=2] [--train_images=8000] [--supernet=search|uniform]
      [--results=supernet_ranking.json] [--plot=supernet_ranking.png]

``--supernet=uniform`` trains the same supernet with no architecture updates
(every epoch is warm-up: uniformly sampled children), the usual one-shot
ranking setting. Resumable through ``--results``.
"""

import argparse
import os
import tempfile
import time

import numpy as np

import _common


def inherited_accuracies(net, candidates, images, recalibration):
  """Test accuracy of each child with the supernet's weights."""
  from fbnetv2_tf import data  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.search import inherit  # pylint: disable=g-import-not-at-top
  test = (data.normalize(images.test_images), images.test_labels)
  calibration = data.normalize(images.train_images[:recalibration])
  return {arch.name: inherit.inherited_accuracy(net, choices, calibration,
                                                *test)
          for choices, arch in candidates}


def plot(rows, tau, path):
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  fig, ax = plt.subplots(figsize=(4.5, 4))
  ax.scatter([r["inherited"] for r in rows], [r["scratch"] for r in rows])
  for r in rows:
    ax.annotate(r["arch"].replace("random", ""),
                (r["inherited"], r["scratch"]), fontsize=7)
  ax.set_xlabel("child of the supernet (inherited, BN recalibrated)")
  ax.set_ylabel("trained from scratch")
  ax.set_title(f"tiny32 test accuracy, Kendall tau {tau:.2f}", fontsize=9)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--archs", type=int, default=16)
  parser.add_argument("--band", default="0.5,1.0",
                      help="low,high as fractions of --target_mflops")
  parser.add_argument("--target_mflops", type=float, default=0.25)
  parser.add_argument("--train_images", type=int, default=8000)
  _common.add_recipe_arguments(parser, search_epochs=6, warmup_epochs=2,
                               train_epochs=4, train_seeds=2)
  parser.add_argument("--recalibration_images", type=int, default=2000)
  parser.add_argument("--supernet", default="search",
                      choices=("search", "uniform"))
  parser.add_argument("--results", default="supernet_ranking.json")
  parser.add_argument("--plot", default="supernet_ranking.png")
  args = parser.parse_args()
  from scipy import stats  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.cost.counting import count_arch  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.cost.losses import ResourceLoss  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.search.config import SearchConfig  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs import builtin_spaces  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs.arch_string import to_arch_string  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.training.search_job import SearchJob, run_search  # pylint: disable=g-import-not-at-top

  space = builtin_spaces.tiny32()
  low, high = (float(v) * args.target_mflops for v in args.band.split(","))
  fmnist = _common.FashionMnist(args.data_dir, args.train_images, 0)
  results = _common.Results(args.results)
  candidates = _common.random_archs(space, low, high, args.archs, 1)
  work = tempfile.mkdtemp(prefix="supernet_ranking_")
  start = time.time()

  def search():
    warmup = (args.search_epochs if args.supernet == "uniform"
              else args.warmup_epochs)
    images = fmnist.at(space.max_input_size)
    r = run_search(SearchJob(
        space, os.path.join(work, "search"), epochs=args.search_epochs,
        batch_size=args.batch_size, seed=0, verbose=0,
        config=SearchConfig(warmup_epochs=min(warmup, args.search_epochs),
                            child_share=args.child_share,
                            child_sampling=args.child_sampling,
                            loss=ResourceLoss("budget", "mflops",
                                              args.target_mflops))), images)
    return inherited_accuracies(r.supernet, candidates, images,
                                args.recalibration_images)

  variant = args.supernet + (f"+{args.child_sampling}{args.child_share:g}"
                             if args.child_share else "")
  # From scratch first: it does not depend on how the supernet trains.
  scratch = {}
  for _, arch in candidates:
    scratch[arch.name] = [results.get_or_run(
        f"scratch/{to_arch_string(arch)}/{seed}",
        lambda arch=arch, seed=seed: _common.train_from_scratch(
            arch, fmnist.at(arch.input_size),
            os.path.join(work, f"train_{arch.name}_{seed}"),
            args.train_epochs, args.batch_size, seed))
        for seed in range(args.train_seeds)]
  inherited = results.get_or_run(
      f"inherited/{variant}/{low:g}-{high:g}", search)
  rows = [{"arch": arch.name, "inherited": inherited[arch.name],
           "scratch": float(np.mean(scratch[arch.name])),
           "mflops": count_arch(arch, 10, 1).mflops,
           "spec": to_arch_string(arch)} for _, arch in candidates]
  tau = stats.kendalltau([r["inherited"] for r in rows],
                         [r["scratch"] for r in rows]).statistic
  plot(rows, tau, args.plot)
  print(f"tiny32 on Fashion-MNIST ({args.train_images} training images): "
        f"{len(rows)} random architectures in [{low:g}, {high:g}] MFLOPs; "
        f"supernet: {variant} ({args.search_epochs} epochs); from "
        f"scratch: {args.train_epochs} epochs, mean of {args.train_seeds} seeds "
        f"({(time.time() - start) / 60:.0f}"
        f" min this run).\n")
  print("| arch | MFLOPs | inherited | from scratch | architecture |")
  print("|---|---:|---:|---:|---|")
  for r in sorted(rows, key=lambda r: -r["scratch"]):
    print(f"| {r['arch']} | {r['mflops']:.4f} | {r['inherited']:.4f} | "
          f"{r['scratch']:.4f} | `{r['spec']}` |")
  print(f"\nKendall tau {tau:.3f}; scatter plot in {args.plot}.")
  if args.train_seeds >= 2:
    # How well the from-scratch ranking agrees with itself: a noise ceiling
    # for any predictor scored against it.
    by_seed = [[scratch[arch.name][k] for _, arch in candidates]
               for k in (0, 1)]
    print(f"From scratch, seed 0 against seed 1: Kendall tau "
          f"{stats.kendalltau(*by_seed).statistic:.3f}.")


if __name__ == "__main__":
  main()
