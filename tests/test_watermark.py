"""The invisible watermark: its code, its survival through H.264, and its false-positive rate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.collect import synthetic
from pipeline.io.video import VideoWriter, read_frames
from pipeline.provenance.watermark import (
    CODE_BITS,
    KEY,
    MIN_MEAN_Z,
    Detector,
    Embedder,
    Layout,
    decode,
    encode,
    run_tag,
)
from tests.helpers import smoke_cfg

RUN_ID = "3f2a9c0d7e1b48a6b5c4d3e2f1a0b9c8"
TAG = "3f2a9c0d7e1b"
SIZE = 256
FPS = 25.0
FP_CHECKS = 1024  # one independent random payload check per key


@dataclass
class Clip:
    frames: list[np.ndarray]  # rendered, unmarked
    marked: list[np.ndarray]  # the same frames with the watermark of TAG
    marked_mp4: Path  # ``marked`` at CRF 23
    unmarked_mp4: Path  # ``frames`` at CRF 23


def _write(path: Path, frames: list[np.ndarray], crf: int) -> Path:
    with VideoWriter(path, (SIZE, SIZE), FPS, crf=crf) as out:
        for f in frames:
            out.write(f)
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Clip:
    """Two seconds (50 frames) of the smoke target clip rendered at 256x256."""
    data = smoke_cfg(f"data.frame_size={SIZE}").data
    people = synthetic.identities(data)
    t = data.targets[0]
    perf = synthetic.target_performance(2.0, FPS, t.seed)
    pairs = synthetic.target_frames(people[t.identity], [], perf, t.seed, SIZE)
    frames = [actor.image for actor, _ in pairs]
    embed = Embedder(TAG, SIZE, SIZE)
    marked = [embed(f) for f in frames]
    folder = tmp_path_factory.mktemp("clip")
    return Clip(
        frames,
        marked,
        _write(folder / "marked_crf23.mp4", marked, 23),
        _write(folder / "unmarked_crf23.mp4", frames, 23),
    )


def _read(frames, key: int = KEY):
    detector = Detector(key=key)
    for f in frames:
        detector.add(f)
    return detector.reading()


def test_code_round_trip_and_any_single_bit_error_is_rejected():
    code = encode(TAG)
    assert code.shape == (CODE_BITS,) and set(np.unique(code)) == {-1.0, 1.0}
    assert decode(code) == TAG
    # Soft values decode by sign, as the detector's z-scores do.
    assert decode(code * np.linspace(0.1, 9.0, CODE_BITS)) == TAG
    for i in range(CODE_BITS):
        flipped = code.copy()
        flipped[i] *= -1
        assert decode(flipped) is None, f"a flip of bit {i} passed the CRC"


def test_run_tag_is_the_first_twelve_hex_digits_of_the_run_id():
    assert run_tag(RUN_ID) == TAG
    assert run_tag(RUN_ID.upper()) == TAG
    assert run_tag("3f2a9c0d-7e1b-48a6-b5c4-d3e2f1a0b9c8") == TAG  # UUID spelling
    for bad in ("3f2a9c0d7e", "not-a-run-id-at-all-zzzzzzzzzzzz", ""):
        with pytest.raises(ValueError):
            run_tag(bad)


def test_mark_is_invisible_and_survives_h264_and_a_re_encode(clip, tmp_path):
    stack = np.stack(clip.frames)
    psnr = cv2.PSNR(stack, np.stack(clip.marked))
    print(f"\nembedding PSNR {psnr:.2f} dB")
    assert psnr > 36

    first = _read(read_frames(clip.marked_mp4))
    print(f"CRF 23: tag {first.tag}, min |z| {first.min_z:.2f}, mean |z| {first.mean_z:.2f}")
    assert first.frames == len(clip.frames)
    assert first.tag == TAG
    assert first.bit_accuracy(TAG) == 1.0

    # A second generation: decode the CRF 23 file and encode it again, harder.
    again = _write(tmp_path / "crf28.mp4", list(read_frames(clip.marked_mp4)), 28)
    second = _read(read_frames(again))
    print(f"CRF 28: tag {second.tag}, min |z| {second.min_z:.2f}, mean |z| {second.mean_z:.2f}")
    assert second.tag == TAG
    assert second.bit_accuracy(TAG) == 1.0

    # The same pipeline without the mark reads nothing.
    assert not _read(read_frames(clip.unmarked_mp4)).found


def _fp_checks(jobs: list[tuple[int, int]], media: list[list[np.ndarray]]) -> list[tuple]:
    """(found, mean |z|) of reading media[m] with key k, for each (k, m) in ``jobs``."""
    return [((r := _read(media[m], k)).found, r.mean_z) for k, m in jobs]


def test_false_positives_on_unmarked_media_are_at_most_one_in_a_thousand(clip):
    noise = np.random.default_rng(3)
    unmarked_h264 = list(read_frames(clip.unmarked_mp4))
    marked_h264 = list(read_frames(clip.marked_mp4))
    media = [
        clip.frames[::10],  # rendered
        unmarked_h264[::10],  # rendered, through H.264
        [noise.integers(0, 256, (SIZE, SIZE, 3), np.uint8) for _ in range(2)],
        marked_h264[::10],  # marked, but read with another key than it was made with
    ]
    keys = np.random.default_rng(11).choice(2**31, FP_CHECKS + 1, replace=False)
    keys = [int(k) for k in keys if k != KEY][:FP_CHECKS]
    jobs = [(k, i % len(media)) for i, k in enumerate(keys)]
    results = _fp_checks(jobs, media)

    found = sum(f for f, _ in results)
    over_margin = sum(z >= MIN_MEAN_Z for _, z in results)
    z = np.array([z for _, z in results])
    print(
        f"\nfalse positives: {found} of {len(results)} checks; "
        f"{over_margin} over the mean |z| margin {MIN_MEAN_Z} "
        f"(mean |z| of the checks: median {np.median(z):.2f}, max {z.max():.2f})"
    )
    assert len(results) >= 1000
    assert found <= 1
    # The margin on its own (without the CRC's 1 in 65,536) keeps unmarked media out too.
    assert over_margin <= 1

    # The whole marked clip, read with a different key, is not marked for that key.
    other = _read(marked_h264, KEY + 1)
    assert not other.found and other.mean_z < MIN_MEAN_Z


def test_sizes_that_cannot_carry_the_mark_are_refused():
    embed = Embedder(TAG, SIZE, SIZE)
    with pytest.raises(ValueError, match="does not match"):
        embed(np.zeros((SIZE, SIZE + 4, 3), np.uint8))
    with pytest.raises(ValueError, match="too small"):
        Layout.for_size(32, 32)
    with pytest.raises(ValueError, match="too small"):
        Detector().add(np.zeros((32, 32, 3), np.uint8))


def test_a_weaker_mark_on_the_face_keeps_the_clip_readable(tmp_path):
    """The default marks: 4 levels on the frame, 1 on the swapped face, read after H.264
    and a harder re-encode, with the face itself changed by at most one level."""
    from pipeline.provenance.marks import FrameMarker, face_region

    cfg = smoke_cfg(f"data.frame_size={SIZE}", "provenance.label=false")
    data = cfg.data
    t = data.targets[0]
    perf = synthetic.target_performance(2.0, FPS, t.seed)
    pairs = synthetic.target_frames(synthetic.identities(data)[t.identity], [], perf, t.seed, SIZE)
    marker = FrameMarker(TAG, cfg.provenance)
    strength, face_strength = (
        cfg.provenance.watermark_strength,
        cfg.provenance.watermark_face_strength,
    )
    assert face_strength < strength
    frames, marked = [], []
    for actor, _ in pairs:
        frames.append(actor.image)
        out = marker(actor.image, actor.landmarks)
        delta = np.abs(out.astype(int) - actor.image)
        face = face_region(actor.landmarks, (SIZE, SIZE)) == 255
        assert delta[face].max() <= round(face_strength)
        assert delta[~face].max() == round(strength)
        marked.append(out)
    psnr = cv2.PSNR(np.stack(frames), np.stack(marked))
    print(f"\nface-aware mark: PSNR {psnr:.2f} dB")
    assert psnr > 36
    again = _write(
        tmp_path / "crf28.mp4", list(read_frames(_write(tmp_path / "m.mp4", marked, 23))), 28
    )
    reading = _read(read_frames(again))
    print(f"face-aware mark after CRF 23 and CRF 28: min |z| {reading.min_z:.2f}")
    assert reading.tag == TAG and reading.bit_accuracy(TAG) == 1.0
