"""Searched architectures vs. MobileNetV3-Small at its own cost, seed-averaged.

On Fashion-MNIST at 32 px (Debian: apt-get install dataset-fashion-mnist),
in one run: the target is MobileNetV3-Small's cost, as
``keras.applications.MobileNetV3Small`` builds it for 32x32x1 images and 10
classes (``--target=mflops``: its counted MFLOPs; ``--target=latency``: its
fp32 LiteRT latency on this host, 1 thread, with a latency table of the
space built first); ``--search_seeds`` budget searches of ``mnv3_small32``,
the space around MobileNetV3-Small (which is one of its architectures),
derive by evaluation; then every searched architecture, MobileNetV3-Small
from keras.applications (random initialisation; BatchNorm momentum set to
the children's, ``--mobilenet_bn_momentum``), the same network as the
library builds it (``builtin_spaces.mobilenet_v3_small32``) and a
width-scaled MobileNetV3-Small (the ``--alphas`` value whose MFLOPs is
closest to the searched architectures') are trained from scratch with
``--train_seeds`` seeds and one recipe (the child recipe of
``training.child``). Reports mean and standard deviation of test accuracy,
and whether each searched architecture beats MobileNetV3-Small by more than
their two standard deviations added.

  python benchmarks/vs_mobilenetv3.py [--target=mflops|latency]
      [--train_images=8000] [--search_seeds=3] [--train_seeds=3]
      [--child_share=0.0] [--results=vs_mobilenetv3.json] [--report_only]

Resumable: finished searches, trainings and measurements are kept in
``--results``, the latency table in ``--work_dir``; run the same command
again to continue.
"""

import argparse
import os
import sys
import tempfile
import time

import numpy as np

import _common

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPACE = "mnv3_small32"
MOBILENET = "MobileNetV3Small"
LIBRARY_MOBILENET = "MobileNetV3Small_library"
# keras.applications.MobileNetV3Small's own dropout before the classifier.
KERAS_DROPOUT = 0.2


def mobilenet_v3_small(size, channels, alpha, dropout, bn_momentum=None):
  """keras.applications' MobileNetV3-Small, untrained, taking normalized
  images (no Rescaling layer) and returning logits, as the library's
  children do. Any ``alpha`` is allowed without pretrained weights.
  ``bn_momentum`` replaces Keras's BatchNorm momentum (None keeps it)."""
  import keras  # pylint: disable=g-import-not-at-top
  model = keras.applications.MobileNetV3Small(
      input_shape=(size, size, channels), alpha=alpha, weights=None,
      classes=10, include_preprocessing=False, classifier_activation=None,
      dropout_rate=dropout)
  if bn_momentum is not None:
    for layer in model.layers:
      if isinstance(layer, keras.layers.BatchNormalization):
        layer.momentum = bn_momentum
  return model


def keras_mflops(size, channels, alpha, dropout):
  import keras  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.cost.keras_counting import count_keras_model  # pylint: disable=g-import-not-at-top
  keras.backend.clear_session()
  return count_keras_model(mobilenet_v3_small(size, channels, alpha,
                                              dropout)).mflops


def train_keras_model(build, images, job):
  """Test accuracy of the Keras model ``build()`` trained with the child
  recipe (``training.child.fit_model``)."""
  import keras  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.training.child import fit_model  # pylint: disable=g-import-not-at-top
  keras.backend.clear_session()
  keras.utils.set_random_seed(job.seed)
  return fit_model(build(), images, job)[2]


def build_table(space, work_dir):
  """The space's fp32 latency table on this host, 1 thread (resumed where
  a run stopped); its path."""
  from fbnetv2_tf.lut.build import BuildJob, build_lut  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.lut.host import HostRunner  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.lut.runner import MeasureSettings  # pylint: disable=g-import-not-at-top
  path = os.path.join(work_dir, f"{space.name}.fp32.lut.json")
  print(f"Latency table of {space.name}: {path} (built or resumed)",
        file=sys.stderr)
  build_lut(space, HostRunner(), MeasureSettings(threads=1),
            BuildJob(output=path, dtype="fp32", input_channels=1,
                     num_classes=10))
  return path


