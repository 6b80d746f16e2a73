"""Colorization models and their registry. Importing registers the built-in architectures."""

from tinct.models.fusion import SPECS as FUSION_SPECS
from tinct.models.guided import SPECS as GUIDED_SPECS
from tinct.models.registry import (
    ModelSpec,
    create_model,
    get_model_spec,
    list_models,
    register_model,
    tiny_variant,
)
from tinct.models.temporal.recurrent_colorizer import build_tinct_lite_recurrent
from tinct.models.tinct_lite import build_tinct_lite
from tinct.models.vgg16_colorizers import SPECS as VGG16_SPECS
from tinct.models.zhang_vgg import SPECS as ZHANG_VGG_SPECS

TINCT_LITE = ModelSpec(
    name="tinct-lite",
    description="EfficientNet-Lite U-Net (Lite2 in its default weights), 309 ab bins, hint inputs; "
    "fast on CPU (default)",
    builder=build_tinct_lite,
    takes_hints=True,
)
TINCT_LITE_RECURRENT = ModelSpec(
    name="tinct-lite-recurrent",
    description="tinct-lite with a ConvGRU between video frames (forward_clip / forward_step)",
    builder=build_tinct_lite_recurrent,
    takes_hints=True,
)
_RANDOM_NARROW = "with a random encoder and a narrow decoder"
_NARROW_DECODER = {"pretrained_encoder": False, "decoder_channels": (16, 16, 16, 16)}

TINCT_LITE_SPECS: tuple[ModelSpec, ...] = (
    TINCT_LITE,
    tiny_variant(TINCT_LITE, _RANDOM_NARROW, **_NARROW_DECODER),
    TINCT_LITE_RECURRENT,
    tiny_variant(TINCT_LITE_RECURRENT, _RANDOM_NARROW, **_NARROW_DECODER, recurrent_hidden=8),
)

for _spec in (*TINCT_LITE_SPECS, *ZHANG_VGG_SPECS, *GUIDED_SPECS, *VGG16_SPECS, *FUSION_SPECS):
    register_model(_spec)

__all__ = [
    "ModelSpec",
    "create_model",
    "get_model_spec",
    "list_models",
    "register_model",
    "tiny_variant",
]
