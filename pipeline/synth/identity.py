"""Identity parameters of a synthetic person: what stays fixed across every frame.

Each attribute is drawn independently from its own range, so two identities differ the
way two people do (shape, colouring, features, hair) rather than by one global knob.
Colours are BGR in [0, 1] because the renderer works in OpenCV's channel order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

# Albedo anchors from light to dark skin (BGR); a tone is a blend of two neighbours.
_SKIN_TONES = np.array(
    [
        [0.78, 0.86, 0.98],
        [0.62, 0.76, 0.93],
        [0.47, 0.62, 0.82],
        [0.33, 0.47, 0.66],
        [0.22, 0.32, 0.47],
    ],
    dtype=np.float32,
)
_HAIR_COLOURS = np.array(
    [
        [0.06, 0.06, 0.07],  # black
        [0.10, 0.17, 0.28],  # dark brown
        [0.22, 0.36, 0.52],  # light brown
        [0.45, 0.70, 0.85],  # blond
        [0.12, 0.25, 0.62],  # red
        [0.66, 0.68, 0.70],  # grey
    ],
    dtype=np.float32,
)
_IRIS_COLOURS = np.array(
    [
        [0.10, 0.20, 0.35],  # brown
        [0.70, 0.45, 0.25],  # blue
        [0.30, 0.50, 0.35],  # green
        [0.25, 0.35, 0.45],  # hazel
        [0.05, 0.08, 0.12],  # dark
    ],
    dtype=np.float32,
)


@dataclass(frozen=True)
class Identity:
    """Fixed appearance of one synthetic person (head units: head half-height ~ 1)."""

    name: str
    skin: tuple[float, float, float]
    head_width: float
    jaw_width: float
    chin_length: float
    eye_size: float
    eye_spacing: float
    iris: tuple[float, float, float]
    brow_thickness: float
    brow_arch: float
    brow_height: float
    nose_length: float
    nose_width: float
    nose_depth: float
    mouth_width: float
    lip_thickness: float
    lip_colour: tuple[float, float, float]
    hair_colour: tuple[float, float, float]
    hairline: float
    hair_volume: float
    hair_length: float
    ear_size: float
    beard: float
    texture_seed: int
    # Colour of brows, lashes and beard; None: drawn from the hair colour. Set only where
    # a face is put on another person's head (``face_swap_truth``).
    facial_hair_colour: tuple[float, float, float] | None = None
    # (texture_seed, beard) of the person whose hair this head carries; None: its own.
    hair_texture_of: tuple[int, float] | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _blend(palette: np.ndarray, u: float) -> tuple[float, float, float]:
    """A colour on the piecewise-linear path through ``palette`` at position u in [0, 1]."""
    x = u * (len(palette) - 1)
    i = min(int(x), len(palette) - 2)
    f = x - i
    c = palette[i] * (1 - f) + palette[i + 1] * f
    return tuple(float(v) for v in c)


def sample_identity(name: str, seed: int) -> Identity:
    """Draw an identity deterministically from ``seed``; every attribute independently."""
    rng = np.random.default_rng([seed, 0x1D])
    u = rng.uniform
    skin = _blend(_SKIN_TONES, u())
    lip = np.array(skin) * np.array([0.72, 0.70, 0.98]) * u(0.8, 1.0)
    hair = _HAIR_COLOURS[rng.integers(len(_HAIR_COLOURS))] * u(0.85, 1.15)
    iris = _IRIS_COLOURS[rng.integers(len(_IRIS_COLOURS))] * u(0.8, 1.2)
    return Identity(
        name=name,
        skin=skin,
        head_width=u(0.70, 0.86),
        jaw_width=u(0.50, 0.68),
        chin_length=u(0.88, 1.08),
        eye_size=u(0.8, 1.2),
        eye_spacing=u(0.28, 0.36),
        iris=tuple(float(v) for v in np.clip(iris, 0, 1)),
        brow_thickness=u(0.025, 0.06),
        brow_arch=u(0.0, 0.07),
        brow_height=u(0.17, 0.26),
        nose_length=u(0.8, 1.2),
        nose_width=u(0.8, 1.3),
        nose_depth=u(0.7, 1.2),
        mouth_width=u(0.19, 0.28),
        lip_thickness=u(0.6, 1.4),
        lip_colour=tuple(float(v) for v in np.clip(lip, 0, 1)),
        hair_colour=tuple(float(v) for v in np.clip(hair, 0, 1)),
        hairline=u(0.42, 0.70),
        hair_volume=u(0.04, 0.16),
        hair_length=u(0.0, 1.0),
        ear_size=u(0.8, 1.2),
        beard=float(u() ** 3),  # most have none, a few a visible beard
        texture_seed=int(rng.integers(2**31)),
    )


# What a face swap keeps of the target person: the head around the face (outline, ears,
# hair). Everything else (eyes, brows, nose, mouth, lips, beard, skin texture) is the
# inner face that a swap replaces.
HEAD_FIELDS = (
    "head_width",
    "jaw_width",
    "chin_length",
    "hair_colour",
    "hairline",
    "hair_volume",
    "hair_length",
    "ear_size",
)


def face_swap_truth(head: Identity, face: Identity, target_skin: bool) -> Identity:
    """``face``'s inner face on ``head``'s head: what a perfect face swap shows.

    A face swap replaces the inner face and keeps the head (outline, ears, hair, neck), so
    the ground truth of a whole-head render is out of its reach. ``target_skin``: the
    skin tone is ``head``'s, as colour transfer promises (refine.color rct/lct/hist);
    otherwise ``face``'s (refine.color none). Lips keep ``face``'s ratio to its skin.
    """
    skin = head.skin if target_skin else face.skin
    lip = np.array(face.lip_colour) * np.array(skin) / np.maximum(np.array(face.skin), 1e-6)
    return replace(
        face,
        name=f"{face.name}_on_{head.name}",
        skin=skin,
        lip_colour=tuple(float(v) for v in np.clip(lip, 0, 1)),
        facial_hair_colour=face.facial_hair_colour or face.hair_colour,
        hair_texture_of=head.hair_texture_of or (head.texture_seed, head.beard),
        **{k: getattr(head, k) for k in HEAD_FIELDS},
    )
