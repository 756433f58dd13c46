"""One supernet, many budgets: architectures for several targets derived
from one finished search, by evaluation, without training again.

A finished search directory holds the trained supernet (``checkpoint.npz``)
and what rebuilds it (``supernet.json``, written by ``training.search_job``).
For each target, ``derive_targets`` scores in-band candidates drawn from the
learned distribution as children of that supernet
(``search.evaluation.derive_by_evaluation``) and keeps the best. Into
``output_dir`` it writes ``arch_TARGET.json`` per target,
``derive_result.json`` (one row per target) and ``pareto.png`` (predicted
accuracy against cost for every scored candidate, the chosen ones marked).
Once-for-all (Cai et al., 2020) made "train once, derive many" the reason to
train a supernet; here it reuses the search's own supernet.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from typing import Any, Sequence

from fbnetv2_tf import data as data_lib
from fbnetv2_tf.errors import UserError
from fbnetv2_tf.search import evaluation
from fbnetv2_tf.search.evaluation import DeriveConfig
from fbnetv2_tf.specs import arch_spec
from fbnetv2_tf.specs.files import atomic_path, read_json, write_atomically
from fbnetv2_tf.specs.search_space import SearchSpace
from fbnetv2_tf.training import checkpoint, preflight
from fbnetv2_tf.training.search_job import SUPERNET_FILE, derivation_data

RESULT_FILE = "derive_result.json"
PLOT_FILE = "pareto.png"
UNITS = preflight.UNITS


@dataclasses.dataclass(frozen=True)
class TargetResult:
  """The architecture derived for one target."""

  target: float
  metric: str
  counted_cost: float
  predicted_accuracy: float   # inherited weights, architecture split
  arch: Any                   # ArchSpec
  arch_file: str
  candidates: tuple           # every scored candidate (dicts), best first
  seconds: float

  def to_dict(self) -> dict:
    from fbnetv2_tf.specs.arch_string import to_arch_string  # pylint: disable=g-import-not-at-top
    return {"target": self.target, "metric": self.metric,
            "counted_cost": self.counted_cost,
            "predicted_accuracy": self.predicted_accuracy,
            "arch": to_arch_string(self.arch), "arch_file": self.arch_file,
            "seconds": self.seconds, "candidates": list(self.candidates)}


def search_description(search_dir: str) -> dict:
  """``supernet.json`` of a finished search.

  Raises:
    UserError: ``search_dir`` holds no finished search.
  """
  path = os.path.join(search_dir, SUPERNET_FILE)
  if not os.path.exists(path):
    raise UserError(f"{search_dir} holds no finished search (no "
                    f"{SUPERNET_FILE}; a search writes it when it ends)")
  return read_json(path)


def load_supernet(search_dir: str):
  """The trained supernet of a finished search, rebuilt and restored."""
  from fbnetv2_tf.search.search_model import Supernet  # pylint: disable=g-import-not-at-top
  described = search_description(search_dir)
  net = Supernet(SearchSpace.from_dict(described["space"]),
                 num_classes=described["num_classes"],
                 input_channels=described["input_channels"],
                 seed=described["seed"], mode=described["gumbel_mode"],
                 # Searches from before the option ran every resolution.
                 resolution_sampling=described.get("resolution_sampling",
                                                   "all"))
  net.build_for_input()
  checkpoint.restore_model(os.path.join(search_dir, checkpoint.CHECKPOINT),
                           net)
  return net


def target_label(target: float) -> str:
  """``0.15`` -> ``0.15``: the target as it appears in file names."""
  return f"{target:g}"


def derive_targets(search_dir: str, data, targets: Sequence[float],
                   output_dir: str, metric: str | None = None,
                   config: DeriveConfig = DeriveConfig(method="evaluate"),
                   latency_table=None, band: float | None = None,
                   progress=None) -> list[TargetResult]:
  """Derives an architecture for every target from one finished search.

  Args:
    search_dir: the finished search.
    data: the ImageData it searched on (the same subset: the candidates
      are scored on its architecture split, which the weights never saw).
    targets: budgets in ``metric``'s unit.
    output_dir: where the files go (created).
    metric: mflops, mparams or latency_ms (default: the search's).
    config: candidates, fill and calibration images of each derivation.
    latency_table: a LatencyTable, for latency_ms.
    band: the lowest acceptable fraction of each target (default: the
      search's).
    progress: called with ``(target, done, total)`` after each candidate.

  Returns:
    One TargetResult per target, in the given order.

  Raises:
    UserError: no finished search, an empty or non-positive target list, a
      latency metric without a table, or data of another shape.
  """
  if config.method != evaluation.EVALUATE:
    raise ValueError("derive_targets derives by evaluation; got a "
                     f"DeriveConfig with method {config.method!r}")
  preflight.check_output_dir(output_dir)
  described = search_description(search_dir)
  metric = metric or described["metric"]
  band = described["band"] if band is None else band
  if (not targets or not all(math.isfinite(t) and t > 0 for t in targets)
      or len(set(targets)) != len(targets)):
    raise UserError("targets must be distinct positive numbers, got "
                    f"{list(targets)}")
  if metric == "latency_ms" and latency_table is None:
    raise UserError("a latency target needs a latency table")
  if (data.num_classes != described["num_classes"]
      or data.image_shape[2] != described["input_channels"]):
    raise UserError(
        f"the search ran on {described['num_classes']} classes of "
        f"{described['input_channels']}-channel images; this data has "
        f"{data.num_classes} classes of {data.image_shape[2]}-channel images")
  net = load_supernet(search_dir)
  _check_budgets(net, metric, targets, latency_table)
  weight_split, arch_split = data_lib.split_for_search(data,
                                                       described["seed"])
  calibration, validation = derivation_data(data, weight_split, arch_split,
                                            config, described["seed"])
  os.makedirs(output_dir, exist_ok=True)
  results = []
  for target in targets:
    start = time.time()
    derived = evaluation.derive_by_evaluation(
        net, target, metric, calibration, validation, config.candidates,
        band, config.fill, latency_table, described["seed"],
        name=f"{net.space.name}_{target_label(target)}",
        progress=None if progress is None else
        (lambda done, total, t=target: progress(t, done, total)))
    arch_file = f"arch_{target_label(target)}.json"
    arch_spec.save_archs(os.path.join(output_dir, arch_file), [derived.arch])
    results.append(TargetResult(target, metric, derived.cost,
                                derived.accuracy, derived.arch, arch_file,
                                derived.candidates, time.time() - start))
  write_atomically(os.path.join(output_dir, RESULT_FILE), json.dumps(
      [r.to_dict() for r in results], indent=1) + "\n")
  plot_pareto(results, os.path.join(output_dir, PLOT_FILE))
  return results


def _check_budgets(net, metric, targets, latency_table) -> None:
  """Every target must admit a child: one line naming the space's range."""
  span = preflight.cost_span(net.space, metric, net.num_classes,
                             net.input_channels, latency_table)
  for target in targets:
    preflight.check_target(net.space, metric, target, span)


def plot_pareto(results: Sequence[TargetResult], path: str) -> None:
  """Predicted accuracy against cost of every scored candidate; the chosen
  one of each target marked, and each target drawn as a line."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  fig, ax = plt.subplots(figsize=(5.5, 4))
  for k, r in enumerate(results):
    color = f"C{k % 10}"
    ax.scatter([c["cost"] for c in r.candidates],
               [c["accuracy"] for c in r.candidates], s=14, alpha=0.5,
               color=color, label=f"candidates for {r.target:g}")
    ax.scatter([r.counted_cost], [r.predicted_accuracy], s=110, marker="*",
               color=color, edgecolor="black", zorder=3)
    ax.axvline(r.target, color=color, lw=0.8, ls="--")
  unit = UNITS[results[0].metric] if results else ""
  ax.set_xlabel(f"cost ({unit}); dashed: targets")
  ax.set_ylabel("predicted accuracy (inherited weights)")
  ax.set_title("one supernet, many budgets (star: chosen)", fontsize=9)
  ax.legend(fontsize=7)
  fig.tight_layout()
  with atomic_path(path) as temporary:
    fig.savefig(temporary, dpi=110)
  plt.close(fig)
