"""Refinement parts on real rendered frames: colour transfer, smoothing, mask, blending."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from omegaconf import OmegaConf

from pipeline.collect import synthetic
from pipeline.faces.align import alignment_matrix, transform_points, warp_face
from pipeline.faces.mask import hull_mask, skin_mask
from pipeline.faces.smoothing import jitter_energy, smooth_track
from pipeline.generate.swap import jitter_landmarks
from pipeline.refine.blend import blend_face, shape_mask
from pipeline.refine.color import MODES, make, region_stats
from tests.helpers import smoke_cfg

SIZE = 64


@pytest.fixture(scope="module")
def clip():
    """40 frames of the smoke target clip: actor and ground-truth renders."""
    data = smoke_cfg().data
    people = synthetic.identities(data)
    perf = synthetic.target_performance(1.6, data.fps, 5)
    frames = synthetic.target_frames(people["synth_a"], [people["synth_b"]], perf, 5, 192)
    return [(actor, truth) for actor, (truth,) in frames]


def _crops(frame):
    m = alignment_matrix(frame.landmarks, SIZE)
    crop = warp_face(frame.image, m, SIZE)
    region = hull_mask(transform_points(frame.landmarks, m), (SIZE, SIZE)) > 127
    return crop, region, m


@pytest.mark.parametrize("mode", [m for m in MODES if m != "none"])
def test_colour_transfer_moves_the_face_toward_the_target(clip, mode):
    actor, truth = clip[10]
    target, region, _ = _crops(actor)
    # The "swapped face": the other identity, tinted and darkened as a decoder might be.
    face, _, _ = _crops(truth)
    face = np.clip(face.astype(int) * [0.8, 0.9, 1.15] - 10, 0, 255).astype(np.uint8)
    want = region_stats(target, region)
    before = np.abs(region_stats(face, region) - want).mean()
    out = make(mode)(face, target, region)
    after = np.abs(region_stats(out, region) - want).mean()
    assert after < 0.5 * before, (mode, before, after)
    assert make("none")(face, target, region) is face


def test_skin_statistics_keep_a_beards_contrast(clip):
    """Statistics over the whole face would pull a bearded face's contrast down to a
    bare target's, greying the beard; over bare skin they transfer only the tone."""
    actor, truth = clip[10]
    target, region, m = _crops(actor)
    face, _, _ = _crops(truth)
    lm = transform_points(truth.landmarks, m)
    beard = np.zeros((SIZE, SIZE), np.uint8)
    cv2.fillPoly(beard, [np.round(lm[[*range(3, 14), 35, 33, 31]]).astype(np.int32)], 255)
    skin = region & skin_mask(lm, (SIZE, SIZE))
    beard = (beard > 0) & region & ~skin
    assert skin.sum() > 50 and beard.sum() > 100
    face[beard] = (face[beard] * 0.35).astype(np.uint8)

    def gap(img):
        lum = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(float)
        return lum[skin].mean() - lum[beard].mean()

    kept = gap(make("rct")(face, target, skin)) / gap(face)
    flattened = gap(make("rct")(face, target, region)) / gap(face)
    assert 0.8 < kept < 1.25 and flattened < 0.8 * kept, (kept, flattened)


def test_colour_smoothing_steadies_a_flickering_target(clip):
    actor, truth = clip[10]
    target, region, _ = _crops(actor)
    face, _, _ = _crops(truth)
    rng = np.random.default_rng(0)
    flicker = [np.clip(target.astype(int) + rng.normal(0, 8), 0, 255).astype(np.uint8)]
    flicker += [
        np.clip(target.astype(int) + rng.normal(0, 8), 0, 255).astype(np.uint8) for _ in range(30)
    ]

    def wobble(smoothing):
        ct = make("rct", smoothing)
        means = [region_stats(ct(face, t, region), region)[0] for t in flicker]
        return np.abs(np.diff(means, axis=0)).mean()

    assert wobble(0.8) < 0.4 * wobble(0.0)


@pytest.mark.parametrize("method", ["savgol", "one_euro"])
def test_smoothing_lowers_landmark_jitter(clip, method):
    truth = np.stack([a.landmarks for a, _ in clip]).astype(np.float64)
    jittered = jitter_landmarks(truth, 0.01, seed=3)
    cfg = smoke_cfg(f"generate.smoothing.method={method}").generate.smoothing  # defaults
    smoothed = smooth_track(jittered, cfg, fps=25.0)
    assert jitter_energy(smoothed) < 0.5 * jitter_energy(jittered)
    err = lambda p: np.linalg.norm(p - truth, axis=-1).mean()  # noqa: E731
    assert err(smoothed) < err(jittered)
    # A frame without a face stays without one, and splits the track.
    jittered[12] = np.nan
    assert np.isnan(smooth_track(jittered, cfg, 25.0)[12]).all()


def test_erode_shrinks_and_negative_erode_grows_the_mask(clip):
    actor, _ = clip[0]
    _, region, m = _crops(actor)
    mask = region.astype(np.uint8) * 255
    lm = transform_points(actor.landmarks, m)

    def area(erode):
        cfg = OmegaConf.create({"source": "predicted", "erode": erode, "blur": 0.0})
        return int((shape_mask(mask, lm, cfg) > 127).sum())

    assert area(0.05) < area(0.0) < area(-0.05)


@pytest.mark.parametrize("mode", ["alpha", "poisson"])
def test_blending_puts_the_face_in_and_leaves_the_rest(clip, mode):
    actor, truth = clip[5]
    frame = actor.image
    _, region, m = _crops(actor)
    face = warp_face(truth.image, m, SIZE)
    cfg = OmegaConf.create({"source": "predicted", "erode": 0.02, "blur": 0.08})
    mask = shape_mask(region.astype(np.uint8) * 255, None, cfg)
    out = blend_face(frame, face, mask, m, mode, 0.3, 1.0)
    inside = cv2.warpAffine(
        region.astype(np.uint8), m, frame.shape[1::-1], flags=cv2.WARP_INVERSE_MAP
    ).astype(bool)
    inside = cv2.erode(inside.astype(np.uint8), np.ones((9, 9))).astype(bool)
    gap = lambda a, b: np.abs(a.astype(int) - b.astype(int))[inside].mean()  # noqa: E731
    assert gap(out, truth.image) < 0.6 * gap(frame, truth.image)
    far = np.ones(frame.shape[:2], bool)
    far[: frame.shape[0] // 2 + 40] = False  # well below the face
    far = far & ~cv2.dilate(inside.astype(np.uint8), np.ones((41, 41))).astype(bool)
    assert np.array_equal(out[far], frame[far])


def test_refining_outputs_of_a_generate_without_crops_names_what_to_re_run(tmp_path):
    """Generated folders from before generate kept the target's crops: refine stops in one
    sentence naming the folder and the stage to re-run, and writes nothing."""
    from pipeline.errors import UserError
    from pipeline.generate.targets import Target
    from pipeline.refine.refine import refine_target

    gen = tmp_path / "generated"
    gen.mkdir()
    np.save(gen / "faces.npy", np.zeros((2, SIZE, SIZE, 3), np.uint8))
    np.save(gen / "masks.npy", np.zeros((2, SIZE, SIZE), np.uint8))
    target = Target("clip", "video", tmp_path / "clip", {"frames": 2, "swap_to": "b"})
    out = tmp_path / "final"
    with pytest.raises(UserError, match=r"no crops\.npy.*dvc repro generate") as err:
        refine_target(target, gen, smoke_cfg().refine, out, lambda frame, lm=None: frame)
    assert str(gen) in str(err.value) and "\n" not in str(err.value)
    assert not out.exists()