def host_latencies_ms(models, lut_path, work_dir):
  """fp32 LiteRT latency in ms of ``{label: ArchSpec or Keras builder}``,
  timed together (interleaved) as the table's rows were, at its speed."""
  from fbnetv2_tf.export import tflite  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.lut import probes, validate  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.lut.build import BuildJob  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.lut.host import HostRunner  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.lut.runner import MeasureSettings  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.lut.table_file import LutFile  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs import ArchSpec  # pylint: disable=g-import-not-at-top
  lut = LutFile.load(lut_path)
  paths = {}
  for label, model in models.items():
    if isinstance(model, ArchSpec):
      paths[label] = validate.convert_arch(
          model, validate.network_file(work_dir, model, "fp32"), "fp32", 10, 1)
    else:
      paths[label] = os.path.join(work_dir, f"{label}.fp32.tflite")
      tflite.write_tflite(model(), paths[label], "fp32")
  probed = probes.measure_settled(
      HostRunner(), paths, MeasureSettings(threads=1),
      BuildJob(output=lut_path).cache, "fp32", lut.reference_us)
  return {label: probed.stats[label].median_us / 1e3 for label in paths}


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--target", default="mflops",
                      choices=("mflops", "latency"))
  parser.add_argument("--train_images", type=int, default=8000)
  parser.add_argument("--search_seeds", type=int, default=3)
  parser.add_argument("--train_seeds", type=int, default=3)
  # A search epoch of 8,000 images (6,400 weight steps' worth) costs about
  # 4 minutes on 2 cores, after about 3 minutes of tracing.
  parser.add_argument("--search_epochs", type=int, default=4)
  parser.add_argument("--warmup_epochs", type=int, default=1)
  parser.add_argument("--train_epochs", type=int, default=8)
  parser.add_argument("--batch_size", type=int, default=128)
  parser.add_argument("--child_share", type=float, default=0.0,
                      help="SearchConfig.child_share of the searches")
  parser.add_argument("--derive_candidates", type=int, default=16,
                      help="candidates the derivation by evaluation scores")
  parser.add_argument("--alphas", default="0.5,0.6,0.7,0.75,0.8,0.85,0.9,0.95",
                      help="width multipliers of the width-scaled baseline")
  parser.add_argument("--mobilenet_dropout", type=float, default=KERAS_DROPOUT,
                      help="dropout of the keras.applications models "
                      "(the library's children have none)")
  # Keras's 0.999 keeps 61 % of the initial moving statistics after the
  # 500 steps of 8 epochs of 8,000 images, and the test accuracy uses them.
  parser.add_argument("--mobilenet_bn_momentum", type=float, default=None,
                      help="BatchNorm momentum of the keras.applications "
                      "models (default: the library's children's; 0: "
                      "Keras's own, 0.999)")
  parser.add_argument("--data_dir", default=None)
  parser.add_argument("--work_dir", default=os.path.join(ROOT, "out",
                                                         "vs_mobilenetv3"),
                      help="the latency table and TFLite files")
  parser.add_argument("--results", default="vs_mobilenetv3.json")
  parser.add_argument("--report_only", action="store_true",
                      help="print the table of what --results holds; run "
                      "nothing")
  args = parser.parse_args()
  try:
    alphas = sorted(float(a) for a in args.alphas.split(","))
  except ValueError:
    parser.error(f"--alphas: expected numbers separated by commas, got "
                 f"{args.alphas!r}")
  if any(not 0 < a < 1 for a in alphas):
    parser.error(f"--alphas: each must lie strictly between 0 and 1 (1 is "
                 f"the baseline itself), got {args.alphas!r}")
  if args.mobilenet_bn_momentum is not None and not (
      0 <= args.mobilenet_bn_momentum < 1):
    parser.error("--mobilenet_bn_momentum: must lie in [0, 1), got "
                 f"{args.mobilenet_bn_momentum}")
  if not 0 <= args.child_share <= 1:
    parser.error(f"--child_share: must lie in [0, 1], got {args.child_share}")
  from fbnetv2_tf.cost.counting import count_arch  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.cost.losses import ResourceLoss  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.search.config import SearchConfig  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.search.evaluation import DeriveConfig  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs import ArchSpec, builtin_spaces  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs.arch_string import to_arch_string  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.training.search_job import SearchJob, run_search  # pylint: disable=g-import-not-at-top

  space = builtin_spaces.get_space(SPACE)
  size, channels = space.max_input_size, 1
  fmnist = _common.FashionMnist(args.data_dir, args.train_images, 0)
  results = _common.Results(args.results, args.report_only)
  work = tempfile.mkdtemp(prefix="vs_mobilenetv3_")
  if not args.report_only:
    os.makedirs(args.work_dir, exist_ok=True)
  start = time.time()

  if args.mobilenet_bn_momentum is None:
    from fbnetv2_tf.layers.composite import BN_MOMENTUM  # pylint: disable=g-import-not-at-top
    bn_momentum = BN_MOMENTUM
  else:
    bn_momentum = args.mobilenet_bn_momentum or None  # 0: Keras's own
  keras_recipe = (f"dropout {args.mobilenet_dropout:g}, BatchNorm momentum "
                  f"{bn_momentum or 'of Keras'}")

  def keras_builder(alpha):
    return lambda: mobilenet_v3_small(size, channels, alpha,
                                      args.mobilenet_dropout, bn_momentum)

  # The target: MobileNetV3-Small built exactly as it is trained below.
  mflops = results.get_or_run(
      "mflops/keras/1", lambda: keras_mflops(size, channels, 1.0,
                                             args.mobilenet_dropout))
  lut_path, table = None, None
  if args.target == "mflops":
    target, metric = mflops, "mflops"
  else:
    if not args.report_only:
      from fbnetv2_tf.lut.table_file import load_for_search  # pylint: disable=g-import-not-at-top
      lut_path = build_table(space, args.work_dir)
      table = load_for_search(lut_path, space, channels, 10)
    target, metric = results.get_or_run(
        "latency_ms/target", lambda: host_latencies_ms(
            {MOBILENET: keras_builder(1.0)}, lut_path,
            args.work_dir)[MOBILENET]), "latency_ms"

  def search(seed):
    t = time.time()
    r = run_search(SearchJob(
        space, os.path.join(work, f"search{seed}"), epochs=args.search_epochs,
        batch_size=args.batch_size, seed=seed, verbose=0,
        latency_table=table,
        derive=DeriveConfig(method="evaluate",
                            candidates=args.derive_candidates),
        config=SearchConfig(warmup_epochs=args.warmup_epochs,
                            child_share=args.child_share,
                            loss=ResourceLoss("budget", metric, target))),
        fmnist.at(size))
    return {"arch": r.arch.to_dict(), "minutes": (time.time() - t) / 60,
            "cost": r.counted_cost, "repairs": r.budget_changes,
            "predicted_accuracy": r.predicted_accuracy}

  def seeds(key, train_one):
    accuracies = [results.get_or_run(f"{key}/{seed}",
                                     lambda seed=seed: train_one(seed))
                  for seed in range(args.train_seeds)]
    return [a for a in accuracies if a is not None]

  def row(label, accuracies, mflops_, spec):
    if not accuracies:
      return None
    return {"arch": label, "mflops": mflops_, "accuracies": accuracies,
            "mean": float(np.mean(accuracies)),
            # Sample standard deviation; 0 from a single seed.
            "std": float(np.std(accuracies, ddof=1)) if len(accuracies) > 1
                   else 0.0, "spec": spec}

  def train_arch(label, arch):
    return row(label, seeds(
        f"train/{to_arch_string(arch)}", lambda seed: _common.train_from_scratch(
            arch, fmnist.at(arch.input_size),
            os.path.join(work, f"train_{label}_{seed}"), args.train_epochs,
            args.batch_size, seed)), count_arch(arch, 10, channels).mflops,
               f"`{to_arch_string(arch)}`")

  def train_keras(label, alpha, mflops_):
    from fbnetv2_tf.training.child import TrainJob  # pylint: disable=g-import-not-at-top
    return row(label, seeds(
        f"train/keras/{MOBILENET}-a{alpha:g}-d{args.mobilenet_dropout:g}"
        f"-m{bn_momentum or 'keras'}",
        lambda seed: train_keras_model(
            keras_builder(alpha), fmnist.at(size), TrainJob(
                os.path.join(work, f"train_{label}_{seed}"),
                epochs=args.train_epochs, batch_size=args.batch_size,
                seed=seed, verbose=0))), mflops_,
               f"keras.applications, alpha {alpha:g}, {keras_recipe}")

  # Order: the baseline and the first search first, so that a run cut
  # short still compares something.
  rows = [train_keras(MOBILENET, 1.0, mflops)]
  searched = {}
  for seed in range(args.search_seeds):
    found = results.get_or_run(f"search/{args.target}/{seed}",
                               lambda seed=seed: search(seed))
    if found is not None:
      arch = ArchSpec.from_dict(f"searched{seed}", found["arch"])
      searched[arch.name] = arch
      rows.append(train_arch(arch.name, arch))
  library_arch, _ = builtin_spaces.mobilenet_v3_small32()
  rows.append(train_arch(LIBRARY_MOBILENET, library_arch))
  alpha = None
  if searched:
    goal = np.mean([count_arch(a, 10, channels).mflops
                    for a in searched.values()])
    scaled = {a: results.get_or_run(
        f"mflops/keras/{a:g}", lambda a=a: keras_mflops(
            size, channels, a, args.mobilenet_dropout)) for a in alphas}
    if None not in scaled.values():
      alpha = min(alphas, key=lambda a: abs(scaled[a] - goal))
      rows.append(train_keras(f"{MOBILENET}_{alpha:g}", alpha, scaled[alpha]))
  rows = [r for r in rows if r is not None]
  latencies = {}
  if args.target == "latency" and searched:
    models = {MOBILENET: keras_builder(1.0), LIBRARY_MOBILENET: library_arch,
              **searched}
    if alpha is not None:
      models[f"{MOBILENET}_{alpha:g}"] = keras_builder(alpha)
    latencies = results.get_or_run(
        f"latency_ms/{'+'.join(sorted(models))}",
        lambda: host_latencies_ms(models, lut_path, args.work_dir)) or {}
  report(args, target, rows, latencies, results, time.time() - start)


