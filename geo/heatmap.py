"""Weighted kernel density of risk sources on a square raster (EPSG:4548).

The density at a cell is Σᵢ wᵢ · K(dᵢ), where wᵢ is the level weight of source i
(red 100 / orange 30 / yellow 10 / blue 1 by default, ``data/config/area_risk.yaml``)
and K is a kernel of radius (bandwidth) h that integrates to 1 over the plane, so the
values are *weight per km²* and the raster's total (× cell area) equals Σ wᵢ for
sources well inside the grid.

Computed as a weighted histogram (one ``bincount``) convolved with the discretised
kernel by FFT (:func:`fft_convolve_same`, ``scipy.fft``): O(cells · log cells), independent of
the number of points after the histogram.  Each point is counted at its cell's
centre, so positions are rounded by at most half a cell (50 m at 100 m cells).

Kernels: ``quartic`` (biweight, K = 3/(πh²)·(1 − d²/h²)² for d < h — what QGIS's
heat-map tool uses) or ``gaussian`` (σ = h/2, cut at 3σ).  The discrete kernel is
normalised to sum 1 so no weight is lost to the discretisation.

Pure functions: arrays in, arrays out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from affine import Affine
from scipy import fft as sp_fft

from geo.errors import BadInput, Unprocessable

KERNELS = ("quartic", "gaussian")


@dataclass(frozen=True)
class DensityGrid:
    """A north-up raster in EPSG:4548: ``values[row, col]``, row 0 to the north."""

    values: np.ndarray  # float32, weight per km²
    transform: Affine
    crs: str = "EPSG:4548"

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) in metres."""
        h, w = self.values.shape
        t = self.transform
        return t.c, t.f + t.e * h, t.c + t.a * w, t.f


def grid_for_bounds(
    bounds: tuple[float, float, float, float], *, cell_m: float, pad_m: float = 0.0
) -> tuple[Affine, int, int]:
    """North-up grid covering ``bounds`` (EPSG:4548 metres) grown by ``pad_m``, edges on
    multiples of ``cell_m``.  Returns (transform, width, height)."""
    if cell_m <= 0:
        raise BadInput(f"cell size must be > 0 m, got {cell_m}")
    minx = np.floor((bounds[0] - pad_m) / cell_m) * cell_m
    miny = np.floor((bounds[1] - pad_m) / cell_m) * cell_m
    maxx = np.ceil((bounds[2] + pad_m) / cell_m) * cell_m
    maxy = np.ceil((bounds[3] + pad_m) / cell_m) * cell_m
    width = round(float((maxx - minx) / cell_m))
    height = round(float((maxy - miny) / cell_m))
    return Affine(cell_m, 0.0, float(minx), 0.0, -cell_m, float(maxy)), width, height


def kernel_weights(*, cell_m: float, bandwidth_m: float, kernel: str = "quartic") -> np.ndarray:
    """The discretised kernel (odd square array, sums to 1) at ``cell_m`` spacing."""
    if kernel not in KERNELS:
        raise BadInput(f"kernel {kernel!r}: expected one of {', '.join(KERNELS)}")
    if bandwidth_m <= 0:
        raise BadInput(f"bandwidth must be > 0 m, got {bandwidth_m}")
    reach = bandwidth_m if kernel == "quartic" else 1.5 * bandwidth_m  # 3σ with σ = h/2
    r = max(int(np.floor(reach / cell_m)), 0)
    offsets = np.arange(-r, r + 1) * cell_m
    dx, dy = np.meshgrid(offsets, offsets)
    d2 = dx**2 + dy**2
    if kernel == "quartic":
        k = np.where(d2 < bandwidth_m**2, (1.0 - d2 / bandwidth_m**2) ** 2, 0.0)
    else:
        sigma = bandwidth_m / 2.0
        k = np.where(d2 <= reach**2, np.exp(-d2 / (2 * sigma**2)), 0.0)
    total = k.sum()
    if total <= 0:  # bandwidth below half a cell: all weight stays in its cell
        k = np.zeros_like(d2)
        k[r, r] = 1.0
        total = 1.0
    return k / total


def weighted_histogram(
    x_m: np.ndarray, y_m: np.ndarray, weights: np.ndarray, transform: Affine, shape: tuple[int, int]
) -> np.ndarray:
    """Sum of ``weights`` per cell of a north-up grid (points off the grid are dropped)."""
    if transform.b != 0 or transform.d != 0:
        raise ValueError("a north-up grid (no rotation) is required")
    cols = np.floor((np.asarray(x_m, float) - transform.c) / transform.a).astype(np.int64)
    rows = np.floor((np.asarray(y_m, float) - transform.f) / transform.e).astype(np.int64)
    ok = (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1])
    flat = rows[ok] * shape[1] + cols[ok]
    hist = np.bincount(flat, weights=np.asarray(weights, float)[ok], minlength=shape[0] * shape[1])
    return hist.reshape(shape)


