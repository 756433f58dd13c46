"""Searched vs. random architectures under one MFLOPs budget: the fair protocol.

On Fashion-MNIST (Debian: apt-get install dataset-fashion-mnist), in one run:

1. ``--search_seeds`` budget searches of tiny32 at ``--target_mflops``
   (derivation ``--derive``, ``--candidates``; weight sampling
   ``--child_share``, ``--child_sampling``), each one's wall time recorded.
2. ``--random`` uniformly random architectures of the same space whose
   counted MFLOPs lie in the band the budget search lands in (0.9-1.0x the
   target).
3. Random best-of-N at equal compute, once per search seed: N distinct
   random band architectures (not those of 2.) each trained ``--proxy_epochs``
   on that seed's weight split and scored on its architecture split (the
   80/20 split the search uses); the best one is picked. N = round(mean
   search seconds / seconds of the first proxy training), so the N proxy
   trainings cost about one search (``--best_of_n`` overrides N).
4. Every architecture (searched, random, best-of-N picks) trained from
   scratch with ``--train_seeds`` seeds on ``--train_images`` for
   ``--train_epochs`` and scored on the 10,000 test images.
5. The report: the table by mean test accuracy, each searched architecture's
   rank among the random ones, the searched / random / best-of-N means, the
   gain over the random mean in points and as the relative improvement
   RI = 100 x (searched - random) / random (Yang et al., ICLR 2020, "NAS
   evaluation is frustratingly hard"), and PASS/FAIL for "each searched
   architecture beats all but one of the random ones" and "the searched mean
   beats the best-of-N mean".

  python benchmarks/search_vs_random.py [--target_mflops=0.25]
      [--train_images=60000] [--search_seeds=3] [--random=8] [--train_seeds=3]
      [--derive=evaluate] [--candidates=16] [--child_share=0.0]
      [--child_sampling=uniform] [--proxy_epochs=1] [--best_of_n=N]
      [--results=search_vs_random.json] [--report_only]

Resumable: finished searches and trainings are kept in ``--results`` under
keys that name the number of images and epochs (so results of other
settings, and of the earlier protocol, are never reused); run the same
command again to continue. An estimate of the compute left is printed
before starting and again as the rates it rests on become known.
"""

import argparse
import os
import sys
import tempfile
import time

import numpy as np

import _common

BAND = 0.9  # random archs cost between BAND * target and target
RANDOM_SEED = 0  # the random architectures of item 2
POOL_SEED = 1000  # + search seed: the best-of-N pools, distinct from them


def _parse():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--target_mflops", type=float, default=0.25)
  parser.add_argument("--train_images", type=int, default=60000,
                      help="Fashion-MNIST training images (60000: all)")
  parser.add_argument("--search_seeds", type=int, default=3)
  parser.add_argument("--random", type=int, default=8)
  _common.add_recipe_arguments(parser, search_epochs=3, warmup_epochs=1,
                               train_epochs=5, train_seeds=3)
  parser.add_argument("--derive", default="evaluate",
                      choices=("argmax", "evaluate"))
  parser.add_argument("--candidates", type=int, default=16)
  parser.add_argument("--proxy_epochs", type=int, default=1,
                      help="epochs of each best-of-N proxy training")
  parser.add_argument("--best_of_n", type=int, default=None,
                      help="N of the random best-of-N (default: as many "
                      "proxy trainings as fit in the mean search time)")
  parser.add_argument("--results", default="search_vs_random.json")
  parser.add_argument("--report_only", action="store_true",
                      help="print the report of what --results holds; run "
                      "nothing")
  args = parser.parse_args()
  if args.best_of_n is not None and args.best_of_n < 1:
    parser.error("--best_of_n must be >= 1")
  return args


