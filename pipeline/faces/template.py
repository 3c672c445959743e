"""The alignment template: where the 68 landmarks of a mean frontal face sit in a crop.

Coordinates are in head units (x right, y up, eyes at y = 0, head half-height ~ 1): the
mean over 500 synthetic identities at a neutral, frontal pose
(``tests/test_align.py::test_template_matches_renderer`` recomputes it). A crop covers
the head-plane square ``CROP_WINDOW``, which holds the face from the hairline to below
the chin, so a crop at any size is the template scaled.
"""

from __future__ import annotations

import numpy as np

# (left, top, side) of the crop in head units at the default coverage.
CROP_WINDOW = (-0.95, 0.75, 1.9)
HEAD_COVERAGE = CROP_WINDOW[2]  # hairline to below the chin: faceswap's "head" centring


def crop_window(coverage: float = HEAD_COVERAGE) -> tuple[float, float, float]:
    """(left, top, side) in head units of a crop ``coverage`` head units wide.

    Narrower crops (faceswap's "face" centring, DeepFaceLab's mid face) give the eyes and
    mouth more of the crop's pixels; their centre moves down toward the mouth so the
    chin stays inside while the forehead is cut first.
    """
    left, top, side = CROP_WINDOW
    cy = top - side / 2 - 0.125 * (side - coverage)
    return (-coverage / 2, cy + coverage / 2, coverage)


MEAN_FACE_68 = np.array(
    [
        [-0.7270, -0.0600],
        [-0.6932, -0.2135],
        [-0.6413, -0.3613],
        [-0.5780, -0.5031],
        [-0.5048, -0.6400],
        [-0.4163, -0.7685],
        [-0.3006, -0.8732],
        [-0.1566, -0.9331],
        [0.0000, -0.9357],
        [0.1566, -0.9331],
        [0.3006, -0.8732],
        [0.4163, -0.7685],
        [0.5048, -0.6400],
        [0.5780, -0.5031],
        [0.6413, -0.3613],
        [0.6932, -0.2135],
        [0.7270, -0.0600],
        [-0.4691, 0.2063],
        [-0.4035, 0.2457],
        [-0.3379, 0.2517],
        [-0.2723, 0.2442],
        [-0.2066, 0.2233],
        [0.2066, 0.2233],
        [0.2723, 0.2442],
        [0.3379, 0.2517],
        [0.4035, 0.2457],
        [0.4691, 0.2063],
        [0.0000, 0.0100],
        [0.0000, -0.1110],
        [0.0000, -0.2320],
        [0.0000, -0.3530],
        [-0.1027, -0.4031],
        [-0.0491, -0.4221],
        [0.0000, -0.4281],
        [0.0491, -0.4221],
        [0.1027, -0.4031],
        [-0.4301, 0.0000],
        [-0.3561, 0.0516],
        [-0.2822, 0.0516],
        [-0.2082, -0.0050],
        [-0.2822, -0.0328],
        [-0.3561, -0.0328],
        [0.2082, -0.0050],
        [0.2822, 0.0516],
        [0.3561, 0.0516],
        [0.4301, 0.0000],
        [0.3561, -0.0328],
        [0.2822, -0.0328],
        [-0.2343, -0.5600],
        [-0.1452, -0.5272],
        [-0.0586, -0.5092],
        [0.0000, -0.5212],
        [0.0586, -0.5092],
        [0.1452, -0.5272],
        [0.2343, -0.5600],
        [0.1406, -0.6027],
        [0.0656, -0.6107],
        [0.0000, -0.6147],
        [-0.0656, -0.6107],
        [-0.1406, -0.6027],
        [-0.2062, -0.5600],
        [-0.0937, -0.5560],
        [0.0000, -0.5600],
        [0.0937, -0.5560],
        [0.2062, -0.5600],
        [0.0937, -0.5600],
        [0.0000, -0.5600],
        [-0.0937, -0.5600],
    ],
    dtype=np.float64,
)


def template_points(size: int, coverage: float = HEAD_COVERAGE) -> np.ndarray:
    """The 68 template landmarks in pixel coordinates of a ``size`` square crop that
    covers ``coverage`` head units.

    Pixel centres sit at integer coordinates, so the crop spans [-0.5, size - 0.5].
    """
    left, top, side = crop_window(coverage)
    u = (MEAN_FACE_68[:, 0] - left) / side
    v = (top - MEAN_FACE_68[:, 1]) / side
    return np.stack([u, v], 1) * size - 0.5
