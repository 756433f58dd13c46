"""Models: child models from ArchSpecs and the published-model zoo.

Submodules are imported explicitly (``from fbnetv2_tf.models import zoo``) so
that reading the zoo does not import TensorFlow.
"""
