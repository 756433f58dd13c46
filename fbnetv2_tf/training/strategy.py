"""``--strategy`` names to ``tf.distribute`` strategies."""

from __future__ import annotations

from fbnetv2_tf.errors import UserError

STRATEGIES = ("default", "mirrored", "multi_worker", "tpu", "one_device")


def make_strategy(name: str, devices: list[str] | None = None):
  """The strategy called ``name``.

  Args:
    name: one of ``STRATEGIES``. ``mirrored`` uses every local GPU, or every
      logical CPU device when there is no GPU; ``multi_worker`` reads the
      cluster from ``TF_CONFIG``; ``tpu`` connects to the TPU of this host.
    devices: the devices of ``mirrored`` / ``one_device``, overriding the
      default.

  Raises:
    UserError: an unknown name, or a strategy this machine cannot run.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  if name == "default":
    return tf.distribute.get_strategy()
  if name == "mirrored":
    if devices is None:
      gpus = tf.config.list_logical_devices("GPU")
      devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
    return tf.distribute.MirroredStrategy(devices)
  if name == "one_device":
    return tf.distribute.OneDeviceStrategy((devices or ["/cpu:0"])[0])
  if name == "multi_worker":
    return tf.distribute.MultiWorkerMirroredStrategy()
  if name == "tpu":
    try:
      resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
      tf.config.experimental_connect_to_cluster(resolver)
      tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, tf.errors.OpError) as e:
      raise UserError(f"strategy 'tpu': no TPU found ({str(e).splitlines()[0]})"
                      ) from e
    return tf.distribute.TPUStrategy(resolver)
  raise UserError(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}")


def split_cpu(count: int) -> None:
  """Splits the CPU into ``count`` logical devices (before TensorFlow
  initialises its devices), so ``mirrored`` can run replicas on one CPU."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  cpu = tf.config.list_physical_devices("CPU")[0]
  tf.config.set_logical_device_configuration(
      cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
