"""Content Credentials, signing keys, the visible label and the verify command, end to end."""

from __future__ import annotations

import json
import re
import struct
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from pipeline.collect import synthetic
from pipeline.errors import UserError
from pipeline.io.audio import read_wav, soundtrack, write_wav
from pipeline.io.video import VideoWriter, probe
from pipeline.provenance import content_credentials
from pipeline.provenance.credentials import CHAIN, KEY, KEY_DIR, ROOT_CA, load_credentials
from pipeline.provenance.label import Label
from pipeline.provenance.marks import FrameMarker
from pipeline.provenance.watermark import run_tag
from tests.helpers import ROOT, run, smoke_cfg

RUN_ID = "9e8d7c6b5a4f43e2a1b0c9d8e7f6a5b4"
RECORD = {
    "tool_version": "0.0.test",
    "run_id": RUN_ID,
    "run_tag": run_tag(RUN_ID),
    "model_sha256": "ab" * 32,
    "params_sha256": "cd" * 32,
    "stage": "generate",
}
RUN_FIELDS = ("run_id", "run_tag", "model_sha256", "params_sha256", "stage")
UNTRUSTED = ["signingCredential.untrusted"]


def _picture(seed: int, size: int = 96) -> np.ndarray:
    """A smooth picture with detail, like content (not flat, not pure noise)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (12, 12, 3), np.uint8)
    return cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)


def _mp4_with_audio(path: Path) -> Path:
    wav = path.with_suffix(".wav")
    write_wav(wav, soundtrack(1.0, 220.0, 3))
    with VideoWriter(path, (96, 96), 25.0, crf=23, audio_path=wav) as out:
        for i in range(25):
            out.write(np.roll(_picture(1), 3 * i, axis=1))
    return path


def _media(folder: Path) -> list[Path]:
    """An MP4 with sound, a PNG and a JPEG, unsigned."""
    png, jpg = folder / "still.png", folder / "still.jpg"
    cv2.imwrite(str(png), _picture(2))
    cv2.imwrite(str(jpg), _picture(2))
    return [_mp4_with_audio(folder / "clip.mp4"), png, jpg]


def _top_level_box(data: bytes, kind: bytes) -> tuple[int, int]:
    """(start, end) of the payload of the first top-level ISO-BMFF box of type ``kind``."""
    pos = 0
    while pos + 8 <= len(data):
        size, name = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:  # 64-bit size follows the type
            size, header = struct.unpack(">Q", data[pos + 8 : pos + 16])[0], 16
        elif size == 0:  # runs to the end of the file
            size = len(data) - pos
        if name == kind:
            return pos + header, pos + size
        pos += size
    raise AssertionError(f"no top-level {kind!r} box")


def _png_chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, data start, data length) of each chunk of a PNG."""
    chunks, pos = [], 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunks.append((kind, pos + 8, length))
        pos += 12 + length
    return chunks


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def _edit_png_pixels(path: Path) -> None:
    """Change one byte of the pixel data and write a PNG that still decodes (chunk CRC
    and zlib stream redone), leaving every other chunk, the manifest included, as it is."""
    data = path.read_bytes()
    chunks = _png_chunks(data)
    idat = [(s, n) for kind, s, n in chunks if kind == b"IDAT"]
    raw = bytearray(zlib.decompress(b"".join(data[s : s + n] for s, n in idat)))
    raw[len(raw) // 2] ^= 0x01
    packed = zlib.compress(bytes(raw))
    out = bytearray(data[:8])
    for kind, s, n in chunks:
        if kind == b"IDAT":
            if s != idat[0][0]:
                continue
            body = kind + packed
        else:
            body = data[s - 4 : s + n]
        out += struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))
    path.write_bytes(bytes(out))


