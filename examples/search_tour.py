"""A search from Python on the built-in digits, in a couple of minutes.

Shows the pieces tools/search.py puts together: load and split the data,
a supernet compiled for the bilevel step, plain ``model.fit`` with the
search callbacks, derivation under a budget and the child's counted cost.

  python examples/search_tour.py     # writes into ./search_tour/
"""

import keras

from fbnetv2_tf import callbacks, data
from fbnetv2_tf.cost.counting import count_arch
from fbnetv2_tf.cost.losses import ResourceLoss
from fbnetv2_tf.models.bilevel import SearchConfig
from fbnetv2_tf.models.supernet import Supernet
from fbnetv2_tf.specs import builtin_spaces, derive
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
net.compile(weight_optimizer=config.weight_optimizer(EPOCHS * steps),
            arch_optimizer=config.arch_optimizer(), resource_loss=config.loss,
            warmup_epochs=config.warmup_epochs)
net.fit(train, epochs=EPOCHS, steps_per_epoch=steps, verbose=2, shuffle=False,
        callbacks=[callbacks.TemperatureAnnealing(),
                   callbacks.ArchLogger("search_tour")])

cost = lambda c: count_arch(derive.derive_arch(space, c), 10).mflops  # pylint: disable=unnecessary-lambda-assignment
choices, changes = derive.fit_budget(space, net.logits(), cost, TARGET_MFLOPS,
                                     lower=0.9 * TARGET_MFLOPS)
arch = derive.derive_arch(space, choices, "tour_child")
expected = float(net.expected_cost(net.probabilities()))
print(f"derived: {to_arch_string(arch)}")
print(f"expected {expected:.4f} MFLOPs, counted {cost(choices):.4f} MFLOPs, "
      f"target {TARGET_MFLOPS} ({changes} budget changes)")
print("per-epoch log, heatmap and arch.json in search_tour/")
