"""Check a video or image for facepipe's provenance marks.

    python -m pipeline.verify PATH [--json]

Reports the invisible watermark (found or not, and the run tag it carries), the audio
mark of a sound track or audio file (likewise), the C2PA manifest (present, valid,
AI-generated, its run id) and whether they agree. Exit status: 0 when the file is marked
(a watermark, an audio mark or a valid manifest), 1 when it is not, 2 on an error such
as an unreadable or truncated file, or a manifest that cannot be parsed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import c2pa
import cv2

from pipeline.errors import UserError, run_entry_point
from pipeline.io.image import read_image
from pipeline.io.video import probe, read_frames
from pipeline.provenance import content_credentials
from pipeline.provenance.watermark import Detector

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}
AUDIO_SUFFIXES = {".wav", ".m4a", ".aac", ".mp3", ".flac", ".ogg", ".opus"}


def check_complete(path: Path, decoded: int) -> None:
    """A clip that decodes fewer frames than its container declares was cut short (a
    download or copy that stopped); what is missing cannot be checked, so it is refused."""
    declared = declared_frames(path)
    # Variable frame rates make a count estimated from the duration approximate.
    if declared and decoded < declared - max(2, int(0.05 * declared)):
        raise UserError(
            f"video {path} is truncated: {decoded} of about {declared} frames decode; "
            "give the complete file."
        )


def declared_frames(path: Path) -> int:
    """The video stream's frame count from the container's index (an MP4's sample table),
    else its duration times its rate. Not the container's duration alone: a sound track
    that outlasts the picture (a voice a little longer than the clip) lengthens that,
    and a complete file would look cut short."""
    capture = cv2.VideoCapture(str(path))
    try:
        indexed = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if capture.isOpened() else 0
    finally:
        capture.release()
    if indexed > 0:
        return indexed
    info = probe(path)
    if not info["seconds"] or not info["fps"]:
        return 0
    return int(round(info["seconds"] * info["fps"]))


def check_manifest_parses(path: Path) -> None:
    """A manifest store that is there but cannot be parsed at all is garbage or crafted;
    one that parses and fails validation (edited after signing) is reported, not refused."""
    offline = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
    try:
        reader = c2pa.Reader.try_create(str(path), context=c2pa.Context.from_dict(offline))
    except c2pa.C2paError.NotSupported:
        return
    except c2pa.C2paError as err:
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise UserError(
            f"{path} carries a C2PA manifest that cannot be parsed ({reason}); "
            "the file is damaged or crafted: ask for the original."
        ) from err
    if reader is not None:
        reader.close()


def read_watermark(path: Path, max_frames: int = 0) -> dict:
    try:
        return _read_watermark(path, max_frames)
    except ValueError as err:  # too small to carry the mark
        return {"found": False, "run_tag": None, "frames": 0, "mean_z": 0.0, "note": str(err)}


def _read_watermark(path: Path, max_frames: int) -> dict:
    detector = Detector()
    if path.suffix.lower() in IMAGE_SUFFIXES:
        detector.add(read_image(path))
    else:
        for i, frame in enumerate(read_frames(path)):
            if max_frames and i >= max_frames:
                break
            detector.add(frame)
        if not max_frames:
            check_complete(path, detector.frames)
    r = detector.reading()
    return {"found": r.found, "run_tag": r.tag, "frames": r.frames, "mean_z": round(r.mean_z, 2)}


def read_audio_mark(path: Path) -> dict:
    """The audio mark of a file's first sound track (or of an audio file)."""
    from pipeline.io.audio import decode_audio
    from pipeline.provenance import audio_watermark

    if path.suffix.lower() in IMAGE_SUFFIXES:
        return {"found": False, "run_tag": None, "note": "an image has no sound"}
    try:
        samples = decode_audio(path, audio_watermark.RATE)  # ffmpeg resamples once
    except ValueError:
        return {"found": False, "run_tag": None, "note": "no sound track"}
    r = audio_watermark.read(samples, audio_watermark.RATE)
    return {
        "found": r.found,
        "run_tag": r.tag,
        "seconds": round(len(samples) / audio_watermark.RATE, 2),
        "mean_z": round(float(r.mean_z), 2),
    }


def verify(path: Path) -> dict:
    if not path.is_file():
        raise UserError(f"{path} does not exist; give the path of a video, image or audio file.")
    if path.suffix.lower() in AUDIO_SUFFIXES:
        wm = {"found": False, "run_tag": None, "frames": 0, "mean_z": 0.0, "note": "an audio file"}
    else:
        wm = read_watermark(path)
    audio = read_audio_mark(path)
    check_manifest_parses(path)
    c2 = content_credentials.read(path)
    manifest_tag = (c2.get("run") or {}).get("run_tag") if c2["valid"] else None
    tags = [t for t in (wm["run_tag"], audio["run_tag"], manifest_tag) if t]
    agree = (len(set(tags)) == 1) if len(tags) >= 2 else None
    return {
        "file": str(path),
        "marked": bool(wm["found"] or audio["found"] or c2["valid"]),
        "watermark": wm,
        "audio_mark": audio,
        "c2pa": {
            k: c2[k] for k in ("present", "valid", "errors", "trust", "run_id", "source_type")
        },
        "agree": agree,
    }


def _mark_line(label: str, mark: dict, span: str, unreadable: str) -> str:
    """One report line for a mark read over ``span`` (frames of video, seconds of sound)."""
    if mark["found"]:
        return (
            f"{label}: found, run tag {mark['run_tag']} (mean bit |z| {mark['mean_z']} over {span})"
        )
    if mark.get("note"):
        return f"{label}: {unreadable} ({mark['note']})"
    return f"{label}: not found ({span} read)"


def describe(report: dict) -> str:
    wm, am, c2 = report["watermark"], report["audio_mark"], report["c2pa"]
    lines = [
        f"file:      {report['file']}",
        _mark_line("watermark", wm, f"{wm['frames']} frame(s)", "not readable"),
        _mark_line("audio mark", am, f"{am.get('seconds')} s", "none"),
    ]
    if not c2["present"]:
        lines.append("C2PA:      no manifest")
    elif c2["valid"]:
        source = c2["source_type"].rsplit("/", 1)[-1] if c2["source_type"] else "unstated"
        trust = " (self-signed: not on a trust list)" if c2["trust"] else ""
        lines.append(f"C2PA:      valid manifest{trust}; source type {source}; run {c2['run_id']}")
    else:
        lines.append(
            "C2PA:      manifest INVALID - the file was changed after signing "
            f"({', '.join(c2['errors'])})"
        )
    if report["agree"] is not None:
        lines.append(
            "agreement: the marks found carry the same run"
            if report["agree"]
            else "agreement: MISMATCH between the runs the marks carry"
        )
    lines.append(
        "verdict:   marked as synthetic media made by facepipe"
        if report["marked"]
        else "verdict:   no facepipe provenance marks found"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.verify", description=__doc__)
    parser.add_argument("path", type=Path, help="a video (MP4, ...), an image or an audio file")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    report = verify(args.path)
    print(json.dumps(report, indent=1) if args.json else describe(report))
    return 0 if report["marked"] else 1


if __name__ == "__main__":
    run_entry_point("verify", lambda: sys.exit(main()))
