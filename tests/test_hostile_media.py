"""Media someone handed us (issue 14): a decompression bomb is refused before a pixel is
decoded; grey, alpha, 16-bit and CMYK pictures come back as 8-bit BGR; verify refuses what
it cannot read in one sentence (a clip cut short, a manifest that is garbage, an empty
file); a rotated phone clip reads upright, 10-bit 4:4:4 reads as 8-bit, an audio-only or
zero-length file is one sentence, a clip is read by its content whatever its extension, a
clip with two audio streams keeps sound, a variable-frame-rate target plays in sync with
its sound, and a 1x1 video is refused as a target and yields no face as footage."""

from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np
import pytest
from omegaconf import OmegaConf
from PIL import Image

from pipeline.collect.folder import collect_identity, collect_target
from pipeline.config.compose import compose_conf
from pipeline.config.load import validate
from pipeline.errors import UserError
from pipeline.faces.detect import FaceAnalyzer
from pipeline.io.image import MAX_PIXELS, read_image
from pipeline.io.video import VideoWriter, has_audio, probe, read_frames
from pipeline.verify import verify
from tests.helpers import ROOT, smoke_cfg


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _bomb(path: Path, side: int = 30000) -> Path:
    """A valid PNG of a few hundred bytes whose header claims side x side pixels."""
    rows = b"".join(b"\x00" + bytes(side * 3) for _ in range(2))
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
        + _chunk(b"IDAT", zlib.compress(rows, 9))
        + _chunk(b"IEND", b"")
    )
    return path


def test_a_decompression_bomb_is_refused_by_its_header(tmp_path):
    bomb = _bomb(tmp_path / "bomb.png")
    assert bomb.stat().st_size < 100_000 and 30000**2 > MAX_PIXELS
    with pytest.raises(UserError, match=r"bomb.png declares 30000x30000 pixels"):
        read_image(bomb)
    with pytest.raises(UserError, match=r"declares 30000x30000"):
        verify(bomb)


@pytest.mark.parametrize(
    "kind", ["grey", "grey16", "rgb16", "rgba", "cmyk_jpeg", "palette", "wrong_extension"]
)
def test_unusual_pictures_come_back_as_8_bit_bgr(tmp_path, kind):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (40, 60, 3), np.uint8)
    path = tmp_path / "pic.png"
    if kind == "grey":
        cv2.imwrite(str(path), rgb[..., 0])
    elif kind == "grey16":
        cv2.imwrite(str(path), rgb[..., 0].astype(np.uint16) * 257)
    elif kind == "rgb16":
        cv2.imwrite(str(path), rgb.astype(np.uint16) * 257)
    elif kind == "rgba":
        cv2.imwrite(str(path), np.dstack([rgb, np.full((40, 60), 128, np.uint8)]))
    elif kind == "cmyk_jpeg":
        path = tmp_path / "pic.jpg"
        Image.fromarray(rgb).convert("CMYK").save(path)
    elif kind == "palette":
        Image.fromarray(rgb).convert("P").save(path)
    else:  # a JPEG named .png
        Image.fromarray(rgb).save(path, format="JPEG")
    image = read_image(path)
    assert image.dtype == np.uint8 and image.shape == (40, 60, 3), (kind, image.shape)


@pytest.mark.parametrize("content", [b"", b"hello world", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40])
def test_a_file_that_is_no_picture_is_one_sentence(tmp_path, content):
    path = tmp_path / "broken.png"
    path.write_bytes(content)
    with pytest.raises(UserError, match=r"broken.png cannot be read"):
        read_image(path)
    with pytest.raises(UserError):
        verify(path)


def _ffmpeg(*args: str) -> None:
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    subprocess.run([exe, "-loglevel", "error", "-y", *args], check=True)


def _testsrc(path: Path, *codec: str, size: str = "160x120") -> Path:
    _ffmpeg("-f", "lavfi", "-i", f"testsrc=size={size}:rate=25", "-t", "0.4", *codec, str(path))
    return path


