"""3-D head geometry of a synthetic identity: ellipsoid surfaces and 68 landmarks.

Head frame: x to the image's right in a frontal view, y up, z toward the camera; the
head is about 2 units tall. The head is a union of ellipsoids (cranium, jaw, nose, ears,
neck, and a hair shell), so every ray has an analytic first hit: that gives the renderer
exact occlusion and normals, and the landmarks are 3-D points on those same surfaces.
Facial features (eyes, brows, lips) are 2-D shapes in the head's (x, y) plane painted
onto whichever surface lies in front there; ``feature_points`` returns those shapes'
68 landmark points in the iBUG 300-W order, so landmarks and paint share one source.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from pipeline.synth.identity import Identity

EYE_Y = 0.0
MOUTH_Y = -0.56
JAW_DROP = 0.10  # how far the jaw moves down at mouth_open = 1 (head units)


@dataclass(frozen=True)
class Ellipsoid:
    """Points p with |M (p - centre) / axes| = 1; M is the ellipsoid's orientation."""

    centre: np.ndarray  # (3,)
    axes: np.ndarray  # (3,)
    orient: np.ndarray  # (3, 3), rows are the ellipsoid's axes in head coordinates


def _ell(centre, axes, tilt_x: float = 0.0) -> Ellipsoid:
    c, s = np.cos(tilt_x), np.sin(tilt_x)
    orient = np.array([[1, 0, 0], [0, c, -s], [0, s, c]], dtype=np.float64)
    return Ellipsoid(np.asarray(centre, np.float64), np.asarray(axes, np.float64), orient)


@dataclass(frozen=True)
class Head:
    """The surfaces of one identity at one jaw position, in head coordinates."""

    cranium: Ellipsoid
    jaw: Ellipsoid
    nose: Ellipsoid
    ear_l: Ellipsoid
    ear_r: Ellipsoid
    neck: Ellipsoid
    hair: Ellipsoid
    hairline: float
    hair_length: float


def nose_ellipsoid(idt: Identity) -> Ellipsoid:
    nl, nw, nd = idt.nose_length, idt.nose_width, idt.nose_depth
    # Tilted so the bridge sinks into the face between the eyes and the tip stands out.
    return _ell([0, -0.20 * nl, 0.66 + 0.04 * nd], [0.10 * nw, 0.30 * nl, 0.14 * nd], 0.38)


def build_head(idt: Identity, mouth_open: float = 0.0) -> Head:
    hw = idt.head_width
    cranium = _ell([0, 0.12, -0.08], [hw, 0.95, 0.88])
    chin_h = 0.62 * idt.chin_length
    # Tilted so the chin comes forward of the neck, as a real chin does.
    jaw = _ell([0, -0.36 - JAW_DROP * mouth_open, 0.02], [idt.jaw_width, chin_h, 0.72], -0.3)
    nose = nose_ellipsoid(idt)
    ear_x = 0.97 * hw + 0.02
    es = idt.ear_size
    ear_l = _ell([-ear_x, -0.06, -0.12], [0.06, 0.17 * es, 0.11 * es])
    ear_r = _ell([ear_x, -0.06, -0.12], [0.06, 0.17 * es, 0.11 * es])
    neck = _ell([0, -1.85, -0.3], [0.62 * hw, 1.1, 0.48])
    v = 1 + idt.hair_volume
    hair = _ell([0, 0.12 + 0.5 * idt.hair_volume, -0.08], [hw * v, 0.95 * v, 0.88 * v])
    return Head(
        cranium,
        jaw,
        nose,
        ear_l,
        ear_r,
        neck,
        hair,
        hairline=idt.hairline,
        hair_length=idt.hair_length,
    )


def hair_region(n_x: np.ndarray, n_y: np.ndarray, n_z: np.ndarray, head: Head) -> np.ndarray:
    """Where the hair shell carries hair, given the hit point's unit-sphere direction.

    The hairline sits high over the forehead and drops toward the nape; long hair drops
    further at the sides and back, never over the face.
    """
    front = np.clip((n_z - 0.05) / 0.55, 0, 1)
    back_line = -0.15 - 0.75 * head.hair_length
    line = front * head.hairline + (1 - front) * back_line
    return n_y > line


# --- ray casting -------------------------------------------------------------------


def ray_coeffs(ell: Ellipsoid, rot: np.ndarray):
    """Coefficients of |q(X, Y, t)|^2 = 1 for view rays (X, Y, t), t toward the camera.

    View = rot @ head, so a view point v maps to head R^T v and to the ellipsoid's unit
    frame by G v + k with G = diag(1/axes) M R^T.
    """
    g = (ell.orient @ rot.T) / ell.axes[:, None]
    k = -(ell.orient @ ell.centre) / ell.axes
    return g[:, 0], g[:, 1], g[:, 2], k


