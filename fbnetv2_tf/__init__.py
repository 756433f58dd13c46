"""fbnetv2_tf: FBNet and FBNetV2 (DMaskingNAS) architecture search for Keras and TFLite.

The names a search needs, at the top level::

    import fbnetv2_tf as fbn

    data = fbn.load_dataset("digits", image_size=32)
    net = fbn.Supernet(fbn.spaces.tiny32(), num_classes=data.num_classes)
    net.compile(search_config=fbn.SearchConfig(
        loss=fbn.ResourceLoss("budget", target=0.3)))
    net.fit(data.train_images, data.train_labels, epochs=4)
    arch = net.derive(target=0.3)
    model = fbn.build_child_model(arch, num_classes=data.num_classes)

They load lazily: ``import fbnetv2_tf`` and the spec names (``ArchSpec``,
``SearchSpace``, ``spaces``, ``zoo``, ``count_arch``, ``load_archs``,
``UserError``, ...) import no TensorFlow;
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
    "load_archs": ("fbnetv2_tf.specs.arch_spec", "load_archs"),
    "save_archs": ("fbnetv2_tf.specs.arch_spec", "save_archs"),
    "load_search_space": ("fbnetv2_tf.specs.search_space",
                          "load_search_space"),
    "load_dataset": ("fbnetv2_tf.data", "load_dataset"),
    "data": ("fbnetv2_tf.data", None),
    "UserError": ("fbnetv2_tf.errors", "UserError"),
    "SpecError": ("fbnetv2_tf.errors", "SpecError"),
    # the search
    "Supernet": ("fbnetv2_tf.search.search_model", "Supernet"),
    "SearchConfig": ("fbnetv2_tf.search.config", "SearchConfig"),
    "ResourceLoss": ("fbnetv2_tf.cost.losses", "ResourceLoss"),
    "TemperatureSchedule": ("fbnetv2_tf.search.schedules",
                            "TemperatureSchedule"),
    "LatencyTable": ("fbnetv2_tf.cost.latency_table", "LatencyTable"),
    "inherit_child": ("fbnetv2_tf.search.inherit", "inherit_child"),
    "recalibrate_batch_norm": ("fbnetv2_tf.search.inherit",
                               "recalibrate_batch_norm"),
    "argmax_choices": ("fbnetv2_tf.search.derive", "argmax_choices"),
    "SearchJob": ("fbnetv2_tf.training.search_job", "SearchJob"),
    "run_search": ("fbnetv2_tf.training.search_job", "run_search"),
    "DeriveConfig": ("fbnetv2_tf.search.evaluation", "DeriveConfig"),
    "derive_by_evaluation": ("fbnetv2_tf.search.evaluation",
                             "derive_by_evaluation"),
    "derive_targets": ("fbnetv2_tf.training.derive_job", "derive_targets"),
    "load_supernet": ("fbnetv2_tf.training.derive_job", "load_supernet"),
    # the derived model
    "build_child_model": ("fbnetv2_tf.models.child_model",
                          "build_child_model"),
    "count_keras_model": ("fbnetv2_tf.cost.keras_counting",
                          "count_keras_model"),
    "TrainJob": ("fbnetv2_tf.training.child", "TrainJob"),
    "train_child": ("fbnetv2_tf.training.child", "train_child"),
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
