"""TFRecord shards of encoded images, as ``--dataset=tfrecord``.

Layout: ``data_dir/train*`` shards and ``data_dir/validation*`` or
``data_dir/test*`` shards (``*.tfrecord``, ``*.tfrecords`` or the
``train-00000-of-01024`` names of ImageNet conversions), each record a
``tf.train.Example`` with the encoded image (JPEG, PNG, BMP or GIF) under
``image/encoded`` and its integer label under ``image/class/label`` (the
convention of the TensorFlow models repository's ImageNet conversion), or
under ``image`` and ``label``. Without test shards a fixed stratified 20 %
of the training records is the test split. Labels are used as stored, so
classes number ``max label + 1``.

One pass over the records reads every label before a run (and decodes the
first image, whose channels every image is read with). Streamed, records
are decoded as an epoch reads them; in memory they are all decoded first.
"""

from __future__ import annotations

import glob
import os

import numpy as np

from fbnetv2_tf.data import image_folder, record_list, splits
from fbnetv2_tf.errors import DataError
from fbnetv2_tf.data.image_data import ImageData, make_image_data

NAME = "tfrecord"
TEST_PREFIXES = ("validation", "test")


def _shards(data_dir: str, prefix: str) -> tuple[str, ...]:
  return tuple(sorted(p for p in glob.glob(os.path.join(data_dir, prefix + "*"))
                      if os.path.isfile(p)))


def _keys(path: str) -> tuple[str, str]:
  """The (image, label) feature names the first record of ``path`` has."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  try:
    record = next(iter(tf.data.TFRecordDataset(path).take(1)), None)
  except tf.errors.OpError as e:
    raise DataError(f"{NAME}: cannot read {path}: "
                    f"{str(e).splitlines()[0]}") from None
  if record is None:
    raise DataError(f"{NAME}: {path} holds no records")
  features = tf.train.Example.FromString(record.numpy()).features.feature
  for keys in record_list.TFRECORD_KEYS:
    if all(k in features for k in keys):
      return keys
  raise DataError(f"{NAME}: the records of {path} have no "
                  f"{' / '.join(' and '.join(k) for k in record_list.TFRECORD_KEYS)}"
                  f" features (they have {', '.join(sorted(features))})")


def _records(paths: tuple[str, ...], image_size: int):
  """A RecordList of every record of ``paths``, and their labels."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  reader = record_list.TfRecordReader(paths, _keys(paths[0]))
  try:
    labels, channels = record_list.read_labels(reader)
  except tf.errors.OpError as e:
    raise DataError(f"{NAME}: cannot read the records of {paths[0]} and "
                    f"after: {str(e).splitlines()[0]}") from None
  return record_list.RecordList(reader, np.arange(len(labels)), image_size,
                                channels), labels


def load_tfrecord(data_dir: str | None, image_size: int | None = None,
                  pipeline: str = "auto", bad_files: str = "fail"
                  ) -> ImageData:
  """The records under ``data_dir`` as an ImageData; see the module doc.

  ``bad_files`` applies to image folders only: a record that does not
  decode fails the epoch that reads it.
  """
  del bad_files  # records are not checked one by one (see the module doc)
  if data_dir is None or not os.path.isdir(data_dir):
    raise DataError(f"{NAME}: needs data_dir, a folder of TFRecord shards "
                    f"(got {data_dir})")
  if image_size is None:
    raise DataError(f"{NAME}: records are resized as they are read; give "
                    "image_size")
  train_paths = _shards(data_dir, "train")
  if not train_paths:
    raise DataError(f"{NAME}: no train* shards in {data_dir}")
  test_paths = next((p for p in (_shards(data_dir, t) for t in TEST_PREFIXES)
                     if p), ())
  train = _records(train_paths, image_size)
  if test_paths:
    test = _records(test_paths, image_size)
  else:
    train, test = splits.hold_out_test(*train)
  total = len(train[1]) + len(test[1])
  if image_folder.choose_pipeline(pipeline, total, image_size) == "memory":
    train, test = ((records.decode(), labels) for records, labels in
                   (train, test))
  return make_image_data(NAME, train, test, flip=True)
