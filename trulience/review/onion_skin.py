"""Onion skin (PRD-37): the neighbouring frames blended over the current one, so motion
between frames (a popping arm, a flickering hand) shows in one picture.

The blend is computed from frames decoded by index on the server, never from a browser
<video>, so "frame k with k-1 over it" is exactly those two frames.
"""

import numpy as np

from trulience.catalog.errors import InvalidValue

# Which neighbours a reviewer can lay over the current frame, as offsets from it.
NEIGHBOURS: dict[str, tuple[int, ...]] = {
    "off": (),
    "previous": (-1,),
    "next": (1,),
    "both": (-1, 1),
}


def neighbour_indices(index: int, total: int, which: str) -> list[int]:
    """The frames to blend over frame `index` of a `total`-frame take (those that exist)."""
    if which not in NEIGHBOURS:
        raise InvalidValue("onion skin", "neighbours", which, f"must be one of {list(NEIGHBOURS)}")
    return [index + offset for offset in NEIGHBOURS[which] if 0 <= index + offset < total]


def onion_skin(current: np.ndarray, neighbours: list[np.ndarray], opacity: float) -> np.ndarray:
    """`current` with the mean of `neighbours` over it at `opacity` (0: current only, 1: the
    neighbours only), rounded back to uint8 RGB."""
    if not 0.0 <= opacity <= 1.0:
        raise InvalidValue("onion skin", "opacity", opacity, "must be between 0 and 1")
    if not neighbours:
        return current
    for other in neighbours:
        if other.shape != current.shape:
            raise InvalidValue(
                "onion skin", "frame size", other.shape, f"differs from {current.shape}"
            )
    under = np.mean([other.astype(np.float64) for other in neighbours], axis=0)
    blend = (1.0 - opacity) * current.astype(np.float64) + opacity * under
    return np.clip(np.rint(blend), 0, 255).astype(np.uint8)
