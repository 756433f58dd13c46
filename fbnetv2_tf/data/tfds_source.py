"""Any TensorFlow Datasets image classification dataset, as ``tfds:<name>``.

The dataset is prepared (downloaded, if need be) into ``data_dir`` (TFDS's
default, ``~/tensorflow_datasets``, when none is given) and read into memory,
or streamed: its splits are read through ``as_dataset`` with the images
left encoded, as a ``RecordList`` that each epoch reads in sequence
(``data.record_list``); only the labels are read before the run.
The test split is ``test``, else ``validation``, else a fixed stratified 20 %
of ``train``. Images and labels are the dataset's supervised keys, or its
``image`` and ``label`` features.
"""

from __future__ import annotations

import numpy as np

from fbnetv2_tf.data import image_folder, record_list, splits
from fbnetv2_tf.errors import DataError
from fbnetv2_tf.data.image_data import (ImageData, make_image_data,
                                        resize_images)

PREFIX = "tfds:"
PIP_REQUIREMENT = "tensorflow-datasets~=4.9.10"
CATALOG = "https://www.tensorflow.org/datasets/catalog/overview"
TEST_SPLITS = ("test", "validation")
_BATCH = 4096


def _builder(name: str, data_dir: str | None):
  """The prepared TFDS builder of ``name``; every failure is a DataError."""
  try:
    # pylint: disable-next=import-outside-toplevel
    import tensorflow_datasets as tfds
  except ImportError:
    raise DataError(f"{PREFIX}{name} needs TensorFlow Datasets: pip install "
                    f"'{PIP_REQUIREMENT}'") from None
  try:
    builder = tfds.builder(name, data_dir=data_dir)
  except tfds.core.registered.DatasetNotFoundError:
    raise DataError(f"{PREFIX}{name}: TensorFlow Datasets has no dataset "
                    f"{name!r} (see {CATALOG})") from None
  if not builder.info.splits:
    try:
      builder.download_and_prepare()
    # A boundary: downloads and preparation fail in many ways (network, disk,
    # missing optional packages), all of which the user must fix.
    except Exception as e:  # pylint: disable=broad-except
      first_line = (str(e).splitlines() or [""])[0]
      raise DataError(f"{PREFIX}{name}: cannot download or prepare it into "
                      f"{builder.data_dir}: {type(e).__name__}: "
                      f"{first_line}") from e
  return builder


def _keys(builder, name: str) -> tuple[str, str]:
  keys = builder.info.supervised_keys
  if not (isinstance(keys, tuple) and len(keys) == 2
          and all(isinstance(k, str) for k in keys)):
    keys = ("image", "label")
  features = builder.info.features
  if not all(k in features for k in keys):
    raise DataError(f"{PREFIX}{name}: no {keys[0]!r} and {keys[1]!r} "
                    f"features (has {', '.join(features)})")
  return keys


def _read(builder, split: str, keys: tuple[str, str],
          image_size: int | None):
  """``split`` as uint8 images ``[N, H, W, C]`` and labels ``[N]``."""
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel

  image_key, label_key = keys
  ds = builder.as_dataset(split=split, shuffle_files=False)
  fixed = None not in builder.info.features[image_key].shape
  # Equal-sized images batch; others must come one by one.
  ds = ds.batch(_BATCH) if fixed else ds.map(lambda ex: {
      k: v[None] for k, v in ex.items() if k in keys})
  images, labels = [], []
  for batch in tfds.as_numpy(ds):
    images.extend(batch[image_key])
    labels.append(batch[label_key])
  labels = np.concatenate(labels) if labels else np.zeros(0, np.int64)
  if image_size is not None:
    return resize_images(images, image_size), labels
  if len({image.shape for image in images}) > 1:
    raise DataError(f"{PREFIX}{builder.name}: images differ in size; pass "
                    "image_size to resize them")
  return np.stack(images), labels


def _stream(builder, name: str, data_dir: str | None, split: str,
            keys: tuple[str, str], image_size: int | None):
  """``split`` as a RecordList of its encoded images, and its labels."""
  if image_size is None:
    raise DataError(f"{PREFIX}{name}: streaming resizes the images as they "
                    "are read; give image_size")
  shape = builder.info.features[keys[0]].shape
  channels = 1 if shape and shape[-1] == 1 else 3
  reader = record_list.TfdsReader(name, data_dir, split, keys)
  labels, _ = record_list.read_labels(reader)
  return record_list.RecordList(reader, np.arange(len(labels)), image_size,
                                channels), labels


def load_tfds(name: str, data_dir: str | None = None,
              image_size: int | None = None,
              pipeline: str = "memory") -> ImageData:
  """The TFDS dataset ``name`` as an ImageData; see the module doc.

  ``pipeline``: ``memory``, ``stream`` or ``auto`` (streams a split set
  whose decoded images would exceed ``image_folder.STREAM_ABOVE_BYTES``).
  """
  builder = _builder(name, data_dir)
  keys = _keys(builder, name)
  available = set(builder.info.splits)
  if "train" not in available:
    raise DataError(f"{PREFIX}{name}: no 'train' split (has "
                    f"{', '.join(sorted(available))})")
  examples = sum(builder.info.splits[s].num_examples for s in available)
  stream = image_folder.choose_pipeline(pipeline, examples,
                                        image_size) == "stream"
  read = ((lambda split: _stream(builder, name, data_dir, split, keys,
                                 image_size)) if stream else
          (lambda split: _read(builder, split, keys, image_size)))
  train = read("train")
  test_split = next((s for s in TEST_SPLITS if s in available), None)
  if test_split:
    test = read(test_split)
  else:
    train, test = splits.hold_out_test(*train)
  label = builder.info.features[keys[1]]
  return make_image_data(f"{PREFIX}{name}", train, test,
                         num_classes=getattr(label, "num_classes", None),
                         class_names=getattr(label, "names", None), flip=True)
