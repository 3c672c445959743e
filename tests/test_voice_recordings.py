"""Real recordings for the voice (data=folder): consent first, silence trimming, the
loudness check, what was rejected, one-sentence errors; and Resemblyzer's speaker
similarity, which needs no ground truth.

The "recordings" are synthetic speakers written to files, as a user's would be: the
project ships no real person's voice."""

from __future__ import annotations

import json
import subprocess

import imageio_ffmpeg
import numpy as np
import pytest
from omegaconf import OmegaConf

from pipeline.config.compose import compose_conf
from pipeline.config.load import validate
from pipeline.errors import UserError
from pipeline.evaluate.voice_similarity import embed, similarity_figures
from pipeline.io.audio import read_wav, to_int16, write_wav
from pipeline.voice import speakers, world
from pipeline.voice.collect import SPEECH, collect_voices
from pipeline.voice.recordings import Tally, read_file, recorded_speech, split_speech
from pipeline.voice.sentences import sentences
from tests.helpers import ROOT


@pytest.fixture(scope="module")
def speech():
    """Four sentences read by two synthetic speakers, at world.RATE."""
    readings = [base for _, base in speakers.base_readings(sentences(300, 4))]
    a, b = speakers.speaker_from_seed("a", 2), speakers.speaker_from_seed("b", 11)
    return {
        "a": [speakers.render(r, a).astype(np.float32) for r in readings],
        "b": [speakers.render(r, b).astype(np.float32) for r in readings],
    }


def _voice(**changes):
    cfg = validate(compose_conf([], ROOT / "conf"))
    return OmegaConf.merge(cfg.voice, changes)


def _gap(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * world.RATE), np.float32)


def _write(path, samples, rate=world.RATE, gain_db=0.0):
    x = samples * 10 ** (gain_db / 20)
    if rate != world.RATE:
        n = int(round(len(x) * rate / world.RATE))
        x = np.interp(np.arange(n) * world.RATE / rate, np.arange(len(x)), x)
    write_wav(path, to_int16(x), rate)
    return path


