"""Fashion-MNIST written out as an image folder, for the input benchmarks.

Writes a deterministic stratified subset (``ImageData.subset``) of Debian's
Fashion-MNIST (``dataset-fashion-mnist``) as ``OUTPUT/train/<class>/*.EXT``
and ``OUTPUT/test/<class>/*.EXT``, the layout ``--dataset=image_folder``
reads, each image resized with Pillow's bilinear filter and saved as a grey
JPEG (quality 90) or PNG. The class folders are the dataset's class names,
made safe for a path ("T-shirt/top" becomes ``0_T-shirt_top``) and prefixed
with the label, so that the loader, which numbers the folders in sorted
order, numbers the classes as Fashion-MNIST does.

A rerun into the same folder skips the files already there and writes the
rest (each file is written under a temporary name and renamed, so a file
that exists is whole); ``OUTPUT/image_folder.json`` records the settings
and a rerun with other settings is refused. ``--corrupt=K`` adds K train
files that no decoder reads, named ``corrupt_truncated_*`` (the first third
of a real encoding) and ``corrupt_garbage_*`` (random bytes) in turn, for
the bad-file checks (``--bad_files``).

  python benchmarks/image_folders.py --format=jpeg --size=224 \
      --max_train=2000 --max_test=500 --output=out/fmnist224 [--corrupt=K]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FORMATS = {"jpeg": "jpg", "png": "png"}
JPEG_QUALITY = 90
SETTINGS_FILE = "image_folder.json"
CORRUPT_PREFIX = "corrupt_"
# The share of a real encoding a truncated file keeps: past every header,
# short of the image data's end, so decoders fail rather than read a
# smaller image.
_TRUNCATED_SHARE = 1 / 3
_GARBAGE_BYTES = 2048


def class_folder(label: int, name: str, num_classes: int) -> str:
  """``<label>_<name>``, the label zero-padded to sort like a number and
  path separators and spaces replaced."""
  width = len(str(num_classes - 1))
  safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
  return f"{label:0{width}d}_{safe}"


def encode(pixels: np.ndarray, fmt: str, size: int) -> bytes:
  """uint8 ``[H, W, 1]`` as a grey ``size x size`` JPEG or PNG file."""
  from PIL import Image  # pylint: disable=import-outside-toplevel

  image = Image.fromarray(np.ascontiguousarray(pixels[..., 0]))  # uint8 2-D: mode L
  if image.size != (size, size):
    image = image.resize((size, size), Image.BILINEAR)
  out = io.BytesIO()
  if fmt == "jpeg":
    image.save(out, format="JPEG", quality=JPEG_QUALITY)
  else:
    image.save(out, format="PNG")
  return out.getvalue()


def _write(path: str, data: bytes) -> None:
  """Whole or not at all: a ``.part`` file (which no loader lists) renamed
  over ``path``."""
  tmp = f"{path}.part"
  with open(tmp, "wb") as f:
    f.write(data)
  os.replace(tmp, path)


def _check_settings(output: str, settings: dict) -> None:
  """Records ``settings``; refuses a folder written with other ones (a
  rerun would mix two kinds of file)."""
  path = os.path.join(output, SETTINGS_FILE)
  if os.path.exists(path):
    with open(path, encoding="utf-8") as f:
      earlier = json.load(f)
    if earlier != settings:
      changed = sorted(k for k in settings if earlier.get(k) != settings[k])
      raise ValueError(f"{output} was written with other settings ("
                       + ", ".join(f"{k}={earlier.get(k)!r}, now "
                                   f"{settings[k]!r}" for k in changed)
                       + "); use another --output")
    return
  os.makedirs(output, exist_ok=True)
  _write(path, (json.dumps(settings, indent=1, sort_keys=True) + "\n"
                ).encode())


def corrupt_bytes(index: int, valid: bytes, seed: int) -> tuple[str, bytes]:
  """``(kind, content)`` of corrupt file ``index``: truncated (even) or
  garbage (odd)."""
  if index % 2 == 0:
    return "truncated", valid[:int(len(valid) * _TRUNCATED_SHARE)]
  rng = np.random.default_rng([seed, index])
  return "garbage", rng.integers(0, 256, _GARBAGE_BYTES, np.uint8).tobytes()


def write_image_folder(output: str, fmt: str = "jpeg", size: int = 224,
                       max_train: int | None = None,
                       max_test: int | None = None, corrupt: int = 0,
                       seed: int = 0, data_dir: str | None = None,
                       progress: bool = True) -> dict:
  """Writes the folder (see the module doc); resumes a partial one.

  Args:
    output: the folder to write.
    fmt: ``jpeg`` or ``png``.
    size: the square side of every file.
    max_train: at most this many train images (stratified); None: all 60,000.
    max_test: at most this many test images; None: all 10,000.
    corrupt: extra undecodable train files.
    seed: seeds the subset and the garbage bytes.
    data_dir: the Fashion-MNIST IDX folder (default: Debian's).
    progress: show a tqdm bar.

  Returns:
    ``{"train": n, "test": m, "corrupt": [paths], "written": files written
    now, "skipped": files already there, "class_folders": [...]}``.
  """
  import tqdm  # pylint: disable=import-outside-toplevel
  from fbnetv2_tf import data as data_lib  # pylint: disable=import-outside-toplevel

  if fmt not in FORMATS:
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, got "
                     f"{fmt!r}")
  _check_settings(output, {"dataset": "fashion_mnist", "format": fmt,
                           "size": size, "max_train": max_train,
                           "max_test": max_test, "corrupt": corrupt,
                           "seed": seed, "jpeg_quality": JPEG_QUALITY})
  data = data_lib.load_dataset("fashion_mnist", data_dir).subset(
      max_train=max_train, max_test=max_test, seed=seed)
  folders = [class_folder(i, name, data.num_classes)
             for i, name in enumerate(data.class_names)]
  extension = FORMATS[fmt]
  jobs = []  # (path, images, index)
  for split, images, labels in (("train", data.train_images,
                                 data.train_labels),
                                ("test", data.test_images, data.test_labels)):
    for folder in folders:
      os.makedirs(os.path.join(output, split, folder), exist_ok=True)
    jobs += [(os.path.join(output, split, folders[label],
                           f"{i:05d}.{extension}"), images, i)
             for i, label in enumerate(labels)]
  written = skipped = 0
  for path, images, i in tqdm.tqdm(jobs, desc=f"writing {output}",
                                   unit="file", disable=not progress):
    if os.path.exists(path):
      skipped += 1
      continue
    _write(path, encode(images[i], fmt, size))
    written += 1
  corrupt_paths = []
  for k in range(corrupt):
    label = int(data.train_labels[k % len(data.train_labels)])
    kind, content = corrupt_bytes(k, encode(data.train_images[k], fmt, size),
                                  seed)
    path = os.path.join(output, "train", folders[label],
                        f"{CORRUPT_PREFIX}{kind}_{k:03d}.{extension}")
    if not os.path.exists(path):
      _write(path, content)
    corrupt_paths.append(path)
  return {"train": len(data.train_labels), "test": len(data.test_labels),
          "corrupt": corrupt_paths, "written": written, "skipped": skipped,
          "class_folders": folders}


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(
      description=__doc__.split("\n", maxsplit=1)[0])
  parser.add_argument("--format", default="jpeg", choices=tuple(FORMATS))
  parser.add_argument("--size", type=int, default=224,
                      help="square side of every file (224, or 32 for tiny32)")
  parser.add_argument("--max_train", type=int, default=None)
  parser.add_argument("--max_test", type=int, default=None)
  parser.add_argument("--corrupt", type=int, default=0,
                      help="extra train files that cannot be decoded")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--data_dir", default=None,
                      help="Fashion-MNIST IDX folder (default: Debian's)")
  parser.add_argument("--output", required=True)
  args = parser.parse_args(argv)
  try:
    summary = write_image_folder(args.output, args.format, args.size,
                                 args.max_train, args.max_test, args.corrupt,
                                 args.seed, args.data_dir)
  except ValueError as e:
    parser.error(str(e))
  print(f"{args.output}: {summary['train']} train and {summary['test']} test "
        f"{args.format} files at {args.size} px ({summary['written']} "
        f"written now, {summary['skipped']} already there), "
        f"{len(summary['corrupt'])} corrupt")
  return summary


if __name__ == "__main__":
  main()
