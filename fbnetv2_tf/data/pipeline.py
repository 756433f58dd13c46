"""Input pipelines for the search and for training: reproducible per epoch.

The order and the augmentation of epoch ``e`` are a function of
``(seed, e)`` alone: every random draw is stateless, seeded by folding the
epoch, a stream id and the batch index into the run's seed. A search killed
after epoch ``k - 1`` and restarted with ``first_epoch=k`` therefore sees
exactly the batches an uninterrupted run would have seen, which is what makes
resumed searches deterministic. In-memory images are gathered from tensors;
a ``FileList`` (``data.file_list``) is read and decoded in parallel, example
by example in the same order, then batched and augmented as in memory: at
the files' own size the two give the same batches.

Augmentation of the weight batches: small images (under ``CROP_MIN_SIZE``
px, and every in-memory dataset) are translated and, where flips keep the
class, mirrored; streamed photos take a random resized crop of the file
before it is resized, and a mirror.

The datasets run through epochs ``first_epoch .. epochs - 1`` back to back,
``steps_per_epoch`` batches each; pass ``steps_per_epoch`` (and
``initial_epoch``) to ``keras.Model.fit`` so that it keeps one iterator
across epochs.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from fbnetv2_tf.data import file_list, splits
from fbnetv2_tf.errors import DataError
from fbnetv2_tf.data.file_list import FileList
from fbnetv2_tf.data.image_data import STREAMED
from fbnetv2_tf.data.record_list import RecordList, decode_bytes
from fbnetv2_tf.data.image_data import ImageData, normalize

Split = tuple[np.ndarray, np.ndarray]

# Translation by up to 1/8 of the side: the 4-pixel pad-and-crop of 32x32
# CIFAR training (He et al., arXiv 1512.03385, section 4.2).
TRANSLATE_FRACTION = 0.125
# Streamed images at least this large get the random resized crop of
# ImageNet training: 8 % to 100 % of the area, aspect ratio 3/4 to 4/3
# (torchvision's RandomResizedCrop defaults, after Szegedy et al., arXiv
# 1409.4842, section 6).
CROP_MIN_SIZE = 64
CROP_AREA = (0.08, 1.0)
CROP_ASPECT = (3 / 4, 4 / 3)
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
                   augment: bool = True, flip: bool = False,
                   max_steps: int | None = None):
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
    max_steps: at most this many steps per epoch (each epoch then sees
      another random part of the weight split).

  Returns:
    ``(dataset, steps_per_epoch)``. Elements are ``((x_w, x_a), (y_w, y_a))``
    with x float32 ``[B, H, W, C]`` in ``[-1, 1]`` and y int32 ``[B]``.
  """
  dataset, steps = _epoch_batches([weight_split, arch_split], batch_size,
                                  seed, epochs, first_epoch, augment, flip,
                                  max_steps)
  return dataset.map(lambda w, a: ((w[0], a[0]), (w[1], a[1]))), steps


def train_dataset(images, labels: np.ndarray, batch_size: int,
                  seed: int, epochs: int, first_epoch: int = 0,
                  augment: bool = True, flip: bool = False,
                  max_steps: int | None = None):
  """``(x, y)`` batches for training a child model, reproducible per epoch.

  Arguments as for ``search_dataset``, with a single ``(images, labels)``
  source. Returns ``(dataset, steps_per_epoch)``.
  """
  dataset, steps = _epoch_batches([(images, labels)], batch_size, seed,
                                  epochs, first_epoch, augment, flip,
                                  max_steps)
  return dataset.map(lambda only: only), steps


