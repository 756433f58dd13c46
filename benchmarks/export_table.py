"""TFLite export table: the FBNetV2 zoo, a child searched and trained on
Fashion-MNIST, and keras.applications MobileNetV3Small/Large, exported and
timed the same way, with h-swish in both forms and both paddings.

1. Every zoo model (FBNet and FBNetV2, 1000 classes, its own input size,
   random weights) exports in fp32, fp16, dynamic and int8 with the
   deployment checks (LiteRT vs Keras, folded BatchNorm, static shapes,
   XNNPACK partitions and the ops that cause them, ops left in float).
   ``parity_ok`` applies the fp32 bound, 1e-4 x max(1, |logit|), to every
   mode: only fp32 must meet it. The untrained models get random BatchNorm
   statistics (activations of order one, so the parity check means
   something) and are calibrated on uniform random images: their int8
   files are right for size and latency, not accuracy.
2. The FBNetV2 models and MobileNetV3 again in fp32 and int8 with h-swish
   in its delegable form (``fbnetv2_tf.export.hswish``); FBNetV2-F4 with
   TensorFlow's ``same`` padding (no PAD op) in both forms; F4 with ReLU
   in place of every h-swish.
3. A child searched (tools/search.py) and trained (tools/train.py) on
   Fashion-MNIST is exported as fp32, int8 and qat (tools/export.py) once
   per h-swish form; the float, PTQ int8 and QAT int8 test accuracies of
   both are reported. The same architecture with the other padding is
   exported (random weights) for its latency.
4. Latency of every file of 2 and 3: one LiteRT process, 1 thread, every
   file interleaved (``pipeline.measure_latency``), median over every
   trial (``--fast_within`` keeps only the machine's fast state instead,
   as fbnetv2-benchmark does), so the ratios are fair.

Resumable: finished items are kept in the results file, the search and the
training resume from their own checkpoints.

  python benchmarks/export_table.py [--work_dir=out/export_table]
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

from _common import Results  # pylint: disable=import-error

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POST_TRAINING = ("fp32", "fp16", "dynamic", "int8")
TIMED = ("fp32", "int8")
FORMS = ("fused", "delegable")
# Multiply-adds, Howard et al. 2019 (Searching for MobileNetV3), Tables 3-4.
MOBILENET_V3_PUBLISHED_MMACS = {"MobileNetV3Small": 56, "MobileNetV3Large": 219}


def keras_mmacs(model) -> float:
  """Millions of multiply-adds of conv and dense weights, the FLOPs
  convention of the FBNet papers, read from any Keras model's layers."""
  from fbnetv2_tf.cost.keras_counting import count_keras_model  # pylint: disable=g-import-not-at-top
  return count_keras_model(model).mflops


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


def file_name(name, mode, form="fused"):
  return f"{name}.{mode}" + ("" if form == "fused" else f".{form}")


def export_untrained(name, model, work_dir, modes, form="fused"):
  """Writes NAME.MODE[.FORM].tflite for ``modes`` with h-swish in ``form``;
  returns the checks per mode."""
  from fbnetv2_tf.export import graph, hswish, parity, tflite  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs.files import write_atomically  # pylint: disable=g-import-not-at-top
  # Activations of order one, so the LiteRT vs Keras check means something.
  parity.randomize_batch_norm(model)
  model = hswish.with_hswish_form(model, form)
  rows = {"mmacs": keras_mmacs(model)}
  for mode in modes:
    start = time.time()
    flatbuffer = tflite.convert_to_tflite(
        model, mode, tflite.random_calibration(model, count=64))
    write_atomically(os.path.join(work_dir, f"{file_name(name, mode, form)}"
                                            ".tflite"), flatbuffer)
    check = parity.check_parity(model, flatbuffer)
    partitions, undelegated = graph.xnnpack_split(flatbuffer)
    rows[mode] = {
        "bytes": len(flatbuffer), "convert_s": round(time.time() - start, 1),
        "max_abs_diff": check.max_abs_diff, "tolerance": check.tolerance,
        "parity_ok": check.ok, "ops": graph.op_counts(flatbuffer),
        "float_ops": len(graph.float_ops(flatbuffer)),
        "xnnpack_partitions": partitions, "undelegated_ops": undelegated,
        "unfolded_batch_norms": graph.unfolded_batch_norms(flatbuffer),
        "dynamic_tensors": len(graph.dynamic_tensors(flatbuffer))}
  return rows


def _tool(name, *args):
  subprocess.run([sys.executable, "-m", f"tools.{name}", *args], cwd=ROOT,
                 check=True, stdout=sys.stderr)


