"""Render one frame of a synthetic person: image, exact landmarks, face mask.

Per frame: build the head's surfaces for the jaw position, ray-cast every pixel of the
head's bounding box against each surface (analytic ellipsoid hits, nearest wins), look
the albedo up in the identity's painted atlas at the hit point's head-plane coordinates,
shade it with a Lambert term from the frame's light, and blend it over the background.
Landmarks are the same 3-D points projected with the same camera, and a landmark is
visible when its depth matches the depth buffer.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.synth.geometry import (
    Ellipsoid,
    Head,
    build_head,
    hair_region,
    intersect,
    landmarks_2d,
    lift,
    rotation,
)
from pipeline.synth.identity import Identity
from pipeline.synth.texture import HAIR_ROW, PPU, X0, Y0, base_atlas, paint_expression

HEAD_SCALE = 0.27  # head half-height as a share of the frame at scale 1
_WARM = np.array([0.80, 0.93, 1.12], np.float32)  # BGR gain of a warm (tungsten) light
_COOL = np.array([1.12, 1.0, 0.86], np.float32)
_SKIN_IDS = (0, 1, 2)  # cranium, jaw, nose: the face proper
_HAIR_ID = 6
_SEAM_SOFTNESS = 0.12  # level-set distance over which face normals blend
_SHEEN = 38.0  # highlight strength, grey levels at full light


@dataclass
class Frame:
    image: np.ndarray  # (S, S, 3) uint8 BGR
    landmarks: np.ndarray  # (68, 2) float32, pixel coordinates (x, y), pixel centres at ints
    visible: np.ndarray  # (68,) bool: the landmark's surface point is not hidden
    face_mask: np.ndarray  # (S, S) uint8, 255 where the face's skin (not hair, ears, neck)
    hidden: np.ndarray | None = None  # (K, S, S) uint8: each thing drawn in front (occluders.py)


def camera(size: int, perf: dict[str, float]) -> tuple[np.ndarray, float, float, float]:
    """Rotation, pixels per head unit, and the image position of the head origin."""
    rot = rotation(perf["yaw"], perf["pitch"], perf["roll"])
    s = size * HEAD_SCALE * perf["scale"]
    ox = size * (0.5 + perf["shift_x"])
    oy = size * (0.46 + perf["shift_y"])
    return rot, s, ox, oy


def light(perf: dict[str, float], rot: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Light direction in head coordinates, and the ambient and direct BGR gains."""
    az, el = np.radians([perf["light_azimuth"], perf["light_elevation"]])
    view_dir = np.array([np.sin(az) * np.cos(el), np.sin(el), np.cos(az) * np.cos(el)])
    w = (perf["light_warmth"] + 1) / 2
    colour = (_WARM * w + _COOL * (1 - w)) * perf["light_intensity"]
    ambient = 0.32 * (0.6 + 0.4 * colour)
    return rot.T @ view_dir, ambient.astype(np.float32), (0.78 * colour).astype(np.float32)


def _extent(ell: Ellipsoid, rot: np.ndarray, s: float, ox: float, oy: float, size: int):
    """Pixel box (r0, r1, c0, c1) that contains the ellipsoid's projection."""
    basis = rot @ ell.orient.T * ell.axes  # columns: the ellipsoid's semi-axes in view
    centre = rot @ ell.centre
    half = np.sqrt((basis**2).sum(1))
    c0 = int(np.floor(ox + s * (centre[0] - half[0]))) - 1
    c1 = int(np.ceil(ox + s * (centre[0] + half[0]))) + 2
    r0 = int(np.floor(oy - s * (centre[1] + half[1]))) - 1
    r1 = int(np.ceil(oy - s * (centre[1] - half[1]))) + 2
    return max(r0, 0), min(r1, size), max(c0, 0), min(c1, size)


def _surfaces(head: Head) -> list[Ellipsoid]:
    # Order defines the ids: 0 cranium, 1 jaw, 2 nose, 3-4 ears, 5 neck, 6 hair.
    return [head.cranium, head.jaw, head.nose, head.ear_l, head.ear_r, head.neck, head.hair]


