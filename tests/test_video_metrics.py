"""Video metrics: CDC, flow warp error and per-frame PSNR on synthetic clips."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from tinct.color.lab import lab_to_rgb
from tinct.evaluation.video_metrics import (
    channel_histograms,
    color_distribution_consistency,
    jensen_shannon,
    per_frame_psnr,
    static_colour_drift,
    static_mask,
    warp_error,
)

FRAMES = 6
SIDE = 64
STEP = 3  # pixels the camera pans per frame


def _texture() -> torch.Tensor:
    """``(96, 160)`` smooth random texture in [0, 1] that optical flow can track."""
    generator = torch.Generator().manual_seed(0)
    noise = torch.rand(1, 1, 96, 160, generator=generator)
    smooth = F.avg_pool2d(noise, 5, stride=1, padding=2)[0, 0]
    return (smooth - smooth.min()) / (smooth.max() - smooth.min())


def _colourize(gray: torch.Tensor, swap: bool = False) -> torch.Tensor:
    """``(H, W)`` texture -> ``(3, H, W)`` colours that follow it (red-blue swapped if ``swap``)."""
    rgb = torch.stack((gray, 0.5 * gray + 0.25, 1 - gray))
    return rgb.flip(0) if swap else rgb


def _panning_texture() -> torch.Tensor:
    """``(FRAMES, SIDE, SIDE)``: a window sliding right over the texture, STEP pixels a frame."""
    texture = _texture()
    return torch.stack(
        [texture[16 : 16 + SIDE, 8 + STEP * t : 8 + STEP * t + SIDE] for t in range(FRAMES)]
    )


def _lightness(gray: torch.Tensor) -> torch.Tensor:
    """``(T, H, W)`` in [0, 1] -> ``(T, 1, H, W)`` luminance in [0, 100]."""
    return 100 * gray.unsqueeze(1)


def _static_clip() -> tuple[torch.Tensor, torch.Tensor]:
    still = _panning_texture()[0]
    return _colourize(still).expand(FRAMES, 3, SIDE, SIDE), _lightness(still.expand(FRAMES, -1, -1))


def _flickering_clip() -> tuple[torch.Tensor, torch.Tensor]:
    """Still scene whose hue alternates between frames (red and blue swapped every other one)."""
    still = _panning_texture()[0]
    frames = torch.stack([_colourize(still, swap=t % 2 == 1) for t in range(FRAMES)])
    return frames, _lightness(still.expand(FRAMES, -1, -1))


def test_static_clip_is_perfectly_stable() -> None:
    frames, luminance = _static_clip()
    assert color_distribution_consistency(frames) == 0.0
    assert warp_error(frames, luminance) == pytest.approx(0.0, abs=1e-6)


def test_flicker_is_clearly_worse() -> None:
    frames, luminance = _flickering_clip()
    assert color_distribution_consistency(frames) > 0.05
    assert warp_error(frames, luminance) > 0.1


def test_flow_compensates_a_pan_with_consistent_colour() -> None:
    gray = _panning_texture()
    frames = torch.stack([_colourize(frame) for frame in gray])
    error = warp_error(frames, _lightness(gray))
    uncompensated = (frames[1:] - frames[:-1]).abs().mean().item()
    assert error < 0.005
    assert error < uncompensated / 10
    # The same pan with flickering colours is caught although the motion is compensated.
    flicker = torch.stack([_colourize(f, swap=t % 2 == 1) for t, f in enumerate(gray)])
    assert warp_error(flicker, _lightness(gray)) > 20 * error


def test_cdc_is_the_mean_over_distances_of_mean_js() -> None:
    frames = torch.rand(5, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    histograms = channel_histograms(frames, bins=8)
    by_hand = [
        torch.stack([jensen_shannon(histograms[t], histograms[t + d]) for t in range(5 - d)]).mean()
        for d in (1, 2, 4)
    ]
    expected = torch.stack(by_hand).mean().item()
    assert color_distribution_consistency(frames, bins=8) == pytest.approx(expected)
    # Distances not shorter than the clip are left out: with 3 frames only d = 1, 2 count.
    short = color_distribution_consistency(frames[:3], bins=8)
    assert short == pytest.approx(color_distribution_consistency(frames[:3], (1, 2), bins=8))


def test_histograms_and_js_divergence() -> None:
    frames = torch.tensor([0.0, 0.24, 0.5, 1.0]).view(1, 1, 2, 2).expand(2, 3, 2, 2)
    histograms = channel_histograms(frames, bins=4)
    assert histograms.shape == (2, 3, 4)
    assert torch.equal(histograms[0, 0], torch.tensor([0.5, 0.0, 0.25, 0.25], dtype=torch.float64))
    p = torch.tensor([1.0, 0.0])
    q = torch.tensor([0.0, 1.0])
    assert jensen_shannon(p, q).item() == pytest.approx(math.log(2))
    assert jensen_shannon(p, p).item() == 0.0
    mixed = torch.tensor([0.25, 0.75])
    assert jensen_shannon(p, mixed).item() == pytest.approx(jensen_shannon(mixed, p).item())


def test_per_frame_psnr() -> None:
    frames, _ = _static_clip()
    shifted = (frames + 0.1).clamp(max=1.0)
    values = per_frame_psnr(shifted, frames)
    assert values.shape == (FRAMES,) and values.dtype == torch.float64
    assert torch.allclose(values, values[:1].expand(FRAMES))


def test_bad_input_is_refused() -> None:
    frames, luminance = _static_clip()
    with pytest.raises(ValueError, match=r"frames \(6, 3, 64, 64\) and luminance \(6, 1, 32, 32\)"):
        warp_error(frames, luminance[..., :32, :32])
    with pytest.raises(ValueError, match="at least 2 frames"):
        color_distribution_consistency(frames[:1])
    with pytest.raises(ValueError, match=r"\(T, 1, H, W\)"):
        warp_error(frames, frames)
    with pytest.raises(ValueError, match="positive"):
        color_distribution_consistency(frames, distances=(0, 1))
    with pytest.raises(ValueError, match="shorter than every distance"):
        color_distribution_consistency(frames[:2], distances=(2, 4))


def _lab_clip(lightness: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
    """``(T, H, W)`` L and ``(T, 2, H, W)`` ab -> ``(T, 3, H, W)`` sRGB."""
    return lab_to_rgb(torch.cat((lightness.unsqueeze(1), ab), dim=1))


def _background_with_ramp(count: int = 12) -> tuple[torch.Tensor, torch.Tensor]:
    """A static textured background whose b* ramps linearly from -5 to +5 over the clip;
    returns ``(frames, input lightness)``."""
    lightness = (40 + 20 * _texture()[:48, :64]).expand(count, -1, -1).clone()
    b = torch.linspace(-5.0, 5.0, count).view(count, 1, 1, 1).expand(count, 1, 48, 64)
    ab = torch.cat((torch.full_like(b, 3.0), b), dim=1)
    return _lab_clip(lightness, ab), lightness.unsqueeze(1)


def test_static_drift_is_zero_for_a_constant_colour() -> None:
    frames, luminance = _static_clip()
    result = static_colour_drift(frames, luminance)
    assert result.drift == pytest.approx(0.0, abs=1e-6)
    assert result.static_share == 1.0 and result.means.shape == (FRAMES, 2)


def test_static_drift_of_a_linear_ramp_is_its_span() -> None:
    frames, lightness = _background_with_ramp()
    result = static_colour_drift(frames, lightness)
    assert result.drift == pytest.approx(10.0, abs=0.01)
    assert result.means[0].tolist() == pytest.approx([3.0, -5.0], abs=0.01)
    assert result.means[-1].tolist() == pytest.approx([3.0, 5.0], abs=0.01)


def test_moving_objects_and_their_rims_are_left_out() -> None:
    frames, lightness = _background_with_ramp()
    frames, lightness = frames.clone(), lightness.clone()
    for t in range(len(frames)):  # a bright square crossing, its colour flipping every frame
        x = 4 + 3 * t
        lightness[t, :, 10:20, x : x + 10] = 90.0
        frames[t, :, 10:20, x : x + 10] = torch.tensor(
            [1.0, 0.2, 0.2] if t % 2 else [0.2, 1.0, 0.2]
        ).view(3, 1, 1)
    result = static_colour_drift(frames, lightness)
    assert result.drift == pytest.approx(10.0, abs=0.01)
    mask = static_mask(lightness)
    assert not mask[8:22, 2:49].any()  # the path (columns 4 to 46), grown by its 2 px rim
    assert mask[22:, :].all() and mask[:8, :].all() and mask[:, 49:].all()
    assert 0.5 < result.static_share < 0.8


def test_exposure_changes_do_not_hide_the_static_background() -> None:
    frames, lightness = _background_with_ramp()
    dimmed = lightness + torch.linspace(0, -15, len(lightness)).view(-1, 1, 1, 1)
    assert static_mask(dimmed).all()  # a frame-wide shift is the camera, not the scene
    no_still = static_colour_drift(frames, torch.rand_like(lightness) * 100)
    assert math.isnan(no_still.drift) and no_still.static_share == 0.0
    with pytest.raises(ValueError, match="share T, H and W"):
        static_colour_drift(frames, lightness[:, :, :8])
