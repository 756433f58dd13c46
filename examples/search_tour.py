"""A search from Python on the built-in digits, in a couple of minutes.

Shows the pieces tools/search.py puts together: load and split the data,
a supernet compiled for the bilevel step, plain ``model.fit`` (the warm-up
switch and the temperature schedule come with it), derivation under a
budget, and the derived child with the supernet's weights (inheritance).

  python examples/search_tour.py     # writes into ./search_tour/
"""

import keras

from fbnetv2_tf import callbacks, data
from fbnetv2_tf.cost.losses import ResourceLoss
from fbnetv2_tf.search.search_model import Supernet
from fbnetv2_tf.search import derive, inherit
from fbnetv2_tf.search.config import SearchConfig
from fbnetv2_tf.specs import builtin_spaces
from fbnetv2_tf.specs.arch_string import to_arch_string

TARGET_MFLOPS = 0.25
EPOCHS, WARMUP, BATCH, SEED = 4, 1, 32, 0

keras.utils.set_random_seed(SEED)
images = data.load_dataset("digits").subset(max_train=480, seed=SEED)
weight_split, arch_split = data.split_for_search(images, SEED)
train, steps = data.search_dataset(weight_split, arch_split, BATCH, SEED,
                                   EPOCHS)
print(f"digits: {len(weight_split[1])} weight / {len(arch_split[1])} arch "
      f"images, {steps} steps per epoch")

space = builtin_spaces.tiny32()
config = SearchConfig(warmup_epochs=WARMUP,
                      loss=ResourceLoss("budget", "mflops", TARGET_MFLOPS))
net = Supernet(space, num_classes=images.num_classes, input_channels=1,
               seed=SEED)
net.compile(search_config=config, total_steps=EPOCHS * steps)
net.fit(train, epochs=EPOCHS, steps_per_epoch=steps, verbose=2, shuffle=False,
        callbacks=[callbacks.ArchLogger("search_tour")])

cost = derive.child_cost(space, "mflops", images.num_classes, input_channels=1)
choices, changes = derive.derive_within_budget(space, net.logits(), cost,
                                               TARGET_MFLOPS)
arch = derive.derive_arch(space, choices, "tour_child")
child = inherit.inherit_child(net, choices, "tour_child")
inherit.recalibrate_batch_norm(child, data.normalize(images.train_images))
expected = float(net.expected_cost(net.probabilities()))
print(f"derived: {to_arch_string(arch)}")
print(f"expected {expected:.4f} MFLOPs, counted {cost(choices):.4f} MFLOPs, "
      f"target {TARGET_MFLOPS} ({changes} budget changes)")
print(f"inherited child: {child.count_params():,} parameters, ready to "
      "fine-tune or to score without training")
print("per-epoch log, heatmap and arch.json in search_tour/")
