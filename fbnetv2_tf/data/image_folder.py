"""A folder of images sorted into one subfolder per class.

Layout, with the test split given::

  data_dir/train/<class>/*.png|jpg|jpeg|bmp|gif|webp
  data_dir/test/<class>/...

or, without ``test``, the class folders directly in ``data_dir`` (or in
``data_dir/train``); 20 % of each class then forms a fixed test split. Hidden
folders (``.name``) are skipped. Labels number the class folders in sorted
order. Images are decoded with Pillow (a dependency of matplotlib) into
memory: the search runs on proxy datasets that fit there. They keep their
size when all share it, and must be resized with ``image_size`` when they
differ. They load as RGB, or as one grey channel when every image is
greyscale.
"""

from __future__ import annotations

import os

import numpy as np

from fbnetv2_tf.data import splits
from fbnetv2_tf.errors import DataError
from fbnetv2_tf.data.image_data import (ImageData, make_image_data,
                                        resize_images)

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
# Pillow modes that carry a single grey channel (with or without alpha).
_GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")
# Below this many files decoding is quick enough to need no progress bar.
_PROGRESS_MIN_FILES = 500
NAME = "image_folder"


def _class_files(root: str) -> dict[str, list[str]]:
  """Sorted class name -> sorted image paths, for the class folders of root."""
  classes = {}
  for entry in sorted(os.scandir(root), key=lambda e: e.name):
    if entry.is_dir() and not entry.name.startswith("."):
      classes[entry.name] = sorted(
          os.path.join(entry.path, f) for f in os.listdir(entry.path)
          if f.lower().endswith(EXTENSIONS))
  return classes


def _decode(paths: list[str]) -> list[np.ndarray]:
  """Each file as uint8 [H, W, C], C = 1 when all are grey, else 3."""
  from PIL import Image  # pylint: disable=import-outside-toplevel
  import tqdm  # pylint: disable=import-outside-toplevel

  images, grey = [], True
  for path in tqdm.tqdm(paths, desc="decoding images", unit="image",
                        disable=len(paths) < _PROGRESS_MIN_FILES):
    try:
      with Image.open(path) as image:
        grey = grey and image.mode in _GREY_MODES
        images.append(np.asarray(image.convert(
            "L" if image.mode in _GREY_MODES else "RGB")))
    except OSError as e:  # Pillow's UnidentifiedImageError is an OSError
      raise DataError(f"{path}: cannot decode image: {e}") from None
  if grey:
    return [image[..., None] for image in images]
  return [np.repeat(image[..., None], 3, -1) if image.ndim == 2 else image
          for image in images]


def _sized(images: list[np.ndarray], paths: list[str],
           image_size: int | None) -> np.ndarray:
  if image_size is not None:
    return resize_images(images, image_size)
  first = images[0].shape
  for image, path in zip(images, paths):
    if image.shape != first:
      raise DataError(
          f"{NAME}: images differ in size ({paths[0]} is {first[1]}x"
          f"{first[0]}, {path} is {image.shape[1]}x{image.shape[0]}); "
          "pass image_size to resize them")
  return np.stack(images)


def load_image_folder(data_dir: str | None,
                      image_size: int | None = None) -> ImageData:
  """The images under ``data_dir`` as an ImageData; see the module doc."""
  if data_dir is None:
    raise DataError(f"{NAME}: needs data_dir, a folder of class folders")
  if not os.path.isdir(data_dir):
    raise DataError(f"{NAME}: data directory {data_dir} does not exist")
  train_dir, test_dir = (os.path.join(data_dir, s) for s in ("train", "test"))
  given = os.path.isdir(train_dir) and os.path.isdir(test_dir)
  if given:
    roots = [train_dir, test_dir]
  else:
    roots = [train_dir if os.path.isdir(train_dir) else data_dir]
  per_root = [_class_files(root) for root in roots]
  class_names = sorted(set().union(*per_root))
  label_of = {name: i for i, name in enumerate(class_names)}
  paths, labels = [], []
  for classes in per_root:
    paths.append([p for files in classes.values() for p in files])
    labels.append(np.array([label_of[c] for c, files in classes.items()
                            for _ in files], np.int32))
  if not paths[0]:
    raise DataError(f"{NAME}: no images ({', '.join(EXTENSIONS)}) in class "
                    f"folders under {roots[0]}")
  all_paths = sum(paths, [])
  images = _sized(_decode(all_paths), all_paths, image_size)
  if given:
    n = len(paths[0])
    train, test = (images[:n], labels[0]), (images[n:], labels[1])
  else:
    train, test = splits.hold_out_test(images, labels[0])
  return make_image_data(NAME, train, test, class_names=class_names,
                         flip=True)
