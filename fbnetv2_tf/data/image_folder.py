"""A folder of images sorted into one subfolder per class.

Layout, with the test split given::

  data_dir/train/<class>/*.png|jpg|jpeg|bmp|gif|webp
  data_dir/test/<class>/...

or, without ``test``, the class folders directly in ``data_dir`` (or in
``data_dir/train``); 20 % of each class then forms a fixed test split. Hidden
folders (``.name``) are skipped. Labels number the class folders in sorted
order. With ``pipeline="memory"`` images are decoded with Pillow (a
dependency of matplotlib) into memory; they keep their size when all share
it, and must be resized with ``image_size`` when they differ. With
``pipeline="stream"`` they stay on disk as a ``FileList`` that the input
pipeline decodes in parallel, resized to ``image_size`` (needed), and only
TensorFlow's formats count (no WebP). ``"auto"`` streams when the decoded
images would take more than ``STREAM_ABOVE_BYTES``. Either way they load as
RGB, or as one grey channel when every image is greyscale, and files that
cannot be decoded are named in one line and skipped or fail the load, by
``bad_files``.
"""

from __future__ import annotations

import os

import numpy as np

from fbnetv2_tf.data import file_list, splits
from fbnetv2_tf.errors import DataError
from fbnetv2_tf.data.image_data import (ImageData, make_image_data,
                                        resize_images)

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
# Pillow modes that carry a single grey channel (with or without alpha).
_GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")
# Below this many files decoding is quick enough to need no progress bar.
_PROGRESS_MIN_FILES = 500
NAME = "image_folder"
PIPELINES = ("auto", "memory", "stream")
# "auto" streams above this decoded size (RGB assumed before decoding): a
# quarter of a 16 GB machine's memory, leaving room for the copy the search
# pipeline makes and for the model.
STREAM_ABOVE_BYTES = 4 * 1024**3


def _class_files(root: str, extensions: tuple[str, ...]
                 ) -> dict[str, list[str]]:
  """Sorted class name -> sorted image paths, for the class folders of root."""
  classes = {}
  for entry in sorted(os.scandir(root), key=lambda e: e.name):
    if entry.is_dir() and not entry.name.startswith("."):
      classes[entry.name] = sorted(
          os.path.join(entry.path, f) for f in os.listdir(entry.path)
          if f.lower().endswith(extensions))
  return classes


def _decode(paths: list[str]) -> tuple[list[np.ndarray], np.ndarray]:
  """Each file as uint8 [H, W, C], C = 1 when all are grey, else 3, and
  whether each decoded (bool [N]; the images are those that did)."""
  from PIL import Image  # pylint: disable=import-outside-toplevel
  import tqdm  # pylint: disable=import-outside-toplevel

  images, grey, ok = [], True, np.zeros(len(paths), bool)
  for i, path in enumerate(tqdm.tqdm(paths, desc="decoding images",
                                     unit="image",
                                     disable=len(paths) < _PROGRESS_MIN_FILES)):
    try:
      with Image.open(path) as image:
        pixels = np.asarray(image.convert(
            "L" if image.mode in _GREY_MODES else "RGB"))
        grey = grey and image.mode in _GREY_MODES
    # Pillow's UnidentifiedImageError and truncated data are OSErrors;
    # some broken headers raise ValueError or SyntaxError.
    except (OSError, ValueError, SyntaxError):
      continue
    ok[i] = True
    images.append(pixels)
  if grey:
    return [image[..., None] for image in images], ok
  return [np.repeat(image[..., None], 3, -1) if image.ndim == 2 else image
          for image in images], ok


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


def _list(data_dir: str | None, extensions: tuple[str, ...]):
  """``(paths per split, labels per split, class names, test given)``."""
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
  per_root = [_class_files(root, extensions) for root in roots]
  class_names = sorted(set().union(*per_root))
  label_of = {name: i for i, name in enumerate(class_names)}
  paths, labels = [], []
  for classes in per_root:
    paths.append([p for files in classes.values() for p in files])
    labels.append(np.array([label_of[c] for c, files in classes.items()
                            for _ in files], np.int32))
  if not paths[0]:
    raise DataError(f"{NAME}: no images ({', '.join(extensions)}) in class "
                    f"folders under {roots[0]}")
  return paths, labels, class_names, given


def choose_pipeline(pipeline: str, files: int, image_size: int | None) -> str:
  """``memory`` or ``stream`` for ``pipeline`` (``auto`` by decoded size)."""
  if pipeline not in PIPELINES:
    raise DataError(f"{NAME}: pipeline must be one of {', '.join(PIPELINES)},"
                    f" got {pipeline!r}")
  if pipeline != "auto":
    return pipeline
  if image_size is None:  # sizes unknown before decoding: memory resizes
    return "memory"
  return ("stream" if files * image_size**2 * 3 > STREAM_ABOVE_BYTES
          else "memory")


def load_image_folder(data_dir: str | None, image_size: int | None = None,
                      pipeline: str = "auto",
                      bad_files: str = "fail") -> ImageData:
  """The images under ``data_dir`` as an ImageData; see the module doc.

  Args:
    data_dir: the folder.
    image_size: square side to resize to (needed to stream).
    pipeline: ``auto``, ``memory`` or ``stream``.
    bad_files: ``fail`` (a DataError naming them) or ``skip`` (one printed
      line) for files that cannot be decoded.
  """
  file_list.report_bad_files([], 0, NAME, bad_files)  # checks the policy
  listed = _list(data_dir, EXTENSIONS)
  pipeline = choose_pipeline(pipeline, sum(map(len, listed[0])), image_size)
  if pipeline == "stream":
    return _stream(data_dir, image_size, bad_files)
  paths, labels, class_names, given = listed
  all_paths = sum(paths, [])
  decoded, ok = _decode(all_paths)
  file_list.report_bad_files([p for p, good in zip(all_paths, ok) if not good],
                             len(all_paths), NAME, bad_files)
  good_paths = [p for p, good in zip(all_paths, ok) if good]
  if not good_paths:
    raise DataError(f"{NAME}: no file under {data_dir} decodes")
  images = _sized(decoded, good_paths, image_size)
  return _make(images, ok, paths, labels, class_names, given)


def _stream(data_dir: str, image_size: int | None,
            bad_files: str) -> ImageData:
  if image_size is None:
    raise DataError(f"{NAME}: streaming resizes every image as it is read; "
                    "give image_size")
  paths, labels, class_names, given = _list(data_dir,
                                            file_list.STREAM_EXTENSIONS)
  all_paths = np.array(sum(paths, []))
  ok, channels = file_list.scan_files(all_paths, NAME)
  file_list.report_bad_files(list(all_paths[~ok]), len(all_paths), NAME,
                             bad_files)
  if not ok.any():
    raise DataError(f"{NAME}: no file under {data_dir} decodes")
  files = file_list.FileList(all_paths[ok], image_size, channels)
  return _make(files, ok, paths, labels, class_names, given)


def _make(images, ok: np.ndarray, paths: list, labels: list,
          class_names: list[str], given: bool) -> ImageData:
  """The ImageData of the decodable ``images`` (``ok`` marks them among the
  listed files, train first)."""
  n = len(paths[0])
  train_labels = labels[0][ok[:n]]
  n_train = int(ok[:n].sum())
  if given:
    train = (images[np.arange(n_train)], train_labels)
    test = (images[np.arange(n_train, len(images))], labels[1][ok[n:]])
  else:
    train, test = splits.hold_out_test(images, train_labels)
  return make_image_data(NAME, train, test, class_names=class_names,
                         flip=True)