def report(args, target, rows, latencies, results, seconds):
  if target is None:  # --report_only before the target was measured
    print(f"{args.results}: no target measured yet; nothing to report.")
    return
  unit = "MFLOPs" if args.target == "mflops" else "ms (host, fp32, 1 thread)"
  print(f"Fashion-MNIST at 32 px, {args.train_images} training images; "
        f"target: {MOBILENET}'s {target:.4f} {unit}; {args.search_seeds} "
        f"searches of {SPACE} ({args.search_epochs} epochs, "
        f"{args.warmup_epochs} warm-up, child_share {args.child_share:g}, "
        f"derived by evaluating {args.derive_candidates} candidates); every "
        f"network trained {args.train_epochs} epochs with {args.train_seeds} "
        f"seeds, batch {args.batch_size} ({seconds / 60:.0f} min this run).\n")
  baseline = next((r for r in rows if r["arch"] == MOBILENET), None)
  latency_column = bool(latencies)
  print("| arch | MFLOPs |" + (" host ms |" if latency_column else "")
        + f" test accuracy (mean ± std) | beats {MOBILENET} by > both std "
        "| architecture |")
  print("|---|---:|" + ("---:|" if latency_column else "") + "---:|---|---|")
  for r in rows:
    spec = r["spec"].replace("|", "\\|")  # a pipe would end the cell
    verdict = ""
    if baseline is not None and r["arch"].startswith("searched"):
      margin = r["mean"] - baseline["mean"]
      spread = r["std"] + baseline["std"]
      verdict = (f"{'yes' if margin > spread else 'no'} "
                 f"({margin:+.4f} vs {spread:.4f})")
    latency = ""
    if latency_column:
      latency = (f" {latencies[r['arch']]:.3f} |" if r["arch"] in latencies
                 else " |")
    print(f"| {r['arch']} | {r['mflops']:.4f} |{latency} {r['mean']:.4f} ± "
          f"{r['std']:.4f} ({len(r['accuracies'])}) | {verdict} | "
          f"{spec} |")
  for seed in range(args.search_seeds):
    found = results.items.get(f"search/{args.target}/{seed}")
    if found:
      inherited = found["predicted_accuracy"]
      print(f"searched{seed}: cost {found['cost']:.4f} "
            f"({args.target}), inherited accuracy "
            f"{'-' if inherited is None else f'{inherited:.4f}'}, "
            f"{found['repairs']} "
            f"decision(s) changed from the argmax, {found['minutes']:.0f} "
            "min.")
  sys.stdout.flush()


if __name__ == "__main__":
  main()