def render_frame(idt: Identity, perf: dict[str, float], background: np.ndarray) -> Frame:
    """Render ``idt`` with one frame's performance over ``background`` (S, S, 3) uint8."""
    size = background.shape[0]
    rot, s, ox, oy = camera(size, perf)
    rot64 = rot
    head = build_head(idt, perf["mouth_open"])
    surfaces = _surfaces(head)
    boxes = [_extent(e, rot, s, ox, oy, size) for e in surfaces]
    r0 = min(b[0] for b in boxes)
    r1 = max(b[1] for b in boxes)
    c0 = min(b[2] for b in boxes)
    c1 = max(b[3] for b in boxes)
    xs = ((np.arange(c0, c1, dtype=np.float32) - ox) / s)[None, :]
    ys = (-(np.arange(r0, r1, dtype=np.float32) - oy) / s)[:, None]

    zbuf = np.full((r1 - r0, c1 - c0), -np.inf, np.float32)
    sid = np.full(zbuf.shape, -1, np.int8)
    for k, (ell, (a0, a1, b0, b1)) in enumerate(zip(surfaces, boxes)):
        if a1 <= a0 or b1 <= b0:
            continue
        sub = (slice(a0 - r0, a1 - r0), slice(b0 - c0, b1 - c0))
        x, y = xs[:, sub[1]], ys[sub[0], :]
        if k == _HAIR_ID:
            t = _hair_depth(ell, head, rot, x, y)
        else:
            t = intersect(ell, rot, x, y)
        better = t > zbuf[sub]
        zbuf[sub][better] = t[better]
        sid[sub][better] = k

    hit = sid >= 0
    zb = np.where(hit, zbuf, 0)
    # Hit points in head coordinates: p = R^T (x, y, t).
    rot = rot.astype(np.float32)
    px = rot[0, 0] * xs + rot[1, 0] * ys + rot[2, 0] * zb
    py = rot[0, 1] * xs + rot[1, 1] * ys + rot[2, 1] * zb
    pz = rot[0, 2] * xs + rot[1, 2] * ys + rot[2, 2] * zb

    lm2d = landmarks_2d(idt, head, perf)
    atlas = base_atlas(idt).copy()
    paint_expression(atlas, idt, lm2d, perf)
    map_x = (px - X0) * PPU
    # Clamp within each layer so a point below the face layer never reads hair.
    map_y = np.clip((Y0 - py) * PPU, 0, HAIR_ROW - 1) + np.where(
        sid == _HAIR_ID, HAIR_ROW, 0
    ).astype(np.float32)
    albedo = cv2.remap(atlas, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    fr0 = min(boxes[k][0] for k in _SKIN_IDS) - r0
    fr1 = max(boxes[k][1] for k in _SKIN_IDS) - r0
    fc0 = min(boxes[k][2] for k in _SKIN_IDS) - c0
    fc1 = max(boxes[k][3] for k in _SKIN_IDS) - c0
    box = (slice(fr0, fr1), slice(fc0, fc1))
    l_dir, ambient, direct = light(perf, rot)
    lam, spec = _lambert(surfaces, sid, px, py, pz, l_dir, rot, box)
    shade = ambient[None, None] + lam[..., None] * direct[None, None]
    fg = albedo.astype(np.float32) * shade
    fg[box] += spec[..., None] * (_SHEEN * direct)[None, None]

    # Anti-alias the outline: soften the hit mask inward only.
    alpha = np.minimum(hit, cv2.blur(hit.astype(np.float32), (3, 3)))[..., None]
    image = background.copy()
    bg = image[r0:r1, c0:c1].astype(np.float32)
    image[r0:r1, c0:c1] = np.clip(bg + alpha * (fg - bg), 0, 255).astype(np.uint8)

    face_mask = np.zeros((size, size), np.uint8)
    face_mask[r0:r1, c0:c1] = ((sid >= 0) & (sid <= max(_SKIN_IDS))) * np.uint8(255)

    landmarks, visible = _project_landmarks(lift(head, lm2d), rot64, s, ox, oy, zbuf, (r0, c0))
    return Frame(image, landmarks, visible, face_mask)


def _hair_depth(ell: Ellipsoid, head: Head, rot: np.ndarray, x, y) -> np.ndarray:
    """Depth of the hair shell where it carries hair: its near side, else its far side."""
    out = None
    for far in (False, True):
        t = intersect(ell, rot, x, y, far=far)
        tz = np.nan_to_num(t)
        n = [
            (rot[0, i] * x + rot[1, i] * y + rot[2, i] * tz - ell.centre[i]) / ell.axes[i]
            for i in range(3)
        ]
        keep = hair_region(n[0], n[1], n[2], head) & ~np.isnan(t)
        t = np.where(keep, t, np.nan)
        out = t if out is None else np.where(np.isnan(out), t, out)
    return out


def _unit_normal(ell: Ellipsoid, px, py, pz):
    """Unit outward normal of ``ell``'s level set through p, and the level f = |q|^2 - 1."""
    m = ell.orient.astype(np.float32)
    d = (
        px - np.float32(ell.centre[0]),
        py - np.float32(ell.centre[1]),
        pz - np.float32(ell.centre[2]),
    )
    ia = (1 / ell.axes).astype(np.float32)
    # Orientations are tilts about x, so x never mixes with y or z.
    q = [d[0] * ia[0]]
    q += [(m[i, 1] * d[1] + m[i, 2] * d[2]) * ia[i] for i in (1, 2)]
    f = q[0] * q[0] + q[1] * q[1] + q[2] * q[2] - 1
    g = [q[i] * ia[i] for i in range(3)]
    n = [g[0]] + [m[1, j] * g[1] + m[2, j] * g[2] for j in (1, 2)]
    inv = 1 / (np.sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]) + 1e-12)
    return [c * inv for c in n], f