def eval_dataset(images, labels: np.ndarray, batch_size: int):
  """``(x, y)`` batches in order, the last one possibly smaller."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  _check_batch_size(batch_size)
  labels = np.asarray(labels, np.int32)
  if isinstance(images, RecordList):
    dataset = images.examples().map(
        lambda encoded, y: (images.decode_example(encoded), y),
        num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size)
  elif isinstance(images, FileList):
    dataset = tf.data.Dataset.from_tensor_slices((images.paths, labels)).map(
        lambda path, y: (file_list.decode_file(path, images.size,
                                               images.channels), y),
        num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size)
  else:
    dataset = tf.data.Dataset.from_tensor_slices(
        (images, labels)).batch(batch_size)
  return dataset.map(lambda x, y: (normalize(x), y),
                     num_parallel_calls=tf.data.AUTOTUNE).prefetch(
                         tf.data.AUTOTUNE)


def _check_batch_size(batch_size: int) -> None:
  if isinstance(batch_size, bool) or not isinstance(batch_size, int) or (
      batch_size < 1):
    raise DataError(f"batch size must be a positive integer, got "
                    f"{batch_size!r}")


def _epoch_batches(sources: Sequence[Split], batch_size: int, seed: int,
                   epochs: int, first_epoch: int, augment: bool, flip: bool,
                   max_steps: int | None = None):
  """One tuple of ``(x, y)`` batches per source, for each step of each epoch.

  The first source sets the epoch (``len // batch_size`` steps, at most
  ``max_steps``); every other source is cycled through in fresh random
  orders to fill as many batches. Only the first source is augmented.
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
  if max_steps is not None:
    steps = min(steps, max_steps)
  per_epoch = steps * batch_size
  streamed = isinstance(sources[0][0], STREAMED)
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

  # The crop is taken from the file, before resizing; translation after.
  crop = (streamed and augment and sources[0][0].size >= CROP_MIN_SIZE)

  def finish(epoch, step, batches):
    """Normalised batches; the first source's augmented."""
    out = []
    for s, (x, y) in enumerate(batches):
      if augment and s == 0 and not crop:
        x = _augment(x, tf.random.experimental.stateless_fold_in(
            stream_seed(epoch, _AUGMENT_STREAM), step), flip)
      out.append((normalize(x), y))
    return tuple(out)

  if isinstance(sources[0][0], RecordList):
    dataset = tf.data.Dataset.range(first_epoch, epochs).flat_map(
        lambda epoch: _record_epoch(epoch, sources, batch_size, steps, crop,
                                    flip, stream_seed))
    dataset = dataset.map(finish, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE), steps
  dataset = tf.data.Dataset.range(first_epoch, epochs).flat_map(epoch_orders)
  if streamed:
    dataset = _read_batches(dataset, sources, batch_size, crop, flip,
                            stream_seed)
  else:
    tensors = [(tf.constant(images), tf.constant(labels, tf.int32))
               for images, labels in sources]
    dataset = dataset.map(lambda epoch, step, orders: (epoch, step, tuple(
        (tf.gather(x, order), tf.gather(y, order))
        for (x, y), order in zip(tensors, orders))),
                          num_parallel_calls=tf.data.AUTOTUNE)
  dataset = dataset.map(finish, num_parallel_calls=tf.data.AUTOTUNE)
  return dataset.prefetch(tf.data.AUTOTUNE), steps


def _read_batches(steps, sources: Sequence[Split], batch_size: int,
                  crop: bool, flip: bool, stream_seed):
  """``(epoch, step, ((x, y) per source))`` batches of files read in
  parallel from the per-step orders, in order."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  files = [(images, tf.constant(images.paths), tf.constant(labels, tf.int32))
           for images, labels in sources]

  def examples(epoch, step, orders):
    return tf.data.Dataset.from_tensor_slices(
        (tf.fill([batch_size], epoch), tf.fill([batch_size], step),
         tf.range(batch_size, dtype=tf.int64), orders))

  def read(epoch, step, position, indices):
    out = []
    for s, ((images, paths, labels), index) in enumerate(zip(files, indices)):
      image = file_list.read_image(tf.gather(paths, index), images.channels)
      if crop and s == 0:
        image = _random_resized_crop(
            image, images.size, flip, tf.random.experimental.stateless_fold_in(
                tf.random.experimental.stateless_fold_in(
                    stream_seed(epoch, _AUGMENT_STREAM), step), position))
      else:
        image = file_list.resize(image, images.size)
      out.append((image, tf.gather(labels, index)))
    return epoch, step, tuple(out)

  batches = steps.flat_map(examples).map(
      read, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size)
  return batches.map(lambda epoch, step, out: (epoch[0], step[0], out))


def _record_epoch(epoch, sources: Sequence[Split], batch_size: int,
                  steps: int, crop: bool, flip: bool, stream_seed):
  """``(epoch, step, ((x, y) per source))`` of one epoch of records: each
  source through its shuffle buffer seeded by the epoch, the later ones
  repeated to fill the epoch (``record_list``)."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  per_source = []
  for s, (records, _) in enumerate(sources):
    order_seed = tf.cast(stream_seed(epoch, _FIRST_ORDER_STREAM + s)[0],
                         tf.int64)
    examples = records.epoch_examples(order_seed)
    if s:  # refilled, in the next epoch's order, like the other pipelines
      examples = examples.repeat()
    augment_seed = stream_seed(epoch, _AUGMENT_STREAM)

    def read(position, example, s=s, records=records):
      encoded, label = example
      if crop and s == 0:
        image = _random_resized_crop(
            decode_bytes(encoded, records.channels), records.size, flip,
            tf.random.experimental.stateless_fold_in(augment_seed, position))
      else:
        image = records.decode_example(encoded)
      return image, label

    per_source.append(examples.enumerate().map(
        read, num_parallel_calls=tf.data.AUTOTUNE).batch(
            batch_size, drop_remainder=True))
  batches = tf.data.Dataset.zip(tuple(per_source)).take(steps)
  return batches.enumerate().map(
      lambda step, out: (epoch, step, out))


def _random_resized_crop(image, size: int, flip: bool, seed):
  """A random crop of ``CROP_AREA`` of the image's area and ``CROP_ASPECT``
  aspect ratio, resized to ``size x size``, mirrored half of the time where
  ``flip``."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  begin, extent, _ = tf.image.stateless_sample_distorted_bounding_box(
      tf.shape(image), tf.zeros([1, 0, 4]), seed, area_range=CROP_AREA,
      aspect_ratio_range=CROP_ASPECT, max_attempts=10,
      use_image_if_no_bounding_boxes=True)
  image = file_list.resize(tf.slice(image, begin, extent), size)
  if flip:
    image = tf.image.stateless_random_flip_left_right(
        image, tf.random.experimental.stateless_fold_in(seed, 3))
  return image


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
