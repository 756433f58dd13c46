"""Datasets by name: ``load_dataset("digits")``, ``load_dataset("tfds:mnist")``.

To add a source, write a module with a ``load_*(data_dir, image_size)``
function returning an ImageData and list it in ``_LOADERS`` below; a source
that can stream (leave its images on disk) goes in ``_STREAMING_LOADERS``
and also takes ``pipeline`` and ``bad_files``.
"""

from __future__ import annotations

from typing import Callable

from fbnetv2_tf.data import (digits, idx, image_folder, tfds_source,
                             tfrecord_source)
from fbnetv2_tf.errors import DataError
from fbnetv2_tf.data.image_data import ImageData, check_image_size

DEFAULT_DATASET = "digits"


def _load_digits(data_dir: str | None, image_size: int | None) -> ImageData:
  if data_dir is not None:
    raise DataError(f"digits: ships with scikit-learn and reads no data_dir "
                    f"(got {data_dir})")
  return digits.load_digits(image_size)


_LOADERS: dict[str, Callable[[str | None, int | None], ImageData]] = {
    "digits": _load_digits,
    "fashion_mnist": idx.load_fashion_mnist,
    "idx": idx.load_idx,
}
_STREAMING_LOADERS = {
    "image_folder": image_folder.load_image_folder,
    "tfrecord": tfrecord_source.load_tfrecord,
}
PIPELINES = image_folder.PIPELINES


def known_datasets() -> list[str]:
  """The names ``load_dataset`` accepts; ``tfds:<name>`` stands for any TFDS
  dataset."""
  return [*_LOADERS, *_STREAMING_LOADERS, f"{tfds_source.PREFIX}<name>"]


def load_dataset(name: str = DEFAULT_DATASET, data_dir: str | None = None,
                 image_size: int | None = None, pipeline: str = "memory",
                 bad_files: str = "fail") -> ImageData:
  """Loads a dataset, into memory or as a list of files to stream.

  Args:
    name: one of ``known_datasets()``: ``digits`` (the default, offline),
      ``fashion_mnist``, ``idx``, ``image_folder`` or ``tfds:<name>``.
    data_dir: where the files are; ``fashion_mnist`` defaults to where
      Debian's ``dataset-fashion-mnist`` installs them, ``tfds:`` to TFDS's
      own default.
    image_size: square side to resize images to; ``None`` keeps the
      source's size (32 for ``digits``).
    pipeline: ``memory`` (decode every image now), ``stream`` (keep them on
      disk, decode as the pipeline reads them: ``image_folder``,
      ``tfrecord`` and ``tfds:``) or ``auto`` (stream when the decoded images would be
      large: ``image_folder.STREAM_ABOVE_BYTES``).
    bad_files: files that cannot be decoded (``image_folder``): ``fail``
      names them in the error, ``skip`` in one printed line.

  Raises:
    DataError: a one-line message naming the dataset or the path at fault.
  """
  check_image_size(image_size, name)
  if pipeline not in PIPELINES:
    raise DataError(f"input pipeline must be one of {', '.join(PIPELINES)}, "
                    f"got {pipeline!r}")
  if name.startswith(tfds_source.PREFIX) and name != tfds_source.PREFIX:
    return tfds_source.load_tfds(name[len(tfds_source.PREFIX):], data_dir,
                                 image_size, pipeline)
  if name in _STREAMING_LOADERS:
    return _STREAMING_LOADERS[name](data_dir, image_size, pipeline, bad_files)
  if name not in _LOADERS:
    raise DataError(f"unknown dataset {name!r}; known: "
                    f"{', '.join(known_datasets())} (add one in {__name__})")
  if pipeline == "stream":
    raise DataError(f"{name} is read into memory (its files are whole-set "
                    "archives); streaming reads image_folder, tfrecord and "
                    "tfds: datasets")
  return _LOADERS[name](data_dir, image_size)
