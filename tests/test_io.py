"""Outputs appear whole or not at all; videos keep their audio; bad files are refused."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.errors import UserError
from pipeline.io.atomic import atomic_outputs
from pipeline.io.audio import soundtrack, write_wav
from pipeline.io.video import VideoWriter, probe, read_frames


def test_interrupted_output_leaves_the_old_output_untouched(tmp_path):
    final = tmp_path / "out"
    final.mkdir()
    (final / "old.txt").write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_outputs(final) as (tmp,):
        tmp.mkdir()
        (tmp / "half.txt").write_text("half")
        raise KeyboardInterrupt
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert (final / "old.txt").read_text() == "old"


def test_finished_output_replaces_the_old_one(tmp_path):
    final = tmp_path / "out"
    final.mkdir()
    (final / "old.txt").write_text("old")
    with atomic_outputs(final) as (tmp,):
        tmp.mkdir()
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in final.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_video_with_audio_round_trip(tmp_path):
    wav = tmp_path / "a.wav"
    write_wav(wav, soundtrack(1.0, 220, 0))
    frames = [np.full((64, 96, 3), (i * 20, 100, 200 - i * 20), np.uint8) for i in range(10)]
    with VideoWriter(tmp_path / "v.mp4", (96, 64), 10, 10, wav) as w:
        for f in frames:
            w.write(f)
    info = probe(tmp_path / "v.mp4")
    assert {s["type"] for s in info["streams"]} == {"video", "audio"}
    back = list(read_frames(tmp_path / "v.mp4"))
    assert len(back) == 10 and back[0].shape == (64, 96, 3)
    # Colour order survives (BGR in, BGR out).
    assert np.abs(back[5].astype(int) - frames[5]).mean() < 4


def test_corrupt_or_missing_video_is_a_user_error(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(500))
    with pytest.raises(UserError, match="broken.mp4"):
        list(read_frames(bad))
    with pytest.raises(UserError, match="missing.mp4"):
        list(read_frames(tmp_path / "missing.mp4"))
