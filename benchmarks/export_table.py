"""TFLite export table: the FBNetV2 zoo, a child searched and trained on
Fashion-MNIST, and keras.applications MobileNetV3Small/Large, exported and
timed the same way.

1. Every zoo model (FBNet and FBNetV2, 1000 classes, its own input size,
   random weights) exports in fp32, fp16, dynamic and int8 with the
   deployment checks (LiteRT vs Keras, folded BatchNorm, static shapes,
   XNNPACK partitions, ops left in float). ``parity_ok`` applies the fp32
   bound, 1e-4 x max(1, |logit|), to every mode: only fp32 must meet it. The untrained models get random
   BatchNorm statistics (activations of order one, so the parity check
   means something) and are calibrated on uniform random images: their int8
   files are right for size and latency, not accuracy.
2. A child searched (tools/search.py) and trained (tools/train.py) on
   Fashion-MNIST is exported as fp32, int8 and qat (tools/export.py); the
   float, PTQ int8 and QAT int8 test accuracies are reported.
3. fp32 and int8 latency of the FBNetV2 models, MobileNetV3Small/Large and
   the child: one LiteRT process, 1 thread, every model interleaved
   (fbnetv2_tf.lut.host), so the ratios are fair.

Resumable: finished items are kept in the results file, the search and the
training resume from their own checkpoints.

  python benchmarks/export_table.py [--work_dir=out/export_table]
"""

import argparse
import os
import subprocess
import sys
import time

import numpy as np

from _common import Results  # pylint: disable=import-error

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POST_TRAINING = ("fp32", "fp16", "dynamic", "int8")
TIMED = ("fp32", "int8")
# Multiply-adds, Howard et al. 2019 (Searching for MobileNetV3), Tables 3-4.
MOBILENET_V3_PUBLISHED_MMACS = {"MobileNetV3Small": 56, "MobileNetV3Large": 219}


def keras_mmacs(model) -> float:
  """Millions of multiply-adds of conv and dense weights, the FLOPs
  convention of the FBNet papers, read from any Keras model's layers."""
  import keras  # pylint: disable=g-import-not-at-top
  total = 0
  for layer in model._flatten_layers():  # pylint: disable=protected-access
    if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D,
                          keras.layers.Dense)):
      out = layer.output.shape
      positions = int(np.prod(out[1:-1])) if len(out) > 2 else 1
      # One multiply-add per kernel weight at every output position (grouped
      # and depthwise kernels already hold only the weights they use).
      total += positions * int(np.prod(layer.kernel.shape))
  return total / 1e6


def _mobilenet(name):
  import keras  # pylint: disable=g-import-not-at-top
  # Without the built-in Rescaling layer and the final softmax: every model
  # here takes normalized images and returns logits, so the graphs compare.
  return getattr(keras.applications, name)(
      input_shape=(224, 224, 3), weights=None, include_preprocessing=False,
      classifier_activation=None)


def _without_hswish(arch):
  """``arch`` with every h-swish activation replaced by ReLU."""
  from fbnetv2_tf.specs.arch_string import parse_arch_string, to_arch_string  # pylint: disable=g-import-not-at-top
  text = to_arch_string(arch.replace(name=f"{arch.name}_relu"))
  return parse_arch_string(text.replace("_hs", ""))


def export_untrained(name, model, work_dir, modes):
  """Writes NAME.MODE.tflite for ``modes``; returns the checks per mode."""
  from fbnetv2_tf.export import graph, parity, tflite  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs.files import write_atomically  # pylint: disable=g-import-not-at-top
  # Activations of order one, so the LiteRT vs Keras check means something.
  parity.randomize_batch_norm(model)
  rows = {"mmacs": keras_mmacs(model)}
  for mode in modes:
    start = time.time()
    flatbuffer = tflite.convert_to_tflite(
        model, mode, tflite.random_calibration(model, count=64))
    write_atomically(os.path.join(work_dir, f"{name}.{mode}.tflite"),
                     flatbuffer)
    check = parity.check_parity(model, flatbuffer)
    rows[mode] = {
        "bytes": len(flatbuffer), "convert_s": round(time.time() - start, 1),
        "max_abs_diff": check.max_abs_diff, "tolerance": check.tolerance,
        "parity_ok": check.ok, "ops": graph.op_counts(flatbuffer),
        "float_ops": len(graph.float_ops(flatbuffer)),
        "xnnpack_partitions": graph.xnnpack_partitions(flatbuffer),
        "unfolded_batch_norms": graph.unfolded_batch_norms(flatbuffer),
        "dynamic_tensors": len(graph.dynamic_tensors(flatbuffer))}
  return rows


def _tool(name, *args):
  subprocess.run([sys.executable, "-m", f"tools.{name}", *args], cwd=ROOT,
                 check=True, stdout=sys.stderr)


def fashion_mnist_child(work_dir, args):
  """Search, train and export (fp32, int8, qat) a child on Fashion-MNIST."""
  import json  # pylint: disable=g-import-not-at-top
  search, child, export = (os.path.join(work_dir, d)
                           for d in ("search", "child", "export"))
  data = ["--dataset=fashion_mnist"] + (
      [f"--data_dir={args.data_dir}"] if args.data_dir else [])
  _tool("search", *data, f"--output_dir={search}", "--verbose=0",
        f"--epochs={args.search_epochs}", f"--target_mflops={args.target_mflops}",
        f"--max_train_images={args.search_images}")
  _tool("train", *data, f"--arch={search}/arch.json", f"--output_dir={child}",
        f"--epochs={args.train_epochs}", "--verbose=0")
  with open(os.path.join(search, "search_result.json"), encoding="utf-8") as f:
    name = json.load(f)["arch"].split("@")[0]
  _tool("export", *data, f"--model={child}/{name}.keras",
        "--mode=fp32,int8,qat", f"--qat_epochs={args.qat_epochs}",
        f"--output_dir={export}", "--nolatency")
  import keras  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf import layers  # noqa: F401  pylint: disable=g-import-not-at-top,unused-import
  model = keras.saving.load_model(f"{child}/{name}.keras", compile=False)
  # Relative to the checkout: the results file is committed.
  rows = {"name": name, "export_dir": os.path.relpath(export, ROOT),
          "mmacs": keras_mmacs(model)}
  for mode in ("fp32", "int8", "qat"):
    with open(os.path.join(export, f"{name}.{mode}.json"), encoding="utf-8") as f:
      report = json.load(f)
    rows[mode] = {k: report[k] for k in ("bytes", "accuracy", "ops",
                                         "float_ops", "xnnpack_partitions")}
  return rows


