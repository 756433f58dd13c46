"""Datasets by name: ``load_dataset("digits")``, ``load_dataset("tfds:mnist")``.

To add a source, write a module with a ``load_*(data_dir, image_size)``
function returning an ImageData and list it in ``_LOADERS`` below.
"""

from __future__ import annotations

from typing import Callable

from fbnetv2_tf.data import digits, idx, image_folder, tfds_source
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
    "image_folder": image_folder.load_image_folder,
}


def known_datasets() -> list[str]:
  """The names ``load_dataset`` accepts; ``tfds:<name>`` stands for any TFDS
  dataset."""
  return [*_LOADERS, f"{tfds_source.PREFIX}<name>"]


def load_dataset(name: str = DEFAULT_DATASET, data_dir: str | None = None,
                 image_size: int | None = None) -> ImageData:
  """Loads a dataset into memory.

  Args:
    name: one of ``known_datasets()``: ``digits`` (the default, offline),
      ``fashion_mnist``, ``idx``, ``image_folder`` or ``tfds:<name>``.
    data_dir: where the files are; ``fashion_mnist`` defaults to where
      Debian's ``dataset-fashion-mnist`` installs them, ``tfds:`` to TFDS's
      own default.
    image_size: square side to resize images to; ``None`` keeps the
      source's size (32 for ``digits``).

  Raises:
    DataError: a one-line message naming the dataset or the path at fault.
  """
  check_image_size(image_size, name)
  if name.startswith(tfds_source.PREFIX) and name != tfds_source.PREFIX:
    return tfds_source.load_tfds(name[len(tfds_source.PREFIX):], data_dir,
                                 image_size)
  if name not in _LOADERS:
    raise DataError(f"unknown dataset {name!r}; known: "
                    f"{', '.join(known_datasets())} (add one in {__name__})")
  return _LOADERS[name](data_dir, image_size)