def test_silence_is_trimmed_and_short_and_quiet_runs_are_counted(speech, tmp_path):
    a = speech["a"]
    blip = a[0][world.RATE // 2 : world.RATE // 2 + int(0.25 * world.RATE)]
    murmur = a[2] * 10 ** (-30 / 20)  # 30 dB under the rest: a distant voice
    x = np.concatenate(
        [_gap(1.5), a[0], _gap(1.0), blip, _gap(1.0), a[1], _gap(1.0), murmur, _gap(1.0)]
    )
    path = _write(tmp_path / "talk.wav", x, rate=44100)  # resampled to 16 kHz on reading
    voice = _voice(min_segment_seconds=0.8)  # the blip, padded, is about half a second
    y, lufs = read_file(path, voice)
    tally = Tally()
    pieces = split_speech(y, voice, tally)
    kept = sum(len(p) for p in pieces) / world.RATE
    spoken = (len(a[0]) + len(a[1])) / world.RATE
    assert tally.runs_kept == 2 and tally.runs_too_short == 1 and tally.runs_too_quiet == 1
    assert abs(kept - spoken) < 0.6, (kept, spoken)
    assert tally.seconds_silence_trimmed > 4.0, tally
    # Normalised to voice.loudness, whatever the level recorded.
    assert -30 < lufs < -10
    quiet, quiet_lufs = read_file(_write(tmp_path / "quiet.wav", x, 44100, -15), voice)
    assert quiet_lufs == pytest.approx(lufs - 15, abs=0.5)
    assert np.allclose(quiet, y, rtol=0.01, atol=2e-3)  # loudness reads agree to ~0.05 dB


def test_long_runs_are_cut_and_the_tally_is_written(speech, tmp_path):
    x = np.concatenate([speech["b"][k] for k in range(4)])  # no pause: one long run
    _write(tmp_path / "b.wav", x)
    ident = OmegaConf.create({"name": "b", "consent": "c.txt", "videos": [], "audio": ["b.wav"]})
    utterances, tally = recorded_speech(tmp_path, ident, _voice(max_segment_seconds=4.0))
    assert all(len(s) <= 4.0 * world.RATE for s, _ in utterances)
    assert len(utterances) >= int(len(x) / world.RATE / 4.0)
    assert tally.files == 1 and set(tally.loudness_lufs) == {"b.wav"}


def _folder_data(tmp_path, speech, **ident_a):
    (tmp_path / "a_consent.txt").write_text("a: consent recorded for tests")
    (tmp_path / "b_consent.txt").write_text("b: consent recorded for tests")
    _write(tmp_path / "a.wav", np.concatenate(speech["a"]))
    _write(tmp_path / "b.wav", np.concatenate(speech["b"]))
    a = {"name": "a", "consent": "a_consent.txt", "audio": ["a.wav"]} | ident_a
    b = {"name": "b", "consent": "b_consent.txt", "audio": ["b.wav"]}
    cfg = OmegaConf.to_container(validate(compose_conf(["data=folder"], ROOT / "conf")))
    cfg["data"]["identities"] = [a, b]
    return OmegaConf.create(cfg)


def test_collect_voices_from_recordings_with_consent(speech, tmp_path):
    cfg = _folder_data(tmp_path, speech)
    out = tmp_path / "voices"
    summary = collect_voices(cfg.data, cfg.voice, out, root=tmp_path)
    info = json.loads((out / "a" / "speaker.json").read_text())
    assert info["source"] == "recordings" and info["consent_record"] == "a_consent.txt"
    assert len(info["consent_sha256"]) == 64 and info["files"] == 1
    assert summary["b"]["seconds"] > 10
    kept, rate = read_wav(out / "b" / SPEECH)
    assert rate == world.RATE and abs(len(kept) / rate - summary["b"]["seconds"]) < 0.1


def test_consent_is_checked_before_any_recording_is_read(speech, tmp_path):
    cfg = _folder_data(tmp_path, speech)
    (tmp_path / "a.wav").write_bytes(b"not audio at all")
    (tmp_path / "b_consent.txt").unlink()
    with pytest.raises(UserError, match="identity 'b' has no consent record"):
        collect_voices(cfg.data, cfg.voice, tmp_path / "voices", root=tmp_path)
    assert not (tmp_path / "voices").exists()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p, s: _write(p, s, rate=8000), "sampled at 8000 Hz, below the 16000 Hz"),
        (lambda p, s: _write(p, s * 0), "is silent"),
        (lambda p, s: _write(p, s, gain_db=-40), "too quiet to analyse"),
        (lambda p, s: p.write_bytes(b"RIFF....WAVEjunk" * 50) and p, "cannot be read as audio"),
        (lambda p, s: _write(p, s[: world.RATE * 2]), "less than voice.min_speech_seconds"),
    ],
    ids=["rate", "silent", "quiet", "corrupt", "too_little"],
)
def test_bad_recordings_are_one_sentence_and_leave_nothing(speech, tmp_path, make, message):
    cfg = _folder_data(tmp_path, speech)
    make(tmp_path / "a.wav", np.concatenate(speech["a"]))
    with pytest.raises(UserError, match=message) as err:
        collect_voices(cfg.data, cfg.voice, tmp_path / "voices", root=tmp_path)
    text = str(err.value)
    assert "\n" not in text and ("a.wav" in text or "identity 'a'" in text)
    assert not (tmp_path / "voices").exists()


def test_an_identity_without_speech_or_sound_is_one_sentence(speech, tmp_path):
    cfg = _folder_data(tmp_path, speech, audio=[], videos=["silent.mp4"])
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    subprocess.run(
        [ffmpeg, "-v", "error", "-f", "lavfi", "-i", "color=c=gray:s=64x64:d=1", "-pix_fmt",
         "yuv420p", str(tmp_path / "silent.mp4")],
        check=True,
    )  # fmt: skip
    with pytest.raises(UserError, match="silent.mp4 has no sound track"):
        collect_voices(cfg.data, cfg.voice, tmp_path / "voices", root=tmp_path)
    cfg = _folder_data(tmp_path, speech, audio=[], videos=[])
    with pytest.raises(UserError, match="identity 'a' has no speech"):
        collect_voices(cfg.data, cfg.voice, tmp_path / "voices", root=tmp_path)


def test_speaker_similarity_moves_toward_the_new_voice_and_no_swap_scores_none(speech):
    a, b = speech["a"], speech["b"]
    original, truth = a[0], b[0]  # the same sentence: B's reading is a perfect swap
    new = embed(np.concatenate(b[1:]))  # B's other sentences: the collected voice
    swap = similarity_figures(truth, original, new, truth)
    same = similarity_figures(original, original, new, truth)
    assert swap["voice_similarity_new"] > swap["voice_similarity_new_unswapped"] + 0.2, swap
    assert swap["voice_share_nearer_new"] == 1.0 and swap["voice_similarity_old"] < 0.9
    assert same["voice_similarity_old"] == pytest.approx(1.0, abs=1e-4)
    assert same["voice_similarity_new"] == same["voice_similarity_new_unswapped"]
    assert same["voice_share_nearer_new"] == 0.0
