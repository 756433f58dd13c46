"""fbnetv2_tf: FBNet and FBNetV2 (DMaskingNAS) architecture search for Keras and TFLite.

The names a search needs, at the top level::

    import fbnetv2_tf as fbn

    data = fbn.load_dataset("digits", image_size=32)
    net = fbn.Supernet(fbn.spaces.tiny32(), num_classes=data.num_classes)
    net.compile(fbn.SearchConfig(loss=fbn.ResourceLoss("budget", target=0.3)))
    net.fit(data.train_images, data.train_labels, epochs=4)
    arch = net.derive(target=0.3)
    model = fbn.build_child_model(arch, num_classes=data.num_classes)

They load lazily: ``import fbnetv2_tf`` and the spec names (``ArchSpec``,
``SearchSpace``, ``spaces``, ``zoo``, ``count_arch``) import no TensorFlow;
the first use of a Keras name does.
"""

import importlib

__version__ = "0.1.0"

# name -> (module, attribute); attribute None means the module itself.
_LAZY = {
    # specs and counting: no TensorFlow
    "ArchSpec": ("fbnetv2_tf.specs.arch_spec", "ArchSpec"),
    "SearchSpace": ("fbnetv2_tf.specs.search_space", "SearchSpace"),
    "spaces": ("fbnetv2_tf.specs.builtin_spaces", None),
    "zoo": ("fbnetv2_tf.models.zoo", None),
    "to_arch_string": ("fbnetv2_tf.specs.arch_string", "to_arch_string"),
    "parse_arch_string": ("fbnetv2_tf.specs.arch_string", "parse_arch_string"),
    "count_arch": ("fbnetv2_tf.cost.counting", "count_arch"),
    "load_dataset": ("fbnetv2_tf.data", "load_dataset"),
    "data": ("fbnetv2_tf.data", None),
    # the search
    "Supernet": ("fbnetv2_tf.models.supernet", "Supernet"),
    "SearchConfig": ("fbnetv2_tf.search.config", "SearchConfig"),
    "ResourceLoss": ("fbnetv2_tf.cost.losses", "ResourceLoss"),
    "TemperatureSchedule": ("fbnetv2_tf.search.schedules",
                            "TemperatureSchedule"),
    "LatencyTable": ("fbnetv2_tf.cost.latency_table", "LatencyTable"),
    "inherit_child": ("fbnetv2_tf.search.inherit", "inherit_child"),
    # the derived model
    "build_child_model": ("fbnetv2_tf.models.child_model",
                          "build_child_model"),
}

__all__ = sorted(_LAZY)


def __getattr__(name):
  if name not in _LAZY:
    raise AttributeError(f"module 'fbnetv2_tf' has no attribute {name!r}")
  module, attribute = _LAZY[name]
  value = importlib.import_module(module)
  if attribute is not None:
    value = getattr(value, attribute)
  globals()[name] = value  # later lookups skip __getattr__
  return value


def __dir__():
  return sorted(set(globals()) | set(_LAZY))
