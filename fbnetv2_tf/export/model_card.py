"""The model card written beside exported files: ``NAME.md``.

It says what the files are (the architecture string), what the network
was searched for (space, cost metric and target, the latency table and the
device it was measured on), what it costs (MFLOPs and parameters counted
from the Keras model), how fast each file runs (median on the runner, with
its threads and h-swish form) and how accurate it is (the float model and
each file on the test split).

Where the model came from is traced through the files the binaries write:
a ``.keras`` from ``fbnetv2-train`` has ``train_result.json`` and
``flags.json`` beside it, whose ``arch`` flag names the ``arch.json`` of a
search directory with its own ``flags.json`` and ``search_result.json``;
an ``--arch`` that is such an ``arch.json`` starts the trace there. Paths
recorded in ``flags.json`` are as the user gave them, so a relative one is
found from the current directory, as when the binary was run. What cannot
be traced is left out of the card, not guessed.
"""

from __future__ import annotations

import os

from fbnetv2_tf.errors import UserError
from fbnetv2_tf.specs.files import read_json

# The search flags that set a target, and the metric each one targets.
_TARGET_FLAGS = {"target_mflops": "MFLOPs", "target_mparams": "M params",
                 "target_ms": "ms"}


def _json_beside(path: str, name: str) -> dict | None:
  candidate = os.path.join(os.path.dirname(os.path.abspath(path)), name)
  if not os.path.isfile(candidate):
    return None
  try:
    data = read_json(candidate)
  except UserError:
    return None  # a damaged side file only shortens the card
  return data if isinstance(data, dict) else None


def _number(value) -> float | None:
  """``value`` if it is a number, else None: a side file a user edited may
  hold anything, and the card formats numbers."""
  return (value if isinstance(value, (int, float))
          and not isinstance(value, bool) else None)


def _search(arch_path: str) -> dict | None:
  """The search that wrote ``arch_path``, if it is a search's arch.json."""
  flags = _json_beside(arch_path, "flags.json")
  result = _json_beside(arch_path, "search_result.json")
  if flags is None or result is None:
    return None
  search = {"space": flags.get("space"), "loss": flags.get("loss"),
            "counted_cost": _number(result.get("counted_cost")),
            "metric": result.get("metric")}
  search["targets"] = {unit: flags[name] for name, unit in
                       _TARGET_FLAGS.items()
                       if _number(flags.get(name)) is not None}
  lut = flags.get("lut")
  if lut:
    search["lut"] = {"path": lut, **_lut_header(lut)}
  return search


def _lut_header(path: str) -> dict:
  """The device and conversion settings of a latency table, if it is
  still there."""
  from fbnetv2_tf.lut.table_file import LutFile  # pylint: disable=g-import-not-at-top
  try:
    header = LutFile.load(path).header
  except (UserError, OSError):
    return {}
  return {"device": header.device(), "dtype": header.dtype,
          "hswish": header.hswish, "padding": header.padding}


def trace(source: str | None) -> dict:
  """What the output of the binaries says about where a model came from:
  ``arch`` (its architecture string), ``training`` (dataset, epochs, test
  accuracy) and ``search`` (space, targets, latency table); ``source`` is a ``.keras`` file or an arch JSON
  file (anything else traces to nothing)."""
  provenance = {}
  if not source or not os.path.isfile(source):
    return provenance
  if source.endswith(".keras"):
    flags = _json_beside(source, "flags.json")
    result = _json_beside(source, "train_result.json")
    if flags and result:
      provenance["training"] = {
          "dataset": flags.get("dataset"), "epochs": flags.get("epochs"),
          "test_accuracy": _number(result.get("test_accuracy"))}
    source = (flags or {}).get("arch")
    if not source or not os.path.isfile(source):
      return provenance
  arch = _arch_string(source)
  if arch:
    provenance["arch"] = arch
  search = _search(source)
  if search:
    provenance["search"] = search
  return provenance


def _arch_string(path: str) -> str | None:
  """The architecture string of an arch JSON file holding one model."""
  from fbnetv2_tf.specs.arch_spec import load_archs  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs.arch_string import to_arch_string  # pylint: disable=g-import-not-at-top
  try:
    archs = load_archs(path)
  except UserError:
    return None
  return to_arch_string(next(iter(archs.values()))) if len(archs) == 1 else None


def _search_lines(search: dict) -> list[str]:
  targets = ", ".join(f"{v:g} {unit}" for unit, v in
                      search.get("targets", {}).items()) or "none"
  counted = search.get("counted_cost")
  lines = [f"- Space: `{search.get('space')}`, loss `{search.get('loss')}`, "
           f"target {targets}"
           + (f"; the derived architecture counted {counted:g}"
              + (f" ({search['metric']})" if search.get("metric") else "")
              if counted is not None else "") + "."]
  lut = search.get("lut")
  if lut:
    lines.append(f"- Latency table: `{os.path.basename(lut['path'])}`, "
                 f"measured on {lut.get('device', 'an unknown device')} "
                 f"(h-swish {lut.get('hswish')}, padding {lut.get('padding')}).")
  return lines


def _file_row(report) -> str:
  latency = report.latency
  timed = (f"{latency['median_us'] / 1e3:.3f} ms "
           f"({latency['settings']['threads']} thread(s))" if latency
           else "not timed")
  accuracy = (f"{report.accuracy['tflite']:.4f}" if report.accuracy else "-")
  form = (report.hswish or {}).get("form") or "-"
  return (f"| {report.mode} | `{os.path.basename(report.path)}` | "
          f"{report.bytes / 2**20:.2f} | {form} | {report.xnnpack_partitions} "
          f"| {timed} | {accuracy} |")


def render(name: str, arch_string: str | None, counts, reports,
           provenance: dict, runner: str | None) -> str:
  """The card's Markdown."""
  lines = [f"# {name}", ""]
  if arch_string:
    lines += ["Architecture:", "", "```", arch_string, "```", ""]
  lines += [f"Cost counted from the Keras model: {counts.mflops:.4g} MFLOPs, "
            f"{counts.mparams:.4g} M parameters.", ""]
  search = provenance.get("search")
  lines += ["## Searched for", ""]
  lines += (_search_lines(search) if search else
            ["Not traced: the model does not come from a search directory "
             "written by fbnetv2-search."])
  training = provenance.get("training")
  if training:
    accuracy = training.get("test_accuracy")
    epochs = _number(training.get("epochs"))
    lines += ["", f"Trained on {training.get('dataset') or 'an unnamed dataset'}"
              + (f" for {epochs:g} epochs" if epochs is not None else "")
              + (f": test accuracy {accuracy:.4f} (Keras)." if accuracy
                 is not None else ".")]
  lines += ["", "## Files", ""]
  if runner:
    lines += [f"Latency: median on {runner}.", ""]
  evaluated = next((r.accuracy for r in reports if r.accuracy), None)
  if evaluated:
    lines += [f"Accuracy on {evaluated['images']} test images; the float "
              f"Keras model scores {evaluated['keras']:.4f}.", ""]
  lines += ["| mode | file | MiB | h-swish | XNNPACK partitions | latency | "
            "accuracy |", "|---|---|---:|---|---:|---|---:|"]
  lines += [_file_row(r) for r in reports]
  warnings = [w for r in reports for w in r.warnings]
  if warnings:
    lines += ["", "## Warnings", ""] + [f"- {w}" for w in warnings]
  return "\n".join(lines) + "\n"
