"""Albedo of a synthetic head, painted in the head's (x, y) plane.

The atlas holds two layers stacked vertically: the face layer (skin, brows, beard, and
per frame the eyes and lips) and the hair layer. A surface point (x, y) of the face or
hair reads its colour at ``to_texel(x, y)`` (plus ``HAIR_ROW`` for hair), so whatever
the pose, a feature painted at a landmark shows exactly where that landmark projects.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from pipeline.synth.geometry import EYE_Y, brow_points, eye_outline
from pipeline.synth.identity import Identity

PPU = 100.0  # texels per head unit
X0, X1 = -1.15, 1.15
Y0, Y1 = 1.35, -2.0
TEX_W = int((X1 - X0) * PPU)
TEX_H = int((Y0 - Y1) * PPU)
HAIR_ROW = TEX_H  # the hair layer starts here
_SHIFT = 4  # sub-pixel bits for OpenCV drawing
_ONE = 1 << _SHIFT


def to_texel(xy: np.ndarray) -> np.ndarray:
    """Head-plane points (..., 2) to texel coordinates (col, row) in the face layer."""
    return np.stack([(xy[..., 0] - X0) * PPU, (Y0 - xy[..., 1]) * PPU], -1)


def _fixed(pts: np.ndarray) -> np.ndarray:
    return np.round(to_texel(pts) * _ONE).astype(np.int32)


def _bgr255(c) -> tuple[float, float, float]:
    return tuple(float(v) * 255 for v in c)


def _gauss(xx, yy, cx, cy, sx, sy):
    return np.exp(-(((xx - cx) / sx) ** 2 + ((yy - cy) / sy) ** 2) / 2)


@functools.lru_cache(maxsize=32)
def base_atlas(idt: Identity) -> np.ndarray:
    """The expression-independent atlas of an identity: (2*TEX_H, TEX_W, 3) uint8 BGR."""
    rng = np.random.default_rng(idt.texture_seed)
    ys, xs = np.mgrid[0:TEX_H, 0:TEX_W].astype(np.float32)
    hx = xs / PPU + X0
    hy = Y0 - ys / PPU
    skin = np.array(idt.skin, np.float32)

    # Low-frequency blotches, cheek blush, darker eye sockets and neck.
    blotch = cv2.resize(
        rng.normal(0, 1, (9, 7)).astype(np.float32), (TEX_W, TEX_H), interpolation=cv2.INTER_CUBIC
    )
    face = skin[None, None] * (1 + 0.035 * blotch[..., None])
    blush = sum(_gauss(hx, hy, s * 0.42, -0.28, 0.14, 0.1) for s in (-1, 1))
    face = face * (1 + blush[..., None] * np.array([-0.06, -0.05, 0.05], np.float32))
    socket = sum(_gauss(hx, hy, s * idt.eye_spacing, EYE_Y + 0.03, 0.13, 0.08) for s in (-1, 1))
    face = face * (1 - 0.16 * socket[..., None])
    face = face * np.where(hy < -1.0, 0.9, 1.0)[..., None].astype(np.float32)

    if idt.beard > 0.05:
        stubble = rng.uniform(0.6, 1.0, (TEX_H, TEX_W)).astype(np.float32)
        area = np.clip((-0.38 - hy) / 0.15, 0, 1) * np.clip((hy + 1.12) / 0.1, 0, 1)
        mix = (idt.beard * area * stubble)[..., None]
        face = face * (1 - mix) + np.array(facial_hair(idt), np.float32) * 0.8 * mix

    face = np.clip(face * 255, 0, 255).astype(np.uint8)
    _paint_brows(face, idt)

    # Hair: strands are fast along x and slow along y.
    if idt.hair_texture_of is not None:  # another person's hair: replay their draws
        rng = _hair_rng(*idt.hair_texture_of)
    strands = cv2.resize(
        rng.normal(0, 1, (12, 140)).astype(np.float32),
        (TEX_W, TEX_H),
        interpolation=cv2.INTER_LINEAR,
    )
    hair = np.array(idt.hair_colour, np.float32)[None, None] * (1 + 0.18 * strands[..., None])
    hair = np.clip(hair * 255 + 6, 0, 255).astype(np.uint8)
    return np.concatenate([face, hair], 0)


def _hair_rng(texture_seed: int, beard: float) -> np.random.Generator:
    """The generator of a person's atlas at the point where their hair strands are drawn
    (after the skin blotches and, with a beard, the stubble)."""
    rng = np.random.default_rng(texture_seed)
    rng.normal(0, 1, (9, 7))
    if beard > 0.05:
        rng.uniform(0.6, 1.0, (TEX_H, TEX_W))
    return rng


def facial_hair(idt: Identity) -> tuple[float, float, float]:
    """Colour of brows, lashes and beard: the hair's, unless the identity sets its own."""
    return idt.facial_hair_colour or idt.hair_colour


def _paint_brows(face: np.ndarray, idt: Identity) -> None:
    colour = np.array(facial_hair(idt)) * 0.7 + np.array(idt.skin) * 0.15
    thick = max(1, int(idt.brow_thickness * PPU))
    for side in (-1, 1):
        pts = brow_points(idt, side * idt.eye_spacing)
        cv2.polylines(face, [_fixed(pts)], False, _bgr255(colour), thick, cv2.LINE_AA, _SHIFT)


