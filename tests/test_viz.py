"""Contact sheets: labels sit beside the tiles, never on them."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.train.callbacks import PREVIEW_ROWS
from pipeline.viz.grid import image_grid


def _tiles(n: int, size: int = 32) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (size, size, 3), dtype=np.uint8) for _ in range(n)]


def _find(sheet: np.ndarray, tile: np.ndarray) -> bool:
    h, w = tile.shape[:2]
    for y in range(sheet.shape[0] - h + 1):
        for x in range(sheet.shape[1] - w + 1):
            if np.array_equal(sheet[y : y + h, x : x + w], tile):
                return True
    return False


def test_row_and_column_labels_leave_every_tile_intact():
    tiles = _tiles(6)
    labels = ["a long identity name\n-> another long name", "b"]
    sheet = image_grid(tiles, 3, labels=labels, col_labels=["one", "two", "three"])
    plain = image_grid(tiles, 3)
    assert sheet.shape[1] > plain.shape[1] and sheet.shape[0] > plain.shape[0]
    assert all(_find(sheet, t) for t in tiles)
    # The label margin holds ink (the text was drawn) and the header too.
    gutter = sheet.shape[1] - plain.shape[1]
    assert (sheet[:, :gutter] < 128).any()
    assert (sheet[: sheet.shape[0] - plain.shape[0], gutter:] < 128).any()


def test_preview_labels_are_drawable():
    labels = [r.format(a="synth_a", b="synth_b") for r in PREVIEW_ROWS]
    image_grid(_tiles(len(labels)), 1, labels=labels)


def test_a_label_opencv_cannot_draw_is_refused():
    with pytest.raises(ValueError, match="non-ASCII"):
        image_grid(_tiles(2), 2, labels=["a→b"])