class Keys:
  """Results keys. Each names every setting its item depends on, so that
  items of other settings and of the earlier protocol (``search/SEED``,
  ``train/ARCH/SEED``) are never taken for these."""

  def __init__(self, args):
    derive = (f"evaluate{args.candidates}" if args.derive == "evaluate"
              else args.derive)
    self.search_prefix = (
        f"search/tiny32/t{args.target_mflops:g}/img{args.train_images}/"
        f"ep{args.search_epochs}w{args.warmup_epochs}/b{args.batch_size}/"
        f"{derive}/share{args.child_share:g}{args.child_sampling}/")
    self.train_prefix = (f"train/img{args.train_images}/"
                         f"ep{args.train_epochs}/b{args.batch_size}/")
    self.proxy_prefix = (f"proxy/img{args.train_images}/"
                         f"ep{args.proxy_epochs}/b{args.batch_size}/")

  def search(self, seed):
    return f"{self.search_prefix}{seed}"

  def train(self, arch_string, seed):
    return f"{self.train_prefix}{arch_string}/{seed}"

  def proxy(self, split_seed, arch_string):
    return f"{self.proxy_prefix}split{split_seed}/{arch_string}"


def main():
  args = _parse()
  from fbnetv2_tf.cost.counting import count_arch  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.cost.losses import ResourceLoss  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.search import derive as derive_lib  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.search.config import SearchConfig  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.search.evaluation import DeriveConfig  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs import ArchSpec, builtin_spaces  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs.arch_string import to_arch_string  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.training.search_job import SearchJob, run_search  # pylint: disable=g-import-not-at-top

  space = builtin_spaces.tiny32()
  fmnist = _common.FashionMnist(args.data_dir, args.train_images, 0)
  results = _common.Results(args.results, args.report_only)
  keys = Keys(args)
  work = None if args.report_only else tempfile.mkdtemp(
      prefix="search_vs_random_")
  low, high = BAND * args.target_mflops, args.target_mflops
  start = time.time()

  def body(arch):
    """The arch string without its name: what makes two archs the same."""
    return to_arch_string(arch).partition("@")[2]

  randoms = [arch for _, arch in _common.random_archs(
      space, low, high, args.random, RANDOM_SEED)]
  random_bodies = {body(a) for a in randoms}

  def pool(seed, n):
    """The first ``n`` archs of seed ``seed``'s best-of-N pool: distinct
    random band archs, none of them one of ``randoms``."""
    count = n + args.random
    while True:
      picked, seen = [], set(random_bodies)
      for choices, _ in _common.random_archs(space, low, high, count,
                                             POOL_SEED + seed):
        arch = derive_lib.derive_arch(space, choices,
                                      f"pool{seed}_{len(picked)}")
        if body(arch) not in seen:
          seen.add(body(arch))
          picked.append(arch)
      if len(picked) >= n:
        return picked[:n]
      count *= 2

  def search(seed):
    r, seconds = _common.timed(lambda: run_search(SearchJob(
        space, os.path.join(work, f"search{seed}"), epochs=args.search_epochs,
        batch_size=args.batch_size, seed=seed, verbose=0,
        derive=DeriveConfig(args.derive, candidates=args.candidates),
        config=SearchConfig(warmup_epochs=args.warmup_epochs,
                            child_share=args.child_share,
                            child_sampling=args.child_sampling,
                            loss=ResourceLoss("budget", "mflops",
                                              args.target_mflops))),
        fmnist.at(space.max_input_size)))
    return {"arch": r.arch.to_dict(), "seconds": seconds,
            "derive_seconds": r.derive_seconds,
            "predicted_accuracy": r.predicted_accuracy,
            "candidates": len(r.candidates), "cost": r.counted_cost,
            "repairs": r.budget_changes, "images": args.train_images,
            "epochs": args.search_epochs}

  def fit(arch, data, epochs, seed, directory):
    accuracy, seconds = _common.timed(lambda: _common.train_from_scratch(
        arch, data, os.path.join(work, directory), epochs, args.batch_size,
        seed))
    return {"accuracy": accuracy, "seconds": seconds,
            "input_size": arch.input_size,
            "images": len(data.train_labels), "epochs": epochs}

  estimate = Estimate(args, results, keys)
  said = set()

  def say_estimate(why):
    if why not in said and not args.report_only:
      said.add(why)
      estimate.say(proxies[0], n_of_best[0])

  def train(label, arch, kind):
    accuracies = []
    for seed in range(args.train_seeds):
      key = keys.train(to_arch_string(arch), seed)
      new = key not in results.items
      item = results.get_or_run(key, lambda seed=seed: fit(
          arch, fmnist.at(arch.input_size), args.train_epochs, seed,
          f"train_{label}_{seed}"))
      if item is not None:
        accuracies.append(item["accuracy"])
        if new:
          say_estimate("training")
    if not accuracies:
      return None
    return {"arch": label, "kind": kind,
            "mflops": count_arch(arch, 10, 1).mflops,
            "mean": float(np.mean(accuracies)),
            "std": float(np.std(accuracies, ddof=1 if len(accuracies) > 1
                                else 0)),
            "accuracies": accuracies, "spec": to_arch_string(arch)}

  searched = {}  # seed -> the search's results item
  picks = {}  # seed -> (the pick, its proxy item, the N proxies' seconds)
  n_of_best = [args.best_of_n]  # N once known
  # The first proxy training's item once known.
  proxies = [results.items.get(keys.proxy(0, body(pool(0, 1)[0])))]
  say_estimate("start")

  def run_one_search(seed):
    key = keys.search(seed)
    new = key not in results.items
    found = results.get_or_run(key, lambda: search(seed))
    if found is None:
      return None
    searched[seed] = found
    if new:
      said.discard("search")
      say_estimate("search")
    arch = ArchSpec.from_dict(f"searched{seed}", found["arch"])
    return train(arch.name, arch, "searched")

  # Order: the first search, the random architectures, the other searches,
  # then best-of-N, so that a run cut short still compares something.
  rows = []
  for seed in range(args.search_seeds):
    rows.append(run_one_search(seed))
    if seed == 0:
      rows.extend(train(a.name, a, "random") for a in randoms)

  def proxy(seed, arch):
    key = keys.proxy(seed, body(arch))
    return results.get_or_run(key, lambda: fit(
        arch, _common.search_split_data(fmnist.at(arch.input_size), seed),
        args.proxy_epochs, seed, f"proxy{seed}_{arch.name}"))

  first_proxy = None
  if searched or args.best_of_n:
    first_proxy = proxies[0] = proxy(0, pool(0, 1)[0])
  n = args.best_of_n
  if n is None and first_proxy is not None and searched:
    mean_search = np.mean([s["seconds"] for s in searched.values()])
    n = max(1, int(round(mean_search / first_proxy["seconds"])))
  if n is not None:
    n_of_best[0] = n
    say_estimate("n")
    for seed in range(args.search_seeds):
      scored = []
      for arch in pool(seed, n):
        item = proxy(seed, arch)
        if item is not None:
          scored.append((arch, item))
      if len(scored) < n:
        continue  # report only: the pick of a partial pool would mislead
      best = max(range(n), key=lambda i: (scored[i][1]["accuracy"], -i))
      arch, item = scored[best]
      pick = ArchSpec.from_dict(f"bestof{seed}", arch.to_dict())
      picks[seed] = (pick, item, sum(i["seconds"] for _, i in scored))
      rows.append(train(pick.name, pick, "best_of_n"))
  report(args, [r for r in rows if r is not None], searched, picks, n,
         first_proxy, time.time() - start)


