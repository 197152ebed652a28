"""QA visual aids (PRD-37): onion skin blends and region zoom, on plain arrays."""

import numpy as np
import pytest

from trulience.catalog.errors import InvalidValue
from trulience.review.onion_skin import neighbour_indices, onion_skin
from trulience.review.zoom import Box, region_box, zoom


def flat(level: int, shape=(4, 6, 3)) -> np.ndarray:
    return np.full(shape, level, dtype=np.uint8)


def test_onion_skin_is_the_weighted_blend_of_the_current_frame_and_its_neighbours():
    current, previous, following = flat(200), flat(100), flat(0)
    assert (onion_skin(current, [previous], 0.5) == 150).all()
    assert (onion_skin(current, [previous], 0.25) == 175).all()
    assert (onion_skin(current, [previous, following], 0.5) == 125).all()
    assert onion_skin(current, [], 0.5) is current
    assert (onion_skin(current, [previous], 0.0) == current).all()


def test_onion_skin_neighbours_stay_inside_the_take():
    assert neighbour_indices(0, 12, "both") == [1]
    assert neighbour_indices(11, 12, "both") == [10]
    assert neighbour_indices(5, 12, "previous") == [4]
    assert neighbour_indices(5, 12, "off") == []


def test_onion_skin_refuses_bad_opacity_sizes_and_choices():
    with pytest.raises(InvalidValue, match=r"opacity 1\.5: must be between 0 and 1"):
        onion_skin(flat(1), [flat(2)], 1.5)
    with pytest.raises(InvalidValue, match="frame size"):
        onion_skin(flat(1), [flat(2, (2, 2, 3))], 0.5)
    with pytest.raises(InvalidValue, match="neighbours 'sideways'"):
        neighbour_indices(1, 3, "sideways")


def test_zoom_enlarges_the_chosen_region_pixel_for_pixel():
    frame = np.zeros((8, 8, 3), dtype=np.uint8)
    frame[:4, 4:] = (0, 255, 0)  # top-right quadrant green
    frame[1, 6] = (255, 0, 0)
    zoomed = zoom(frame, "top-right", 2)
    assert zoomed.shape == frame.shape
    assert (zoomed[2:4, 4:6] == (255, 0, 0)).all()  # pixel (1, 6) → block at (2, 4)
    assert (zoomed[:2] == (0, 255, 0)).all()
    assert region_box(8, 8, "centre", 4) == Box(3, 3, 2, 2)
    assert region_box(8, 8, "bottom-left", 2) == Box(4, 0, 4, 4)
    with pytest.raises(InvalidValue, match="region 'face'"):
        zoom(frame, "face", 2)
    with pytest.raises(InvalidValue, match="factor 5"):
        zoom(frame, "centre", 5)