def test_a_phone_clip_with_rotation_metadata_is_read_upright(tmp_path):
    plain = _testsrc(tmp_path / "plain.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p")
    rotated = tmp_path / "rotated.mp4"
    _ffmpeg("-display_rotation", "90", "-i", str(plain), "-c", "copy", str(rotated))
    upright = next(iter(read_frames(plain)))
    frame = next(iter(read_frames(rotated)))
    assert frame.shape == (160, 120, 3)
    assert np.abs(frame.astype(int) - np.rot90(upright, 1)).mean() < 1


def test_ten_bit_444_video_is_read_as_8_bit_bgr(tmp_path):
    clip = _testsrc(tmp_path / "tenbit.mp4", "-c:v", "libx264", "-pix_fmt", "yuv444p10le")
    frames = list(read_frames(clip))
    assert len(frames) == 10 and frames[0].dtype == np.uint8 and frames[0].shape == (120, 160, 3)


def test_an_audio_only_file_is_one_sentence(tmp_path):
    clip = tmp_path / "voice.mp4"
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=440", "-t", "0.5", "-c:a", "aac", str(clip))
    with pytest.raises(UserError, match=r"voice.mp4 cannot be decoded"):
        list(read_frames(clip))


def test_a_clip_with_two_audio_streams_keeps_its_sound(tmp_path):
    video = _testsrc(tmp_path / "v.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p")
    two = tmp_path / "two_audio.mp4"
    tone = "sine=frequency={}:duration=0.4"
    _ffmpeg(
        *("-i", str(video), "-f", "lavfi", "-i", tone.format(440), "-f", "lavfi"),
        *("-i", tone.format(660), "-map", "0:v", "-map", "1:a", "-map", "2:a"),
        *("-c:v", "copy", "-c:a", "aac", str(two)),
    )
    assert [s["type"] for s in probe(two)["streams"]] == ["video", "audio", "audio"]
    frames = list(read_frames(two))
    out = tmp_path / "out.mp4"
    with VideoWriter(out, (160, 120), 25, 23, audio_path=two, audio_codec="copy") as writer:
        for frame in frames:
            writer.write(frame)
    assert has_audio(out) and len(list(read_frames(out))) == len(frames)


