"""Swap quality of one clip against its exact ground truth, streamed frame by frame.

* identity retrieval: share of output frames whose nearest gallery identity is the
  identity the swap should show (FaceForensics++-style top-1);
* pose / expression error: the performance regressor on output frames against the
  clip's known performance; the same on the ground-truth render is the floor;
* SSIM and PSNR in the face region, and SSIM around the eyes, against each ground truth:
  the face-swap truth (the other person's inner face on this head: what a face swap can
  reach) is the headline, the whole-head truth is reported beside it;
* flicker: mean frame-to-frame change in the face region of the output over the same on
  the ground truth (1.0 = as steady as the truth);
* seams: the colour and gradient step across the face's edge, output minus the headline
  truth's (reference_free.seam; 0 = no boundary the truth does not have);
* watermark: the clip-level read, its bit accuracy, and the share of single frames that
  carry a readable mark.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import cv2
import kornia
import numpy as np
import torch

from pipeline.evaluate.crops import identity_crop, pose_crop
from pipeline.evaluate.evaluators import Evaluators
from pipeline.evaluate.reference_free import seam
from pipeline.faces.mask import hull_mask
from pipeline.provenance.watermark import Detector

PSNR_CAP = 100.0  # identical images: report a finite best value


def face_region(lm_a: np.ndarray, lm_b: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Union of both renders' face hulls, grown a little (bool)."""
    m = np.maximum(hull_mask(lm_a, shape), hull_mask(lm_b, shape))
    return cv2.dilate(m, np.ones((7, 7), np.uint8)) > 127


def masked_psnr(a: np.ndarray, b: np.ndarray, region: np.ndarray) -> float:
    diff = a[region].astype(np.float64) - b[region].astype(np.float64)
    mse = float(np.mean(diff**2))
    return PSNR_CAP if mse == 0 else min(PSNR_CAP, 10 * np.log10(255**2 / mse))


def masked_ssim(a: np.ndarray, b: np.ndarray, region: np.ndarray) -> float:
    """Mean of kornia's SSIM map (11-pixel Gaussian window) over ``region``."""
    ys, xs = np.nonzero(region)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    ta, tb = (
        torch.from_numpy(np.ascontiguousarray(im[y0:y1, x0:x1])).permute(2, 0, 1)[None].float()
        / 255
        for im in (a, b)
    )
    smap = kornia.metrics.ssim(ta, tb, 11).mean(1)[0].numpy()
    return float(smap[region[y0:y1, x0:x1]].mean())


class WatermarkScore:
    """The mark read from a whole clip, and from each frame on its own."""

    def __init__(self, tag: str):
        self.tag = tag
        self.clip = Detector()
        self.frame_reads: list[bool] = []

    def add(self, frame: np.ndarray) -> None:
        self.clip.add(frame)
        single = Detector()
        single.add(frame)
        self.frame_reads.append(single.reading().tag == self.tag)

    def result(self) -> dict:
        r = self.clip.reading()
        return {
            "watermark_found": float(r.tag == self.tag),
            "watermark_bit_accuracy": r.bit_accuracy(self.tag),
            "watermark_frame_detection_rate": float(np.mean(self.frame_reads or [0.0])),
        }