#: Largest convolution computed (grid plus kernel, cells): about 1 s and 0.5 GB on one core.
#: Beijing at the default 100 m / 1 km is 3.4 million; 50 m with a 50 km kernel would be 33
#: million (8–15 s, a worker held): such a request is refused, naming what to change.
MAX_CONVOLVED_CELLS = 8_000_000


def check_cost(width: int, height: int, kernel_size: int, *, cell_m: float, bandwidth_m: float) -> None:
    """Refuse (Unprocessable) a convolution of more than :data:`MAX_CONVOLVED_CELLS` cells."""
    cells = (width + kernel_size - 1) * (height + kernel_size - 1)
    if cells > MAX_CONVOLVED_CELLS:
        raise Unprocessable(f"heat map of {cells:,} cells (cell {cell_m:g} m, bandwidth {bandwidth_m:g} m over this "
                            f"extent) is over the limit of {MAX_CONVOLVED_CELLS:,}: use a larger cell or a narrower "
                            "bandwidth")


def kernel_density(
    x_m: np.ndarray,
    y_m: np.ndarray,
    weights: np.ndarray,
    *,
    bounds: tuple[float, float, float, float],
    cell_m: float = 100.0,
    bandwidth_m: float = 1000.0,
    kernel: str = "quartic",
) -> DensityGrid:
    """Weighted kernel density (weight per km²) of EPSG:4548 points on a grid over
    ``bounds`` (metres, padded by the kernel's reach so no mass falls off the edge).

    Raises ValueError for a non-positive cell or bandwidth or an unknown kernel, and
    :class:`~geo.errors.Unprocessable` when the convolution would exceed
    :data:`MAX_CONVOLVED_CELLS` (a finer cell or a wider kernel than the extent allows).
    """
    k = kernel_weights(cell_m=cell_m, bandwidth_m=bandwidth_m, kernel=kernel)
    pad = (k.shape[0] // 2) * cell_m
    transform, width, height = grid_for_bounds(bounds, cell_m=cell_m, pad_m=pad)
    check_cost(width, height, k.shape[0], cell_m=cell_m, bandwidth_m=bandwidth_m)
    hist = weighted_histogram(x_m, y_m, weights, transform, (height, width))
    if k.size == 1:
        smooth = hist
    else:
        smooth = fft_convolve_same(hist, k)
        smooth[smooth < 1e-9 * max(float(smooth.max()), 1.0)] = 0.0  # FFT round-off around empty cells
    cell_km2 = (cell_m / 1000.0) ** 2
    return DensityGrid((smooth / cell_km2).astype(np.float32), transform)


def fft_convolve_same(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The 2-D convolution of ``image`` with ``kernel``, the centre part of ``image``'s
    shape — ``scipy.signal.fftconvolve(image, kernel, mode="same")`` with real FFTs of
    fast lengths, as it computes it, but through ``scipy.fft`` (``scipy.signal`` takes
    1.3 s to import)."""
    full = [a + b - 1 for a, b in zip(image.shape, kernel.shape, strict=True)]
    shape = [sp_fft.next_fast_len(n, real=True) for n in full]
    product = sp_fft.rfft2(image, shape) * sp_fft.rfft2(kernel, shape)
    out = sp_fft.irfft2(product, shape)
    top, left = (kernel.shape[0] - 1) // 2, (kernel.shape[1] - 1) // 2
    return out[top:top + image.shape[0], left:left + image.shape[1]].copy()


# --------------------------------------------------------------------------------------
# Colour ramp for the map overlay
# --------------------------------------------------------------------------------------

#: ColorBrewer "YlOrRd" 7-class sequential ramp (Cynthia Brewer, colorbrewer2.org, Apache-2.0
#: licensed scheme), low → high.  Index 0 of a classified raster is transparent (no risk).
HEAT_RAMP: tuple[str, ...] = ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026")


def ramp_breaks(values: np.ndarray, *, classes: int = len(HEAT_RAMP), floor_fraction: float = 0.01) -> np.ndarray:
    """Class breaks for the ramp: geometric steps from ``floor_fraction`` × the 99.5th
    percentile of the non-zero values up to that percentile (kernel densities are very
    skewed; equal steps would paint everything in the first colour).  ``classes`` + 1
    increasing values; cells below the first break stay transparent."""
    positive = values[values > 0]
    if positive.size == 0:
        return np.geomspace(1.0, 2.0, classes + 1)
    top = float(np.percentile(positive, 99.5))
    top = top if top > 0 else float(positive.max())
    return np.geomspace(top * floor_fraction, top, classes + 1)


def classify(values: np.ndarray, breaks: np.ndarray) -> np.ndarray:
    """uint8 class per cell: 0 below ``breaks[0]`` (transparent), 1..len(breaks)-1 above,
    the top class also taking everything beyond the last break."""
    idx = np.searchsorted(breaks, values, side="right")
    return np.clip(idx, 0, len(breaks) - 1).astype(np.uint8)
