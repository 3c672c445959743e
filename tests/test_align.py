"""One alignment for every stage: the template, the fit, and the round trip."""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.faces.align import alignment_matrix, crop_footprint, transform_points, warp_face
from pipeline.faces.mask import hull_mask
from pipeline.faces.paste import unwarp_roi
from pipeline.faces.template import MEAN_FACE_68, template_points
from pipeline.synth.background import render_background
from pipeline.synth.geometry import build_head, landmarks_2d
from pipeline.synth.identity import sample_identity
from pipeline.synth.performance import frame_of, random_performance
from pipeline.synth.render import render_frame


def test_template_matches_renderer():
    neutral = dict(mouth_open=0.0, smile=0.0, blink=0.0, gaze_x=0.0, gaze_y=0.0)
    people = [sample_identity("t", s) for s in range(500)]
    mean = np.mean([landmarks_2d(p, build_head(p), neutral) for p in people], 0)
    assert np.abs(mean - MEAN_FACE_68).max() < 1e-3


def test_template_face_fits_inside_the_crop():
    pts = template_points(64)
    assert pts.min() > 2 and pts.max() < 61


def test_alignment_round_trips_points_and_pixels():
    perf = random_performance(3, 20)
    bg = render_background(2, 256)
    idt = sample_identity("a", 11)
    for i in range(20):
        frame = render_frame(idt, frame_of(perf, i), bg)
        m = alignment_matrix(frame.landmarks, 128)
        crop_lm = transform_points(frame.landmarks, m)
        back = transform_points(crop_lm, cv2.invertAffineTransform(m))
        assert np.abs(back - frame.landmarks).max() < 1e-4
        # Aligned inner landmarks sit near the template whatever the pose.
        err = np.linalg.norm(crop_lm[17:] - template_points(128)[17:], axis=1).mean()
        assert err < 0.06 * 128, f"frame {i}: mean distance to template {err:.1f} px"
        # Pixels: crop and paste back (refine's path) reproduces the frame's face region.
        crop = warp_face(frame.image, m, 128)
        x0, y0, x1, y1 = box = crop_footprint(m, 128, frame.image.shape[:2])
        pasted = unwarp_roi(crop, m, box)
        region = hull_mask(frame.landmarks, frame.image.shape[:2])[y0:y1, x0:x1] > 0
        diff = np.abs(pasted.astype(int) - frame.image[y0:y1, x0:x1])[region].mean()
        assert diff < 6, f"frame {i}: round trip differs by {diff:.1f} levels"


def test_alignment_is_equivariant_to_moving_the_frame():
    lm = template_points(100) * 1.7 + [30, 12]
    m1 = alignment_matrix(lm, 64)
    rot = np.array([[np.cos(0.3), -np.sin(0.3)], [np.sin(0.3), np.cos(0.3)]])
    m2 = alignment_matrix(lm @ rot.T * 0.5 + [5, 9], 64)
    p = np.array([[40.0, 50.0]])
    assert np.allclose(
        transform_points(p, m1), transform_points(p @ rot.T * 0.5 + [5, 9], m2), atol=1e-6
    )
