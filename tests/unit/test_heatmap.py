"""Weighted kernel density (geo.heatmap): mass, shape, units, colour classes."""

from __future__ import annotations

import numpy as np
import pytest

from geo import heatmap as hm


@pytest.mark.parametrize("kernel", hm.KERNELS)
def test_kernel_sums_to_one_and_is_symmetric(kernel: str) -> None:
    k = hm.kernel_weights(cell_m=100, bandwidth_m=1000, kernel=kernel)
    assert k.shape[0] == k.shape[1] and k.shape[0] % 2 == 1
    assert k.sum() == pytest.approx(1.0)
    assert np.allclose(k, k.T) and np.allclose(k, k[::-1, ::-1])
    assert k[k.shape[0] // 2, k.shape[0] // 2] == k.max()


def test_quartic_kernel_reaches_exactly_the_bandwidth() -> None:
    k = hm.kernel_weights(cell_m=100, bandwidth_m=1000, kernel="quartic")
    assert k.shape == (21, 21)
    assert k[10, 0] == 0.0 and k[10, 1] > 0.0  # 1000 m away: zero; 900 m: positive


def test_density_keeps_the_total_weight_in_weight_per_km2() -> None:
    x = np.array([440_050.0, 441_050.0, 445_050.0])
    y = np.array([4_420_050.0, 4_420_050.0, 4_425_050.0])
    w = np.array([100.0, 10.0, 1.0])
    grid = hm.kernel_density(x, y, w, bounds=(440_000, 4_420_000, 446_000, 4_426_000), cell_m=100, bandwidth_m=500)
    cell_km2 = 0.01
    assert float(grid.values.sum()) * cell_km2 == pytest.approx(111.0, rel=1e-5)
    # the peak sits on the red source's cell
    row, col = np.unravel_index(np.argmax(grid.values), grid.values.shape)
    cx = grid.transform.c + (col + 0.5) * 100
    cy = grid.transform.f - (row + 0.5) * 100
    assert (cx, cy) == (440_050.0, 4_420_050.0)
    # the grid is padded by the kernel radius so no weight falls off the edge
    minx, _, _, maxy = grid.bounds
    assert minx <= 440_000 - 500 and maxy >= 4_426_000 + 500
    assert grid.crs == "EPSG:4548"


def test_single_point_density_matches_the_kernel_value() -> None:
    grid = hm.kernel_density(np.array([50.0]), np.array([50.0]), np.array([1.0]), bounds=(0, 0, 100, 100),
                             cell_m=100, bandwidth_m=300)
    k = hm.kernel_weights(cell_m=100, bandwidth_m=300)
    assert float(grid.values.max()) == pytest.approx(k.max() / 0.01, rel=1e-5)


def test_points_off_the_grid_are_dropped_and_bad_input_is_refused() -> None:
    grid = hm.kernel_density(np.array([-1e6]), np.array([-1e6]), np.array([5.0]), bounds=(0, 0, 1000, 1000))
    assert float(grid.values.sum()) == 0.0
    with pytest.raises(ValueError, match="bandwidth"):
        hm.kernel_weights(cell_m=100, bandwidth_m=0)
    with pytest.raises(ValueError, match="kernel 'box'"):
        hm.kernel_weights(cell_m=100, bandwidth_m=100, kernel="box")


def test_tiny_bandwidth_keeps_weight_in_its_cell() -> None:
    k = hm.kernel_weights(cell_m=100, bandwidth_m=40)
    assert k.shape == (1, 1) and k[0, 0] == 1.0


def test_ramp_classes() -> None:
    values = np.array([0.0, 0.5, 1.0, 5.0, 100.0, 1e6])
    breaks = np.geomspace(1.0, 100.0, len(hm.HEAT_RAMP) + 1)
    classes = hm.classify(values, breaks)
    assert classes.dtype == np.uint8
    assert classes[0] == 0 and classes[1] == 0  # below the first break: transparent
    assert classes[2] == 1 and classes[-1] == len(hm.HEAT_RAMP)
    auto = hm.ramp_breaks(np.linspace(0, 100, 1001))
    assert len(auto) == len(hm.HEAT_RAMP) + 1 and np.all(np.diff(auto) > 0)


@pytest.mark.parametrize(("image_shape", "kernel_shape"), [((40, 57), (21, 21)), ((5, 3), (7, 9)), ((30, 30), (4, 6))])
def test_fft_convolution_is_scipy_signal_same_mode(image_shape: tuple[int, int], kernel_shape: tuple[int, int]) -> None:
    from scipy.signal import fftconvolve

    rng = np.random.default_rng(3)
    image, kernel = rng.random(image_shape), rng.random(kernel_shape)
    np.testing.assert_allclose(hm.fft_convolve_same(image, kernel), fftconvolve(image, kernel, mode="same"),
                               rtol=1e-12, atol=1e-12)


def test_the_convolution_cost_is_refused_one_cell_over_the_limit() -> None:
    from geo.errors import Unprocessable
    from geo.heatmap import MAX_CONVOLVED_CELLS, check_cost

    side = 2000  # a square grid plus a kernel of 1 cell: side² cells
    assert side * side <= MAX_CONVOLVED_CELLS
    check_cost(side, side, 1, cell_m=100, bandwidth_m=100)  # 4,000,000
    width = MAX_CONVOLVED_CELLS // 1000
    check_cost(width, 1000, 1, cell_m=100, bandwidth_m=100)  # exactly the limit
    with pytest.raises(Unprocessable, match="over the limit"):
        check_cost(width + 1, 1000, 1, cell_m=100, bandwidth_m=100)  # 1,000 cells over
    with pytest.raises(Unprocessable):
        check_cost(width, 1000, 2, cell_m=100, bandwidth_m=100)  # the kernel counts