class Estimate:
  """The compute left, from the rates measured so far under these settings
  (seconds per image-epoch of a full training by input size, and of a
  search)."""

  def __init__(self, args, results, keys):
    self.args, self.results, self.keys = args, results, keys

  def _rates(self, prefix, by_size):
    rates = {}
    for key, item in self.results.items.items():
      if (key.startswith(prefix) and isinstance(item, dict)
          and "seconds" in item):
        size = item.get("input_size") if by_size else None
        rates.setdefault(size, []).append(
            item["seconds"] / (item["images"] * item["epochs"]))
    return {s: float(np.mean(r)) for s, r in rates.items()}

  def say(self, first_proxy, n):
    a = self.args
    archs = 2 * a.search_seeds + a.random
    trainings = archs * a.train_seeds
    weight_images = int(0.8 * a.train_images)
    items = self.results.items
    done_trainings = sum(k.startswith(self.keys.train_prefix) for k in items)
    done_proxies = sum(k.startswith(self.keys.proxy_prefix) for k in items)
    done_searches = sum(k.startswith(self.keys.search_prefix) for k in items)
    search_rates = self._rates(self.keys.search_prefix, False)
    lines = [
        f"Compute plan: {a.search_seeds} searches of {a.search_epochs} epochs "
        f"on {a.train_images} images; {a.search_seeds} x N proxy trainings of "
        f"{a.proxy_epochs} epoch(s) on {weight_images} weight images (N = "
        f"{n if n else 'mean search time / one proxy training'}); {archs} "
        f"architectures x {a.train_seeds} seeds = {trainings} full trainings "
        f"of {a.train_epochs} epochs on {a.train_images} images "
        f"({trainings * a.train_epochs} training epochs). Done: "
        f"{done_searches} searches, {done_proxies} proxies, {done_trainings} "
        "trainings."]
    total, unknown = 0.0, []
    if search_rates:
      per_search = search_rates[None] * a.train_images * a.search_epochs
      total += max(0, a.search_seeds - done_searches) * per_search
      lines.append(f"  one search: ~{per_search / 60:.1f} min.")
    else:
      unknown.append("the searches (known after the first)")
    if not n and first_proxy is not None and search_rates:
      n = max(1, int(round(per_search / first_proxy["seconds"])))
    train_rates = self._rates(self.keys.train_prefix, True)
    if n and first_proxy is not None:
      total += max(0, a.search_seeds * n - done_proxies) * first_proxy[
          "seconds"]
    elif n and self.args.best_of_n and train_rates:
      per_proxy = (float(np.mean(list(train_rates.values())))
                   * weight_images * a.proxy_epochs)
      total += max(0, a.search_seeds * n - done_proxies) * per_proxy
    elif search_rates and not self.args.best_of_n:
      # N is chosen so that a seed's N proxy trainings cost about a search.
      total += a.search_seeds * per_search
      lines.append("  best-of-N proxies: ~one search's time per seed.")
    else:
      unknown.append("the best-of-N proxies (known after the first)")
    if train_rates:
      mean_rate = float(np.mean(list(train_rates.values())))
      total += max(0, trainings - done_trainings) * (
          mean_rate * a.train_images * a.train_epochs)
      per_size = ", ".join(
          f"{s} px {r * a.train_images:.0f} s" for s, r in
          sorted(train_rates.items(), reverse=True))
      lines.append(f"  one training epoch on {a.train_images} images "
                   f"(measured): {per_size}.")
    else:
      unknown.append("the full trainings (known after the first)")
    if unknown and not total:
      lines.append("  estimated compute left: not measured yet; printed again "
                   "after the first search and the first training.")
    elif unknown:
      lines.append(f"  estimated compute left: ~{total / 3600:.1f} h + "
                   + " + ".join(unknown) + ".")
    else:
      lines.append(f"  estimated compute left: ~{total / 3600:.1f} h.")
    print("\n".join(lines), file=sys.stderr)
    sys.stderr.flush()


