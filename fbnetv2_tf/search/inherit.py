"""A derived child built with the supernet's weights (weight inheritance).

Every child layer has a supernet twin: the same block, in the chosen
candidate (``s1_b0_expand_conv`` of the child is ``s1_b0_c2_expand_conv`` of
candidate 2), built at the largest widths. The child takes the leading
slice of each of its twin's tensors, since channel masks keep the leading
channels. At one-hot decision weights the supernet then computes exactly the
child's function (see ``models.supernet``), so a child can be scored without
training it (the ranking benchmark) or fine-tuned from the supernet's
weights, as once-for-all users expect.

The supernet's BatchNorm statistics were gathered over many sampled
children; :func:`recalibrate_batch_norm` re-estimates them for one child.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from fbnetv2_tf.search import derive


def _leaves(layer) -> dict:
  """Sublayers that own weights, by name, at any depth."""
  found = {}
  for sub in layer._flatten_layers(include_self=False, recursive=True):  # pylint: disable=protected-access
    if sub.weights and not sub._layers:  # pylint: disable=protected-access
      found[sub.name] = sub
  return found


def _twin_name(name: str, candidates: Mapping[str, int]) -> str:
  """The supernet layer of a child layer: the block's chosen candidate."""
  block = "_".join(name.split("_")[:2])
  if block in candidates:
    return name.replace(f"{block}_", f"{block}_c{candidates[block]}_", 1)
  return name


def copy_weights(net, child, choices: Mapping[str, int]) -> None:
  """Sets every weight of ``child`` (built from ``choices``) to the leading
  slice of its supernet twin.

  Raises:
    ValueError: a child layer has no twin, or a twin is narrower.
  """
  candidates = {bp.name: (choices.get(bp.op_decision, 0)
                          if bp.op_decision else 0)
                for bp in net.plan.blocks}
  twins = {}
  for block in net.blocks:
    twins.update(_leaves(block))
  twins.update(_leaves(net.head))
  for layer in child.layers:
    if not layer.weights:
      continue
    twin = twins.get(_twin_name(layer.name, candidates))
    if twin is None:
      raise ValueError(f"child layer {layer.name!r} has no supernet twin")
    values = []
    for mine, theirs in zip(layer.get_weights(), twin.get_weights()):
      if any(m > t for m, t in zip(mine.shape, theirs.shape)):
        raise ValueError(f"{layer.name}: child shape {mine.shape} exceeds "
                         f"the supernet's {theirs.shape}")
      values.append(theirs[tuple(slice(0, m) for m in mine.shape)])
    layer.set_weights(values)


def inherit_child(net, choices: Mapping[str, int], name: str | None = None):
  """The child of ``choices`` as a plain Keras model with the supernet's
  weights (``net`` built)."""
  from fbnetv2_tf.models.child_model import build_child_model  # pylint: disable=g-import-not-at-top
  arch = derive.derive_arch(net.space, choices, name)
  child = build_child_model(arch, net.num_classes,
                            input_channels=net.input_channels)
  copy_weights(net, child, choices)
  return child


def recalibrate_batch_norm(model, images: np.ndarray, batch_size: int = 256
                           ) -> None:
  """Replaces every BatchNorm's moving statistics by their average over
  ``images`` (batches in training mode, a cumulative mean).

  ``images`` are model inputs (``data.normalize``d) at any size: they are
  resized to the model's input as the supernet resizes its input.
  """
  import keras  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.models.supernet import resize_input  # pylint: disable=g-import-not-at-top
  norms = [l for l in model._flatten_layers(include_self=False, recursive=True)  # pylint: disable=protected-access
           if isinstance(l, keras.layers.BatchNormalization)]
  saved = [l.momentum for l in norms]
  try:
    for k, start in enumerate(range(0, len(images), batch_size)):
      for l in norms:
        l.momentum = k / (k + 1.0)  # running mean over the batches so far
      model(resize_input(images[start:start + batch_size],
                         model.input_shape[1]), training=True)
  finally:
    for l, m in zip(norms, saved):
      l.momentum = m


def accuracy(model, images: np.ndarray, labels: np.ndarray,
             batch_size: int = 500) -> float:
  """Top-1 accuracy of ``model`` on model inputs ``images`` (any size:
  resized to the model's input as the supernet resizes its input)."""
  from fbnetv2_tf.models.supernet import resize_input  # pylint: disable=g-import-not-at-top
  size = model.input_shape[1]
  correct = 0
  for start in range(0, len(images), batch_size):
    logits = model(resize_input(images[start:start + batch_size], size),
                   training=False)
    correct += int(np.sum(np.asarray(logits).argmax(-1)
                          == labels[start:start + batch_size]))
  return correct / max(len(images), 1)


def inherited_accuracy(net, choices: Mapping[str, int],
                       calibration_images: np.ndarray, images: np.ndarray,
                       labels: np.ndarray) -> float:
  """Accuracy on ``images`` of the child of ``choices`` with the
  supernet's weights and BatchNorm statistics recalibrated on
  ``calibration_images`` (all model inputs, ``data.normalize``d): how a
  child is scored without training it."""
  child = inherit_child(net, choices)
  recalibrate_batch_norm(child, calibration_images)
  return accuracy(child, images, labels)
