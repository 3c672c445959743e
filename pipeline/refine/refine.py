"""Refine one generated target into its final outputs, streaming frame by frame.

outputs/final/<target>/
    <target>.mp4               the final clip, H.264, the source's audio track copied in
    <target>.side_by_side.mp4  original | swapped | ground truth (where one exists)
    or, for stills, <name>.png (or .jpg) and <name>.side_by_side.png per image
    provenance.json            written when the folder is sealed (C2PA-signed files)
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from omegaconf import DictConfig
from tqdm import tqdm

from pipeline.errors import UserError
from pipeline.faces.align import transform_points, warp_face
from pipeline.faces.mask import hull_mask, skin_mask
from pipeline.generate.targets import Target
from pipeline.io.encoding import Encoding
from pipeline.io.image import read_image
from pipeline.io.sink import FrameSink
from pipeline.io.video import read_frames
from pipeline.refine import color
from pipeline.refine.blend import blend_face, shape_mask
from pipeline.refine.side_by_side import side_by_side


class Refiner:
    """The per-frame work: colour, mask, blend, sharpen (no marks, no I/O)."""

    def __init__(self, cfg: DictConfig, size: int):
        self.cfg, self.size = cfg, size
        self.color = color.make(cfg.color, cfg.color_smoothing)
        self.color_gap: list[tuple[float, float]] = []  # face vs target L*a*b* means, before/after

    def __call__(
        self,
        frame: np.ndarray,
        face: np.ndarray,
        mask: np.ndarray,
        matrix: np.ndarray,
        lm,
        own: np.ndarray | None = None,
        crop: np.ndarray | None = None,
    ) -> np.ndarray:
        """``crop``: the frame's aligned crop under ``matrix`` where generate kept it
        (else it is warped again)."""
        s = self.size
        lm_crop = transform_points(lm, matrix)
        target = warp_face(frame, matrix, s) if crop is None else crop
        region = (hull_mask(lm_crop, (s, s)) > 127) & (mask > 127)
        stats_region = region
        if self.cfg.color_region == "skin":
            stats_region = region & skin_mask(lm_crop, (s, s))
        recoloured = self.color(face, target, stats_region)
        if region.sum() >= 16:
            want = color.region_stats(target, region)[0]
            before = np.abs(color.region_stats(face, region)[0] - want).mean()
            after = np.abs(color.region_stats(recoloured, region)[0] - want).mean()
            self.color_gap.append((float(before), float(after)))
        blend_mask = shape_mask(mask, lm_crop, self.cfg.mask, own)
        c = self.cfg
        return blend_face(
            frame, recoloured, blend_mask, matrix, c.blend, c.sharpen, c.sharpen_sigma
        )


def refine_target(
    target: Target,
    gen_dir: Path,
    cfg: DictConfig,
    out_dir: Path,
    mark: Callable[..., np.ndarray],  # mark(frame, face landmarks or None)
    bar: tqdm | None = None,
    voice: Path | None = None,
) -> dict:
    """Refine one target's generated faces into its final outputs; ``voice`` (a WAV) is
    their sound track in place of the target's own."""
    faces = np.load(gen_dir / "faces.npy", mmap_mode="r")
    if not (gen_dir / "crops.npy").is_file():
        raise UserError(
            f"{gen_dir} was written by an older generate (no crops.npy); re-run the "
            "generate stage (dvc repro generate)."
        )
    crops = np.load(gen_dir / "crops.npy", mmap_mode="r")
    masks = np.load(gen_dir / "masks.npy", mmap_mode="r")
    own = None
    if cfg.mask.source == "occlusion":
        if not (gen_dir / "own_masks.npy").is_file():
            raise UserError(
                f"refine.mask.source=occlusion needs the visible-face masks of target "
                f"'{target.name}', and generate.occlusion_mask=own_decoder draws them only "
                "when the model has that person as an identity; use "
                "generate.occlusion_mask=segmenter or refine.mask.source=predicted."
            )
        own = np.load(gen_dir / "own_masks.npy", mmap_mode="r")
    with np.load(gen_dir / "track.npz") as track:
        matrices, landmarks, has_face = track["matrices"], track["landmarks"], track["has_face"]
    n = len(has_face)
    names = target.names()
    refiner = Refiner(cfg, faces.shape[1])
    out_dir.mkdir(parents=True)
    captions = ["original", "swapped", "ground truth"]
    fmt = cfg.image_format if target.kind == "images" else None
    sink = FrameSink(target, out_dir, names, Encoding.of(cfg), fmt, voice)
    keep = set(_spread(np.flatnonzero(has_face), cfg.before_after))
    pairs: list[tuple[np.ndarray, np.ndarray]] = []
    truths = _truth_frames(target)
    start = time.perf_counter()
    for i, frame in enumerate(target.read()):
        if i >= n:
            break
        if target.kind == "images":
            refiner.color.reset()  # stills are independent pictures
        mine = None if own is None else own[i]
        out = (
            refiner(frame, faces[i], masks[i], matrices[i], landmarks[i], mine, crops[i])
            if has_face[i]
            else frame
        )
        out = mark(out, landmarks[i] if has_face[i] else None)
        panels = [frame, out] + ([next(truths)] if truths is not None else [])
        sbs = mark(side_by_side(panels, captions[: len(panels)], cfg.side_by_side_height))
        sink.write(i, {"": out, ".side_by_side": sbs})
        if i in keep:
            pairs.append((frame, out))
        if bar is not None:
            bar.update()
    sink.close()
    seconds = time.perf_counter() - start
    gap = np.array(refiner.color_gap) if refiner.color_gap else np.zeros((1, 2))
    stats = {
        "target": target.name,
        "kind": target.kind,
        "frames": n,
        "faces": int(has_face.sum()),
        "seconds": round(seconds, 3),
        "frames_per_second": round(n / max(seconds, 1e-9), 2),
        "color_gap_before": round(float(gap[:, 0].mean()), 3),
        "color_gap_after": round(float(gap[:, 1].mean()), 3),
        "voice": "converted" if voice else ("own" if target.audio else "none"),
    }
    return stats | {"pairs": pairs, "files": sink.files}


def _spread(indices: np.ndarray, k: int) -> list[int]:
    if k <= 0 or len(indices) == 0:
        return []
    picks = np.linspace(0, len(indices) - 1, min(k, len(indices))).round().astype(int)
    return [int(indices[j]) for j in picks]


def _truth_frames(target: Target) -> Iterator[np.ndarray] | None:
    truth = target.truth
    if truth is None:
        return None
    if target.kind == "video":
        return read_frames(truth)
    return (read_image(truth / name) for name in target.names())


def write_report(path: Path, stats: list[dict]) -> None:
    """reports/refine.json: per target, its counts, speed and colour gap (DVC metrics)."""
    skip = ("pairs", "files", "target", "kind", "voice")
    clean = {s["target"]: {k: v for k, v in s.items() if k not in skip} for s in stats}
    path.write_text(json.dumps(clean, indent=1) + "\n", encoding="utf-8")
