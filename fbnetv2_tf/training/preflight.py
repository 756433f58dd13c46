"""Checks a run passes before its first step, and before it writes anything.

A mistake found after an hour of training costs the hour; one found after
``flags.json`` is written also blocks the corrected rerun into the same
directory ("holds a run with other flags"). So the training binaries run
these checks first, and record their flags only when all of them pass. Each
failure is a ``UserError`` whose one line names the values involved.
"""

from __future__ import annotations

import os

from fbnetv2_tf.errors import UserError
from fbnetv2_tf.cost.losses import ResourceLoss
from fbnetv2_tf.specs.search_space import SearchSpace

UNITS = {"mflops": "MFLOPs", "mparams": "M params", "latency_ms": "ms"}


def check_output_dir(path: str) -> None:
  """``path`` is a directory this process can create or write into."""
  existing = os.path.abspath(path)
  while not os.path.exists(existing):
    existing = os.path.dirname(existing)
  if not os.path.isdir(existing):
    raise UserError(f"cannot create output directory {path}: {existing} is "
                    "a file")
  if not os.access(existing, os.W_OK | os.X_OK):
    raise UserError(f"cannot write to {existing} (output directory {path}): "
                    "permission denied")


def check_image_size(data, size: int, expected_by: str) -> None:
  if data.image_shape[0] != size:
    raise UserError(f"the data's images are {data.image_shape[0]} px, "
                    f"{expected_by} expects {size} px")


def check_batch_size(batch_size: int, images: int, what: str) -> None:
  """At least one whole batch per epoch (the remainder is dropped)."""
  if batch_size > images:
    raise UserError(f"batch size {batch_size} is larger than the {what} "
                    f"({images} images)")


def check_budget(space: SearchSpace, loss: ResourceLoss, num_classes: int,
                 input_channels: int, latency_table=None) -> None:
  """A budget target some child of ``space`` can meet inside its band.

  Derivation keeps the child in ``[band x target, target]``; a target below
  the cheapest child, or a band above the dearest, has no answer, and that
  is known from the space alone.
  """
  if loss.form != "budget" or loss.target is None:
    return
  check_target(space, loss.metric, loss.target,
               cost_span(space, loss.metric, num_classes, input_channels,
                         latency_table), loss.band)


def cost_span(space: SearchSpace, metric: str, num_classes: int,
              input_channels: int, latency_table=None) -> tuple[float, float]:
  """The costs of the cheapest and of the dearest child of ``space``."""
  from fbnetv2_tf.search import cost_range, derive  # pylint: disable=g-import-not-at-top
  cost_of = derive.child_cost(space, metric, num_classes, input_channels,
                              latency_table)
  extremes = cost_range.cost_range(space, metric, num_classes,
                                   input_channels, latency_table)
  return cost_of(extremes.cheapest), cost_of(extremes.dearest)


def check_target(space: SearchSpace, metric: str, target: float,
                 span: tuple[float, float], band: float | None = None
                 ) -> None:
  """``target`` against the space's ``span`` (:func:`cost_span`): refused
  below the cheapest child and, when ``band`` is given, where the band
  starts above the dearest."""
  low, high = span
  unit = UNITS[metric]
  span_text = f"its children cost {low:.4g} to {high:.4g} {unit}"
  if target < low:
    raise UserError(f"no architecture of {space.name!r} costs at most "
                    f"{target:g} {unit}: {span_text}")
  if band is not None and band * target > high:
    raise UserError(f"every architecture of {space.name!r} costs less than "
                    f"{band:g} x {target:g} {unit}, the bottom of "
                    f"the budget band: {span_text}")
