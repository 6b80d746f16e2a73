"""``tinct-lite-recurrent``: tinct-lite with a ConvGRU "dynamic layer" in its decoder that carries
a hidden state from frame to frame (the recurrent temporal fusion of Xu, *Greyscale image & video
colorization*, SJTU report, 2017).

The recurrent block (:class:`~tinct.models.temporal.convgru.RecurrentFusion`) sits after decoder
block ``stage`` (0: stride 16, 1: stride 8, 2: stride 4 of the input); its output projection
starts at zero, so a model initialised from tinct-lite weights (:func:`init_from_tinct_lite`)
predicts exactly what tinct-lite predicts until it is trained on clips.

State API (the registry contract is per image, so the state is explicit):

- ``forward(lightness, hints=None)``: one image, zero state -> logits ``(B, Q, H/4, W/4)``
  (the registry contract: what the model predicts for the first frame of a clip);
- ``forward_step(lightness, hints=None, state=None) -> (logits, new_state)``: one frame given
  the previous frame's state (None at the start of a shot); the state is a tensor
  ``(B, hidden, h, w)`` (None when the recurrent block is bypassed);
- ``forward_clip(lightness (B, T, 1, H, W), hints=None) -> logits (B, T, Q, H/4, W/4)``: a whole
  clip from a zero state (training: gradients flow back through the clip);
- :class:`RecurrentStepper`: a stateful wrapper for streaming, ``stepper(frame)`` then
  ``stepper.reset()`` at a cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from tinct.models.backbones.efficientnet_lite import EfficientNetLite
from tinct.models.inputs import check_model_inputs
from tinct.models.temporal.convgru import RecurrentFusion
from tinct.models.tinct_lite import (
    INPUT_MULTIPLE,
    TinctLite,
    TinctLiteConfig,
    efficientnet_lite_trunk,
)
from tinct.weights.verify import WeightsError, load_state_dict_exact

RECURRENT_PREFIX = "recurrent."


@dataclass(frozen=True)
class RecurrentConfig:
    """Where and how wide the recurrent block is; ``enabled=False`` bypasses it (ablation)."""

    stage: int = 1
    hidden_channels: int = 64
    kernel: int = 3
    enabled: bool = True


_LITE_DEFAULTS = TinctLiteConfig()
_RECURRENT_DEFAULTS = RecurrentConfig()


class RecurrentTinctLite(TinctLite):
    """tinct-lite with a ConvGRU between frames (see the module docstring for the state API)."""

    def __init__(
        self,
        encoder: EfficientNetLite,
        config: TinctLiteConfig = _LITE_DEFAULTS,
        recurrent: RecurrentConfig = _RECURRENT_DEFAULTS,
    ) -> None:
        super().__init__(encoder, config)
        if recurrent.stage not in (0, 1, 2):
            raise ValueError(f"recurrent stage must be 0, 1 or 2, got {recurrent.stage}")
        self.recurrent_config = recurrent
        self.recurrent = RecurrentFusion(
            config.decoder_channels[recurrent.stage + 1],
            recurrent.hidden_channels,
            recurrent.kernel,
            enabled=recurrent.enabled,
        )

    def forward_step(
        self, lightness: Tensor, hints: Tensor | None = None, state: Tensor | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """Logits ``(B, Q, H/4, W/4)`` of one frame and the state to pass to the next frame.

        Args:
            lightness: ``(B, 1, H, W)`` in [0, 100], H and W multiples of 32.
            hints: optional hint map ``(B, 4, H, W)``.
            state: the previous frame's state, or None at the start of a shot.
        """
        check_model_inputs(lightness, hints, INPUT_MULTIPLE, takes_hints=True)
        return self.decode_step(self.encode(lightness), hints, state)

    def decode_step(
        self, encoding: tuple[Tensor, ...], hints: Tensor | None, state: Tensor | None
    ) -> tuple[Tensor, Tensor | None]:
        """:meth:`forward_step` from the frame's :meth:`~TinctLite.encode` output."""
        new_state = state

        def fuse(index: int, x: Tensor) -> Tensor:
            nonlocal new_state
            if index != self.recurrent_config.stage:
                return x
            x, new_state = self.recurrent(x, state)
            return x

        return self.decode_blocks(encoding, hints, after_block=fuse), new_state

    def forward(self, lightness: Tensor, hints: Tensor | None = None) -> Tensor:
        """Logits ``(B, Q, H/4, W/4)`` of a single image (a zero state)."""
        return self.forward_step(lightness, hints, None)[0]

    def decode(self, encoding: tuple[Tensor, ...], hints: Tensor | None = None) -> Tensor:
        """:meth:`forward` from :meth:`~TinctLite.encode`'s output (a zero state)."""
        return self.decode_step(encoding, hints, None)[0]

    def forward_clip(self, lightness: Tensor, hints: Tensor | None = None) -> Tensor:
        """Logits ``(B, T, Q, H/4, W/4)`` of clips ``(B, T, 1, H, W)``, frame 0 from a zero state.

        Args:
            lightness: ``(B, T, 1, H, W)`` in [0, 100].
            hints: optional ``(B, T, 4, H, W)`` hint maps.
        """
        if lightness.dim() != 5:
            raise ValueError(
                f"lightness must have shape (B, T, 1, H, W), got {tuple(lightness.shape)}"
            )
        state, outputs = None, []
        for t in range(lightness.shape[1]):
            frame_hints = None if hints is None else hints[:, t]
            logits, state = self.forward_step(lightness[:, t], frame_hints, state)
            outputs.append(logits)
        return torch.stack(outputs, dim=1)


