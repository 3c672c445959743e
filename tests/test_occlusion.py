"""Occluders (issue 12): drawn with their exact coverage, left out of the training masks,
kept in front by the occlusion mask source, and measured by evaluate."""

from __future__ import annotations

import numpy as np
import pytest
from omegaconf import OmegaConf

from pipeline.collect import synthetic
from pipeline.evaluate.occlusion import occlusion_figures
from pipeline.faces.align import alignment_matrix, warp_face
from pipeline.faces.mask import hull_mask
from pipeline.io.video import VideoWriter
from pipeline.refine.blend import shape_mask
from pipeline.synth.occluders import KINDS, Occluder, occlude
from tests.helpers import smoke_cfg


@pytest.fixture(scope="module")
def clip():
    """Ten frames of the smoke target, unoccluded (performer frames only)."""
    data = smoke_cfg().data
    people = synthetic.identities(data)
    perf = synthetic.target_performance(0.4, 25.0, 6)
    return [a for a, _ in synthetic.target_frames(people["synth_a"], [], perf, 6, 256)]


@pytest.mark.parametrize("kind", KINDS)
def test_each_occluder_changes_exactly_what_its_coverage_says_and_covers_the_face(clip, kind):
    frame = clip[3]
    image = frame.image.copy()
    cover = Occluder(kind, seed=1).draw(image, frame.landmarks, phase=0.25)
    changed = np.any(image != frame.image, axis=2)
    assert not (changed & (cover == 0)).any()  # nothing outside its coverage moves
    assert changed[cover == 255].mean() > 0.9  # and where it is opaque it shows
    hull = hull_mask(frame.landmarks, image.shape[:2]) > 127
    assert (hull & (cover > 127)).sum() > 0.01 * hull.sum(), kind  # in front of the face
    again = frame.image.copy()
    Occluder(kind, seed=1).draw(again, frame.landmarks, phase=0.25)
    assert np.array_equal(again, image)  # the seed decides everything


def test_unknown_occluder_kinds_are_refused():
    with pytest.raises(ValueError, match="unknown occluder 'scarf'"):
        Occluder("scarf", 0)
    data = smoke_cfg().data
    bad = OmegaConf.merge(data, {"targets": [dict(data.targets[0], occluders=["scarf"])]})
    with pytest.raises(Exception, match="occluder 'scarf' is not one of"):
        synthetic.check_config(bad)


def test_training_masks_leave_the_occluder_out_and_occlusion_zero_changes_nothing():
    data = smoke_cfg("data.occlusion=0").data
    idt = synthetic.identities(data)["synth_a"]
    plain = list(synthetic.training_faces(idt, 11, 12, data))
    # The pretrain pool's render settings have no occlusion key: the same faces.
    keys = ("frame_size", "crop_size", "coverage", "scenes")
    pool = OmegaConf.create({k: data[k] for k in keys})
    again = list(synthetic.training_faces(idt, 11, 12, pool))
    assert all(np.array_equal(a.crop, b.crop) for a, b in zip(plain, again))
    occluded = list(
        synthetic.training_faces(idt, 11, 12, OmegaConf.merge(data, {"occlusion": 1.0}))
    )
    smaller = 0
    for p, o in zip(plain, occluded):
        hull = hull_mask(o.landmarks, o.mask.shape)
        assert (o.mask <= hull).all()  # never more than the face
        moved = np.any(o.crop != p.crop, axis=2)
        # where the occluder is opaque, the mask is off; where nothing changed, it is on
        assert (o.mask[moved & (hull == 255)] < 255).mean() > 0.9
        smaller += o.mask.sum() < 0.97 * hull.sum()
    assert smaller >= 9, smaller


def test_clip_occluders_are_the_same_pixels_over_the_performer_and_the_truth():
    data = smoke_cfg().data
    people = synthetic.identities(data)
    perf = synthetic.target_performance(0.2, 25.0, 6)
    plain = list(synthetic.target_frames(people["synth_a"], [people["synth_b"]], perf, 6, 256))
    hidden = list(
        synthetic.target_frames(
            people["synth_a"], [people["synth_b"]], perf, 6, 256, ["hand", "glasses"]
        )
    )
    for (a, (b,)), (oa, (ob,)) in zip(plain, hidden):
        assert a.hidden is None and oa.hidden.shape == (2, 256, 256)  # hand, glasses
        joint = oa.hidden.max(0)
        cover = joint == 255
        assert cover.any()
        assert np.array_equal(oa.image[cover], ob.image[cover])  # same thing in front
        assert np.array_equal(oa.image[joint == 0], a.image[joint == 0])
        assert np.array_equal(ob.image[joint == 0], b.image[joint == 0])


