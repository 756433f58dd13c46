"""Input pipelines for the search and for training: reproducible per epoch.

The order and the augmentation of epoch ``e`` are a function of
``(seed, e)`` alone: every random draw is stateless, seeded by folding the
epoch, a stream id and the batch index into the run's seed. A search killed
after epoch ``k - 1`` and restarted with ``first_epoch=k`` therefore sees
exactly the batches an uninterrupted run would have seen, which is what makes
resumed searches deterministic. The data sits in memory as tensors.

The datasets run through epochs ``first_epoch .. epochs - 1`` back to back,
``steps_per_epoch`` batches each; pass ``steps_per_epoch`` (and
``initial_epoch``) to ``keras.Model.fit`` so that it keeps one iterator
across epochs.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from fbnetv2_tf.data import splits
from fbnetv2_tf.errors import DataError
from fbnetv2_tf.data.image_data import ImageData, normalize

Split = tuple[np.ndarray, np.ndarray]

# Translation by up to 1/8 of the side: the 4-pixel pad-and-crop of 32x32
# CIFAR training (He et al., arXiv 1512.03385, section 4.2).
TRANSLATE_FRACTION = 0.125
# Stateless streams folded into (seed, epoch): one for augmentation, then
# one per data source for its order.
_AUGMENT_STREAM = 0
_FIRST_ORDER_STREAM = 1


def split_for_search(data: ImageData, seed: int, weight_fraction: float = 0.8
                     ) -> tuple[Split, Split]:
  """Splits the train set into the weight and architecture parts.

  The supernet's weights train on the first part, its architecture logits on
  the second (FBNet, arXiv 1812.03443, section 4.1: 80 % / 20 % of the
  ImageNet train set). Stratified by class and fixed by ``seed``.

  Returns:
    ``((weight_images, weight_labels), (arch_images, arch_labels))``:
    disjoint, together the whole train set, each in the train set's order.
  """
  weight, arch = splits.stratified_split(data.train_labels, weight_fraction,
                                         seed)
  if not len(weight) or not len(arch):
    raise DataError(f"{data.name}: {len(data.train_labels)} train images are "
                    f"too few to split {weight_fraction:g} / "
                    f"{1 - weight_fraction:g}")
  return tuple((data.train_images[i], data.train_labels[i])
               for i in (weight, arch))


def search_dataset(weight_split: Split, arch_split: Split, batch_size: int,
                   seed: int, epochs: int, first_epoch: int = 0,
                   augment: bool = True, flip: bool = False):
  """Pairs of a weight batch and an architecture batch, for the supernet.

  Args:
    weight_split: ``(images, labels)`` the weights train on; one epoch is
      one pass over it, the remainder dropped.
    arch_split: ``(images, labels)`` the architecture trains on; reshuffled
      and repeated so every weight batch has an architecture batch.
    batch_size: images per batch, in both parts.
    seed: the run's seed.
    epochs: the epoch to stop before.
    first_epoch: the epoch to start at (to resume a run).
    augment: translate (and, with ``flip``, mirror) weight batches; the
      architecture batches are never augmented.
    flip: whether horizontal flips keep the class (``ImageData.flip``).

  Returns:
    ``(dataset, steps_per_epoch)``. Elements are ``((x_w, x_a), (y_w, y_a))``
    with x float32 ``[B, H, W, C]`` in ``[-1, 1]`` and y int32 ``[B]``.
  """
  dataset, steps = _epoch_batches([weight_split, arch_split], batch_size,
                                  seed, epochs, first_epoch, augment, flip)
  return dataset.map(lambda w, a: ((w[0], a[0]), (w[1], a[1]))), steps


def train_dataset(images: np.ndarray, labels: np.ndarray, batch_size: int,
                  seed: int, epochs: int, first_epoch: int = 0,
                  augment: bool = True, flip: bool = False):
  """``(x, y)`` batches for training a child model, reproducible per epoch.

  Arguments as for ``search_dataset``, with a single ``(images, labels)``
  source. Returns ``(dataset, steps_per_epoch)``.
  """
  dataset, steps = _epoch_batches([(images, labels)], batch_size, seed,
                                  epochs, first_epoch, augment, flip)
  return dataset.map(lambda only: only), steps


def eval_dataset(images: np.ndarray, labels: np.ndarray, batch_size: int):
  """``(x, y)`` batches in order, the last one possibly smaller."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  _check_batch_size(batch_size)
  dataset = tf.data.Dataset.from_tensor_slices(
      (images, np.asarray(labels, np.int32))).batch(batch_size)
  return dataset.map(lambda x, y: (normalize(x), y),
                     num_parallel_calls=tf.data.AUTOTUNE).prefetch(
                         tf.data.AUTOTUNE)


