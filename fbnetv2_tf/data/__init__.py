"""Input data: in-memory image datasets and reproducible tf.data pipelines.

``load_dataset(name)`` reads ``digits`` (the offline default), Fashion-MNIST
or any IDX folder, an image folder, or any TensorFlow Datasets dataset into
an ``ImageData``; ``split_for_search`` and ``search_dataset`` turn it into the
supernet's weight / architecture batches. Importing this package does not
import TensorFlow.
"""

from fbnetv2_tf.errors import DataError
from fbnetv2_tf.data.image_data import ImageData, normalize
from fbnetv2_tf.data.pipeline import (eval_dataset, search_dataset,
                                      split_for_search, train_dataset)
from fbnetv2_tf.data.registry import known_datasets, load_dataset

__all__ = ["DataError", "ImageData", "eval_dataset", "known_datasets",
           "load_dataset", "normalize", "search_dataset", "split_for_search",
           "train_dataset"]
