"""Outputs appear whole or not at all; videos keep their audio; bad files are refused."""

from __future__ import annotations

import signal
import subprocess
import sys

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


_KILLED_STAGE = """
import sys, time
from pathlib import Path
from pipeline.io.atomic import atomic_outputs
with atomic_outputs(Path(sys.argv[1])) as (tmp,):
    tmp.mkdir()
    (tmp / "half.txt").write_text("half")
    print("writing", flush=True)
    time.sleep(60)
"""


def test_a_killed_stages_temporary_is_removed_by_the_next_run(tmp_path):
    final = tmp_path / "final"
    final.mkdir()
    (final / "old.txt").write_text("old")
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_STAGE, str(final)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGKILL)  # no cleanup can run
    proc.wait()
    left = tmp_path / f".final.tmp-{proc.pid}"
    assert left.is_dir(), "kill -9 leaves the temporary behind"
    # A live process's temporary (a concurrent run) is not touched.
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    live = tmp_path / f".final.tmp-{sleeper.pid}"
    live.mkdir()
    try:
        with atomic_outputs(final) as (tmp,):
            tmp.mkdir()
            (tmp / "new.txt").write_text("new")
        assert not left.exists()
        assert live.is_dir()
        assert sorted(p.name for p in final.iterdir()) == ["new.txt"]
    finally:
        sleeper.kill()
        sleeper.wait()


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


def _x264_settings(path) -> str:
    """The settings x264 writes into the stream it encodes (its SEI text)."""
    data = path.read_bytes()
    start = data.index(b"x264 - core")
    return data[start : data.index(b"\0", start)].decode()


def test_large_frames_get_the_hd_encoding_and_small_ones_the_plain_one(tmp_path):
    """refine.hd: the final of a 720p clip (either way up) is encoded at the HD preset
    and CRF, a smaller stream of the same clip (its side-by-side) at the plain ones."""
    from pipeline.generate.targets import Target
    from pipeline.io.encoding import Encoding
    from pipeline.io.sink import FrameSink

    folder = tmp_path / "clip"
    folder.mkdir()
    with VideoWriter(folder / "video.mp4", (64, 48), 25) as out:
        out.write(np.zeros((48, 64, 3), np.uint8))  # the target's own file: any size
    target = Target("clip", "video", folder, {"frames": 2, "fps": 25})
    enc = Encoding(20, "medium", hd_pixels=1280 * 720, hd_crf=19, hd_preset="veryfast")
    sink = FrameSink(target, tmp_path, ["0", "1"], enc)
    rng = np.random.default_rng(0)
    for i in range(2):
        sink.write(
            i,
            {
                "": rng.integers(0, 256, (1280, 720, 3), np.uint8),  # portrait 720p
                ".side_by_side": rng.integers(0, 256, (256, 640, 3), np.uint8),
            },
        )
    sink.close()
    hd, small = (_x264_settings(tmp_path / f"clip{s}.mp4") for s in ("", ".side_by_side"))
    assert " crf=19.0 " in hd and " subme=2 " in hd  # veryfast
    assert " crf=20.0 " in small and " subme=7 " in small  # medium
    assert enc.for_frame(np.zeros((719, 1280, 3), np.uint8)) == (20, "medium")
    assert Encoding(23, "veryfast").for_frame(np.zeros((2160, 3840, 3), np.uint8)) == (
        23,
        "veryfast",
    )
