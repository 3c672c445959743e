"""Reading a picture someone handed us: the size it declares is checked before a pixel is
decoded, and grey, alpha and 16-bit files come back as 8-bit BGR (upright, EXIF applied)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from pipeline.errors import UserError

# An 8K frame is 33 megapixels; a file that declares more is refused before decoding, so
# a tiny file claiming 30000x30000 pixels (a decompression bomb) costs nothing.
MAX_PIXELS = 64_000_000


def declared_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from the file's header, or None when Pillow does not know the format
    (OpenCV may still)."""
    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None  # only the header is read
    try:
        with Image.open(path) as im:
            return im.size
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def read_image(path: str | Path) -> np.ndarray:
    """(H, W, 3) uint8 BGR; a UserError naming the file when it cannot be used."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"image {path} does not exist; check the path.")
    size = declared_size(path)
    if size is not None and size[0] * size[1] > MAX_PIXELS:
        raise UserError(
            f"image {path} declares {size[0]}x{size[1]} pixels, more than "
            f"{MAX_PIXELS // 1_000_000} megapixels; downscale it or remove it."
        )
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise UserError(f"image {path} cannot be read; check that it is an image file.")
    return image
