"""Collect from the synthetic renderer: training faces per identity and target clips.

Training faces are independent frames whose performance covers every channel's whole
range (pose, expression, gaze, light, framing), split into ``scenes`` stretches with
their own background, as footage from several videos would be. A target clip is a
smooth performance of one identity; its ground truths are the same performance, light
and background rendered as the identity a swap should produce: the other person's whole
head, and their inner face on the performer's head (``TRUTHS``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from omegaconf import DictConfig

from pipeline.config.rules import enforce
from pipeline.faces.align import alignment_matrix, transform_points, warp_face
from pipeline.faces.mask import hull_mask
from pipeline.faces.template import HEAD_COVERAGE
from pipeline.synth.background import render_background
from pipeline.synth.identity import Identity, face_swap_truth, sample_identity
from pipeline.synth.occluders import KINDS, Occluder, occlude
from pipeline.synth.performance import (
    Performance,
    frame_of,
    performance_length,
    random_performance,
    smooth_performance,
)
from pipeline.synth.render import Frame, render_frame

RENDERER_VERSION = "2"  # bump when a change alters rendered pixels


@dataclass
class FaceSample:
    """One aligned training face and where it came from."""

    index: int
    scene: int
    crop: np.ndarray  # (S, S, 3) uint8 BGR
    mask: np.ndarray  # (S, S) uint8, landmark hull
    landmarks: np.ndarray  # (68, 2) crop pixel coordinates
    visible: np.ndarray  # (68,) bool
    matrix: np.ndarray  # (2, 3) frame -> crop
    performance: dict[str, float]


def check_config(data: DictConfig) -> None:
    """Reject values the schema's types allow but the renderer cannot use: references
    between keys (names' safety and uniqueness, and every number's range, are checked
    on load: pipeline/config/rules.py and ranges.py)."""
    names = [i.name for i in data.identities]
    rules = [
        (data.crop_size <= data.frame_size, "data.crop_size must be at most data.frame_size"),
        (len(names) >= 2, "data.identities needs at least two identities to swap"),
    ]
    for t in data.targets:
        rules += [
            (
                kind in KINDS,
                f"data.targets '{t.name}': occluder '{kind}' is not one of {', '.join(KINDS)}",
            )
            for kind in t.occluders
        ]
        rules += [
            (
                t.identity in names,
                f"data.targets '{t.name}': identity '{t.identity}' is not one of data.identities",
            ),
            (
                t.swap_to in names,
                f"data.targets '{t.name}': swap_to '{t.swap_to}' is not one of data.identities",
            ),
            (
                t.seconds * data.fps >= 1,
                f"data.targets '{t.name}': seconds x data.fps must make at least one frame",
            ),
        ]
    for st in data.stills:
        rules += [
            (
                st.identity in names and st.swap_to in names,
                f"data.stills '{st.name}': identity and swap_to must be in data.identities",
            ),
        ]
    enforce(rules)


def identities(data: DictConfig) -> dict[str, Identity]:
    return {i.name: sample_identity(i.name, i.seed) for i in data.identities}


def scene_of(index: int, frames: int, scenes: int) -> int:
    return min(index * scenes // frames, scenes - 1)


def training_faces(idt: Identity, seed: int, frames: int, data: DictConfig) -> Iterator[FaceSample]:
    """Render, align and mask ``frames`` training faces of ``idt``; a share
    ``data.occlusion`` of them has an occluder in front, left out of its mask."""
    perf = random_performance(seed, frames)
    backgrounds = [render_background(seed * 1000 + k, data.frame_size) for k in range(data.scenes)]
    # Its own stream, so that occlusion 0 renders exactly the faces it rendered before.
    rng = np.random.default_rng([seed, 0x0CC1])
    for i in range(frames):
        scene = scene_of(i, frames, data.scenes)
        p = frame_of(perf, i)
        frame = render_frame(idt, p, backgrounds[scene])
        hidden = None
        if rng.random() < data.get("occlusion", 0.0):  # the pretrain pool has none
            occ = Occluder(str(rng.choice(KINDS)), int(rng.integers(2**31)))
            hidden = occ.draw(frame.image, frame.landmarks, float(rng.random()))
        yield align_sample(frame, data.crop_size, i, scene, p, data.coverage, hidden)


def align_sample(
    frame: Frame,
    size: int,
    index: int,
    scene: int,
    perf: dict,
    coverage: float = HEAD_COVERAGE,
    hidden: np.ndarray | None = None,
) -> FaceSample:
    """The aligned crop; its mask is the landmark hull less ``hidden`` (what covers the
    face in the frame, uint8), so it is exactly the face that can be seen."""
    matrix = alignment_matrix(frame.landmarks, size, coverage)
    crop = warp_face(frame.image, matrix, size)
    lm = transform_points(frame.landmarks, matrix)
    mask = hull_mask(lm, (size, size))
    if hidden is not None:
        mask = np.minimum(mask, 255 - warp_face(hidden, matrix, size))
    return FaceSample(index, scene, crop, mask, lm, frame.visible, matrix, perf)


def target_performance(seconds: float, fps: float, seed: int) -> Performance:
    return smooth_performance(seed, max(1, int(round(seconds * fps))), fps)


def still_frames(
    actor: Identity, truth: Identity, count: int, seed: int, size: int
) -> Iterator[tuple[Frame | None, Frame | None, np.ndarray]]:
    """Target stills with their ground truth; the last is background only (no face)."""
    perf = random_performance(seed, count - 1)
    for i in range(count):
        background = render_background(seed * 1000 + i, size)
        if i == count - 1:
            yield None, None, background
            continue
        p = frame_of(perf, i)
        yield render_frame(actor, p, background), render_frame(truth, p, background), background


# The ground truths of a clip, by the name of their file: B's whole head (what the
# evaluators' identity and pose floors are measured on), and B's inner face on A's head
# with A's skin tone (what a face swap with colour transfer can reach) or with B's
# (refine.color=none).
TRUTHS = ("ground_truth", "face_truth", "face_truth_source_skin")


def truth_identities(actor: Identity, swap_to: Identity) -> dict[str, Identity]:
    return {
        "ground_truth": swap_to,
        "face_truth": face_swap_truth(actor, swap_to, target_skin=True),
        "face_truth_source_skin": face_swap_truth(actor, swap_to, target_skin=False),
    }


def target_frames(
    actor: Identity,
    truths: list[Identity],
    perf: Performance,
    seed: int,
    size: int,
    occluders: list[str] = (),
) -> Iterator[tuple[Frame, list[Frame]]]:
    """Each frame of a target clip with its ground truths (same performance and scene).
    With ``occluders`` they are drawn where the performer's face is, over the performer
    and every truth alike, and the performer's frame carries each one's coverage
    (``hidden``, in the order of ``occluders``)."""
    background = render_background(seed * 1000 + 999, size)
    things = [Occluder(kind, seed) for kind in occluders]
    n = performance_length(perf)
    for i in range(n):
        p = frame_of(perf, i)
        actor_frame = render_frame(actor, p, background)
        renders = [render_frame(t, p, background) for t in truths]
        if things:
            for r in renders:
                occlude(r.image, actor_frame.landmarks, things, i / n)
            actor_frame.hidden = occlude(actor_frame.image, actor_frame.landmarks, things, i / n)
        yield actor_frame, renders
