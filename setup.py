"""Installs fbnetv2_tf, its absl binaries and their pinned dependencies.

The pins are the versions found to work together (see README, Dependencies),
and only packages the code imports: ai-edge-litert 2.3 is the LiteRT
interpreter that works with numpy 2 beside TensorFlow; quantization-aware
training needs tensorflow-model-optimization 0.8.1 and the tf-keras of the
pinned TensorFlow (tfmot quantizes only Keras 2 models), and absl-py stays
below 2 because tfmot 0.8.1 pins absl-py ~= 1.2. TFLite Metadata is written
with flatbuffers itself: TFLite Support's writer needs protobuf < 4 (TensorFlow
2.21 needs >= 6.31.1) and MediaPipe's needs absl-py ~= 2.3.
"""

from setuptools import find_packages, setup

BINARIES = ("profile", "export", "search", "train", "build_lut",
            "validate_lut", "benchmark", "derive")

setup(
    name="fbnetv2_tf",
    version="0.1.0",
    description=("FBNet and FBNetV2 (DMaskingNAS) hardware-aware architecture "
                 "search for Keras 3 and TensorFlow Lite"),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10,<3.14",
    # The checkout's top-level tools/ and flags/ install inside the package,
    # so site-packages gets no top-level name as generic as "flags".
    packages=find_packages(include=["fbnetv2_tf", "fbnetv2_tf.*"])
    + ["fbnetv2_tf.tools", "fbnetv2_tf.flags"],
    package_dir={"fbnetv2_tf.tools": "tools", "fbnetv2_tf.flags": "flags"},
    package_data={"fbnetv2_tf.models": ["data/*.json"]},
    install_requires=[
        "tensorflow~=2.21.0",
        "keras>=3.13,<3.16",
        "ai-edge-litert~=2.3.0",
        "flatbuffers~=25.12",  # TFLite Metadata (export/metadata.py)
        "absl-py>=1.2,<2",
        "numpy>=2.0,<2.5",
        "scikit-learn~=1.9.0",
        "matplotlib~=3.11.0",
        "tqdm~=4.70",
        "tensorboard~=2.21.0",
        "tensorflow-datasets~=4.9.10",
        # tfds 4.9.10 (through etils) needs it to prepare catalog datasets.
        "importlib-resources~=7.1",
        "pillow>=10,<14",  # image folders; matplotlib needs it too
        "tf-keras~=2.21.0",
        "tensorflow-model-optimization==0.8.1",
    ],
    extras_require={"test": ["pytest~=9.0", "pytest-xdist~=3.8", "setuptools>=65"]},
    entry_points={"console_scripts": [
        f"fbnetv2-{name.replace('_', '-')} = fbnetv2_tf.tools.{name}:run"
        for name in BINARIES]},
)