def fashion_mnist_child(work_dir, args):
  """Search, train and export (fp32, int8, qat; each h-swish form) a child
  on Fashion-MNIST."""
  search, child = (os.path.join(work_dir, d) for d in ("search", "child"))
  data = ["--dataset=fashion_mnist"] + (
      [f"--data_dir={args.data_dir}"] if args.data_dir else [])
  _tool("search", *data, f"--output_dir={search}", "--verbose=0",
        f"--epochs={args.search_epochs}", f"--target_mflops={args.target_mflops}",
        f"--max_train_images={args.search_images}")
  _tool("train", *data, f"--arch={search}/arch.json", f"--output_dir={child}",
        f"--epochs={args.train_epochs}", "--verbose=0")
  with open(os.path.join(search, "search_result.json"), encoding="utf-8") as f:
    name = json.load(f)["arch"].split("@")[0]
  import keras  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf import layers  # noqa: F401  pylint: disable=g-import-not-at-top,unused-import
  model = keras.saving.load_model(f"{child}/{name}.keras", compile=False)
  # Relative to the checkout: the results file is committed.
  rows = {"name": name, "mmacs": keras_mmacs(model), "export_dirs": {}}
  for form in FORMS:
    export = os.path.join(work_dir, f"export_{form}")
    _tool("export", *data, f"--model={child}/{name}.keras",
          "--mode=fp32,int8,qat", f"--qat_epochs={args.qat_epochs}",
          f"--hswish={form}", f"--output_dir={export}", "--nolatency")
    rows["export_dirs"][form] = os.path.relpath(export, ROOT)
    for mode in ("fp32", "int8", "qat"):
      with open(os.path.join(export, f"{name}.{mode}.json"),
                encoding="utf-8") as f:
        report = json.load(f)
      rows[file_name("", mode, form)[1:]] = {
          k: report[k] for k in ("bytes", "accuracy", "ops", "float_ops",
                                 "xnnpack_partitions", "undelegated_ops")}
  return rows


def other_padding_child(child, work_dir):
  """The child's architecture with the other padding, random weights, in
  fp32 (fused) and int8 (delegable): what padding alone costs it."""
  from fbnetv2_tf.models.child_model import build_child_model  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs.arch_spec import load_archs  # pylint: disable=g-import-not-at-top
  (arch,) = load_archs(os.path.join(work_dir, "search", "arch.json")).values()
  other = "symmetric" if arch.padding == "same" else "same"
  model = build_child_model(arch.replace(padding=other,
                                         name=f"{child['name']}_{other}"),
                            num_classes=10, input_channels=1)
  rows = {"padding": other, "searched_padding": arch.padding}
  for mode, form in (("fp32", "fused"), ("int8", "delegable")):
    rows.update(export_untrained(model.name, model, work_dir, (mode,), form))
  rows["name"] = model.name
  return rows


