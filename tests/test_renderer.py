"""The synthetic renderer: deterministic, 3-D consistent, distinct identities, exact landmarks."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from pipeline.synth.background import render_background
from pipeline.synth.identity import Identity, face_swap_truth, sample_identity
from pipeline.synth.performance import (
    FIELDS,
    frame_of,
    random_performance,
    smooth_performance,
)
from pipeline.synth.render import render_frame

NEUTRAL = {k: (lo + hi) / 2 for k, (lo, hi) in FIELDS.items()} | {
    "mouth_open": 0.0,
    "smile": 0.0,
    "blink": 0.0,
    "gaze_x": 0.0,
    "gaze_y": 0.0,
    "light_azimuth": 0.0,
    "light_elevation": 20.0,
    "scale": 1.0,
    "shift_x": 0.0,
    "shift_y": 0.0,
    "light_intensity": 1.0,
    "light_warmth": 0.0,
}
FLAT = np.full((256, 256, 3), 128, np.uint8)


def test_same_seed_same_frames_and_different_seed_different_frames():
    perf = smooth_performance(3, 12)
    bg = render_background(4, 256)
    a = [render_frame(sample_identity("x", 7), frame_of(perf, i), bg) for i in range(12)]
    b = [render_frame(sample_identity("x", 7), frame_of(perf, i), bg) for i in range(12)]
    c = render_frame(sample_identity("x", 8), frame_of(perf, 0), bg)
    for fa, fb in zip(a, b):
        assert np.array_equal(fa.image, fb.image)
        assert np.array_equal(fa.landmarks, fb.landmarks)
    assert np.abs(a[0].image.astype(int) - c.image).mean() > 2
    assert np.array_equal(render_background(4, 256), bg)


def test_identity_has_at_least_eight_independent_attributes():
    people = [sample_identity("p", s) for s in range(400)]
    numeric = {}
    for f in dataclasses.fields(Identity):
        if f.name in ("name", "texture_seed", "facial_hair_colour", "hair_texture_of"):
            continue  # not drawn: set only where a face goes on another head
        values = np.array([np.mean(getattr(p, f.name)) for p in people], dtype=float)
        if values.std() > 0:
            numeric[f.name] = values
    assert len(numeric) >= 8
    corr = np.corrcoef(np.stack(list(numeric.values())))
    off = np.abs(corr - np.eye(len(numeric)))
    # Lip colour is derived from skin tone on purpose; everything else is independent.
    names = list(numeric)
    off[names.index("lip_colour"), names.index("skin")] = 0
    off[names.index("skin"), names.index("lip_colour")] = 0
    assert off.max() < 0.2, f"correlated attributes: {off.max():.2f}"


def test_performance_ranges_and_smoothness():
    perf = smooth_performance(9, 500)
    for name, (lo, hi) in FIELDS.items():
        assert perf[name].min() >= lo - 1e-4 and perf[name].max() <= hi + 1e-4, name
    step = np.abs(np.diff(perf["yaw"])).max()
    assert step < 3.0, "yaw jumps more than 3 degrees between frames at 25 fps"
    wide = random_performance(9, 2000)
    assert wide["yaw"].min() < -30 and wide["yaw"].max() > 30
    assert wide["roll"].min() < -12 and wide["roll"].max() > 12


def _with_markers(idt: Identity) -> Identity:
    """The same person with pure-colour lips, irises and brows (BGR)."""
    return dataclasses.replace(
        idt,
        lip_colour=(0.0, 1.0, 0.0),
        iris=(1.0, 0.0, 0.0),
        hair_colour=(0.0, 0.0, 1.0),
        beard=0.0,
    )


def _dominant(pixel: np.ndarray) -> int:
    return int(np.argmax(pixel.astype(int)))


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("yaw", [-25.0, 0.0, 25.0])
def test_landmarks_fall_on_the_rendered_features(seed, yaw):
    idt = _with_markers(sample_identity("m", seed))
    perf = NEUTRAL | {"yaw": yaw, "pitch": 5.0, "roll": 8.0}
    frame = render_frame(idt, perf, FLAT)
    lm, img = frame.landmarks, frame.image

    def at(p):
        return img[int(round(p[1])), int(round(p[0]))]

    # Lips: midway between each outer upper-lip point and the inner lip line.
    for o, i in ((50, 61), (51, 62), (52, 63), (57, 66)):
        assert _dominant(at((lm[o] + lm[i]) / 2)) == 1, f"lip point {o} is not on the lip"
    # Iris: around the centre of each open eye looking ahead (pupil and glint inside).
    for eye in (slice(36, 42), slice(42, 48)):
        if frame.visible[eye].all():
            x, y = np.round(lm[eye].mean(0)).astype(int)
            assert _dominant(img[y - 2 : y + 3, x - 2 : x + 3].mean((0, 1))) == 0, (
                "eye centre off iris"
            )
    # Brows: every visible brow point is on the brow.
    for k in range(17, 27):
        if frame.visible[k]:
            assert _dominant(at(lm[k])) == 2, f"brow point {k} is not on the brow"
    # Nose tip and jaw line lie on the face.
    assert frame.face_mask[int(round(lm[30, 1])), int(round(lm[30, 0]))] == 255
    for k in np.flatnonzero(frame.visible[:17]):
        y, x = int(round(lm[k, 1])), int(round(lm[k, 0]))
        assert frame.face_mask[y - 2 : y + 3, x - 2 : x + 3].any(), f"jaw point {k} is off the face"


def test_turning_the_head_hides_the_far_side():
    idt = sample_identity("t", 4)
    left = render_frame(idt, NEUTRAL | {"yaw": -35.0}, FLAT)
    right = render_frame(idt, NEUTRAL | {"yaw": 35.0}, FLAT)
    front = render_frame(idt, NEUTRAL, FLAT)
    assert front.visible[17:68].all()
    # The far jaw line goes out of sight on one side only, mirrored by the turn.
    assert (
        left.visible[:4].all() != right.visible[:4].all()
        or left.visible[13:17].all() != right.visible[13:17].all()
    )
    assert (~left.visible).sum() > 0 and (~right.visible).sum() > 0
    # Projected eye distance shrinks with yaw as a 3-D head's does (cos 35 ~ 0.82).
    d = lambda f: np.linalg.norm(f.landmarks[42:48].mean(0) - f.landmarks[36:42].mean(0))  # noqa: E731
    ratio = d(left) / d(front)
    assert 0.7 < ratio < 0.9


def test_shading_follows_the_light():
    idt = sample_identity("l", 5)
    lit_left = render_frame(idt, NEUTRAL | {"light_azimuth": -60.0}, FLAT)
    lit_right = render_frame(idt, NEUTRAL | {"light_azimuth": 60.0}, FLAT)
    lm = lit_left.landmarks
    cheek_l = lm[[1, 2, 3, 31]].mean(0).astype(int)  # image-left cheek
    cheek_r = lm[[15, 14, 13, 35]].mean(0).astype(int)
    lum = lambda f, p: f.image[p[1] - 2 : p[1] + 3, p[0] - 2 : p[0] + 3].mean()  # noqa: E731
    assert lum(lit_left, cheek_l) > lum(lit_left, cheek_r) + 10
    assert lum(lit_right, cheek_r) > lum(lit_right, cheek_l) + 10


def _signature(frame) -> np.ndarray:
    """Layout of the face: distances between landmarks over the eye-corner distance.

    An identity measure must ignore what changes from frame to frame (pose, framing,
    light, expression) and keep what a person keeps. Ratios of distances within the face
    are unchanged by framing and light and change little with pose, while identities
    differ in them (eye spacing, nose and chin length, mouth and face width), as in the
    geometric face recognition that predates learned embeddings.
    """
    lm = frame.landmarks.astype(np.float64)
    dist = lambda i, j: np.linalg.norm(lm[i] - lm[j])  # noqa: E731
    eyes = dist(36, 45)
    return (
        np.array(
            [
                dist(48, 54),
                dist(27, 57),
                dist(27, 33),
                dist(27, 8),
                dist(0, 16),
                dist(39, 42),
                dist(19, 37),
                dist(24, 44),
            ]
        )
        / eyes
    )


@pytest.mark.parametrize("pair", [(11, 23), (1, 2), (5, 6), (7, 9), (13, 14)])
def test_two_identities_differ_more_than_two_frames_of_one(pair):
    perf = random_performance(77, 40)
    bg = render_background(1, 256)
    sigs = {
        s: np.array(
            [
                _signature(render_frame(sample_identity("i", s), frame_of(perf, i), bg))
                for i in range(40)
            ]
        )
        for s in pair
    }
    a, b = sigs[pair[0]], sigs[pair[1]]
    within = np.mean([np.linalg.norm(x[:20] - x[20:], axis=1).mean() for x in (a, b)])
    between = np.linalg.norm(a[:20] - b[20:], axis=1).mean()
    assert between > within
    # And the nearest-centroid rule sorts held-out frames to the right person.
    ca, cb = a[:20].mean(0), b[:20].mean(0)
    right = sum(np.linalg.norm(x - ca) < np.linalg.norm(x - cb) for x in a[20:]) + sum(
        np.linalg.norm(x - cb) < np.linalg.norm(x - ca) for x in b[20:]
    )
    assert right >= 34, f"{right}/40 frames sorted to the right identity"


def test_face_swap_truth_keeps_the_head_and_takes_the_inner_face():
    """The truth a face swap can reach: B's inner face on A's head, A's skin tone."""
    a, b = sample_identity("a", 11), sample_identity("b", 8)
    perf = NEUTRAL | {"yaw": 15.0, "mouth_open": 0.4}
    fa = render_frame(a, perf, FLAT)
    own = render_frame(face_swap_truth(a, b, target_skin=True), perf, FLAT)
    other = render_frame(face_swap_truth(a, b, target_skin=False), perf, FLAT)
    # The head outline is A's: the jaw line lands where A's does, the features do not.
    assert np.abs(own.landmarks[:17] - fa.landmarks[:17]).max() < 0.5
    assert np.abs(own.landmarks[36:48] - fa.landmarks[36:48]).max() > 1.0
    # Hair and background are A's render exactly; inside the face they differ.
    face = (own.face_mask > 0) | (fa.face_mask > 0)
    rows = np.arange(256)[:, None] < own.landmarks[17:27, 1].min() - 12  # above the brows
    hair = rows & ~face & (np.abs(fa.image.astype(int) - 128).sum(2) > 0)
    assert hair.sum() > 500
    assert np.abs(own.image.astype(int) - fa.image)[hair].mean() < 1.0
    assert np.abs(own.image.astype(int) - fa.image)[face].mean() > 5
    # The skin tone follows the colour mode's promise: A's after colour transfer.
    forehead = rows & (own.face_mask > 0) & (fa.face_mask > 0) & (other.face_mask > 0)
    tone = {k: f.image[forehead].mean(0) for k, f in (("a", fa), ("own", own), ("other", other))}
    assert np.abs(tone["own"] - tone["a"]).sum() < np.abs(tone["other"] - tone["a"]).sum()