def paint_expression(atlas: np.ndarray, idt: Identity, lm2d: np.ndarray, expr: dict) -> None:
    """Paint eyes (lids, iris, gaze) and lips (open mouth, teeth) into ``atlas`` in place.

    lm2d: the identity's 68 head-plane landmarks for this expression.
    """
    for cx in (-idt.eye_spacing, idt.eye_spacing):
        _paint_eye(atlas, idt, cx, expr)
    _paint_mouth(atlas, idt, lm2d[48:60], lm2d[60:68], expr["mouth_open"])


def _patch_box(pts: np.ndarray, pad: int = 3) -> tuple[int, int, int, int]:
    tex = to_texel(pts)
    c0, r0 = np.floor(tex.min(0)).astype(int) - pad
    c1, r1 = np.ceil(tex.max(0)).astype(int) + pad
    return max(r0, 0), min(r1, TEX_H), max(c0, 0), min(c1, TEX_W)


def _blend_into(patch: np.ndarray, layer: np.ndarray, mask: np.ndarray) -> None:
    """patch = layer where mask (uint8 coverage, anti-aliased edges), in place."""
    a = mask.astype(np.float32) * np.float32(1 / 255)
    patch[:] = cv2.blendLinear(layer, patch, a, 1 - a)


def _paint_eye(atlas: np.ndarray, idt: Identity, cx: float, expr: dict) -> None:
    upper, lower = eye_outline(cx, idt, expr["blink"])
    outline = np.concatenate([upper, lower[::-1]])
    r0, r1, c0, c1 = _patch_box(outline)
    offset = np.array([c0, r0]) * _ONE
    patch = atlas[r0:r1, c0:c1]
    layer = np.empty_like(patch)
    layer[:] = _bgr255(np.array([0.86, 0.89, 0.92]) * 0.95)
    iris_r = 0.042 * idt.eye_size
    centre = np.array(
        [[cx + expr["gaze_x"] * 0.045 * idt.eye_size, EYE_Y + 0.006 + expr["gaze_y"] * 0.018]]
    )
    c = tuple(int(v) for v in (_fixed(centre)[0] - offset))
    r = int(iris_r * PPU * _ONE)
    cv2.circle(layer, c, r, _bgr255(idt.iris), -1, cv2.LINE_AA, _SHIFT)
    cv2.circle(layer, c, int(r * 0.7), _bgr255(np.array(idt.iris) * 0.6), 1, cv2.LINE_AA, _SHIFT)
    cv2.circle(layer, c, int(r * 0.42), (15, 12, 12), -1, cv2.LINE_AA, _SHIFT)
    glint = (c[0] - r // 3, c[1] - r // 3)
    cv2.circle(layer, glint, max(r // 6, _ONE), (245, 245, 245), -1, cv2.LINE_AA, _SHIFT)
    mask = np.zeros(patch.shape[:2], np.uint8)
    cv2.fillPoly(mask, [_fixed(outline) - offset], 255, cv2.LINE_AA, _SHIFT)
    _blend_into(patch, layer, mask)
    lash = _bgr255(np.array(facial_hair(idt)) * 0.4)
    cv2.polylines(patch, [_fixed(upper) - offset], False, lash, 2, cv2.LINE_AA, _SHIFT)
    cv2.polylines(
        patch,
        [_fixed(lower) - offset],
        False,
        _bgr255(np.array(idt.skin) * 0.75),
        1,
        cv2.LINE_AA,
        _SHIFT,
    )


def _paint_mouth(
    atlas: np.ndarray, idt: Identity, outer: np.ndarray, inner: np.ndarray, mouth_open: float
) -> None:
    r0, r1, c0, c1 = _patch_box(outer)
    offset = np.array([c0, r0]) * _ONE
    patch = atlas[r0:r1, c0:c1]
    cv2.fillPoly(patch, [_fixed(outer) - offset], _bgr255(idt.lip_colour), cv2.LINE_AA, _SHIFT)
    if mouth_open > 0.02:
        mask = np.zeros(patch.shape[:2], np.uint8)
        cv2.fillPoly(mask, [_fixed(inner) - offset], 255, cv2.LINE_AA, _SHIFT)
        layer = np.empty_like(patch)
        layer[:] = (40, 28, 70)
        teeth_bottom = inner[2, 1] - 0.05  # upper teeth show below the upper lip
        teeth = np.array(
            [
                [inner[0, 0], inner[2, 1] + 0.02],
                [inner[4, 0], inner[2, 1] + 0.02],
                [inner[4, 0], teeth_bottom],
                [inner[0, 0], teeth_bottom],
            ]
        )
        cv2.fillPoly(layer, [_fixed(teeth) - offset], (225, 235, 238), cv2.LINE_AA, _SHIFT)
        _blend_into(patch, layer, mask)
    line = _bgr255(np.array(idt.lip_colour) * 0.55)
    cv2.polylines(patch, [_fixed(inner) - offset], True, line, 1, cv2.LINE_AA, _SHIFT)