def test_project_key_is_made_once_with_a_chain_c2pa_accepts(tmp_path):
    first = load_credentials(tmp_path)
    folder = tmp_path / KEY_DIR
    stamps = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    second = load_credentials(tmp_path)
    assert first.origin == second.origin == "project"
    assert second.chain_pem == first.chain_pem and second.key_pem == first.key_pem
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == stamps
    assert set(stamps) == {CHAIN, KEY, ROOT_CA}

    signer, ca = x509.load_pem_x509_certificates((folder / CHAIN).read_bytes())
    assert x509.load_pem_x509_certificate((folder / ROOT_CA).read_bytes()) == ca
    assert signer.issuer == ca.subject and ca.issuer == ca.subject
    signer.verify_directly_issued_by(ca)
    ca.verify_directly_issued_by(ca)
    assert not signer.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca

    key_pem = (folder / KEY).read_bytes()
    assert key_pem.startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8
    key = serialization.load_pem_private_key(key_pem, None)
    raw = serialization.PublicFormat.SubjectPublicKeyInfo
    pem = serialization.Encoding.PEM
    assert key.public_key().public_bytes(pem, raw) == signer.public_key().public_bytes(pem, raw)
    assert (folder / KEY).stat().st_mode & 0o077 == 0  # the private key is the owner's only


def test_signed_media_read_back_as_ai_generated_and_video_keeps_its_streams(tmp_path):
    creds = load_credentials(tmp_path)
    for path in _media(tmp_path):
        content_credentials.sign(path, RECORD, creds)
        got = content_credentials.read(path)
        assert got["present"] and got["valid"], (path.name, got)
        assert got["errors"] == [] and got["trust"] == UNTRUSTED  # self-signed
        assert got["run_id"] == RUN_ID
        assert got["source_type"].endswith("/trainedAlgorithmicMedia")
        assert got["run"] == {k: RECORD[k] for k in RUN_FIELDS}
    # Signed files still decode as what they were.
    for name in ("still.png", "still.jpg"):
        assert cv2.imread(str(tmp_path / name)).shape == (96, 96, 3)
    streams = probe(tmp_path / "clip.mp4")["streams"]
    assert {"type": "video", "codec": "h264"} in streams
    assert {"type": "audio", "codec": "aac"} in streams
    # A WAV (the converted voice) carries its manifest in a RIFF chunk of its own and
    # still reads as the same samples.
    wav = tmp_path / "clip.wav"
    samples = soundtrack(0.5, 220.0, 1, rate=16000)
    write_wav(wav, samples, 16000)
    content_credentials.sign(wav, RECORD, creds)
    assert content_credentials.read(wav)["valid"]
    back, rate = read_wav(wav)
    assert rate == 16000 and np.array_equal(np.round(back * 32768).astype(np.int16), samples)
    # Only the media types the manifest can be embedded in are signed.
    with pytest.raises(ValueError, match="cannot sign"):
        content_credentials.sign(tmp_path / "clip.gif", RECORD, creds)