def _latencies(files, args):
  from fbnetv2_tf.lut.host import HostRunner  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.lut.runner import MeasureSettings  # pylint: disable=g-import-not-at-top
  settings = MeasureSettings(threads=1, warmup=args.warmup,
                             trials=args.trials, runs=args.invokes,
                             fast_within=None)
  return {k: milliseconds(s)
          for k, s in HostRunner().measure(files, settings).items()}


def milliseconds(stats) -> dict:
  """A ``LatencyStats`` in milliseconds, as the committed results have it."""
  return {"median_ms": stats.median_us / 1e3, "p90_ms": stats.p90_us / 1e3,
          "std_ms": stats.std_us / 1e3}


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--work_dir", default=os.path.join(ROOT, "out",
                                                         "export_table"))
  parser.add_argument("--results", default=os.path.join(
      ROOT, "benchmarks", "results", "export_table.json"))
  parser.add_argument("--data_dir", default=None)
  parser.add_argument("--search_epochs", type=int, default=4)
  parser.add_argument("--search_images", type=int, default=12000)
  parser.add_argument("--target_mflops", type=float, default=1.0)
  parser.add_argument("--train_epochs", type=int, default=8)
  parser.add_argument("--qat_epochs", type=int, default=1)
  parser.add_argument("--warmup", type=int, default=10)
  parser.add_argument("--trials", type=int, default=11)
  parser.add_argument("--invokes", type=int, default=10)
  args = parser.parse_args()
  os.makedirs(args.work_dir, exist_ok=True)
  results = Results(args.results)
  from fbnetv2_tf.models import zoo  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.models.child_model import build_child_model  # pylint: disable=g-import-not-at-top
  for name in zoo.names():
    results.get_or_run(f"export/{name}", lambda n=name: export_untrained(
        n, build_child_model(zoo.get_arch(n)), args.work_dir, POST_TRAINING))
  for name in MOBILENET_V3_PUBLISHED_MMACS:
    results.get_or_run(f"export/{name}", lambda n=name: export_untrained(
        n, _mobilenet(n), args.work_dir, TIMED))
  # Where FBNetV2-F4's time per MAC goes: the same network with ReLU in
  # place of every h-swish (MobileNetV3 uses h-swish only in its late,
  # low-resolution layers).
  relu_f4 = _without_hswish(zoo.get_arch("FBNetV2_F4"))
  results.get_or_run(f"export/{relu_f4.name}", lambda: export_untrained(
      relu_f4.name, build_child_model(relu_f4), args.work_dir, ("fp32",)))
  child = results.get_or_run("fashion_mnist_child",
                             lambda: fashion_mnist_child(args.work_dir, args))
  timed = [n for n in zoo.names() if n.startswith("FBNetV2")] + list(
      MOBILENET_V3_PUBLISHED_MMACS)
  files = {f"{n}.{m}": os.path.join(args.work_dir, f"{n}.{m}.tflite")
           for n in timed for m in TIMED}
  files[f"{relu_f4.name}.fp32"] = os.path.join(args.work_dir,
                                               f"{relu_f4.name}.fp32.tflite")
  files.update({f"child.{m}": os.path.join(
      ROOT, child["export_dir"], f"{child['name']}.{m}.tflite")
                for m in ("fp32", "int8", "qat")})
  latencies = results.get_or_run("latency_1_thread",
                                 lambda: _latencies(files, args))
  print(table(results.items, timed, latencies))


def table(items, timed, latencies) -> str:
  """The README's table: size, accuracy, fp32 and int8 latency, ms/MMAC."""
  lines = ["| model | MMACs | fp32 MiB | int8 MiB | fp32 ms | int8 ms | "
           "fp32 us/MMAC | int8 partitions | accuracy float / PTQ / QAT |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
  child = items["fashion_mnist_child"]
  rows = [(n, items[f"export/{n}"], n, "") for n in timed]
  acc = [child[m]["accuracy"] for m in ("fp32", "int8", "qat")]
  rows.append((f"{child['name']} (Fashion-MNIST)", child, "child",
               f"{acc[0]['keras']:.4f} / {acc[1]['tflite']:.4f} / "
               f"{acc[2]['tflite']:.4f}"))
  for label, row, key, accuracy in rows:
    fp32, int8 = (latencies[f"{key}.{m}"]["median_ms"] for m in TIMED)
    lines.append(
        f"| {label} | {row['mmacs']:.1f} | {row['fp32']['bytes'] / 2**20:.2f} | "
        f"{row['int8']['bytes'] / 2**20:.2f} | {fp32:.3f} | {int8:.3f} | "
        f"{1e3 * fp32 / row['mmacs']:.1f} | "
        f"{row['int8']['xnnpack_partitions']} | {accuracy or '-'} |")
  return "\n".join(lines)


if __name__ == "__main__":
  main()
