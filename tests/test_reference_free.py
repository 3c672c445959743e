"""Swap quality without a ground truth (issue 12), on footage made from the two
public-domain photos: a swap must move identity toward the new person, and the target
fed in as its own output must score "no swap" on every figure."""

from __future__ import annotations

import numpy as np
import pytest

from bench import footage
from pipeline.evaluate.reference_free import score_without_truth
from pipeline.faces.align import alignment_matrix, transform_points, warp_face
from pipeline.faces.detect import FaceAnalyzer
from pipeline.faces.mask import hull_mask
from pipeline.faces.paste import paste
from tests.helpers import smoke_cfg

CROP = 160


@pytest.fixture(scope="module")
def clips():
    """The astronaut's clip with its tracked landmarks, Grace Hopper's embeddings, and the
    astronaut's clip with Grace Hopper's inner face pasted over hers (a plain swap)."""
    fa = FaceAnalyzer(smoke_cfg().detector)
    target = [f for f, _ in footage.moving_clip(footage.astronaut(), 8)]
    tracked = np.stack([fa.detect(f)[0].landmarks for f in target])
    grace = [f for f, _ in footage.moving_clip(footage.grace_hopper(), 6)]
    grace_faces = [fa.detect(f)[0] for f in grace]
    new_identity = np.stack([fa.embed(f, face) for f, face in zip(grace, grace_faces)])
    g_matrix = alignment_matrix(grace_faces[0].landmarks, CROP)
    crop = warp_face(grace[0], g_matrix, CROP)
    mask = hull_mask(transform_points(grace_faces[0].landmarks, g_matrix), (CROP, CROP))
    swapped = [paste(f, crop, mask, alignment_matrix(lm, CROP)) for f, lm in zip(target, tracked)]
    return fa, target, tracked, new_identity, swapped


def test_a_swap_moves_identity_toward_the_new_person(clips):
    fa, target, tracked, new_identity, swapped = clips
    s = score_without_truth(fa, swapped, target, tracked, new_identity)
    assert s["faces_scored"] == len(target)
    assert s["target_identity_nearer_new"] == 0.0
    assert s["identity_nearer_new"] >= 0.75, s
    assert s["identity_distance_new"] < s["target_identity_distance_new"] - 0.1, s
    assert s["identity_distance_old"] > s["target_identity_distance_old"] + 0.1, s
    assert s["seam_color_gap"] != 0.0 and s["landmark_error"] > 0.0


def test_the_target_as_its_own_output_scores_no_swap_on_every_figure(clips):
    fa, target, tracked, new_identity, _ = clips
    s = score_without_truth(fa, target, target, tracked, new_identity)
    assert s["identity_distance_new"] == s["target_identity_distance_new"]
    assert s["identity_distance_old"] == s["target_identity_distance_old"]
    assert s["identity_nearer_new"] == s["target_identity_nearer_new"] == 0.0
    assert s["landmark_error"] == 0.0
    assert s["mouth_open_agreement"] == s["eye_open_agreement"] == 1.0
    assert s["flicker_vs_target"] == 1.0
    assert s["seam_color_gap"] == s["seam_gradient_gap"] == 0.0


def test_frames_without_a_face_are_skipped(clips):
    fa, target, tracked, new_identity, _ = clips
    gone = tracked.copy()
    gone[2:4] = np.nan
    s = score_without_truth(fa, target, target, gone, new_identity)
    assert s["faces_scored"] == len(target) - 2