def test_verify_refuses_a_clip_cut_short(tmp_path):
    clip = tmp_path / "whole.mp4"
    _ffmpeg(
        *("-f", "lavfi", "-i", "testsrc2=size=256x256:rate=25", "-t", "2"),
        *("-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(clip)),
    )
    assert verify(clip)["watermark"]["frames"] == 50
    cut = tmp_path / "cut.mp4"  # the index at the front survives; half the frames do not
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    with pytest.raises(UserError, match=r"cut.mp4 is truncated: \d+ of about 50 frames decode"):
        verify(cut)


def test_verify_accepts_a_clip_whose_sound_outlasts_its_picture(tmp_path):
    # 3 s of picture and 3.4 s of sound: the container's duration is the sound's, yet
    # every frame is there (a converted voice can end a little after the clip).
    clip = tmp_path / "long_sound.mp4"
    _ffmpeg(
        *("-f", "lavfi", "-i", "testsrc2=size=256x256:rate=10:d=3"),
        *("-f", "lavfi", "-i", "sine=f=440:d=3.4", "-map", "0:v", "-map", "1:a"),
        *("-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(clip)),
    )
    assert probe(clip)["seconds"] > 3.3
    assert verify(clip)["watermark"]["frames"] == 30


def test_verify_refuses_a_manifest_that_is_garbage(tmp_path):
    ok, buf = cv2.imencode(".png", np.full((200, 200, 3), 128, np.uint8))
    png = buf.tobytes()
    after_header = 8 + 25  # signature + IHDR chunk
    jumbf = b"\x00\x00\x00\x20jumb" + bytes(range(200))  # a C2PA box, then noise
    path = tmp_path / "junk.png"
    path.write_bytes(png[:after_header] + _chunk(b"caBX", jumbf) + png[after_header:])
    with pytest.raises(UserError, match=r"junk.png carries a C2PA manifest that cannot be parsed"):
        verify(path)


def _variable_rate_clip(tmp_path: Path) -> Path:
    """20 flat frames (grey 10 * i + 5) shown 0.04 s each for the first 10, 0.12 s for the
    rest, with a tone: a phone's variable frame rate, exaggerated."""
    lines = []
    for i in range(20):
        cv2.imwrite(str(tmp_path / f"f{i:02d}.png"), np.full((128, 128, 3), 10 * i + 5, np.uint8))
        lines += [f"file 'f{i:02d}.png'", f"duration {0.04 if i < 10 else 0.12}"]
    (tmp_path / "list.txt").write_text("\n".join([*lines, "file 'f19.png'"]) + "\n")
    clip = tmp_path / "vfr.mp4"
    _ffmpeg(
        *("-f", "concat", "-i", str(tmp_path / "list.txt"), "-f", "lavfi"),
        *("-i", "sine=frequency=440:duration=1.6", "-fps_mode", "vfr", "-c:v", "libx264"),
        *("-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(clip)),
    )
    return clip


def _on_screen(t: float) -> int:
    return int(t / 0.04) if t < 0.4 else min(19, 10 + int((t - 0.4) / 0.12))


def test_a_variable_frame_rate_target_becomes_constant_rate_in_sync_with_its_sound(tmp_path):
    clip = _variable_rate_clip(tmp_path)
    info = probe(clip)
    frames = list(read_frames(clip, info["fps"]))
    shown = [int(f.mean()) // 10 for f in frames]
    expected = [_on_screen(k / info["fps"]) for k in range(len(frames))]
    assert max(abs(a - b) for a, b in zip(shown, expected, strict=True)) <= 1, (shown, expected)
    # collect's copy of the target: as many seconds of picture as the source has
    t = OmegaConf.create({"name": "vfr", "video": clip.name, "swap_to": "b", "reference": ""})
    data = OmegaConf.create({"fps": 25.0, "redetect_every": 5})
    meta = collect_target(
        FaceAnalyzer(smoke_cfg().detector), t, data, tmp_path, tmp_path / "o", _Bar()
    )
    seconds = len(list(read_frames(tmp_path / "o" / "video.mp4"))) / meta["fps"]
    assert abs(seconds - info["seconds"]) < 3 / info["fps"], (seconds, info)
    assert has_audio(tmp_path / "o" / "video.mp4")


def test_a_one_pixel_video_is_one_sentence_as_a_target_and_faceless_as_footage(tmp_path):
    clip = _testsrc(tmp_path / "dot.mp4", "-c:v", "libx264", size="1x1")
    assert next(iter(read_frames(clip))).shape == (1, 1, 3)
    fa = FaceAnalyzer(smoke_cfg().detector)
    t = OmegaConf.create({"name": "dot", "video": clip.name, "swap_to": "b", "reference": ""})
    data = OmegaConf.create({"fps": 25.0, "redetect_every": 5})
    with pytest.raises(UserError, match=r"target 'dot' \(.*dot.mp4\) would be 1x1 pixels"):
        collect_target(fa, t, data, tmp_path, tmp_path / "o", _Bar())
    (tmp_path / "consent.txt").write_text("dot consents")
    ident = OmegaConf.create(
        {"name": "dot", "consent": "consent.txt", "videos": [clip.name], "images": []}
        | {"reference": ""}
    )
    folder_data = validate(compose_conf(["data=folder"], ROOT / "conf")).data
    with pytest.raises(UserError, match="no usable face"):
        collect_identity(fa, ident, folder_data, tmp_path, tmp_path / "faces", _Bar())


class _Bar:
    def update(self, n=1):
        pass


@pytest.mark.parametrize("content", [b"", b"not a video at all"])
def test_a_zero_length_or_text_file_named_mp4_is_one_sentence(tmp_path, content):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(content)
    with pytest.raises(UserError, match=r"clip.mp4 cannot be decoded"):
        list(read_frames(clip))
    with pytest.raises(UserError, match="clip.mp4"):
        verify(clip)


def test_a_clip_with_the_wrong_extension_is_read_by_its_content(tmp_path):
    clip = _testsrc(tmp_path / "clip.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p")
    renamed = clip.rename(tmp_path / "clip.avi")
    assert len(list(read_frames(renamed))) == 10
