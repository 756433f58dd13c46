"""A tour of the input data: the default dataset, the search split, batches.

  python examples/data_tour.py

Loads the offline ``digits`` dataset, splits its train set into the weight
and architecture parts of a search, and prints the shapes and first values of
a search batch, then shows that a resumed run sees the same batches. Last,
it writes the digits out as an image folder of PNG files and streams it: the
files stay on disk, a broken one is named and skipped, and the batches are
those of the in-memory pipeline.
"""

import os
import tempfile

import numpy as np
import tensorflow as tf
from PIL import Image

from fbnetv2_tf.data import (known_datasets, load_dataset, search_dataset,
                             split_for_search)


def main():
  print("datasets:", ", ".join(known_datasets()))
  data = load_dataset("digits")
  print(f"{data.name}: {len(data.train_labels)} train + "
        f"{len(data.test_labels)} test images of {data.image_shape}, "
        f"{data.num_classes} classes")
  weight, arch = split_for_search(data, seed=0)
  print(f"search split: {len(weight[1])} weight / {len(arch[1])} arch images")
  dataset, steps = search_dataset(weight, arch, batch_size=32, seed=0,
                                  epochs=3, flip=data.flip)
  (x_w, x_a), (y_w, y_a) = next(iter(dataset))
  print(f"{steps} steps per epoch; weight batch {tuple(x_w.shape)} "
        f"{x_w.dtype.name}, arch batch {tuple(x_a.shape)}")
  print(f"pixel range [{float(np.min(x_w)):.1f}, {float(np.max(x_w)):.1f}]")
  print("first weight labels:", " ".join(map(str, y_w.numpy()[:8])))
  print("first arch labels:", " ".join(map(str, y_a.numpy()[:8])))

  # Epoch 2 of an uninterrupted run equals epoch 2 of a run resumed there.
  uninterrupted = next(iter(dataset.skip(2 * steps)))
  resumed, _ = search_dataset(weight, arch, batch_size=32, seed=0, epochs=3,
                              first_epoch=2, flip=data.flip)
  same = all(np.array_equal(a, b) for a, b in zip(
      tf.nest.flatten(uninterrupted), tf.nest.flatten(next(iter(resumed)))))
  print(f"resumed at epoch 2, first batch identical: {same}")
  with tempfile.TemporaryDirectory() as folder:
    stream_a_folder(data, folder)


def stream_a_folder(data, folder: str) -> None:
  """The train images as class folders of PNGs, read back streamed."""
  for i, (image, label) in enumerate(zip(data.train_images,
                                         data.train_labels)):
    os.makedirs(os.path.join(folder, f"digit{label}"), exist_ok=True)
    Image.fromarray(image[..., 0]).save(
        os.path.join(folder, f"digit{label}", f"{i:04d}.png"))
  with open(os.path.join(folder, "digit3", "broken.png"), "wb") as f:
    f.write(b"not a png")
  streamed = load_dataset("image_folder", folder, image_size=32,
                          pipeline="stream", bad_files="skip")
  in_memory = load_dataset("image_folder", folder, image_size=32,
                           pipeline="memory", bad_files="skip")
  print(f"streamed: {streamed.streamed}, {len(streamed.train_images)} train "
        f"files of {streamed.image_shape}")
  first = [next(iter(search_dataset(*split_for_search(d, seed=0),
                                    batch_size=32, seed=0, epochs=1,
                                    flip=d.flip)[0]))
           for d in (streamed, in_memory)]
  same = all(np.array_equal(a, b) for a, b in zip(*map(tf.nest.flatten,
                                                       first)))
  print(f"streamed and in-memory first batch identical: {same}")


if __name__ == "__main__":
  main()
