"""Contact sheets: many small images in one picture, with optional row and column labels."""

from __future__ import annotations

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX
SCALE = 0.4
LINE = 14  # px per text line at SCALE


def _text_width(lines: list[str]) -> int:
    return max((cv2.getTextSize(s, FONT, SCALE, 1)[0][0] for s in lines if s), default=0)


def _draw_lines(sheet: np.ndarray, lines: list[str], x: int, y: int) -> None:
    for k, s in enumerate(lines):
        org = (x, y + (k + 1) * LINE - 3)
        cv2.putText(sheet, s, org, FONT, SCALE, (0, 0, 0), 1, cv2.LINE_AA)


def image_grid(
    images: list[np.ndarray],
    cols: int,
    pad: int = 2,
    labels: list[str] | None = None,
    col_labels: list[str] | None = None,
) -> np.ndarray:
    """Tile equally sized (H, W, 3) uint8 images into rows of ``cols``.

    labels: one per row, drawn in a margin left of the row, so no label covers a tile or
    runs into the next; "\\n" splits a label into lines. col_labels: a header over each
    column. Both are drawn with OpenCV's Hershey font, which has ASCII glyphs only.
    """
    if not images:
        raise ValueError("image_grid needs at least one image")
    for text in (labels or []) + (col_labels or []):
        if not text.isascii():
            raise ValueError(f"grid label {text!r} has non-ASCII characters OpenCV cannot draw")
    h, w = images[0].shape[:2]
    rows = -(-len(images) // cols)
    row_lines = [t.split("\n") for t in labels or []]
    gutter = _text_width([s for ls in row_lines for s in ls])
    gutter = gutter + 2 * pad + 4 if gutter else 0
    header = LINE + pad if col_labels else 0
    sheet = np.full(
        (header + rows * (h + pad) + pad, gutter + cols * (w + pad) + pad, 3), 255, np.uint8
    )
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        y, x = header + pad + r * (h + pad), gutter + pad + c * (w + pad)
        sheet[y : y + h, x : x + w] = img
    for r, lines in enumerate(row_lines[:rows]):
        top = header + pad + r * (h + pad) + max(0, (h - LINE * len(lines)) // 2)
        _draw_lines(sheet, lines, pad + 2, top)
    for c, text in enumerate((col_labels or [])[:cols]):
        x = gutter + pad + c * (w + pad) + max(0, (w - _text_width([text])) // 2)
        _draw_lines(sheet, [text], x, pad)
    return sheet
