"""One supernet, many budgets: architectures derived from one search
against dedicated searches at each target.

On Fashion-MNIST (Debian: apt-get install dataset-fashion-mnist), in one
run: a budget search of tiny32 at ``--target_mflops`` (T); from its trained
supernet, ``training.derive_job.derive_targets`` derives architectures for
``--fractions`` of T (default 0.5, 0.75, 1.0) by evaluation, without
training; a dedicated search (same recipe, its own supernet, derivation by
evaluation) runs at every fraction below 1 (at 1.0 the shared search is the
dedicated one). Every architecture is trained from scratch with
``--train_seeds`` seeds and the report compares, per target, the derived
child with the dedicated one: cost as a fraction of the target and mean
test accuracy.

  python benchmarks/many_budgets.py [--target_mflops=0.3] [--fractions=0.5,0.75,1.0]
      [--train_images=8000] [--train_seeds=2] [--results=many_budgets.json]
      [--plot=many_budgets_pareto.png]

Resumable through ``--results``; the Pareto plot of the shared search's
derivation is copied to ``--plot``.
"""

import argparse
import os
import shutil
import tempfile
import time

import numpy as np

import _common


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--target_mflops", type=float, default=0.3)
  parser.add_argument("--fractions", default="0.5,0.75,1.0")
  parser.add_argument("--train_images", type=int, default=8000)
  _common.add_recipe_arguments(parser, search_epochs=6, warmup_epochs=2,
                               train_epochs=4, train_seeds=2)
  parser.add_argument("--candidates", type=int, default=16)
  parser.add_argument("--results", default="many_budgets.json")
  parser.add_argument("--plot", default="many_budgets_pareto.png")
  args = parser.parse_args()
  from fbnetv2_tf.cost.counting import count_arch  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.cost.losses import ResourceLoss  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.search.config import SearchConfig  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.search.evaluation import DeriveConfig  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs import ArchSpec, builtin_spaces  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs.arch_string import to_arch_string  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.training import derive_job  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.training.search_job import SearchJob, run_search  # pylint: disable=g-import-not-at-top

  space = builtin_spaces.tiny32()
  fractions = [float(f) for f in args.fractions.split(",")]
  targets = [round(f * args.target_mflops, 6) for f in fractions]
  fmnist = _common.FashionMnist(args.data_dir, args.train_images, 0)
  images = fmnist.at(space.max_input_size)
  results = _common.Results(args.results)
  work = tempfile.mkdtemp(prefix="many_budgets_")
  derive = DeriveConfig("evaluate", candidates=args.candidates)
  start = time.time()

  def job(target):
    return SearchJob(
        space, os.path.join(work, f"search_{target:g}"),
        epochs=args.search_epochs, batch_size=args.batch_size, seed=0,
        verbose=0, derive=derive,
        config=SearchConfig(warmup_epochs=args.warmup_epochs,
                            child_share=args.child_share,
                            child_sampling=args.child_sampling,
                            loss=ResourceLoss("budget", "mflops", target)))

  def search(target):
    t = time.time()
    r = run_search(job(target), images)
    return {"arch": r.arch.to_dict(), "cost": r.counted_cost,
            "predicted": r.predicted_accuracy,
            "minutes": (time.time() - t) / 60}

  def shared():
    # The shared search and its derivations in one item: the derivation
    # needs the trained supernet, which lives only in this run's work dir.
    found = search(args.target_mflops)
    t = time.time()
    rows = derive_job.derive_targets(
        job(args.target_mflops).output_dir, images, targets,
        os.path.join(work, "derived"), "mflops", derive)
    shutil.copyfile(os.path.join(work, "derived", derive_job.PLOT_FILE),
                    args.plot)
    return {"search": found, "derive_minutes": (time.time() - t) / 60,
            "rows": [{"target": r.target, "cost": r.counted_cost,
                      "predicted": r.predicted_accuracy,
                      "arch": r.arch.to_dict()} for r in rows]}

  def trained(label, arch):
    accuracies = [results.get_or_run(
        f"train/{to_arch_string(arch)}/{seed}",
        lambda seed=seed: _common.train_from_scratch(
            arch, fmnist.at(arch.input_size),
            os.path.join(work, f"train_{label}_{seed}"), args.train_epochs,
            args.batch_size, seed))
        for seed in range(args.train_seeds)]
    return float(np.mean(accuracies)), float(np.std(accuracies))

  one = results.get_or_run(f"shared/{args.target_mflops:g}", shared)
  table = []
  for fraction, target, row in zip(fractions, targets, one["rows"]):
    derived = ArchSpec.from_dict(f"derived_{target:g}", row["arch"])
    dedicated_item = (one["search"] if fraction == 1.0 else
                      results.get_or_run(f"dedicated/{target:g}",
                                         lambda t=target: search(t)))
    dedicated = ArchSpec.from_dict(f"dedicated_{target:g}",
                                   dedicated_item["arch"])
    d_mean, d_std = trained(derived.name, derived)
    s_mean, s_std = trained(dedicated.name, dedicated)
    table.append((target, count_arch(derived, 10, 1).mflops, d_mean, d_std,
                  count_arch(dedicated, 10, 1).mflops, s_mean, s_std,
                  to_arch_string(derived), to_arch_string(dedicated)))
  print(f"tiny32 on Fashion-MNIST ({args.train_images} training images): one "
        f"search at {args.target_mflops:g} MFLOPs ({args.search_epochs} "
        f"epochs, {one['search']['minutes']:.1f} min), derived for "
        f"{len(targets)} targets by evaluation ({args.candidates} candidates "
        f"each, {one['derive_minutes']:.1f} min in all) against a dedicated "
        f"search per target; every child trained {args.train_epochs} epochs "
        f"with {args.train_seeds} seeds ({(time.time() - start) / 60:.0f} "
        "min this run).\n")
  print("| target | derived: cost/target | derived: accuracy | dedicated: "
        "cost/target | dedicated: accuracy | derived - dedicated |")
  print("|---:|---:|---:|---:|---:|---:|")
  for t, dc, dm, ds, sc, sm, ss, _, _ in table:
    print(f"| {t:g} | {dc / t:.3f} | {dm:.4f} ± {ds:.4f} | {sc / t:.3f} | "
          f"{sm:.4f} ± {ss:.4f} | {100 * (dm - sm):+.2f} points |")
  print()
  for t, *_, ds_arch, s_arch in table:
    print(f"- {t:g}: derived `{ds_arch}`; dedicated `{s_arch}`")
  within = all(0.9 <= dc / t <= 1.0 for t, dc, *_ in table)
  close = all(dm >= sm - 0.005 for _, _, dm, _, _, sm, *_ in table)
  print(f"\nEvery derived child within [0.9, 1.0] x its target: "
        f"{'yes' if within else 'NO'}; each within 0.5 points of (or better "
        f"than) its dedicated search: {'yes' if close else 'NO'}. Pareto "
        f"plot: {args.plot}.")


if __name__ == "__main__":
  main()