def report(args, rows, searched, picks, n, first_proxy, seconds):
  ranked = sorted(rows, key=lambda r: -r["mean"])
  random_means = [r["mean"] for r in rows if r["kind"] == "random"]
  searched_rows = [r for r in rows if r["kind"] == "searched"]
  best_rows = [r for r in rows if r["kind"] == "best_of_n"]
  derive = (f"by evaluation of {args.candidates} candidates"
            if args.derive == "evaluate" else "by argmax")
  print(f"Fashion-MNIST, {args.train_images} training images, tiny32 under "
        f"{args.target_mflops:g} MFLOPs; {args.search_seeds} searches of "
        f"{args.search_epochs} epochs ({args.warmup_epochs} warm-up, child "
        f"share {args.child_share:g} {args.child_sampling}, derived "
        f"{derive}); {args.random} random architectures in the band "
        f"[{BAND * args.target_mflops:g}, {args.target_mflops:g}]; random "
        f"best-of-{n if n else '?'} by {args.proxy_epochs}-epoch proxy "
        f"training per search seed; every architecture trained "
        f"{args.train_epochs} epochs with {args.train_seeds} seeds, batch "
        f"{args.batch_size}, scored on the 10,000 test images "
        f"({seconds / 60:.0f} min this run).\n")
  print("| rank | arch | MFLOPs | mean test accuracy | std over seeds "
        "| architecture |")
  print("|---:|---|---:|---:|---:|---|")
  for i, r in enumerate(ranked, 1):
    partial = ("" if len(r["accuracies"]) == args.train_seeds
               else f" ({len(r['accuracies'])} seeds)")
    spec = r["spec"].replace("|", "\\|")  # a markdown table cell
    print(f"| {i} | {r['arch']} | {r['mflops']:.4f} | {r['mean']:.4f} | "
          f"{r['std']:.4f}{partial} | `{spec}` |")
  print(f"\nStd: sample standard deviation over the {args.train_seeds} "
        "training seeds.")

  if searched:
    mean_search = np.mean([s["seconds"] for s in searched.values()])
    print("\nSearch wall time: "
          + ", ".join(f"{s['seconds'] / 60:.1f}" for s in searched.values())
          + f" min (mean {mean_search / 60:.1f}; derivation "
          + ", ".join(f"{s['derive_seconds']:.0f}" for s in searched.values())
          + " s).")
  if first_proxy is not None:
    print(f"Proxy training ({args.proxy_epochs} epoch(s), first pool "
          f"architecture): {first_proxy['seconds']:.1f} s, so N = "
          f"{n}" + (" (--best_of_n)" if args.best_of_n else
                    " = round(mean search time / proxy time)") + ".")
  for seed, (_, item, pool_seconds) in sorted(picks.items()):
    print(f"bestof{seed}: the best of {n} random band architectures by "
          f"architecture-split accuracy after the proxy training "
          f"({item['accuracy']:.4f}); the {n} proxies took "
          f"{pool_seconds / 60:.1f} min"
          + (f" (search {seed}: {searched[seed]['seconds'] / 60:.1f} min)."
             if seed in searched else "."))

  if not random_means:
    return
  random_mean = float(np.mean(random_means))
  print(f"\nRandom ({len(random_means)} of {args.random}): mean "
        f"{random_mean:.4f}, min {min(random_means):.4f}, max "
        f"{max(random_means):.4f}.")
  need = max(0, args.random - 1)
  each_ok = len(random_means) == args.random and bool(searched_rows)
  for r in searched_rows:
    beaten = sum(r["mean"] > m for m in random_means)
    rank = 1 + sum(m > r["mean"] for m in random_means)
    item = searched[int(r["arch"][len("searched"):])]
    predicted = item.get("predicted_accuracy")
    print(f"{r['arch']}: rank {rank} of {len(random_means) + 1} against "
          f"the {len(random_means)} random (beats {beaten}); "
          f"{100 * (r['mean'] - random_mean):+.2f} points over the random "
          f"mean, RI {_common.relative_improvement(r['mean'], random_mean):+.2f}"
          f" %; {item['repairs']} decision(s) changed from the argmax"
          + (f", predicted (inherited) accuracy {predicted:.4f}"
             if predicted is not None else "") + ".")
    each_ok = each_ok and beaten >= need
  summary = [f"random mean {random_mean:.4f}"]
  searched_mean = best_mean = None
  if searched_rows:
    searched_mean = float(np.mean([r["mean"] for r in searched_rows]))
    summary.insert(0, f"searched mean {searched_mean:.4f} "
                   f"({len(searched_rows)} of {args.search_seeds})")
  if best_rows:
    best_mean = float(np.mean([r["mean"] for r in best_rows]))
    summary.append(f"best-of-{n} mean {best_mean:.4f} ({len(best_rows)} of "
                   f"{args.search_seeds})")
  print("\n" + "; ".join(summary) + ".")
  if searched_mean is not None:
    print(f"Searched mean over the random mean: "
          f"{100 * (searched_mean - random_mean):+.2f} points, RI "
          f"{_common.relative_improvement(searched_mean, random_mean):+.2f} %.")
  if best_mean is not None:
    print(f"Best-of-{n} mean over the random mean: "
          f"{100 * (best_mean - random_mean):+.2f} points, RI "
          f"{_common.relative_improvement(best_mean, random_mean):+.2f} %.")
  complete = (len(searched_rows) == args.search_seeds
              and len(best_rows) == args.search_seeds
              and len(random_means) == args.random
              and all(len(r["accuracies"]) == args.train_seeds for r in rows))
  verdict = "INCOMPLETE" if not complete else None
  print(f"\nEach searched architecture beats at least {need} of the "
        f"{args.random} random ones on mean accuracy: "
        f"{verdict or ('PASS' if each_ok else 'FAIL')}.")
  print(f"The searched mean beats the best-of-N mean: "
        f"{verdict or ('PASS' if searched_mean > best_mean else 'FAIL')}.")
  sys.stdout.flush()


if __name__ == "__main__":
  main()