def _lambert(surfaces, sid, px, py, pz, l_dir, rot, face_box) -> tuple[np.ndarray, np.ndarray]:
    """Lambert term max(0, n . l) at each pixel's hit point, and the skin's highlight
    (over ``face_box`` only).

    On the face (cranium, jaw, nose) the normal is a blend of the three surfaces'
    normals weighted by how close p lies to each, so the seams between ellipsoids shade
    smoothly instead of showing a crease. ``l_dir``: light direction in head coordinates.
    """
    fp = (px[face_box], py[face_box], pz[face_box])
    n_sum = [np.zeros_like(fp[0]) for _ in range(3)]
    for k in _SKIN_IDS:
        n, f = _unit_normal(surfaces[k], *fp)
        w = np.exp(np.maximum(f, 0) * np.float32(-1 / _SEAM_SOFTNESS))
        for c in range(3):
            n_sum[c] += w * n[c]
    inv = 1 / (np.sqrt(n_sum[0] ** 2 + n_sum[1] ** 2 + n_sum[2] ** 2) + 1e-12)
    lam = np.zeros_like(px)
    lam[face_box] = (
        n_sum[0] * float(l_dir[0]) + n_sum[1] * float(l_dir[1]) + n_sum[2] * float(l_dir[2])
    ) * inv
    # Blinn-Phong highlight on the skin: half-vector between light and camera.
    half = l_dir + rot.T @ np.array([0.0, 0.0, 1.0])
    half /= np.linalg.norm(half)
    nh = np.maximum(
        (n_sum[0] * float(half[0]) + n_sum[1] * float(half[1]) + n_sum[2] * float(half[2])) * inv,
        0,
    )
    nh *= nh
    nh *= nh
    nh *= nh  # (n . h)^8: a broad, soft sheen, as skin has
    sb = sid[face_box]
    spec = nh * ((sb >= 0) & (sb <= max(_SKIN_IDS)))  # skin ids are 0..2; face box only
    for k in range(len(surfaces)):
        if k in _SKIN_IDS:
            continue
        on = sid == k
        if on.any():
            n, _ = _unit_normal(surfaces[k], px[on], py[on], pz[on])
            lam[on] = n[0] * float(l_dir[0]) + n[1] * float(l_dir[1]) + n[2] * float(l_dir[2])
    return np.maximum(lam, 0), spec


def _project_landmarks(points3d, rot, s, ox, oy, zbuf, origin):
    """Pixel positions of head points (68, 3), visible where they match the depth buffer."""
    pts = points3d @ rot.T
    u = ox + s * pts[:, 0]
    v = oy - s * pts[:, 1]
    r = np.round(v).astype(int) - origin[0]
    c = np.round(u).astype(int) - origin[1]
    inside = (r >= 0) & (r < zbuf.shape[0]) & (c >= 0) & (c < zbuf.shape[1])
    depth = np.full(68, np.inf, np.float32)
    depth[inside] = zbuf[r[inside], c[inside]]
    visible = inside & (pts[:, 2] >= depth - 0.04)
    return np.stack([u, v], 1).astype(np.float32), visible
