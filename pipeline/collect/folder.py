"""Collect from real footage: videos and image folders per identity, with consent.

Per identity the stage refuses to read anything without a consent record (a file that
exists and names the identity). Then for every sampled frame (videos: at most
``sample_fps`` frames per second; image folders: every image) it detects faces, fits 68
landmarks, aligns with the template the synthetic data uses, and filters:

    no_face       nothing detected
    too_small     the face is smaller than ``min_face`` pixels
    blurry        variance of the Laplacian of the aligned crop below ``min_sharpness``
    extreme_yaw   yaw estimated from the landmarks beyond ``max_yaw``
    other_person  the face is not the identity (dlib embedding farther than
                  ``match_distance`` from the reference photo, or from the centre of the
                  identity's faces when no reference is given); in a frame with several
                  faces only the closest one can be kept
    duplicate     perceptual hash within ``dedupe_bits`` of a face already kept

Unreadable files are skipped with a warning and counted (``unreadable``), files that are
not images or videos likewise (``not_media``); an identity with nothing usable is an
error. Target clips are tracked, every face on its own track (detection every
``redetect_every`` frames, landmarks every frame: pipeline/faces/follow.py), and
re-encoded as H.264 + AAC with the landmarks of the face to swap (the one matching the
target's ``reference`` photo, else the largest), like synthetic targets.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from omegaconf import DictConfig
from tqdm import tqdm

from pipeline.collect.consent import check_consent
from pipeline.collect.synthetic import FaceSample
from pipeline.collect.writer import FaceFolderWriter, write_meta
from pipeline.errors import UserError
from pipeline.faces.align import alignment_matrix, transform_points, warp_face
from pipeline.faces.detect import Face, FaceAnalyzer
from pipeline.faces.follow import SAME_PERSON, FaceTracker
from pipeline.faces.mask import hull_mask
from pipeline.faces.quality import hamming, phash, sharpness, yaw_degrees
from pipeline.io.image import read_image
from pipeline.io.video import VideoWriter, has_audio, probe, read_frames
from pipeline.provenance.marks import check_markable

log = logging.getLogger("pipeline.collect")

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
REASONS = (
    "no_face",
    "too_small",
    "blurry",
    "extreme_yaw",
    "other_person",
    "duplicate",
    "unreadable",
    "not_media",
)


@dataclass
class Candidate:
    crop: np.ndarray
    landmarks: np.ndarray  # crop pixels
    matrix: np.ndarray
    embedding: np.ndarray
    frame_key: int  # faces of one frame share it
    source: dict


def sampled_frames(
    ident: DictConfig, data: DictConfig, root: Path, counts: Counter
) -> Iterator[tuple[np.ndarray, dict]]:
    """Frames to look at, streamed: sampled video frames, then every image."""
    for rel in ident.videos:
        path = root / rel
        info = probe(path) if path.is_file() else {"streams": []}
        if not any(s["type"] == "video" for s in info["streams"]):
            log.warning("skipped %s: not a readable video", path)
            counts["unreadable"] += 1
            continue
        step = max(1, int(round((info["fps"] or data.fps) / data.sample_fps)))
        try:
            for i, frame in enumerate(read_frames(path, info["fps"])):
                if i % step == 0:
                    yield frame, {"kind": "video", "file": str(rel), "frame": i}
        except UserError:
            log.warning("skipped %s: cannot be decoded", path)
            counts["unreadable"] += 1
    for rel in ident.images:
        folder = root / rel
        if not folder.is_dir():
            raise UserError(f"identity '{ident.name}': image folder {folder} does not exist.")
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                counts["not_media"] += 1
                continue
            try:
                image = read_image(path)
            except UserError as err:
                log.warning("skipped %s", err)
                counts["unreadable"] += 1
                continue
            yield image, {"kind": "image", "file": str(path.relative_to(root))}


def reference_embedding(fa: FaceAnalyzer, root: Path, rel: str, what: str) -> np.ndarray | None:
    if not rel:
        return None
    try:
        image = read_image(root / rel)
    except UserError as err:
        raise UserError(f"{what}: reference photo: {err}") from err
    faces = fa.detect(image)
    if not faces:
        raise UserError(f"{what}: no face found in the reference photo {root / rel}.")
    return fa.embed(image, faces[0])


def _candidates(fa, ident, data, root, counts, bar) -> list[Candidate]:
    out = []
    for key, (frame, source) in enumerate(sampled_frames(ident, data, root, counts)):
        counts["frames"] += 1
        bar.update()
        faces = fa.detect(frame)
        if not faces:
            counts["no_face"] += 1
            continue
        big = [f for f in faces if f.size >= data.min_face]
        if not big:
            counts["too_small"] += 1
            continue
        for face in big:
            cand = _align(fa, frame, face, data, counts, key, source)
            if cand is not None:
                out.append(cand)
    return out


def _align(fa, frame, face: Face, data, counts, key, source) -> Candidate | None:
    if abs(yaw_degrees(face.landmarks)) > data.max_yaw:
        counts["extreme_yaw"] += 1
        return None
    m = alignment_matrix(face.landmarks, data.crop_size, data.coverage)
    crop = warp_face(frame, m, data.crop_size)
    if sharpness(crop) < data.min_sharpness:
        counts["blurry"] += 1
        return None
    lm = transform_points(face.landmarks, m)
    return Candidate(crop, lm, m, fa.embed(frame, face), key, source)


def choose_person(cands: list[Candidate], reference, max_distance: float, counts) -> list:
    """Keep the identity's faces: near the reference (or the centre of the frames with one
    face); in a frame with several faces, at most the nearest one."""
    if not cands:
        return []
    per_frame = Counter(c.frame_key for c in cands)
    if reference is None:
        alone = [c.embedding for c in cands if per_frame[c.frame_key] == 1]
        reference = np.median(np.stack(alone or [c.embedding for c in cands]), axis=0)
    best: dict[int, tuple[float, Candidate]] = {}
    for c in cands:
        d = float(np.linalg.norm(c.embedding - reference))
        if d > max_distance:
            counts["other_person"] += 1
            continue
        if c.frame_key in best:
            counts["other_person"] += 1
            if d >= best[c.frame_key][0]:
                continue
        best[c.frame_key] = (d, c)
    return [best[k][1] for k in sorted(best)]


def dedupe(cands: list[Candidate], bits: int, counts: Counter) -> list[Candidate]:
    kept, hashes = [], []
    for c in cands:
        h = phash(c.crop)
        if any(hamming(h, k) <= bits for k in hashes):
            counts["duplicate"] += 1
            continue
        kept.append(c)
        hashes.append(h)
    return kept


def collect_identity(fa, ident, data, root: Path, folder: Path, bar) -> tuple[Counter, list]:
    provenance = check_consent(root, ident)
    counts: Counter = Counter({k: 0 for k in ("frames", *REASONS)})
    reference = reference_embedding(fa, root, ident.reference, f"identity '{ident.name}'")
    cands = _candidates(fa, ident, data, root, counts, bar)
    kept = dedupe(
        choose_person(cands, reference, data.match_distance, counts), data.dedupe_bits, counts
    )
    counts["kept"] = len(kept)
    if not kept:
        reasons = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
        raise UserError(
            f"identity '{ident.name}': no usable face in its footage ({reasons}); add "
            "footage where the face is larger, sharper and closer to frontal."
        )
    writer = FaceFolderWriter(folder, ident.name, data.crop_size, provenance, data.coverage)
    size = data.crop_size
    for i, c in enumerate(kept):
        sample = FaceSample(
            index=i,
            scene=0,
            crop=c.crop,
            mask=hull_mask(c.landmarks, (size, size)),
            landmarks=c.landmarks,
            visible=np.ones(68, bool),
            matrix=c.matrix,
            performance={},
        )
        writer.add(sample, c.source, embedding=np.round(c.embedding, 5).tolist())
    writer.close()
    return counts, [c.crop for c in kept[:32]]


def collect_target(fa, t: DictConfig, data: DictConfig, root: Path, folder: Path, bar) -> dict:
    """Track every face through the clip; write the clip re-encoded, the chosen face's
    landmarks, and every face's (pipeline/faces/follow.py)."""
    src = root / t.video
    info = probe(src) if src.is_file() else {"streams": []}
    if not any(s["type"] == "video" for s in info["streams"]):
        raise UserError(f"target '{t.name}': {src} is not a readable video; check the path.")
    reference = reference_embedding(fa, root, t.reference, f"target '{t.name}'")
    tracker = FaceTracker(fa, data.redetect_every, reference=reference)
    fps = info["fps"] or data.fps
    folder.mkdir(parents=True)
    writer = None
    audio = src if has_audio(src) else None
    for frame in read_frames(src, fps):
        h, w = frame.shape[:2]
        if writer is None:  # generate could not mark it: refused before any tracking
            check_markable(h, w, f"target '{t.name}' ({src})")
        frame = frame[: h - h % 2, : w - w % 2]  # H.264 wants even sides
        if writer is None:
            # A working copy at CRF 18: veryfast keeps the 1080p re-encode from bounding
            # tracking (20 ms a frame at medium; bench/collect_speed.py). Sound past the
            # last frame is cut: the clip is its frames, and its voice is converted whole.
            writer = VideoWriter(
                folder / "video.mp4",
                frame.shape[1::-1],
                fps,
                18,
                audio,
                preset="veryfast",
                fit_audio=True,
            )
        writer.write(frame)
        tracker(frame)
        bar.update()
    if writer is None:
        raise UserError(f"target '{t.name}': {src} has no frames.")
    writer.close()
    every = tracker.landmarks()
    chosen, why = tracker.chosen()
    if why == "reference":
        gap = float(np.linalg.norm(tracker.tracks[chosen].embedding - reference))
        if gap >= SAME_PERSON:
            raise UserError(
                f"target '{t.name}': no face in {src} matches the reference photo "
                f"{root / t.reference} (nearest embedding distance {gap:.2f}, same person "
                f"below {SAME_PERSON}); check data.targets' reference."
            )
    lms = every[chosen] if chosen >= 0 else np.full((tracker.t, 68, 2), np.nan, np.float32)
    np.savez_compressed(
        folder / "track.npz",
        landmarks=lms,
        visible=np.isfinite(lms[..., 0]),
        every_face=every,  # (tracks, frames, 68, 2): the faces that are left alone too
        chosen=chosen,
    )
    meta = {
        "clip": t.name,
        "kind": "video",
        "identity": None,
        "swap_to": t.swap_to,
        "fps": fps,
        "frames": len(lms),
        "width": int(frame.shape[1]),
        "height": int(frame.shape[0]),
        "source": str(t.video),
        "tracking": dict(tracker.counts)
        | {
            "faces": len(tracker.tracks),
            "chosen": chosen,
            "chosen_by": why,
            "no_face": int((~np.isfinite(lms[:, 0, 0])).sum()),
        },
    }
    write_meta(folder / "meta.json", meta)
    return meta


def collect_folder(
    data: DictConfig, detector: DictConfig, root: Path, faces_dir: Path, targets_dir: Path
) -> dict:
    names = [i.name for i in data.identities]
    if len(names) < 2 or len(set(names)) != len(names):
        raise UserError("data.identities needs at least two identities with unique names.")
    for ident in data.identities:  # every consent is checked before any footage is read
        check_consent(root, ident)
    for t in data.targets:
        if t.swap_to not in names:
            raise UserError(f"data.targets '{t.name}': swap_to '{t.swap_to}' is not an identity.")
    fa = FaceAnalyzer(detector)
    stats: dict = {"faces": {}, "rejected": {}, "targets": {}, "previews": {}}
    with tqdm(desc="collect", unit="frame") as bar:
        for ident in data.identities:
            counts, previews = collect_identity(fa, ident, data, root, faces_dir / ident.name, bar)
            stats["faces"][ident.name] = counts["kept"]
            stats["rejected"][ident.name] = dict(counts)
            stats["previews"][ident.name] = previews
            log.info("%s: %s", ident.name, dict(counts))
        for t in data.targets:
            meta = collect_target(fa, t, data, root, targets_dir / t.name, bar)
            stats["targets"][t.name] = meta["frames"]
    return stats
