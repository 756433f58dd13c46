"""MNIST-style datasets stored as IDX files (MNIST, Fashion-MNIST, KMNIST...).

IDX format (http://yann.lecun.com/exdb/mnist/): a 4-byte magic number
``0x00 0x00 <type> <ndim>``, then ``ndim`` big-endian uint32 dimensions, then
the values in C order, big-endian. A dataset folder holds four such files,
each optionally gzipped (``.gz``)::

  train-images-idx3-ubyte  train-labels-idx1-ubyte
  t10k-images-idx3-ubyte   t10k-labels-idx1-ubyte

The dotted spelling ``train-images.idx3-ubyte`` of some mirrors works too.
Debian's ``dataset-fashion-mnist`` package installs the gzipped files in
``/usr/share/datasets/fashion-mnist``, the default folder of
``fashion_mnist``.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib

import numpy as np

from fbnetv2_tf.errors import DataError
from fbnetv2_tf.data.image_data import (ImageData, make_image_data,
                                        resize_images)

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_PACKAGE = "dataset-fashion-mnist"
# The label order of Fashion-MNIST (Xiao et al., arXiv 1708.07747, table 1).
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
# IDX type byte -> big-endian numpy dtype.
_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4",
           0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
  """The array stored in one IDX file, gzipped or not.

  Raises:
    DataError: naming ``path``, if it is unreadable, not IDX, or truncated.
  """
  opener = gzip.open if os.fspath(path).endswith(".gz") else open
  try:
    with opener(path, "rb") as f:
      raw = f.read()
  except (OSError, EOFError, zlib.error) as e:
    # gzip.BadGzipFile is an OSError; a cut-off gzip stream is an EOFError.
    raise DataError(f"{path}: cannot read: {e}") from None
  if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] not in _DTYPES:
    raise DataError(f"{path}: not an IDX file (magic number "
                    f"0x{raw[:4].hex()}, expected 0x0000<type><ndim>)")
  ndim = raw[3]
  header = 4 + 4 * ndim
  if len(raw) < header:
    raise DataError(f"{path}: truncated IDX header")
  shape = struct.unpack(f">{ndim}I", raw[4:header])
  dtype = np.dtype(_DTYPES[raw[2]])
  expected = int(np.prod(shape)) * dtype.itemsize
  if len(raw) - header != expected:
    raise DataError(f"{path}: IDX data holds {len(raw) - header} bytes, its "
                    f"header {shape} says {expected}")
  return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(
      dtype.newbyteorder("="))


def _find(data_dir: str, name: str) -> str | None:
  dotted = name.replace("-idx", ".idx")
  for candidate in (name, name + ".gz", dotted, dotted + ".gz"):
    path = os.path.join(data_dir, candidate)
    if os.path.isfile(path):
      return path
  return None


def _read_split(dataset: str, data_dir: str, split: str):
  images_name, labels_name = FILES[split]
  paths = [_find(data_dir, n) for n in (images_name, labels_name)]
  missing = [n for n, p in zip((images_name, labels_name), paths) if not p]
  if missing:
    names = " and ".join(f"{m}[.gz]" for m in missing)
    raise DataError(f"{dataset}: missing {names} in {data_dir}")
  images, labels = (read_idx(p) for p in paths)
  if images.ndim != 3 or images.dtype != np.uint8:
    raise DataError(f"{paths[0]}: expected uint8 images [N, H, W], got "
                    f"{images.dtype} {images.shape}")
  if labels.ndim != 1 or labels.dtype.kind not in "iu":
    raise DataError(f"{paths[1]}: expected integer labels [N], got "
                    f"{labels.dtype} {labels.shape}")
  return images[..., None], labels


def load_idx(data_dir: str | None, image_size: int | None = None, *,
             dataset: str = "idx", class_names=None, flip: bool = False,
             missing_hint: str = "") -> ImageData:
  """The four IDX files in ``data_dir`` as an ImageData.

  Args:
    data_dir: the folder holding the files.
    image_size: resize to ``image_size`` squared; ``None`` keeps the size.
    dataset: the name errors and the result carry.
    class_names: names of the classes; without them the number of classes
      is the largest label plus one.
    flip: whether horizontal flips keep the class.
    missing_hint: appended to the error for a missing folder (where to get
      the data).
  """
  if data_dir is None:
    raise DataError(f"{dataset}: needs data_dir, a folder of IDX files "
                    f"({', '.join(FILES['train'] + FILES['test'])})")
  if not os.path.isdir(data_dir):
    raise DataError(f"{dataset}: data directory {data_dir} does not exist"
                    f"{missing_hint}")
  (train_images, train_labels), (test_images, test_labels) = (
      _read_split(dataset, data_dir, split) for split in ("train", "test"))
  if image_size is not None:
    train_images = resize_images(train_images, image_size)
    test_images = resize_images(test_images, image_size)
  return make_image_data(dataset, (train_images, train_labels),
                         (test_images, test_labels), class_names=class_names,
                         flip=flip)


def load_fashion_mnist(data_dir: str | None = None,
                       image_size: int | None = None) -> ImageData:
  """Fashion-MNIST: 60000 + 10000 28x28 grey clothing images, 10 classes.

  Clothing keeps its class under a horizontal flip, so augmentation flips.
  """
  return load_idx(
      data_dir or FASHION_MNIST_DIR, image_size, dataset="fashion_mnist",
      class_names=FASHION_MNIST_CLASSES, flip=True,
      missing_hint=(f"; install it with `apt-get install "
                    f"{FASHION_MNIST_PACKAGE}` or pass data_dir"))
