"""Latency tables on the host, end to end, with the binaries a user runs.

1. Build host LUTs for ``tiny32`` (1-channel, 10-class data), fp32 and
   int8, 1 thread, timing the build (candidates per minute); time a
   ``fbnetv2_f`` build on its first --fbnetv2_f_candidates candidates.
2. Validate each table on 20 sampled architectures at the space's 32 px
   (MAPE, Spearman, scatter PNG).
3. tiny32 with a 64 px and with a 128 px input: build tables, validate on
   20 architectures (seed 2); at 128 px first fit a correction on 10 others
   (seed 1) and judge it on those 20.
4. Search with --lut and --target_ms, once with the fp32 table and once
   with the int8 table (same flags and seed; each target the 40 % quantile
   of its table's latency over random architectures), count the searched
   h-swish blocks of the two derived architectures, and measure both whole
   networks in fp32 and int8: is the int8-aware search faster in int8, and
   do the searches land within 15 % of their targets?

Every step is resumable: LUT builds resume themselves, finished steps are
kept in the results file.

  python benchmarks/latency_tables.py [--work_dir=out/latency_tables]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

from _common import Results  # pylint: disable=import-error

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = ("--input_channels=1", "--num_classes=10")


def _tool(name, *args):
  """Runs ``python -m tools.NAME``; returns its stdout."""
  result = subprocess.run([sys.executable, "-m", f"tools.{name}", *args],
                          cwd=ROOT, check=True, stdout=subprocess.PIPE,
                          text=True, env={**os.environ,
                                          "TF_CPP_MIN_LOG_LEVEL": "3"})
  sys.stderr.write(result.stdout)
  return result.stdout


def build(path, space, dtype, *extra):
  start = time.time()
  _tool("build_lut", f"--space={space}", f"--dtype={dtype}",
        f"--output={path}", *DATA, *extra)
  with open(path, encoding="utf-8") as f:
    rows = len(json.load(f)["entries"])
  minutes = (time.time() - start) / 60
  return {"rows": rows, "minutes": round(minutes, 2),
          "candidates_per_minute": round(rows / minutes, 1)}


def validation(path, *extra):
  out = _tool("validate_lut", f"--lut={path}", *extra)
  size = re.search(r"at up to (\d+) px", out).group(1)
  with open(f"{os.path.splitext(path)[0]}.validation_{size}px.json",
            encoding="utf-8") as f:
    report = json.load(f)
  return {k: report[k] for k in ("mape", "spearman", "archs")
          if k in report} | {k: report[k] for k in ("corrected",
                                                     "calibration")
                              if k in report}


def tiny32_at(size, work_dir):
  """tiny32 with one input resolution, as a space JSON file."""
  sys.path.insert(0, ROOT)
  from fbnetv2_tf.specs import builtin_spaces  # pylint: disable=g-import-not-at-top
  space = builtin_spaces.tiny32().to_dict()
  space.update(name=f"tiny32_{size}", input_sizes=[size])
  path = os.path.join(work_dir, f"tiny32_{size}.json")
  with open(path, "w", encoding="utf-8") as f:
    json.dump(space, f)
  return path


def relative_target(path, space, quantile=0.4, count=200):
  """The ``quantile`` of the table's predicted latency over random
  architectures, in ms: a budget that binds alike for any table."""
  sys.path.insert(0, ROOT)
  import numpy as np  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.lut import validate  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.lut.table_file import LutFile  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs import builtin_spaces  # pylint: disable=g-import-not-at-top
  lut = LutFile.load(path)
  table = lut.table()
  archs = validate.sample_archs(builtin_spaces.get_space(space), count, 7)
  predicted = [validate.predicted_us(a, table, 1) / 1e3 for a in archs]
  return round(float(np.quantile(predicted, quantile)), 4)


def search(lut, target_ms, out, epochs):
  _tool("search", f"--lut={lut}", f"--target_ms={target_ms}",
        f"--output_dir={out}", f"--epochs={epochs}", "--verbose=0")
  sys.path.insert(0, ROOT)
  from fbnetv2_tf.specs.arch_spec import load_archs  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs.arch_string import to_arch_string  # pylint: disable=g-import-not-at-top
  with open(os.path.join(out, "search_result.json"), encoding="utf-8") as f:
    result = json.load(f)
  (arch,) = load_archs(os.path.join(out, "arch.json")).values()
  text = to_arch_string(arch)
  # tiny32's searched h-swish op; its stem and last stage always use it.
  return {"arch": text, "target_ms": target_ms,
          "predicted_ms": result["counted_cost"],
          "hswish_blocks": text.count("sehsig_hs")}


def measure_archs(work_dir, archs, luts):
  """Whole-network latency of arch strings in each table's dtype, timed
  interleaved with that table's probes and scaled to its speed."""
  sys.path.insert(0, ROOT)
  from fbnetv2_tf.lut import probes  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.lut import validate  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.lut.host import HostRunner  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.lut.runner import MeasureSettings  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.lut.table_file import LutFile  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs.arch_string import parse_arch_string  # pylint: disable=g-import-not-at-top
  measured = {}
  for dtype, path in luts.items():
    lut = LutFile.load(path)
    paths = {label: validate.convert_arch(
        parse_arch_string(text), os.path.join(work_dir, f"{label}.{dtype}.tflite"),
        dtype, 10, 1) for label, text in archs.items()}
    settings = MeasureSettings(**lut.header.settings)
    files = probes.probe_paths(f"{os.path.splitext(path)[0]}.cache", dtype)
    probed = probes.measure_with_probes(
        HostRunner(), paths, settings,
        files, probes.settle(HostRunner(), files, settings))
    for label, stats in probed.stats.items():
      measured[f"{label}.{dtype}"] = stats.median_us / 1e3
  return measured


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--work_dir", default=os.path.join(ROOT, "out",
                                                         "latency_tables"))
  parser.add_argument("--results", default=os.path.join(
      ROOT, "benchmarks", "results", "latency_tables.json"))
  parser.add_argument("--fbnetv2_f_candidates", type=int, default=240)
  parser.add_argument("--search_epochs", type=int, default=6)
  args = parser.parse_args()
  os.makedirs(args.work_dir, exist_ok=True)
  results = Results(args.results)
  lut = {d: os.path.join(args.work_dir, f"tiny32_{d}.json")
         for d in ("fp32", "int8")}
  for dtype, path in lut.items():
    results.get_or_run(f"build/tiny32/{dtype}",
                       lambda d=dtype, p=path: build(p, "tiny32", d))
    results.get_or_run(f"validate/tiny32/{dtype}/32px",
                       lambda p=path: validation(p))
  for size in (64, 128):
    space_file = tiny32_at(size, args.work_dir)
    for dtype in ("fp32", "int8"):
      path = os.path.join(args.work_dir, f"tiny32_{size}_{dtype}.json")
      results.get_or_run(f"build/tiny32_{size}/{dtype}",
                         lambda d=dtype, p=path, f=space_file: build(p, f, d))
      space_flag = f"--space={space_file}"
      if size == 128:  # fit on 10 architectures, judge on 20 others
        results.get_or_run(f"calibrate/tiny32_{size}/{dtype}", lambda p=path: (
            validation(p, space_flag, "--archs=10", "--seed=1",
                       "--calibrate")))
      results.get_or_run(f"validate/tiny32_{size}/{dtype}/{size}px",
                         lambda p=path: validation(p, space_flag, "--archs=20",
                                                   "--seed=2"))
  results.get_or_run("build/fbnetv2_f/fp32/sample", lambda: build(
      os.path.join(args.work_dir, "fbnetv2_f_sample.json"), "fbnetv2_f",
      "fp32", "--input_channels=3", "--num_classes=1000",
      f"--limit={args.fbnetv2_f_candidates}", "--max_grid=3",
      # 224 px blocks take up to milliseconds: fewer, shorter visits.
      "--trials=5", "--runs=20"))
  searched = {}
  for dtype in ("fp32", "int8"):
    target = results.get_or_run(f"target/{dtype}", lambda d=dtype: (
        relative_target(lut[d], "tiny32")))
    searched[dtype] = results.get_or_run(
        f"search/{dtype}_lut", lambda d=dtype, t=target: search(
            lut[d], t, os.path.join(args.work_dir, f"search_{d}"),
            args.search_epochs))
  results.get_or_run("measured/searched", lambda: measure_archs(
      args.work_dir, {f"{d}_lut": s["arch"] for d, s in searched.items()},
      lut))
  print(json.dumps(results.items, indent=1))


if __name__ == "__main__":
  main()
