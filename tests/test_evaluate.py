"""The metrics can fail: a perfect swap scores best, a swap that did nothing scores badly."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.collect import synthetic
from pipeline.evaluate.evaluators import TARGETS, build_evaluators, render_gallery
from pipeline.evaluate.metrics import PSNR_CAP, ClipScorer, score_clip
from tests.conftest import smoke_cfg


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
    frames = list(
        synthetic.target_frames(people["synth_a"], people["synth_b"], perf, 5, data.frame_size)
    )
    performance = np.stack([perf[k] for k in TARGETS], 1)
    return frames, performance


def _score(evs, clip, outputs):
    frames, performance = clip
    scorer = ClipScorer(
        evs,
        "synth_b",
        performance,
        np.stack([a.landmarks for a, _ in frames]),
        np.stack([b.landmarks for _, b in frames]),
    )
    return score_clip(scorer, outputs, [b.image for _, b in frames])


def test_evaluators_report_their_own_accuracy(evaluators):
    _, report = evaluators
    assert report["identities"] == 8 and report["held_out_frames"] > 0
    assert report["identity_top1"] > 4 * report["chance_top1"]
    assert report["pose_mae_degrees"] < 10


def test_a_perfect_swap_scores_best(evaluators, clip):
    evs, _ = evaluators
    m, rows = _score(evs, clip, [b.image for _, b in clip[0]])
    assert m["ssim"] > 0.999 and m["psnr"] == PSNR_CAP
    assert m["flicker"] == pytest.approx(1.0)
    print(f"\nperfect swap: {m}")
    assert m["identity_retrieval"] == m["identity_retrieval_truth"] >= 0.5
    assert m["pose_error"] == pytest.approx(m["pose_error_floor"])
    assert len(rows) == m["frames"] == len(clip[0])


def test_a_swap_that_did_nothing_scores_badly(evaluators, clip):
    evs, _ = evaluators
    perfect, _ = _score(evs, clip, [b.image for _, b in clip[0]])
    nothing, _ = _score(evs, clip, [a.image for a, _ in clip[0]])
    print(f"\nswap that did nothing: {nothing}")
    assert nothing["identity_retrieval"] <= 0.2
    assert nothing["ssim"] < perfect["ssim"] - 0.1
    assert nothing["psnr"] < 35
    # The performance is the actor's own: pose is right even when identity is wrong.
    assert nothing["pose_error"] < 3 * perfect["pose_error_floor"] + 2
