"""Swap every face of one target: align, encode/decode in batches, keep what refine needs.

Per target, ``outputs/generated/<name>/`` holds:
    faces.npy    (N, S, S, 3) uint8 BGR swapped crops (zeros where no face)
    crops.npy    (N, S, S, 3) uint8 BGR the target's own aligned crops, the network's
                 input; refine compares colours with them instead of warping each frame
                 again (on a 1080p frame that warp, with its anti-alias blur, is ~6 ms)
    masks.npy    (N, S, S) uint8 predicted masks
    own_masks.npy  (N, S, S) uint8 the visible face, what covers it left out: the
                 occlusion segmenter's masks (generate.occlusion_mask=segmenter), or the
                 target person's own decoder's when the model has that person
                 (own_decoder); refine.mask.source=occlusion reads them
    track.npz    matrices (N, 2, 3) frame->crop, landmarks used (smoothed), raw landmarks,
                 has_face (N,)
    meta.json    target, identities, counts, speed
    raw/         the plain composite, for inspection (marked like every output):
                 <target>.mp4 for a clip, the images for stills; provenance.json
Crops are written through memory-mapped .npy files, so a long clip is never in memory.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from omegaconf import DictConfig
from tqdm import tqdm

from pipeline.errors import UserError
from pipeline.faces.align import alignment_matrix, warp_face
from pipeline.faces.paste import paste
from pipeline.faces.smoothing import jitter_energy, smooth_track
from pipeline.faces.template import HEAD_COVERAGE
from pipeline.generate.swapper import Swapper
from pipeline.generate.targets import Target
from pipeline.io.encoding import Encoding
from pipeline.io.sink import FrameSink


def jitter_landmarks(landmarks: np.ndarray, amount: float, seed: int) -> np.ndarray:
    """Detector-like noise: a per-frame shift plus per-point noise, ``amount`` x face size."""
    if amount <= 0:
        return landmarks.copy()
    rng = np.random.default_rng(seed)
    size = np.nanmax(landmarks[..., 0], 1) - np.nanmin(landmarks[..., 0], 1)
    sigma = (amount * size)[:, None, None]
    shift = rng.normal(0, 1, (len(landmarks), 1, 2)) * sigma
    noise = rng.normal(0, 0.5, landmarks.shape) * sigma
    return landmarks + shift + noise


def generate_target(
    target: Target,
    swapper: Swapper,
    size: int,
    cfg: DictConfig,
    out_dir: Path,
    mark: Callable[..., np.ndarray],  # mark(frame, face landmarks or None)
    bar: tqdm | None = None,
    coverage: float = HEAD_COVERAGE,
) -> dict:
    """Swap every face of ``target`` into ``out_dir``; crops are ``size`` pixels over
    ``coverage`` head units, as the model was trained on."""
    raw = target.landmarks()
    n = len(raw)
    tracked = jitter_landmarks(raw, cfg.jitter, cfg.jitter_seed)
    used = smooth_track(tracked, cfg.smoothing, target.fps)
    has_face = np.isfinite(used).all(axis=(1, 2))
    matrices = np.full((n, 2, 3), np.nan)
    for i in np.flatnonzero(has_face):
        matrices[i] = alignment_matrix(used[i], size, coverage)

    out_dir.mkdir(parents=True)
    faces = np.lib.format.open_memmap(out_dir / "faces.npy", "w+", np.uint8, (n, size, size, 3))
    shape = (n, size, size, 3)
    target_crops = np.lib.format.open_memmap(out_dir / "crops.npy", "w+", np.uint8, shape)
    masks = np.lib.format.open_memmap(out_dir / "masks.npy", "w+", np.uint8, (n, size, size))
    own = None
    if swapper.sees_occluders:
        shape = (n, size, size)
        own = np.lib.format.open_memmap(out_dir / "own_masks.npy", "w+", np.uint8, shape)
    names = target.names()
    (out_dir / "raw").mkdir()
    sink = FrameSink(target, out_dir / "raw", names, Encoding(cfg.crf, cfg.preset))
    pending: list[tuple[int, np.ndarray]] = []
    start, seen, infer_s = time.perf_counter(), 0, 0.0

    def flush() -> None:
        nonlocal infer_s
        idx = [i for i, _ in pending if has_face[i]]
        if idx:
            crops = np.stack([warp_face(f, matrices[i], size) for i, f in pending if has_face[i]])
            target_crops[idx] = crops
            t0 = time.perf_counter()
            faces[idx], masks[idx], own_masks = swapper(crops)
            if own is not None:
                own[idx] = own_masks
            infer_s += time.perf_counter() - t0
        for i, frame in pending:
            out = paste(frame, faces[i], masks[i], matrices[i]) if has_face[i] else frame
            sink.write(i, {"": mark(out, used[i] if has_face[i] else None)})
        if bar is not None:
            bar.update(len(pending))
        pending.clear()

    for i, frame in enumerate(target.read()):
        if i >= n:
            break
        pending.append((i, frame))
        seen += 1
        if len(pending) >= cfg.batch_size:
            flush()
    flush()
    sink.close()
    faces.flush()
    target_crops.flush()
    masks.flush()
    if own is not None:
        own.flush()
    if seen != n:
        raise_short(target, seen, n)
    seconds = time.perf_counter() - start
    np.savez_compressed(
        out_dir / "track.npz",
        matrices=matrices,
        landmarks=used,
        raw_landmarks=raw,
        has_face=has_face,
    )
    stats = {
        "target": target.name,
        "kind": target.kind,
        "frames": n,
        "faces": int(has_face.sum()),
        "no_face_frames": int(n - has_face.sum()),
        "swap_to": target.swap_to,
        "fps": target.fps,
        "names": names,
        "seconds": round(seconds, 3),
        "frames_per_second": round(n / max(seconds, 1e-9), 2),
        "faces_per_second_model": round(has_face.sum() / max(infer_s, 1e-9), 1),
        # Shake of the landmarks the crops follow, before and after smoothing (pixels).
        "landmark_jitter_tracked": round(jitter_energy(tracked), 4),
        "landmark_jitter_used": round(jitter_energy(used), 4),
    }
    (out_dir / "meta.json").write_text(json.dumps(stats, indent=1) + "\n", encoding="utf-8")
    return stats


def raise_short(target: Target, seen: int, n: int) -> None:
    raise UserError(
        f"{target.media} has {seen} frames but its landmarks cover {n}; "
        "re-run the collect stage (dvc repro collect)."
    )