def _latencies(files, args):
  from fbnetv2_tf.export import pipeline  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.lut.runner import MeasureSettings  # pylint: disable=g-import-not-at-top
  settings = MeasureSettings(threads=1, warmup=args.warmup,
                             trials=args.trials, runs=args.invokes,
                             fast_within=args.fast_within or None)
  probed = pipeline.measure_latency(files, settings)
  return {"fast_trials": probed.fast_trials, "trials": probed.trials,
          "ms": {k: milliseconds(s) for k, s in probed.stats.items()}}


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
  parser.add_argument("--trials", type=int, default=21)
  parser.add_argument("--invokes", type=int, default=10)
  # Every trial by default: the files are compared with each other in one
  # interleaved run, where a median over all trials is steadier than the
  # few trials a busy host spends in its fast state (4 of 88 in one run).
  parser.add_argument("--fast_within", type=float, default=0)
  args = parser.parse_args()
  os.makedirs(args.work_dir, exist_ok=True)
  results = Results(args.results)
  from fbnetv2_tf.models import zoo  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.models.child_model import build_child_model  # pylint: disable=g-import-not-at-top
  timed = [n for n in zoo.names() if n.startswith("FBNetV2")] + list(
      MOBILENET_V3_PUBLISHED_MMACS)

  def build(name):
    if name in MOBILENET_V3_PUBLISHED_MMACS:
      return _mobilenet(name)
    return build_child_model(zoo.get_arch(name))

  for name in zoo.names():
    results.get_or_run(f"export/{name}", lambda n=name: export_untrained(
        n, build(n), args.work_dir, POST_TRAINING))
  for name in timed:
    if name in MOBILENET_V3_PUBLISHED_MMACS:
      results.get_or_run(f"export/{name}", lambda n=name: export_untrained(
          n, build(n), args.work_dir, TIMED))
    results.get_or_run(f"export/{name}/delegable", lambda n=name: (
        export_untrained(n, build(n), args.work_dir, TIMED, "delegable")))
  # What PAD ops cost F4: TensorFlow's "same" padding, in both forms.
  f4 = zoo.get_arch("FBNetV2_F4")
  same_f4 = f4.replace(padding="same", name="FBNetV2_F4_same")
  for form in FORMS:
    results.get_or_run(f"export/{same_f4.name}/{form}", lambda f=form: (
        export_untrained(same_f4.name, build_child_model(same_f4),
                         args.work_dir, TIMED, f)))
  # Where FBNetV2-F4's time per MAC goes: the same network with ReLU in
  # place of every h-swish (MobileNetV3 uses h-swish only in its late,
  # low-resolution layers).
  relu_f4 = _without_hswish(f4)
  results.get_or_run(f"export/{relu_f4.name}", lambda: export_untrained(
      relu_f4.name, build_child_model(relu_f4), args.work_dir, ("fp32",)))
  child = results.get_or_run("fashion_mnist_child",
                             lambda: fashion_mnist_child(args.work_dir, args))
  padded = results.get_or_run("child_other_padding", lambda: (
      other_padding_child(child, args.work_dir)))
  files = {file_name(n, m, f): os.path.join(
      args.work_dir, f"{file_name(n, m, f)}.tflite")
           for n in timed + [same_f4.name] for m in TIMED for f in FORMS}
  files[f"{relu_f4.name}.fp32"] = os.path.join(args.work_dir,
                                               f"{relu_f4.name}.fp32.tflite")
  for form, export_dir in child["export_dirs"].items():
    for mode in ("fp32", "int8", "qat"):
      files[file_name("child", mode, form)] = os.path.join(
          ROOT, export_dir, f"{child['name']}.{mode}.tflite")
  for mode, form in (("fp32", "fused"), ("int8", "delegable")):
    files[file_name("child_other_padding", mode, form)] = os.path.join(
        args.work_dir, f"{file_name(padded['name'], mode, form)}.tflite")
  latencies = results.get_or_run("latency_1_thread_forms_and_padding",
                                 lambda: _latencies(files, args))
  print(table(results.items, timed, latencies["ms"]))


def table(items, timed, ms) -> str:
  """The docs' table: size, accuracy, fp32 and int8 latency in both
  h-swish forms, us/MMAC, int8 partitions."""
  lines = ["| model | MMACs | fp32 ms fused / delegable | int8 ms fused / "
           "delegable | int8 delegable / fused | fp32 us/MMAC | int8 "
           "partitions fused / delegable | accuracy float / PTQ / QAT |",
           "|---|---:|---:|---:|---:|---:|---:|---|"]
  child = items["fashion_mnist_child"]
  rows = [(n, items[f"export/{n}"], items[f"export/{n}/delegable"], n, "")
          for n in timed]
  same = "FBNetV2_F4_same"
  rows.append((f"{same} (`same` padding)", items[f"export/{same}/fused"],
               items[f"export/{same}/delegable"], same, ""))
  accuracy = "; ".join(
      f"{form}: {child['fp32']['accuracy']['keras']:.4f} / " + " / ".join(
          f"{child[file_name('', m, form)[1:]]['accuracy']['tflite']:.4f}"
          for m in ("int8", "qat")) for form in FORMS)
  rows.append((f"{child['name']} (Fashion-MNIST)",
               {k: child[k] for k in ("mmacs", "int8")},
               {"int8": child["int8.delegable"]}, "child", accuracy))
  for label, fused, delegable, key, acc in rows:
    f32 = [ms[file_name(key, "fp32", f)]["median_ms"] for f in FORMS]
    i8 = [ms[file_name(key, "int8", f)]["median_ms"] for f in FORMS]
    lines.append(
        f"| {label} | {fused['mmacs']:.1f} | {f32[0]:.3f} / {f32[1]:.3f} | "
        f"{i8[0]:.3f} / {i8[1]:.3f} | {i8[1] / i8[0]:.2f} | "
        f"{1e3 * f32[0] / fused['mmacs']:.1f} | "
        f"{fused['int8']['xnnpack_partitions']} / "
        f"{delegable['int8']['xnnpack_partitions']} | {acc or '-'} |")
  return "\n".join(lines)


if __name__ == "__main__":
  main()
