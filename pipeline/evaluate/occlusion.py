"""What covers the face in a clip (synthetic targets with ``occluders``): how well each
mask leaves it out, and how much of it the final output keeps in front.

* ``mask_iou_<source>``: intersection over union, summed over the clip, of a mask
  thresholded at one half and put back into the frame against the exact visible face:
  the landmark hull (what the masks are trained to cover) less what is in front of it.
  Sources: ``predicted`` (the new identity's decoder), ``occlusion`` (that and the
  target person's own decoder) where generate wrote it, and ``hull`` (the landmarks
  alone, blind to occluders: the reference).
* ``occluder_kept``: the share of occluder pixels inside the hull (where a swap paints)
  that the output leaves as the target shows them, within ``KEPT_LEVELS`` grey levels
  (the watermark and two H.264 encodes move an untouched pixel by a few levels; a face
  painted over a hand or a microphone by far more). The target fed in as its own output
  scores 1. ``occluder_kept_<kind>`` is the same over one kind's pixels.
* ``occluder_kept_unswapped`` (and per kind): the same share for the target itself put
  through refine's marks and final encode, nothing swapped. The reference for
  ``occluder_kept``: an encode moves a thin rim's or strand's edge pixels past
  ``KEPT_LEVELS`` too, so an untouched clip scores below 1 at the default CRF. (Not a
  strict bound: the swap's encode sees other content, and a kind can score a little
  above it.)
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from omegaconf import DictConfig

from pipeline.faces.mask import hull_mask
from pipeline.generate.targets import Target
from pipeline.io.encoding import Encoding
from pipeline.io.video import read_frames
from pipeline.provenance.marks import FrameMarker

KEPT_LEVELS = 10.0


def load_hidden(path: Path, width: int) -> tuple[np.ndarray, list[str]]:
    """(N, K, H, W) bool: what covers the face in each frame, per kind (collect's
    occluders.npz), and the kinds."""
    with np.load(path) as f:
        return np.unpackbits(f["hidden"], axis=-1)[..., :width].astype(bool), list(f["kinds"])


def occlusion_figures(
    target: Path,
    final: Path,
    hidden: np.ndarray,
    landmarks: np.ndarray,
    generated: Path,
    kinds: list[str] = (),
    unswapped: Path | None = None,
) -> dict:
    """``hidden``: (N, K, H, W) bool, one plane per occluder in ``kinds``' order;
    ``unswapped``: the target through the marks and encode (``marked_and_encoded``)."""
    with np.load(generated / "track.npz") as track:
        matrices, has_face = track["matrices"], track["has_face"]
    predicted = np.load(generated / "masks.npy", mmap_mode="r")
    own = None
    if (generated / "own_masks.npy").is_file():
        own = np.load(generated / "own_masks.npy", mmap_mode="r")
    inter = dict.fromkeys(["predicted", "hull"] + (["occlusion"] if own is not None else []), 0)
    union = dict.fromkeys(inter, 0)
    h, w = hidden.shape[2:]
    for i in np.flatnonzero(has_face[: len(hidden)]):
        hull = hull_mask(landmarks[i], (h, w)) > 127
        exact = hull & ~hidden[i].any(0)
        crop_masks = {"predicted": predicted[i]}
        if own is not None:  # what refine's occlusion source keeps, before softening
            crop_masks["occlusion"] = np.minimum(predicted[i], own[i])
        frame_masks = {"hull": hull}
        for name, m in crop_masks.items():
            back = cv2.warpAffine(
                np.ascontiguousarray(m), matrices[i], (w, h), flags=cv2.WARP_INVERSE_MAP
            )
            frame_masks[name] = back > 127
        for name, m in frame_masks.items():
            inter[name] += int((m & exact).sum())
            union[name] += int((m | exact).sum())
    out = {f"mask_iou_{k}": inter[k] / max(union[k], 1) for k in inter}
    out |= kept_shares(target, final, hidden, landmarks, kinds, "occluder_kept")
    if unswapped is not None:
        out |= kept_shares(target, unswapped, hidden, landmarks, kinds, "occluder_kept_unswapped")
    return out


def kept_shares(
    target: Path,
    output: Path,
    hidden: np.ndarray,
    landmarks: np.ndarray,
    kinds: list[str],
    key: str,
) -> dict[str, float]:
    """``key`` and ``key_<kind>``: the share of occluder pixels inside the hull that
    ``output`` leaves within ``KEPT_LEVELS`` of ``target``."""
    planes = ["", *(f"_{k}" for k in kinds)]  # "" = every occluder together
    kept, covered = dict.fromkeys(planes, 0), dict.fromkeys(planes, 0)
    for i, (before, after) in enumerate(zip(read_frames(target), read_frames(output))):
        hull = hull_mask(landmarks[i], before.shape[:2]) > 127
        diff = None
        for name, plane in zip(planes, [hidden[i].any(0), *hidden[i]]):
            at_risk = hull & plane
            if at_risk.any():
                if diff is None:
                    diff = np.abs(after.astype(np.int16) - before.astype(np.int16)).mean(2)
                kept[name] += int((diff[at_risk] <= KEPT_LEVELS).sum())
                covered[name] += int(at_risk.sum())
    return {f"{key}{n}": kept[n] / covered[n] if covered[n] else 1.0 for n in planes}


def marked_and_encoded(
    target: Target,
    tag: str,
    provenance: DictConfig,
    encoding: Encoding,
    out: Path,
    landmarks: np.ndarray,
) -> Path:
    """``out``: the target's frames through refine's marks (run ``tag``, the face's share
    of the watermark where ``landmarks``, NaN where no face, put it) and its final
    encode (refine's ``encoding``), nothing swapped."""
    marker = FrameMarker(tag, provenance)
    writer = None
    for frame, lm in zip(target.read(), landmarks):
        if writer is None:
            writer = target.video_writer(out, frame, *encoding.for_frame(frame))
        writer.write(marker(frame, lm if np.isfinite(lm).all() else None))
    if writer is not None:
        writer.close()
    return out
