"""Things in front of a face: a hand, a microphone, glasses, strands of hair.

Each is drawn over a rendered frame from the face's 68 landmarks, so it moves with the
head, and returns its exact coverage: the frame's visible face is the renderer's face
minus that. Shapes are placed in face units (``u`` along the eye line, ``v`` down it,
one unit = the jaw's width) and animated by a ``phase`` in [0, 1): a clip sweeps the
phase over its frames, a training face draws it at random. Everything comes from the
occluder's own seed, so a ground-truth render gets the same pixels in front of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

KINDS = ("hand", "microphone", "glasses", "hair")
_SUB = 4  # sub-pixel bits for cv2's anti-aliased drawing
_ONE = 1 << _SUB


@dataclass
class FaceFrame:
    """The face's position: centre, jaw width, and the unit vectors along and across
    the eye line (pixels)."""

    centre: np.ndarray
    width: float
    ex: np.ndarray
    ey: np.ndarray

    @classmethod
    def of(cls, landmarks: np.ndarray) -> FaceFrame:
        eyes = landmarks[42:48].mean(0) - landmarks[36:42].mean(0)
        ex = eyes / max(np.linalg.norm(eyes), 1e-6)
        ey = np.array([-ex[1], ex[0]])
        width = float(np.linalg.norm(landmarks[16] - landmarks[0]))
        return cls(landmarks[27:36].mean(0), max(width, 4.0), ex, ey)

    def at(self, u: float, v: float) -> np.ndarray:
        return self.centre + self.width * (u * self.ex + v * self.ey)

    def px(self, points) -> np.ndarray:
        """Points in face units as fixed-point pixel coordinates for cv2."""
        pts = np.array([self.at(u, v) for u, v in points])
        return np.round(pts * _ONE).astype(np.int32)

    def angle(self) -> float:
        return float(np.degrees(np.arctan2(self.ex[1], self.ex[0])))


class Occluder:
    """One occluder of ``kind`` with its look and motion drawn from ``seed``."""

    def __init__(self, kind: str, seed: int):
        if kind not in KINDS:
            raise ValueError(f"unknown occluder {kind!r}; one of {', '.join(KINDS)}")
        self.kind = kind
        rng = np.random.default_rng([seed, KINDS.index(kind)])
        self.side = float(rng.choice([-1.0, 1.0]))
        self.offset = float(rng.uniform(-0.12, 0.12))
        self.tilt = float(rng.uniform(-25, 25))
        self.strands = [
            (rng.uniform(-0.35, 0.35), rng.uniform(-0.25, 0.25), rng.uniform(0.05, 0.3))
            for _ in range(int(rng.integers(2, 5)))
        ]
        tone = rng.uniform(0.45, 1.0)
        self.colour = {
            "hand": (np.array([120, 150, 205]) * tone).tolist(),
            "microphone": [float(rng.uniform(25, 60))] * 3,
            "glasses": (rng.uniform(10, 90, 3)).tolist(),
            "hair": (np.array([30, 45, 70]) * rng.uniform(0.4, 2.2)).clip(0, 255).tolist(),
        }[kind]

    def draw(self, image: np.ndarray, landmarks: np.ndarray, phase: float) -> np.ndarray:
        """Draw over ``image`` (in place) and return the coverage (H, W) uint8, 255 where
        the occluder is opaque (anti-aliased edges in between)."""
        face = FaceFrame.of(landmarks)
        mask = np.zeros(image.shape[:2], np.uint8)
        shapes = getattr(self, f"_{self.kind}")(face, phase)
        for colour, draw in shapes:
            layer = np.zeros_like(mask)
            draw(layer, 255)
            x, y, w, h = cv2.boundingRect(layer)  # outside it the shape changes nothing
            if not w:
                continue
            box = (slice(y, y + h), slice(x, x + w))
            a = layer[box].astype(np.float32)[..., None] / 255
            blended = image[box] * (1 - a) + np.array(colour, np.float32) * a
            image[box] = blended.round().astype(np.uint8)
            np.maximum(mask, layer, out=mask)
        return mask

    # Each shape list: (BGR colour, function drawing the shape into a layer with a value).

    def _hand(self, f: FaceFrame, phase: float):
        rise = 0.5 + 0.5 * np.sin(2 * np.pi * phase)  # 0: below the chin, 1: over the mouth
        cu, cv = self.side * (0.18 + self.offset), 0.95 - 0.55 * rise
        w = f.width
        shapes = []
        palm = f.at(cu, cv)
        axes = (int(0.22 * w), int(0.3 * w))
        ang = f.angle() + self.tilt * self.side

        def palm_fn(layer, val, c=palm, a=axes, g=ang):
            cv2.ellipse(
                layer,
                tuple(np.round(c * _ONE).astype(int)),
                (a[0] * _ONE, a[1] * _ONE),
                g,
                0,
                360,
                val,
                -1,
                cv2.LINE_AA,
                _SUB,
            )

        shapes.append((self.colour, palm_fn))
        for k in range(4):  # fingers up from the palm, fanned
            du = cu + (k - 1.5) * 0.1
            tip = (
                du + 0.05 * (k - 1.5) + 0.1 * np.sin(np.radians(self.tilt)) * self.side,
                cv - 0.55,
            )
            pts = f.px([(du, cv - 0.1), tip])
            thick = max(1, int(0.085 * w))

            def finger_fn(layer, val, p=pts, t=thick):
                cv2.line(layer, tuple(p[0]), tuple(p[1]), val, t, cv2.LINE_AA, _SUB)

            shade = [c * (0.92 + 0.03 * k) for c in self.colour]
            shapes.append((shade, finger_fn))
        return shapes

    def _microphone(self, f: FaceFrame, phase: float):
        bob = 0.04 * np.sin(2 * np.pi * phase)
        head = (self.side * (0.2 + self.offset), 0.34 + bob)  # beside the mouth
        handle_end = (head[0] + self.side * 0.35, head[1] + 1.4)
        w = f.width
        pts = f.px([head, handle_end])
        centre = tuple(pts[0])
        radius = int(0.13 * w * _ONE)

        def handle_fn(layer, val):
            cv2.line(
                layer, tuple(pts[0]), tuple(pts[1]), val, max(1, int(0.08 * w)), cv2.LINE_AA, _SUB
            )

        def head_fn(layer, val):
            cv2.circle(layer, centre, radius, val, -1, cv2.LINE_AA, _SUB)

        def mesh_fn(layer, val):
            for k in range(-2, 3):  # the grille: lighter lines across the head
                off = np.round(k * 0.045 * w * _ONE * f.ey).astype(int)
                half = np.round(0.1 * w * _ONE * f.ex).astype(int)
                c = np.array(centre)
                cv2.line(
                    layer, tuple(c + off - half), tuple(c + off + half), val, 1, cv2.LINE_AA, _SUB
                )

        grey = self.colour
        return [
            (grey, handle_fn),
            ([c + 70 for c in grey], head_fn),
            ([c + 120 for c in grey], mesh_fn),
        ]

    def _glasses(self, f: FaceFrame, phase: float):
        w = f.width
        thick = max(1, int(round(0.035 * w)))
        rims = []
        for u in (-0.2, 0.2):
            c = np.round(f.at(u, -0.17) * _ONE).astype(int)
            rims.append(c)
        axes = (int(0.15 * w * _ONE), int(0.1 * w * _ONE))
        ang = f.angle()
        bridge = f.px([(-0.05, -0.19), (0.05, -0.19)])
        temples = f.px([(-0.35, -0.18), (-0.5, -0.15), (0.35, -0.18), (0.5, -0.15)])

        def fn(layer, val):
            for c in rims:
                cv2.ellipse(layer, tuple(c), axes, ang, 0, 360, val, thick, cv2.LINE_AA, _SUB)
            cv2.line(layer, tuple(bridge[0]), tuple(bridge[1]), val, thick, cv2.LINE_AA, _SUB)
            cv2.line(layer, tuple(temples[0]), tuple(temples[1]), val, thick, cv2.LINE_AA, _SUB)
            cv2.line(layer, tuple(temples[2]), tuple(temples[3]), val, thick, cv2.LINE_AA, _SUB)

        return [(self.colour, fn)]

    def _hair(self, f: FaceFrame, phase: float):
        w = f.width
        sway = 0.05 * np.sin(2 * np.pi * phase)
        shapes = []
        for u0, du, reach in self.strands:
            s = np.linspace(0, 1, 12)
            us = u0 + (du + sway) * s**2
            vs = -0.62 + (0.5 + reach) * s
            pts = f.px(list(zip(us, vs)))

            def fn(layer, val, p=pts):
                cv2.polylines(layer, [p], False, val, max(1, int(0.03 * w)), cv2.LINE_AA, _SUB)

            shapes.append((self.colour, fn))
        return shapes


def occlude(
    image: np.ndarray, landmarks: np.ndarray, occluders: list[Occluder], phase: float
) -> np.ndarray:
    """Draw every occluder over ``image`` in place, in order; each one's coverage,
    (K, H, W) uint8 (what a later one covers still counts as the earlier one's)."""
    if not occluders:
        return np.zeros((0, *image.shape[:2]), np.uint8)
    return np.stack([occ.draw(image, landmarks, phase) for occ in occluders])