def intersect(
    ell: Ellipsoid, rot: np.ndarray, x: np.ndarray, y: np.ndarray, far: bool = False
) -> np.ndarray:
    """View depth t of the near (or far) hit of view rays at (x, y); NaN on a miss.

    x and y broadcast against each other: a row (1, W) and a column (H, 1) give an
    (H, W) image, two (N,) vectors give N points. Written as a quadratic in t whose
    coefficients are polynomials in x and y, so a pixel costs a few array operations.
    """
    u, w, e, k = ray_coeffs(ell, rot)
    a = float(e @ e)
    half_b = (x * float(u @ e) + float(k @ e)) + y * float(w @ e)
    c = (
        (x * x * float(u @ u) + x * (2 * float(u @ k)) + float(k @ k) - 1)
        + (y * y * float(w @ w) + y * (2 * float(w @ k)))
        + (x * y) * (2 * float(u @ w))
    )
    disc = half_b * half_b - a * c
    with np.errstate(invalid="ignore"):
        root = np.sqrt(disc)
    t = (-half_b - root) / a if far else (-half_b + root) / a
    return t.astype(np.float32, copy=False)


def front_depth(surfaces: list[Ellipsoid], xy: np.ndarray) -> np.ndarray:
    """Largest z of any surface at head points xy (N, 2) in a frontal view; NaN if none."""
    eye = np.eye(3)
    best = np.full(len(xy), np.nan)
    for ell in surfaces:
        best = np.fmax(best, intersect(ell, eye, xy[:, 0], xy[:, 1]))
    return best


# --- landmarks ---------------------------------------------------------------------


def _eye_shape(idt: Identity, blink: float) -> tuple[float, float, float]:
    """Half-width, upper-lid height (closing with blink) and lower-lid depth of an eye."""
    return 0.11 * idt.eye_size, 0.055 * idt.eye_size * (1 - 0.92 * blink), 0.035 * idt.eye_size


def _eye_points(cx: float, idt: Identity, blink: float) -> np.ndarray:
    """Six eye landmarks in iBUG order for an eye centred at x=cx (outer corner first)."""
    w, up, lo = _eye_shape(idt, blink)
    side = np.sign(cx)  # outer corner lies away from the nose
    outer, inner = cx + side * w, cx - side * w
    xs_up = [cx + side * w / 3, cx - side * w / 3]
    pts = [
        (outer, EYE_Y),
        (xs_up[0], EYE_Y + up * 0.93),
        (xs_up[1], EYE_Y + up * 0.93),
        (inner, EYE_Y - 0.005),
        (xs_up[1], EYE_Y - lo * 0.93),
        (xs_up[0], EYE_Y - lo * 0.93),
    ]
    return np.array(pts)


def eye_outline(
    cx: float, idt: Identity, blink: float, n: int = 12
) -> tuple[np.ndarray, np.ndarray]:
    """Dense upper and lower lid curves (n points each) of the eye at x=cx."""
    w, up, lo = _eye_shape(idt, blink)
    s = np.linspace(-1, 1, n)
    bump = (1 - s**2) ** 0.7
    xs = cx + s * w
    return np.stack([xs, EYE_Y + up * bump], 1), np.stack([xs, EYE_Y - lo * bump], 1)


def mouth_points(idt: Identity, mouth_open: float, smile: float) -> np.ndarray:
    """Outer (12) then inner (8) lip landmarks in iBUG order (points 48-67)."""
    mw = idt.mouth_width * (1 + 0.22 * smile)
    lt = idt.lip_thickness
    corner_y = MOUTH_Y + 0.05 * smile
    gap = 0.16 * mouth_open
    in_up = MOUTH_Y + 0.25 * gap
    in_lo = MOUTH_Y - 0.75 * gap
    out_up = in_up + 0.045 * lt
    out_lo = in_lo - 0.055 * lt
    xr, xl = -mw, mw
    outer = [
        (xr, corner_y),
        (-0.62 * mw, out_up - 0.012),
        (-0.25 * mw, out_up + 0.006),
        (0.0, out_up - 0.006),  # cupid's bow dips at the centre
        (0.25 * mw, out_up + 0.006),
        (0.62 * mw, out_up - 0.012),
        (xl, corner_y),
        (0.6 * mw, out_lo + 0.012 + 0.02 * smile),
        (0.28 * mw, out_lo + 0.004),
        (0.0, out_lo),
        (-0.28 * mw, out_lo + 0.004),
        (-0.6 * mw, out_lo + 0.012 + 0.02 * smile),
    ]
    ci = 0.88
    inner = [
        (ci * xr, corner_y),
        (-0.4 * mw, in_up + 0.004 * (1 - smile)),
        (0.0, in_up),
        (0.4 * mw, in_up + 0.004 * (1 - smile)),
        (ci * xl, corner_y),
        (0.4 * mw, in_lo + 0.01 * smile),
        (0.0, in_lo),
        (-0.4 * mw, in_lo + 0.01 * smile),
    ]
    return np.array(outer + inner)


