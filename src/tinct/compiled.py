"""When tinct's compiled CPU code (Numba: ``color/gamut_kernel.py``, ``guidance/*_kernel.py``)
takes the place of tensor operations: for CPU tensors of the dtypes it was written for, none
of which asks for gradients. Elsewhere (a GPU, autograd) the tensor operations run."""

from __future__ import annotations

import torch
from torch import Tensor


def runs_compiled(*tensors: Tensor, dtypes: tuple[torch.dtype, ...] = (torch.float32,)) -> bool:
    """Whether the compiled code can take these tensors."""
    return all(
        tensor.device.type == "cpu"
        and tensor.dtype in dtypes
        and not (torch.is_grad_enabled() and tensor.requires_grad)
        for tensor in tensors
    )