def _check_batch_size(batch_size: int) -> None:
  if isinstance(batch_size, bool) or not isinstance(batch_size, int) or (
      batch_size < 1):
    raise DataError(f"batch size must be a positive integer, got "
                    f"{batch_size!r}")


def _epoch_batches(sources: Sequence[Split], batch_size: int, seed: int,
                   epochs: int, first_epoch: int, augment: bool, flip: bool):
  """One tuple of ``(x, y)`` batches per source, for each step of each epoch.

  The first source sets the epoch (``len // batch_size`` steps); every other
  source is cycled through in fresh random orders to fill as many batches.
  Only the first source is augmented.
  """
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  _check_batch_size(batch_size)
  if not 0 <= first_epoch <= epochs:
    raise ValueError(f"need 0 <= first_epoch <= epochs, got {first_epoch} "
                     f"and {epochs}")
  steps = len(sources[0][1]) // batch_size
  if steps == 0:
    raise DataError(f"batch size {batch_size} is larger than the "
                    f"{len(sources[0][1])} images of an epoch")
  per_epoch = steps * batch_size
  tensors = [(tf.constant(images), tf.constant(labels, tf.int32))
             for images, labels in sources]
  run_seed = tf.constant(seed, tf.int64)

  def stream_seed(epoch, stream):
    return tf.random.experimental.stateless_fold_in(
        tf.stack([run_seed, epoch]), stream)

  def epoch_orders(epoch):
    orders = []
    for s, (_, labels) in enumerate(sources):
      # Enough independent permutations of the source to fill the epoch.
      rounds = -(-per_epoch // len(labels))
      keys = tf.random.stateless_uniform(
          [rounds, len(labels)], stream_seed(epoch, _FIRST_ORDER_STREAM + s))
      order = tf.reshape(tf.argsort(keys, axis=-1, stable=True), [-1])
      orders.append(tf.reshape(order[:per_epoch], [steps, batch_size]))
    return tf.data.Dataset.from_tensor_slices(
        (tf.fill([steps], epoch), tf.range(steps, dtype=tf.int64),
         tuple(orders)))

  def gather(epoch, step, orders):
    batches = []
    for s, ((images, labels), order) in enumerate(zip(tensors, orders)):
      x = tf.gather(images, order)
      if augment and s == 0:
        x = _augment(x, tf.random.experimental.stateless_fold_in(
            stream_seed(epoch, _AUGMENT_STREAM), step), flip)
      batches.append((normalize(x), tf.gather(labels, order)))
    return tuple(batches)

  dataset = tf.data.Dataset.range(first_epoch, epochs).flat_map(epoch_orders)
  dataset = dataset.map(gather, num_parallel_calls=tf.data.AUTOTUNE)
  return dataset.prefetch(tf.data.AUTOTUNE), steps


def _augment(images, seed, flip: bool):
  """Random translation by reflect-pad and crop, per image; optional mirror.

  Args:
    images: ``[B, H, W, C]`` with static H and W.
    seed: int64 ``[2]`` stateless seed of this batch.
    flip: also mirror half of the images left to right.
  """
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  batch, height, width = tf.shape(images)[0], images.shape[1], images.shape[2]
  for axis, size in ((1, height), (2, width)):
    pad = max(1, round(TRANSLATE_FRACTION * size))
    paddings = [[0, 0]] * 4
    paddings[axis] = [pad, pad]
    padded = tf.pad(images, paddings, mode="REFLECT")
    offsets = tf.random.stateless_uniform(
        [batch], tf.random.experimental.stateless_fold_in(seed, axis),
        minval=0, maxval=2 * pad + 1, dtype=tf.int32)
    # Row (or column) i of image b is padded row offsets[b] + i.
    index = offsets[:, None] + tf.range(size)[None, :]
    images = tf.gather(padded, index, axis=axis, batch_dims=1)
  if flip:
    images = tf.image.stateless_random_flip_left_right(
        images, tf.random.experimental.stateless_fold_in(seed, 3))
  return images