def test_the_occlusion_source_takes_the_smaller_of_the_two_masks():
    predicted = np.full((64, 64), 255, np.uint8)
    own = predicted.copy()
    own[40:, 20:44] = 0  # a hand over the mouth, as the person's own decoder sees it
    lm = np.array([[x, y] for x in (8, 56) for y in (8, 56)] * 17, float)
    cfg = OmegaConf.create(
        {"source": "occlusion", "erode": 0.0, "blur": 0.0, "occluder_margin": 0.0}
    )
    mask = shape_mask(predicted, lm, cfg, own)
    assert (mask[42:, 22:42] == 0).all() and (mask[10:30, 10:50] == 255).all()
    with pytest.raises(ValueError, match="visible-face mask"):
        shape_mask(predicted, lm, cfg, None)


def test_the_occluder_margin_keeps_an_occluders_edge_and_leaves_the_face_outline():
    predicted = np.full((64, 64), 255, np.uint8)
    lm = np.array([[x, y] for x in (8, 56) for y in (8, 56)] * 17, float)
    outline = hull_mask(lm, (64, 64))  # the face as the segmenter sees it, nothing in front
    own = outline.copy()
    own[40:50, 24:40] = 0  # a hand inside the face
    cfg = OmegaConf.create(
        {"source": "occlusion", "erode": 0.0, "blur": 0.0, "occluder_margin": 2 / 64}
    )
    crisp = shape_mask(predicted, lm, OmegaConf.merge(cfg, {"occluder_margin": 0.0}), own)
    grown = shape_mask(predicted, lm, cfg, own)
    # Two pixels round the hand are cut out too, where the crisp cut paints over its edge.
    assert grown[38:52, 24:40].max() < 64 and grown[40:50, 22:42].max() < 64
    assert crisp[39, 30] > 200 and crisp[40:50, 24:40].max() < 64
    assert (grown[10:30, 10:54] == crisp[10:30, 10:54]).all()  # the rest as it was
    # With nothing in front, the margin changes nothing, the outline included.
    plain = OmegaConf.merge(cfg, {"occluder_margin": 0.0})
    assert np.array_equal(
        shape_mask(predicted, lm, cfg, outline), shape_mask(predicted, lm, plain, outline)
    )


def _video(path, frames):
    with VideoWriter(path, frames[0].shape[1::-1], 25.0, 18) as out:
        for f in frames:
            out.write(f)
    return path


def test_occlusion_figures_score_no_swap_as_kept_and_a_paint_over_as_lost(clip, tmp_path):
    kinds = ["hand", "microphone"]
    things = [Occluder(k, 2) for k in kinds]
    frames, hidden, lms = [], [], []
    for i, fr in enumerate(clip):
        image = fr.image.copy()
        hidden.append(occlude(image, fr.landmarks, things, i / len(clip)) > 127)
        frames.append(image)
        lms.append(fr.landmarks)
    hidden, lms = np.stack(hidden), np.stack(lms)
    target = _video(tmp_path / "target.mp4", frames)
    # A swap that paints a flat face over the whole hull, occluders and all.
    painted = []
    for f, lm in zip(frames, lms):
        out = f.copy()
        out[hull_mask(lm, f.shape[:2]) > 127] = (200, 40, 200)
        painted.append(out)
    # Generate's outputs: crops' masks that are exactly the visible face.
    gen = tmp_path / "generated"
    gen.mkdir()
    mats = np.stack([alignment_matrix(lm, 64) for lm in lms])
    exact = [
        ((hull_mask(lm, (256, 256)) > 127) & ~h.any(0)).astype(np.uint8) * 255
        for lm, h in zip(lms, hidden)
    ]
    np.save(gen / "masks.npy", np.stack([warp_face(e, m, 64) for e, m in zip(exact, mats)]))
    np.save(gen / "own_masks.npy", np.full((len(lms), 64, 64), 255, np.uint8))
    np.savez(gen / "track.npz", matrices=mats, has_face=np.ones(len(lms), bool))

    same = occlusion_figures(target, target, hidden, lms, gen, kinds, unswapped=target)
    assert same["occluder_kept"] == same["occluder_kept_hand"] == 1.0
    assert same["occluder_kept_unswapped"] == same["occluder_kept_unswapped_hand"] == 1.0
    painted = _video(tmp_path / "painted.mp4", painted)
    lost = occlusion_figures(target, painted, hidden, lms, gen, kinds, unswapped=painted)
    assert lost["occluder_kept"] < 0.2 and lost["occluder_kept_microphone"] < 0.2, lost
    assert lost["occluder_kept_unswapped"] == lost["occluder_kept"]
    assert "occluder_kept_unswapped" not in occlusion_figures(target, target, hidden, lms, gen)
    # The exact mask through a 64-pixel crop and back: close to 1; the hull, blind to
    # the occluders, lower; the own mask (all face) takes nothing away from predicted.
    assert same["mask_iou_predicted"] > 0.85, same
    assert same["mask_iou_hull"] < same["mask_iou_predicted"] - 0.03, same
    assert same["mask_iou_occlusion"] == same["mask_iou_predicted"]