def brow_points(idt: Identity, cx: float) -> np.ndarray:
    """Five brow landmarks over the eye at x=cx, from the face's side toward the nose."""
    side = np.sign(cx)
    s = np.linspace(1, -0.75, 5)  # outer end to inner end
    xs = cx + side * s * 0.15
    ys = EYE_Y + idt.brow_height + idt.brow_arch * (1 - (s - 0.15) ** 2) - 0.02 * (s > 0.9)
    return np.stack([xs, ys], 1)


def _half_width(ell: Ellipsoid, ys: np.ndarray) -> np.ndarray:
    """Half-width of the ellipsoid's frontal outline at heights ys (0 where it has none).

    The outline is the ellipse whose matrix is the Schur complement of the quadric's z
    row; tilts are about x only, so it has no x-y cross term.
    """
    q = ell.orient.T @ np.diag(1 / ell.axes**2) @ ell.orient
    s = q[:2, :2] - np.outer(q[:2, 2], q[2, :2]) / q[2, 2]
    dy = ys - ell.centre[1]
    return np.sqrt(np.clip((1 - s[1, 1] * dy**2) / s[0, 0], 0, None))


def jaw_points(head: Head, n: int = 17) -> np.ndarray:
    """Points along the lower face outline, from ear level on the image-left to the right.

    Follows the frontal silhouette of the cranium-jaw union, set 4 % inside it so every
    point lies on the face, equally spaced by arc length.
    """
    y_top = -0.06
    ys = np.linspace(y_top, -1.6, 400)
    hwid = np.maximum(_half_width(head.cranium, ys), _half_width(head.jaw, ys))
    keep = hwid > 0
    ys, hwid = ys[keep], hwid[keep] * 0.95
    ys = ys + 0.05 * (1 - hwid / hwid.max()) ** 4  # the chin point sits on the chin's front
    left = np.stack([-hwid, ys], 1)
    curve = np.concatenate([left, (left * [-1, 1])[::-1]])
    seg = np.linalg.norm(np.diff(curve, axis=0), axis=1)
    arc = np.concatenate([[0], np.cumsum(seg)])
    targets = np.linspace(0, arc[-1], n)
    return np.stack([np.interp(targets, arc, curve[:, 0]), np.interp(targets, arc, curve[:, 1])], 1)


@functools.lru_cache(maxsize=64)
def nose_points(idt: Identity) -> np.ndarray:
    """Bridge (27-30, top to tip) and nostril base (31-35) landmarks."""
    ys = np.linspace(EYE_Y, -0.7, 141)
    depth = front_depth([nose_ellipsoid(idt)], np.stack([np.zeros_like(ys), ys], 1))
    tip_y = ys[np.nanargmax(depth)]
    bridge = np.stack([np.zeros(4), np.linspace(EYE_Y + 0.01, tip_y, 4)], 1)
    base_y = tip_y - 0.075 * idt.nose_length
    nw = 0.085 * idt.nose_width
    xs = np.array([-1.15, -0.55, 0.0, 0.55, 1.15]) * nw
    base = np.stack([xs, base_y + np.array([0.025, 0.006, 0.0, 0.006, 0.025])], 1)
    return np.concatenate([bridge, base])


def landmarks_2d(idt: Identity, head: Head, expr: dict[str, float]) -> np.ndarray:
    """The 68 landmarks as head-plane points (68, 2) in iBUG 300-W order."""
    sp = idt.eye_spacing
    return np.concatenate(
        [
            jaw_points(head),
            brow_points(idt, -sp),
            brow_points(idt, sp)[::-1],
            nose_points(idt),
            _eye_points(-sp, idt, expr["blink"]),
            _eye_points(sp, idt, expr["blink"])[[3, 2, 1, 0, 5, 4]],
            mouth_points(idt, expr["mouth_open"], expr["smile"]),
        ]
    )


def lift(head: Head, xy: np.ndarray) -> np.ndarray:
    """Head-plane points (N, 2) lifted onto the front-most face surface: (N, 3)."""
    z = front_depth([head.cranium, head.jaw, head.nose], xy)
    return np.concatenate([xy, z[:, None]], 1)


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Head-to-view rotation for angles in degrees (yaw turns toward image right)."""
    y, p, r = np.radians([yaw, pitch, roll])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rz @ rx @ ry