def eye_region(lm: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Both eyes' hulls grown by half an eye's width (bool): where a soft swap shows first."""
    m = np.zeros(shape, np.uint8)
    for sl in (slice(36, 42), slice(42, 48)):
        cv2.fillConvexPoly(m, cv2.convexHull(np.round(lm[sl]).astype(np.int32)), 255)
    grow = max(3, int(round(0.5 * np.ptp(lm[36:42, 0]))) | 1)
    return cv2.dilate(m, np.ones((grow, grow), np.uint8)) > 127


@dataclass
class Truth:
    """One ground truth of a clip: its key suffix in the metrics and its landmarks."""

    suffix: str  # "" for the headline truth, e.g. "_head_truth" for another
    landmarks: np.ndarray  # (N, 68, 2): where its face is, so output and truth crop alike


@dataclass
class _TruthScores:
    """Per-frame reads against one truth."""

    ident: list = field(default_factory=list)  # identity crops of the truth
    pose: list = field(default_factory=list)  # pose crops of the truth
    ssim: list = field(default_factory=list)
    psnr: list = field(default_factory=list)
    eye_ssim: list = field(default_factory=list)
    change: list = field(default_factory=list)  # the truth's frame-to-frame change


class ClipScorer:
    """Feed an output frame and its ground truths in order, then call ``result()``.

    The first truth is the headline: output crops follow its landmarks, and its SSIM,
    PSNR, eye SSIM and identity read go under the plain keys; the others' carry their
    suffix. Pose and expression floors are measured on every truth.
    """

    def __init__(
        self,
        evaluators: Evaluators,
        swap_to: str,
        performance: np.ndarray,  # (N, 6) in evaluators.PERFORMANCE order
        landmarks: np.ndarray,  # (N, 68, 2) of the performing identity
        truths: list[Truth],
        tag: str | None = None,
    ):
        self.ev, self.target = evaluators, evaluators.names.index(swap_to)
        self.perf, self.lm, self.truths = performance, landmarks, truths
        self.scores = [_TruthScores() for _ in truths]
        self.out_id, self.out_pose, self.out_change = [], [], []
        self.seams: list[tuple[float, float]] = []  # (colour, gradient) output minus truth
        self._prev: tuple[np.ndarray, list[np.ndarray]] | None = None
        self.n = 0
        self.watermark = WatermarkScore(tag) if tag is not None else None

    def add(self, output: np.ndarray, truths: list[np.ndarray]) -> None:
        t, lm = self.n, self.lm[self.n]
        main_lm = self.truths[0].landmarks[t]
        self.out_id.append(identity_crop(output, main_lm))
        self.out_pose.append(pose_crop(output, main_lm))
        (oc, og), (tc, tg) = seam(output, lm), seam(truths[0], lm)
        self.seams.append((oc - tc, og - tg))
        for k, (truth, sc) in enumerate(zip(truths, self.scores)):
            tlm = self.truths[k].landmarks[t]
            region = face_region(lm, tlm, output.shape[:2])
            eyes = eye_region(tlm, output.shape[:2])
            sc.ident.append(identity_crop(truth, tlm))
            sc.pose.append(pose_crop(truth, tlm))
            sc.ssim.append(masked_ssim(output, truth, region))
            sc.psnr.append(masked_psnr(output, truth, region))
            sc.eye_ssim.append(masked_ssim(output, truth, eyes))
            if self._prev is not None:
                sc.change.append(np.abs(truth.astype(np.int16) - self._prev[1][k])[region].mean())
                if k == 0:
                    self.out_change.append(
                        np.abs(output.astype(np.int16) - self._prev[0])[region].mean()
                    )
        self._prev = (output, truths)
        self.n += 1
        if self.watermark is not None:
            self.watermark.add(output)

    def result(self) -> tuple[dict, list[dict]]:
        n = self.n
        want = self.perf[:n]
        out_who = self.ev.identify(np.stack(self.out_id))
        out_err = np.abs(self.ev.perform(np.stack(self.out_pose)) - want)
        m = {
            "frames": n,
            "identity_retrieval": float((out_who == self.target).mean()),
            "pose_error": float(out_err[:, :3].mean()),
            "expression_error": float(out_err[:, 3:].mean()),
        }
        for truth, sc in zip(self.truths, self.scores):
            x = truth.suffix or "_truth"
            who = self.ev.identify(np.stack(sc.ident))
            err = np.abs(self.ev.perform(np.stack(sc.pose)) - want)
            m |= {
                f"identity_retrieval{x}": float((who == self.target).mean()),
                f"pose_error_floor{truth.suffix}": float(err[:, :3].mean()),
                f"expression_error_floor{truth.suffix}": float(err[:, 3:].mean()),
                f"ssim{truth.suffix}": float(np.mean(sc.ssim)),
                f"psnr{truth.suffix}": float(np.mean(sc.psnr)),
                f"eye_ssim{truth.suffix}": float(np.mean(sc.eye_ssim)),
            }
        main = self.scores[0]
        gt_change = float(np.mean(main.change)) if main.change else 0.0
        out_change = float(np.mean(self.out_change)) if self.out_change else 0.0
        m["flicker"] = out_change / gt_change if gt_change > 0 else 1.0
        gaps = np.asarray(self.seams)
        m["seam_color_gap"], m["seam_gradient_gap"] = map(float, gaps.mean(0))
        if self.watermark is not None:
            m |= self.watermark.result()
        rows = [
            {
                "frame": t,
                "ssim": round(main.ssim[t], 5),
                "psnr": round(main.psnr[t], 3),
                "eye_ssim": round(main.eye_ssim[t], 5),
                "pose_error": round(float(out_err[t, :3].mean()), 3),
                "expression_error": round(float(out_err[t, 3:].mean()), 4),
                "identity_ok": int(out_who[t] == self.target),
            }
            for t in range(n)
        ]
        return {k: round(v, 5) if isinstance(v, float) else v for k, v in m.items()}, rows


def score_clip(
    scorer: ClipScorer, outputs: Iterable[np.ndarray], truths: Iterable[list[np.ndarray]]
):
    """truths: per frame, the frames of every truth in the scorer's order."""
    for out, frame_truths in zip(outputs, truths):
        scorer.add(out, frame_truths)
    return scorer.result()