def test_a_byte_changed_after_signing_invalidates_the_manifest(tmp_path):
    creds = load_credentials(tmp_path)
    mp4, png, _ = _media(tmp_path)
    for path in (mp4, png):
        content_credentials.sign(path, RECORD, creds)
        assert content_credentials.read(path)["valid"]

    start, end = _top_level_box(mp4.read_bytes(), b"mdat")
    _flip(mp4, (start + end) // 2)
    kind, start, length = next(c for c in _png_chunks(png.read_bytes()) if c[0] == b"IDAT")
    _flip(png, start + length // 2)

    for path in (mp4, png):
        got = content_credentials.read(path)
        assert got["present"] and not got["valid"], (path.name, got)
        assert got["errors"], path.name


def test_unsigned_and_non_media_files_have_no_manifest(tmp_path):
    _, png, jpg = _media(tmp_path)
    junk = tmp_path / "notes.jpg"
    junk.write_bytes(b"not an image at all\n" * 50)
    for path in (png, jpg, junk):
        got = content_credentials.read(path)
        assert not got["present"] and not got["valid"] and got["run_id"] is None, path.name


def test_the_users_own_certificate_signs_and_missing_files_are_named(tmp_path):
    # A chain made elsewhere stands in for the user's certificate.
    load_credentials(tmp_path / "elsewhere")
    keys = tmp_path / "elsewhere" / KEY_DIR
    root = tmp_path / "project"
    root.mkdir()
    creds = load_credentials(root, str(keys / CHAIN), str(keys / KEY))
    assert creds.origin == str(keys / CHAIN)
    assert not (root / KEY_DIR).exists(), "a project key was made although one was given"
    _, png, _ = _media(root)
    content_credentials.sign(png, RECORD, creds)
    got = content_credentials.read(png)
    assert got["valid"] and got["run_id"] == RUN_ID

    missing = tmp_path / "nowhere" / "key.pem"
    with pytest.raises(UserError, match=re.escape(str(missing))):
        load_credentials(root, str(keys / CHAIN), str(missing))
    with pytest.raises(UserError, match=re.escape(str(missing))):
        load_credentials(root, str(missing), str(keys / KEY))


def _verify(*args: str):
    return run([sys.executable, "-m", "pipeline.verify", *args], cwd=ROOT, check=False)


@pytest.mark.slow
def test_verify_command_reports_marks_tampering_and_errors(tmp_path):
    cfg = smoke_cfg("data.frame_size=256")
    data = cfg.data
    people = synthetic.identities(data)
    t = data.targets[0]
    perf = synthetic.target_performance(1.0 / data.fps, data.fps, t.seed)
    actor, _ = next(synthetic.target_frames(people[t.identity], [], perf, t.seed, 256))
    tag = RECORD["run_tag"]
    marked, plain = tmp_path / "marked.png", tmp_path / "plain.png"
    cv2.imwrite(str(marked), FrameMarker(tag, cfg.provenance)(actor.image))
    cv2.imwrite(str(plain), actor.image)
    content_credentials.sign(marked, RECORD, load_credentials(tmp_path))

    ok = _verify(str(marked))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"run tag {tag}" in ok.stdout and "valid manifest" in ok.stdout
    assert "trainedAlgorithmicMedia" in ok.stdout and RUN_ID in ok.stdout
    assert "agreement: the marks found carry the same run" in ok.stdout

    report = json.loads(_verify(str(marked), "--json").stdout)
    assert report["marked"] is True and report["agree"] is True
    assert report["watermark"]["run_tag"] == tag and report["c2pa"]["valid"] is True

    # Edited after signing: the manifest no longer holds, the watermark still does.
    _edit_png_pixels(marked)
    edited = _verify(str(marked))
    assert edited.returncode == 0, edited.stdout + edited.stderr
    assert "INVALID" in edited.stdout and f"run tag {tag}" in edited.stdout

    unmarked = _verify(str(plain))
    assert unmarked.returncode == 1, unmarked.stdout + unmarked.stderr
    assert "watermark: not found" in unmarked.stdout and "no manifest" in unmarked.stdout
    assert json.loads(_verify(str(plain), "--json").stdout)["marked"] is False

    gone = tmp_path / "gone.mp4"
    missing = _verify(str(gone))
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1 and str(gone) in missing.stderr


def test_label_changes_only_its_box_in_the_bottom_left():
    frame = _picture(4, 256)
    label = Label("SYNTHETIC - AI-generated", 256, 256)
    out = label(frame)
    x0, y0, x1, y1 = label.box
    assert x0 < 16 and y1 > 256 - 16 and x1 <= 256 and y0 > 256 // 2  # bottom left
    changed = np.any(out != frame, axis=2)
    inside = np.zeros_like(changed)
    inside[y0:y1, x0:x1] = True
    assert changed[inside].mean() > 0.9  # the box itself is drawn
    assert not changed[~inside].any()  # and nothing outside it
    # A translucent dark box: the picture shows through, darker, with white text on top.
    box, under = out[y0:y1, x0:x1].astype(int), frame[y0:y1, x0:x1].astype(int)
    assert box.mean() < under.mean() and (box == 255).all(axis=2).any()
