"""Swap quality on real footage, where no ground truth exists (issue 12), streamed frame
by frame from the output clip, the target clip and the target's tracked landmarks.

Every figure is measured the same way on the output and on the unswapped target, so
feeding the target in as the output scores "no swap" on each (distances equal to the
target's, landmark error 0, agreement 1, flicker ratio 1, seam gaps 0):

* identity: dlib's 128-d embedding of each face (fitted in the box the target's track
  gives) against the new identity's collected faces (their centroid) and against the old
  identity (the centroid of the target's own faces); the share of frames nearer the new
  identity;
* performance kept: 68 landmarks fitted on the output against those fitted on the target
  in the same box (mean error over the inter-ocular distance), and how the mouth's and
  the eyes' opening follow the target's over time (Pearson correlation);
* temporal: the face region's mean frame-to-frame change on the output over the same on
  the target (1.0 = as steady as the target);
* seams: the colour (CIELAB distance between a band just inside and just outside the
  face's edge) and gradient (mean Sobel magnitude on the edge) of the output, minus the
  target's (0 = no visible boundary beyond what the target had).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import cv2
import numpy as np

from pipeline.faces.detect import Face, FaceAnalyzer, box_of
from pipeline.faces.mask import hull_mask

BAND = 0.06  # seam band width, share of the face's size
LIPS = (62, 66)  # inner lip points (iBUG): upper, lower
EYES = ((37, 41, 38, 40, 36, 39), (43, 47, 44, 46, 42, 45))  # two verticals, one width


def interocular(lm: np.ndarray) -> float:
    return float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))


def mouth_open(lm: np.ndarray) -> float:
    return float(np.linalg.norm(lm[LIPS[0]] - lm[LIPS[1]]) / max(interocular(lm), 1e-6))


def eye_open(lm: np.ndarray) -> float:
    """Mean eye aspect ratio of both eyes (Soukupova and Cech)."""
    ratios = []
    for a, b, c, d, e, f in EYES:
        vertical = np.linalg.norm(lm[a] - lm[b]) + np.linalg.norm(lm[c] - lm[d])
        ratios.append(vertical / (2 * max(np.linalg.norm(lm[e] - lm[f]), 1e-6)))
    return float(np.mean(ratios))


def seam(frame: np.ndarray, lm: np.ndarray) -> tuple[float, float]:
    """(colour gap in CIELAB across the face's edge, mean gradient on the edge)."""
    shape = frame.shape[:2]
    hull = hull_mask(lm, shape)
    size = max(np.ptp(lm, 0).max(), 8.0)
    k = max(3, int(round(BAND * size)) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    inner = (hull > 127) & ~(cv2.erode(hull, kernel) > 127)
    outer = (cv2.dilate(hull, kernel) > 127) & ~(hull > 127)
    edge = (cv2.dilate(hull, np.ones((3, 3), np.uint8)) > 127) & ~(
        cv2.erode(hull, np.ones((3, 3), np.uint8)) > 127
    )
    if not inner.any() or not outer.any():
        return 0.0, 0.0
    lab = cv2.cvtColor(frame, cv2.COLOR_BGR2LAB).astype(np.float64)
    gap = float(np.linalg.norm(lab[inner].mean(0) - lab[outer].mean(0)))
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float32)
    grad = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    return gap, float(grad[edge].mean())


@dataclass
class _Side:
    """What one clip (output or target) gives per frame with a face."""

    embeddings: list = field(default_factory=list)
    landmarks: list = field(default_factory=list)
    change: list = field(default_factory=list)
    seams: list = field(default_factory=list)
    previous: np.ndarray | None = None

    def add(self, fa: FaceAnalyzer, frame: np.ndarray, box, region: np.ndarray | None) -> None:
        lm = fa.landmarks(frame, box)
        self.landmarks.append(lm)
        self.embeddings.append(fa.embed(frame, Face(box, lm, 1.0)))
        self.seams.append(seam(frame, lm))
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float32)
        if region is not None and self.previous is not None:
            self.change.append(float(np.abs(grey - self.previous)[region].mean()))
        self.previous = grey


def _correlation(a: list[float], b: list[float]) -> float:
    a, b = np.asarray(a), np.asarray(b)
    if len(a) < 3 or np.array_equal(a, b):
        return 1.0
    if a.std() < 1e-9 or b.std() < 1e-9:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def score_without_truth(
    fa: FaceAnalyzer,
    outputs: Iterable[np.ndarray],
    targets: Iterable[np.ndarray],
    tracked: np.ndarray,  # (N, 68, 2) the target's landmarks; NaN where no face
    new_identity: np.ndarray,  # (K, 128) embeddings of the new identity's collected faces
) -> dict:
    out, tgt = _Side(), _Side()
    last_region = None
    for i, (o, t) in enumerate(zip(outputs, targets, strict=False)):
        lm = tracked[i] if i < len(tracked) else None
        if lm is None or not np.isfinite(lm).all():
            out.previous = tgt.previous = last_region = None
            continue
        box = box_of(lm)
        region = hull_mask(lm, o.shape[:2]) > 127
        both = region & last_region if last_region is not None else None
        out.add(fa, o, box, both)
        tgt.add(fa, t, box, both)
        last_region = region
    if not tgt.embeddings:
        return {"faces_scored": 0}
    new = np.asarray(new_identity, np.float64).mean(0)
    old = np.mean(tgt.embeddings, 0)

    def identity(side: _Side) -> tuple[float, float, float]:
        e = np.asarray(side.embeddings)
        d_new, d_old = np.linalg.norm(e - new, axis=1), np.linalg.norm(e - old, axis=1)
        return float(d_new.mean()), float(d_old.mean()), float((d_new < d_old).mean())

    o_new, o_old, o_share = identity(out)
    t_new, t_old, t_share = identity(tgt)
    err = [
        np.linalg.norm(a - b, axis=1).mean() / max(interocular(b), 1e-6)
        for a, b in zip(out.landmarks, tgt.landmarks, strict=True)
    ]
    o_seam, t_seam = np.asarray(out.seams), np.asarray(tgt.seams)
    flicker_target = float(np.mean(tgt.change)) if tgt.change else 0.0
    flicker_output = float(np.mean(out.change)) if out.change else 0.0
    return {
        "faces_scored": len(tgt.embeddings),
        "identity_distance_new": round(o_new, 5),
        "identity_distance_old": round(o_old, 5),
        "identity_nearer_new": round(o_share, 5),
        "target_identity_distance_new": round(t_new, 5),
        "target_identity_distance_old": round(t_old, 5),
        "target_identity_nearer_new": round(t_share, 5),
        "landmark_error": round(float(np.mean(err)), 5),
        "mouth_open_agreement": round(
            _correlation(
                [mouth_open(x) for x in out.landmarks], [mouth_open(x) for x in tgt.landmarks]
            ),
            5,
        ),
        "eye_open_agreement": round(
            _correlation(
                [eye_open(x) for x in out.landmarks], [eye_open(x) for x in tgt.landmarks]
            ),
            5,
        ),
        "flicker_vs_target": round(flicker_output / flicker_target, 5) if flicker_target else 1.0,
        "seam_color_gap": round(float((o_seam[:, 0] - t_seam[:, 0]).mean()), 5),
        "seam_gradient_gap": round(float((o_seam[:, 1] - t_seam[:, 1]).mean()), 5),
    }
