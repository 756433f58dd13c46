"""Images in record files, read in sequence: TFRecord shards and TFDS splits.

A record file has no random access, so a ``RecordList`` cannot gather the
images of a batch by index as a ``FileList`` does. It holds the indices of
its records among those its reader yields (in the reader's fixed order),
and each epoch reads them in sequence through a shuffle buffer seeded by
the run's seed and the epoch. The order of an epoch is then a function of
``(seed, epoch)`` alone, as in the other pipelines, so runs repeat and
resume exactly; it is a buffer's shuffle, not a full permutation.

Like a ``FileList`` it indexes like an image array (``len``, ``shape``,
``records[sorted indices]``), so ``ImageData.subset`` and
``split_for_search`` select records without reading them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from fbnetv2_tf.data import file_list
from fbnetv2_tf.data.file_list import StreamedImages, decode_bytes

# Encoded records held by an epoch's shuffle buffer: about 110 MB of 224 px
# JPEGs, and for small images a reshuffle of a few thousand.
SHUFFLE_BUFFER = 1024
# The features of a TFRecord example: the ImageNet convention of the
# TensorFlow models repository (``image/encoded``, ``image/class/label``),
# or plain ``image`` and ``label``.
TFRECORD_KEYS = (("image/encoded", "image/class/label"), ("image", "label"))


@dataclasses.dataclass(frozen=True)
class TfRecordReader:
  """``(encoded image, label)`` of TFRecord files, file after file."""

  paths: tuple[str, ...]
  keys: tuple[str, str] = TFRECORD_KEYS[0]

  def examples(self):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    image_key, label_key = self.keys
    features = {image_key: tf.io.FixedLenFeature([], tf.string),
                label_key: tf.io.FixedLenFeature([], tf.int64)}

    def parse(record):
      example = tf.io.parse_single_example(record, features)
      return example[image_key], tf.cast(example[label_key], tf.int32)

    return tf.data.TFRecordDataset(list(self.paths)).map(parse)


@dataclasses.dataclass(frozen=True)
class TfdsReader:
  """``(encoded image, label)`` of a prepared TFDS split, in its stored
  order (the images are not decoded: TFDS's ``SkipDecoding``)."""

  name: str
  data_dir: str | None
  split: str
  keys: tuple[str, str]

  def examples(self):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel

    image_key, label_key = self.keys
    dataset = tfds.builder(self.name, data_dir=self.data_dir).as_dataset(
        split=self.split, shuffle_files=False,
        decoders={image_key: tfds.decode.SkipDecoding()})
    return dataset.map(lambda example: (
        example[image_key], tf.cast(example[label_key], tf.int32)))


@dataclasses.dataclass(frozen=True, eq=False)
class RecordList(StreamedImages):
  """Some records of a reader, decoded to uint8 ``[size, size, channels]``.

  Attributes:
    reader: yields ``(encoded image, label)`` in a fixed order.
    indices: int64 ``[N]``, increasing: the records held, by position in
      the reader's order.
    size: the square side every image is resized to.
    channels: 1 or 3.
  """

  reader: Any
  indices: np.ndarray
  size: int
  channels: int

  def __len__(self) -> int:
    return len(self.indices)

  def __getitem__(self, index) -> RecordList:
    indices = np.asarray(self.indices)[index]
    if np.any(np.diff(indices) <= 0):
      raise ValueError("records are read in sequence: select them with "
                       "increasing indices")
    return dataclasses.replace(self, indices=indices)

  def examples(self):
    """``(encoded image, label)`` of the held records, in order."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    held = np.zeros(int(self.indices[-1]) + 1 if len(self.indices) else 0,
                    bool)
    held[self.indices] = True
    last = len(held)
    held = tf.constant(held)

    def is_held(index, example):
      del example  # selected by position alone
      return tf.gather(held, index)

    def drop_index(index, example):
      del index
      return example

    return self.reader.examples().take(last).enumerate().filter(
        is_held).map(drop_index)

  def epoch_examples(self, seed):
    """The held records in the order of one epoch: a shuffle buffer seeded
    by ``seed`` (an int64 scalar tensor)."""
    return self.examples().shuffle(SHUFFLE_BUFFER, seed=seed,
                                   reshuffle_each_iteration=False)

  def decode_example(self, encoded):
    return file_list.resize(decode_bytes(encoded, self.channels), self.size)

  def decode(self) -> np.ndarray:
    """Every image, decoded and resized: uint8 ``[N, size, size, C]``."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    return self._decoded(self.examples().map(
        lambda encoded, label: self.decode_example(encoded),
        num_parallel_calls=tf.data.AUTOTUNE))


def read_labels(reader) -> tuple[np.ndarray, int]:
  """Every record's label, and the channels of the first image (1 for grey,
  with or without alpha, else 3): one pass that decodes one image."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  labels = np.fromiter(
      reader.examples().map(lambda encoded, label: label,
                            num_parallel_calls=tf.data.AUTOTUNE
                            ).as_numpy_iterator(), np.int32)
  channels = 3
  for encoded, _ in reader.examples().take(1):
    depth = int(tf.io.decode_image(encoded, expand_animations=False
                                   ).shape[-1])
    channels = 1 if depth in (1, 2) else 3
  return labels, channels
