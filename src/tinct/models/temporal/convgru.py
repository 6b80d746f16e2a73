"""A convolutional GRU (Ballas et al., 2016): the "dynamic layer" that carries features between
frames, and a residual wrapper that starts as the identity.

Feature maps are ``(B, C, h, w)``; the hidden state is ``(B, hidden, h, w)``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class ConvGRUCell(nn.Module):
    """``h_t = (1 - z) h_{t-1} + z tanh(W [x_t, r h_{t-1}])``, gates z, r from ``[x_t, h_{t-1}]``.

    Args:
        input_channels: channels of ``x``.
        hidden_channels: channels of the hidden state.
        kernel: odd convolution size (3: a hidden pixel sees its 3x3 neighbourhood, which lets
            the state follow motion of about one feature pixel per frame).
    """

    def __init__(self, input_channels: int, hidden_channels: int, kernel: int = 3) -> None:
        super().__init__()
        if kernel % 2 != 1:
            raise ValueError(f"kernel must be odd, got {kernel}")
        self.hidden_channels = hidden_channels
        both = input_channels + hidden_channels
        self.gates = nn.Conv2d(both, 2 * hidden_channels, kernel, padding=kernel // 2)
        self.candidate = nn.Conv2d(both, hidden_channels, kernel, padding=kernel // 2)

    def initial_state(self, x: Tensor) -> Tensor:
        """The zero state for input ``x (B, C, h, w)``."""
        return x.new_zeros(x.shape[0], self.hidden_channels, *x.shape[-2:])

    def forward(self, x: Tensor, hidden: Tensor | None = None) -> Tensor:
        """The new state ``(B, hidden, h, w)`` for ``x`` and the previous state (None: zeros)."""
        if hidden is None:
            hidden = self.initial_state(x)
        elif hidden.shape[0] != x.shape[0] or hidden.shape[-2:] != x.shape[-2:]:
            raise ValueError(
                f"hidden state {tuple(hidden.shape)} does not fit features {tuple(x.shape)}: "
                "frames of one clip must share their size (reset the state between clips)"
            )
        update, reset = torch.sigmoid(self.gates(torch.cat((x, hidden), dim=1))).chunk(2, dim=1)
        candidate = torch.tanh(self.candidate(torch.cat((x, reset * hidden), dim=1)))
        return (1 - update) * hidden + update * candidate


class RecurrentFusion(nn.Module):
    """``x + P h_t`` with ``h_t`` from a :class:`ConvGRUCell`; ``P`` (1x1) starts at zero, so a
    freshly built block is the identity and a model around it starts as its non-recurrent twin.

    With ``enabled=False`` the block is bypassed (returns ``x`` and no state): the ablation.
    """

    def __init__(
        self, channels: int, hidden_channels: int, kernel: int = 3, enabled: bool = True
    ) -> None:
        super().__init__()
        self.enabled = enabled
        self.cell = ConvGRUCell(channels, hidden_channels, kernel)
        self.project = nn.Conv2d(hidden_channels, channels, kernel_size=1)
        nn.init.zeros_(self.project.weight)
        nn.init.zeros_(self.project.bias)

    def forward(self, x: Tensor, hidden: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """``(fused features (B, C, h, w), new hidden state or None when bypassed)``."""
        if not self.enabled:
            return x, None
        hidden = self.cell(x, hidden)
        return x + self.project(hidden), hidden
