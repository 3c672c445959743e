"""Swap quality of one clip against its exact ground truth, streamed frame by frame.

* identity retrieval: share of output frames whose nearest gallery identity is the
  identity the swap should show (FaceForensics++-style top-1);
* pose / expression error: the performance regressor on output frames against the
  clip's known performance; the same on the ground-truth render is the floor;
* SSIM and PSNR in the face region against the ground truth;
* flicker: mean frame-to-frame change in the face region of the output over the same on
  the ground truth (1.0 = as steady as the truth);
* watermark: the clip-level read, its bit accuracy, and the share of single frames that
  carry a readable mark.
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import kornia
import numpy as np
import torch

from pipeline.evaluate.crops import identity_crop, pose_crop
from pipeline.evaluate.evaluators import Evaluators
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


class ClipScorer:
    """Feed (output, truth) frame pairs in order, then call ``result()``."""

    def __init__(
        self,
        evaluators: Evaluators,
        swap_to: str,
        performance: np.ndarray,  # (N, 6) in evaluators.TARGETS order
        landmarks: np.ndarray,  # (N, 68, 2) of the performing identity
        truth_landmarks: np.ndarray,  # (N, 68, 2) of the ground-truth render: where the
        # swapped face should be, so output and truth are cropped alike
        tag: str | None = None,
    ):
        self.ev, self.target = evaluators, evaluators.names.index(swap_to)
        self.perf, self.lm, self.truth_lm = performance, landmarks, truth_landmarks
        self.out_id, self.out_pose, self.gt_id, self.gt_pose = [], [], [], []
        self.ssim, self.psnr, self.out_change, self.gt_change = [], [], [], []
        self._prev: tuple[np.ndarray, np.ndarray] | None = None
        self.watermark = WatermarkScore(tag) if tag is not None else None

    def add(self, output: np.ndarray, truth: np.ndarray) -> None:
        t = len(self.ssim)
        lm, tlm = self.lm[t], self.truth_lm[t]
        region = face_region(lm, tlm, output.shape[:2])
        self.out_id.append(identity_crop(output, tlm))
        self.out_pose.append(pose_crop(output, tlm))
        self.gt_id.append(identity_crop(truth, tlm))
        self.gt_pose.append(pose_crop(truth, tlm))
        self.ssim.append(masked_ssim(output, truth, region))
        self.psnr.append(masked_psnr(output, truth, region))
        if self._prev is not None:
            po, pt = self._prev
            self.out_change.append(np.abs(output.astype(np.int16) - po)[region].mean())
            self.gt_change.append(np.abs(truth.astype(np.int16) - pt)[region].mean())
        self._prev = (output, truth)
        if self.watermark is not None:
            self.watermark.add(output)

    def result(self) -> tuple[dict, list[dict]]:
        n = len(self.ssim)
        out_who = self.ev.identify(np.stack(self.out_id))
        gt_who = self.ev.identify(np.stack(self.gt_id))
        out_perf = self.ev.perform(np.stack(self.out_pose))
        gt_perf = self.ev.perform(np.stack(self.gt_pose))
        want = self.perf[:n]
        out_err, gt_err = np.abs(out_perf - want), np.abs(gt_perf - want)
        gt_change = float(np.mean(self.gt_change)) if self.gt_change else 0.0
        out_change = float(np.mean(self.out_change)) if self.out_change else 0.0
        m = {
            "frames": n,
            "identity_retrieval": float((out_who == self.target).mean()),
            "identity_retrieval_truth": float((gt_who == self.target).mean()),
            "pose_error": float(out_err[:, :3].mean()),
            "pose_error_floor": float(gt_err[:, :3].mean()),
            "expression_error": float(out_err[:, 3:].mean()),
            "expression_error_floor": float(gt_err[:, 3:].mean()),
            "ssim": float(np.mean(self.ssim)),
            "psnr": float(np.mean(self.psnr)),
            "flicker": out_change / gt_change if gt_change > 0 else 1.0,
        }
        if self.watermark is not None:
            m |= self.watermark.result()
        rows = [
            {
                "frame": t,
                "ssim": round(self.ssim[t], 5),
                "psnr": round(self.psnr[t], 3),
                "pose_error": round(float(out_err[t, :3].mean()), 3),
                "expression_error": round(float(out_err[t, 3:].mean()), 4),
                "identity_ok": int(out_who[t] == self.target),
            }
            for t in range(n)
        ]
        return {k: round(v, 5) if isinstance(v, float) else v for k, v in m.items()}, rows


def score_clip(scorer: ClipScorer, outputs: Iterable[np.ndarray], truths: Iterable[np.ndarray]):
    for out, truth in zip(outputs, truths):
        scorer.add(out, truth)
    return scorer.result()
