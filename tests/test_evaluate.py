"""The metrics can fail: a perfect swap scores best, a swap that did nothing scores badly."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipeline.collect import synthetic
from pipeline.evaluate.evaluators import PERFORMANCE, build_evaluators, render_gallery
from pipeline.evaluate.metrics import PSNR_CAP, ClipScorer, Truth, score_clip
from tests.helpers import smoke_cfg


@pytest.fixture(scope="module")
def cfg():
    return smoke_cfg(
        "evaluate.gallery_identities=6",
        "evaluate.frames_per_identity=24",
        "evaluate.steps=200",
        "evaluate.width=16",
    )


@pytest.fixture(scope="module")
def evaluators(cfg):
    evs, report = build_evaluators(render_gallery(cfg.data, cfg.evaluate), cfg.evaluate, 0)
    return evs, report


@pytest.fixture(scope="module")
def clip(cfg):
    data = cfg.data
    people = synthetic.identities(data)
    perf = synthetic.target_performance(1.0, data.fps, 5)
    truths = synthetic.truth_identities(people["synth_a"], people["synth_b"])
    # The headline face-swap truth first, then the whole head, as the evaluate stage does.
    order = [truths["face_truth"], truths["ground_truth"]]
    frames = list(synthetic.target_frames(people["synth_a"], order, perf, 5, data.frame_size))
    performance = np.stack([perf[k] for k in PERFORMANCE], 1)
    return frames, performance


def _score(evs, clip, outputs):
    frames, performance = clip
    scorer = ClipScorer(
        evs,
        "synth_b",
        performance,
        np.stack([a.landmarks for a, _ in frames]),
        [
            Truth("", np.stack([t[0].landmarks for _, t in frames])),
            Truth("_head_truth", np.stack([t[1].landmarks for _, t in frames])),
        ],
    )
    return score_clip(scorer, outputs, [[r.image for r in t] for _, t in frames])


def _face_truth(clip):
    return [t[0].image for _, t in clip[0]]


def test_evaluators_report_their_own_accuracy(evaluators):
    _, report = evaluators
    assert report["identities"] == 8 and report["held_out_frames"] > 0
    assert report["identity_top1"] > 4 * report["chance_top1"]
    assert report["pose_mae_degrees"] < 10


def test_a_perfect_swap_scores_best(evaluators, clip):
    evs, _ = evaluators
    m, rows = _score(evs, clip, _face_truth(clip))
    assert m["ssim"] > 0.999 and m["psnr"] == PSNR_CAP and m["eye_ssim"] > 0.999
    assert m["flicker"] == pytest.approx(1.0)
    assert m["seam_color_gap"] == m["seam_gradient_gap"] == 0.0
    print(f"\nperfect swap: {m}")
    assert m["identity_retrieval"] == m["identity_retrieval_truth"] >= 0.5
    assert m["pose_error"] == pytest.approx(m["pose_error_floor"])
    # The whole-head truth differs outside the inner face: a face swap cannot reach it.
    assert m["ssim_head_truth"] < m["ssim"] - 0.02
    assert len(rows) == m["frames"] == len(clip[0])


def test_a_slightly_soft_perfect_swap_is_still_named(evaluators, clip):
    """No swap is pixel-sharp: a 1-pixel blur must not make the right person unknown
    (without the evaluator's blur augmentation, held-out top-1 falls to about half)."""
    evs, report = evaluators
    assert report["identity_top1_blurred"] > 0.8 * report["identity_top1"]
    soft = [cv2.GaussianBlur(f, (0, 0), 1.0) for f in _face_truth(clip)]
    m, _ = _score(evs, clip, soft)
    assert m["identity_retrieval"] >= 0.8 * m["identity_retrieval_truth"], m


def test_a_noisy_perfect_swap_is_still_named(evaluators, clip):
    """Every output carries a +-3-level watermark, a different pattern per run, and
    footage has grain: pixel noise must not make the right person unknown."""
    evs, _ = evaluators
    rng = np.random.default_rng(0)
    noisy = [
        np.clip(f + rng.normal(0, 4, f.shape), 0, 255).astype(np.uint8) for f in _face_truth(clip)
    ]
    m, _ = _score(evs, clip, noisy)
    assert m["identity_retrieval"] >= 0.8 * m["identity_retrieval_truth"], m


def test_a_swap_that_did_nothing_scores_badly(evaluators, clip):
    evs, _ = evaluators
    perfect, _ = _score(evs, clip, _face_truth(clip))
    nothing, _ = _score(evs, clip, [a.image for a, _ in clip[0]])
    print(f"\nswap that did nothing: {nothing}")
    assert nothing["identity_retrieval"] <= 0.2
    assert nothing["ssim"] < perfect["ssim"] - 0.1
    assert nothing["eye_ssim"] < perfect["eye_ssim"] - 0.1
    assert nothing["psnr"] < 35
    # The truth's step at the face's edge (another face on this head) is not the actor's
    # own: the seam figure sees the difference (here the output has the smaller step).
    assert abs(nothing["seam_color_gap"]) > 0.5
    # The performance is the actor's own: pose is right even when identity is wrong.
    assert nothing["pose_error"] < 3 * perfect["pose_error_floor"] + 2
