"""A tour of the search side: a space, its supernet, the cost, a derived child.

  python examples/supernet_tour.py

Builds the tiny32 supernet, runs one forward pass under Gumbel-softmax
weights, prints the expected cost next to the counted cost of the argmax
child, and writes that child as arch JSON.
"""

import numpy as np

from fbnetv2_tf.cost.counting import count_arch
from fbnetv2_tf.models.child_model import build_child_model
from fbnetv2_tf.search.search_model import Supernet
from fbnetv2_tf.specs import builtin_spaces, save_archs, to_arch_string
from fbnetv2_tf.search.derive import argmax_choices


def main():
  space = builtin_spaces.get_space("tiny32")
  print(f"{space.name}: {space.num_architectures():,} architectures, "
        f"{len(space.decisions())} decisions")
  net = Supernet(space, num_classes=10, seed=0).build_for_input()
  images = np.random.default_rng(0).uniform(-1, 1, (4, 32, 32, 3)).astype("float32")
  weights = net.sample_weights()
  logits = net.forward(images, weights, training=False)
  print(f"supernet logits {tuple(logits.shape)}; expected cost under this "
        f"sample: {float(net.expected_cost(weights, 'mflops')):.3f} MFLOPs")

  arch = net.derive_argmax("tiny32_argmax")
  one_hot = net.one_hot_weights(argmax_choices(net.logits()))
  print("argmax child:", to_arch_string(arch))
  print(f"expected cost at one-hot weights "
        f"{float(net.expected_cost(one_hot, 'mflops')):.4f} MFLOPs, counted "
        f"{count_arch(arch, 10).mflops:.4f} MFLOPs")
  child = build_child_model(arch, num_classes=10)
  print(f"child model: {len(child.layers)} standard Keras layers")
  save_archs("tiny32_argmax.json", [arch])
  print("wrote tiny32_argmax.json")


if __name__ == "__main__":
  main()