class RecurrentStepper:
    """Frame-by-frame use of a :class:`RecurrentTinctLite` that keeps the state between calls.

    ``stepper(lightness, hints=None)`` returns the frame's logits like ``model(...)``; call
    :meth:`reset` at every shot cut or new video. Frames must keep their size between resets.
    """

    def __init__(self, model: RecurrentTinctLite) -> None:
        self.model = model
        self.state: Tensor | None = None

    def __call__(self, lightness: Tensor, hints: Tensor | None = None) -> Tensor:
        logits, self.state = self.model.forward_step(lightness, hints, self.state)
        return logits

    def reset(self) -> None:
        self.state = None


def build_tinct_lite_recurrent(
    pretrained_encoder: bool = True,
    recurrent: bool = True,
    recurrent_stage: int = 1,
    recurrent_hidden: int = 64,
    encoder: str = "efficientnet_lite0",
    **config: object,
) -> RecurrentTinctLite:
    """``tinct-lite-recurrent``; ``recurrent=False`` builds the same model with the GRU bypassed.
    ``encoder`` as for :func:`tinct.models.tinct_lite.build_tinct_lite`."""
    return RecurrentTinctLite(
        efficientnet_lite_trunk(encoder, pretrained_encoder),
        TinctLiteConfig(**config),  # type: ignore[arg-type]
        RecurrentConfig(stage=recurrent_stage, hidden_channels=recurrent_hidden, enabled=recurrent),
    )


def init_from_tinct_lite(
    model: RecurrentTinctLite, tensors: dict[str, Tensor], source: str
) -> None:
    """Fill every non-recurrent weight of ``model`` from tinct-lite weights ``tensors``.

    The recurrent block keeps its initialisation (zero output projection), so the model then
    predicts what tinct-lite predicts.

    Raises:
        WeightsError: ``tensors`` are not tinct-lite weights of a matching width.
    """
    state = model.state_dict()
    stray = sorted(k for k in tensors if k.startswith(RECURRENT_PREFIX))
    if stray:
        raise WeightsError(f"{source}: holds recurrent weights ({stray[0]}, ...), not tinct-lite's")
    merged = {k: v for k, v in state.items() if k.startswith(RECURRENT_PREFIX)}
    load_state_dict_exact(model, {**merged, **tensors}, source=source)


def load_tinct_lite_weights_into(model: RecurrentTinctLite, name: str = "tinct-lite-v1") -> None:
    """:func:`init_from_tinct_lite` from the weight-table entry ``name`` (found and verified)."""
    from tinct.weights.store import find_weights, load_weights

    init_from_tinct_lite(model, load_weights(name), source=str(find_weights(name)))
