"""The voice branch (issue 13): eSpeak NG speech, synthetic speakers with an exact
ground truth, lip sync, the conversion model (training, resume, determinism), streaming
conversion and its figures."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from scipy.signal import welch

from pipeline.config.compose import compose_conf
from pipeline.errors import UserError
from pipeline.io.audio import to_int16, write_wav
from pipeline.voice import speakers, synthesis, world
from pipeline.voice.collect import collect_voices
from pipeline.voice.espeak import speak_many
from pipeline.voice.inference import Converter
from pipeline.voice.model import VoiceNet, random_warp
from pipeline.voice.soundtrack import mouth_track, target_speech
from tests.helpers import killed_then_resumed

TEXT = "The small red basket crossed the bridge near the station."


@pytest.fixture(scope="module")
def reading():
    """eSpeak NG's reading of TEXT and its WORLD features."""
    return speakers.base_readings([TEXT])[0]


def test_speech_is_a_function_of_the_texts_alone(reading):
    """eSpeak NG keeps state between utterances, so a fresh process reads each list."""
    speech, _ = reading
    again = speak_many([TEXT], speakers.BASE_VOICE, speakers.BASE_WPM)[0]
    assert np.array_equal(speech.samples, again.samples) and speech.phonemes == again.phonemes
    times = [t for t, _ in speech.phonemes]
    assert len(times) > 20 and times == sorted(times) and times[-1] < speech.seconds


def test_the_vocoder_round_trip_is_close(reading):
    _, base = reading
    back = world.analyse(world.synthesise(base))
    n = min(len(back), len(base))
    voiced = (base.f0[:n] > 0) & (back.f0[:n] > 0)
    assert world.mcd(base.envelope[:n], back.envelope[:n])[voiced].mean() < 2.5


def test_the_batched_vocoder_draws_what_pyworld_draws(reading):
    """Conversion's vocoder (WORLD's model, a frame at a time in batched FFTs): its round
    trip about as near the features as pyworld's, the same samples for the same
    features, and unvoiced noise at the same loudness (within 1.5 dB) with the same
    spectrum above 500 Hz."""
    _, base = reading

    def round_trip(y):
        back = world.analyse(y)
        n = min(len(back), len(base))
        voiced = (base.f0[:n] > 0) & (back.f0[:n] > 0)
        return world.mcd(base.envelope[:n], back.envelope[:n])[voiced].mean()

    batched = synthesis.synthesise(base)
    assert round_trip(batched) < round_trip(world.synthesise(base)) + 0.1
    assert np.array_equal(batched, synthesis.synthesise(base))
    assert len(batched) == len(base) * synthesis.HOP
    noise = world.Features(np.zeros_like(base.f0), base.envelope, base.aperiodicity)
    slow = world.synthesise(noise)
    fast = synthesis.synthesise(noise)[: len(slow)]
    level = 20 * np.log10(np.sqrt(np.mean(fast**2)) / np.sqrt(np.mean(slow**2)))
    assert abs(level) < 1.5
    hz, p_slow = welch(slow, world.RATE, nperseg=512)
    p_fast = welch(fast, world.RATE, nperseg=512)[1]
    for lo, hi in ((500, 1000), (1000, 2000), (2000, 4000), (4000, 8000)):
        band = (hz >= lo) & (hz < hi)
        assert abs(10 * np.log10(p_fast[band].sum() / p_slow[band].sum())) < 1.5
    # Re-analysed, its noise is nearer the envelope it was drawn from (WORLD spreads a
    # loud frame's noise into the quiet frames beside it): 1.1 against 1.3 here.
    above = world.MEL_HZ > 500

    def gap(y):
        back = world.analyse(y).envelope
        n = min(len(back), len(base))
        return np.median(np.abs(back[:n] - base.envelope[:n])[:, above])

    assert gap(fast) <= gap(slow)


def test_the_vocoder_filters_are_pyworld_s_and_minimum_phase():
    """The decoded aperiodicity is pyworld's, and the filters' phase (a DCT-I and DST-I
    of the log amplitude) is the folded cepstrum's, the textbook minimum phase."""
    coded = np.array([[-30.0], [-8.0], [-0.6], [-0.2]])
    want = np.log(world.pyworld.decode_aperiodicity(coded, world.RATE, synthesis.M) ** 2)
    assert np.allclose(synthesis.log_aperiodic_power(coded), want, atol=1e-4)
    rng = np.random.default_rng(0)
    log_power = np.cumsum(rng.normal(0, 0.3, (3, synthesis.M // 2 + 1)), 1).astype(np.float32)
    cepstrum = np.fft.irfft(log_power / 2, synthesis.M)
    fold = np.r_[1, np.full(synthesis.M // 2 - 1, 2), 1, np.zeros(synthesis.M // 2 - 1)]
    reference = np.exp(np.fft.rfft(cepstrum * fold))
    assert np.allclose(synthesis.minimum_phase(log_power), reference, rtol=1e-3, atol=1e-4)


def test_conversion_reads_no_aperiodicity(reading):
    """Analysis without D4C gives the same F0 and envelope; the converted voiced frames
    take the new speaker's breathiness, capped as coded aperiodicity is."""
    _, base = reading
    speech = world.synthesise(base)
    full, bare = world.analyse(speech), world.analyse(speech, aperiodicity=False)
    assert bare.aperiodicity is None
    assert np.array_equal(full.f0, bare.f0) and np.array_equal(full.envelope, bare.envelope)
    net = Converter.from_net(VoiceNet(2, 2, 16, 4))
    net.aperiodicity[:] = [-3.0, -0.1]
    for dst, want in ((0, -3.0), (1, -0.5)):
        ap = net.convert(bare, 0, dst).aperiodicity
        assert ap.shape == (len(bare), 1)
        assert np.all(ap[bare.f0 > 0] == want) and np.all(ap[bare.f0 <= 0] == 0)


def test_two_speakers_read_with_one_timing_and_differ(reading):
    """The ground truth of a voice swap: B's reading has A's frames and voicing, and a
    different pitch and envelope."""
    _, base = reading
    a = world.analyse(speakers.render(base, speakers.speaker_from_seed("a", 2)))
    b = world.analyse(speakers.render(base, speakers.speaker_from_seed("b", 11)))
    n = min(len(a), len(b))
    assert abs(len(a) - len(b)) <= 1
    assert np.mean((a.f0[:n] > 0) == (b.f0[:n] > 0)) > 0.9
    both = (a.f0[:n] > 0) & (b.f0[:n] > 0)
    assert abs(np.median(np.log(b.f0[:n][both] / a.f0[:n][both]))) > 0.5
    assert world.mcd(a.envelope[:n], b.envelope[:n])[both].mean() > 5


def test_speakers_are_seeds():
    one, two = speakers.speaker_from_seed("x", 1), speakers.speaker_from_seed("x", 1)
    assert one == two and one != speakers.speaker_from_seed("x", 2)


def test_the_torch_warp_is_the_numpy_warp(reading):
    """The training warp (batched, torch) moves formants as ``warp_envelope`` does."""
    _, base = reading
    env = base.envelope[:50]
    g = torch.Generator().manual_seed(3)
    warped = random_warp(torch.from_numpy(env)[None], 0.3, 0.0, g)[0].numpy()
    first = torch.rand(1, generator=torch.Generator().manual_seed(3)).item()
    factor = float(np.exp((first * 2 - 1) * 0.3))
    assert np.abs(warped - world.warp_envelope(env, factor)).max() < 1e-3
    assert np.abs(world.warp_envelope(env, 1.0) - env).max() < 1e-5


def test_the_mouth_follows_the_phonemes():
    speech = target_speech(2, 11, 3.0, seed=5)
    assert len(speech.actor) == len(speech.truth) == 3 * world.RATE
    mouth = mouth_track(speech.phonemes, 75, 25.0)
    assert mouth.shape == (75,) and 0 <= mouth.min() and mouth.max() <= 1
    loud = np.array([np.abs(speech.actor[i * 640 : (i + 1) * 640]).mean() for i in range(75)])
    # Open while speaking, closed in the silences.
    assert mouth[loud > np.percentile(loud, 70)].mean() > 2 * mouth[loud < 0.002].mean()


@pytest.fixture(scope="module")
def voices(tmp_path_factory):
    """A small voice set: the default pair reading 4 sentences each."""
    cfg = OmegaConf.create(compose_conf(["voice.sentences=4"]))
    out = tmp_path_factory.mktemp("voices") / "voices"
    summary = collect_voices(cfg.data, cfg.voice, out)
    return cfg, out, summary


def test_collected_voices_are_documented_features(voices):
    cfg, out, summary = voices
    from pipeline.voice.features import read_speaker

    for ident in cfg.data.identities:
        speech, info = read_speaker(out / ident.name)
        assert len(speech) == 4 and info["voice_seed"] == ident.voice
        assert speech.envelope.shape == (len(speech.f0), world.MEL_BINS)
        assert speech.starts[-1] == len(speech.f0) and summary[ident.name]["seconds"] > 8
        assert (out / ident.name / "sample.wav").is_file()
        assert (out / ident.name / "spectrogram.png").is_file()


def _train(cfg, voices_dir, ckpt, steps=40, stop_at=None):
    from pipeline.voice.train import train_voice

    voice = OmegaConf.merge(
        cfg.voice, {"steps": steps, "batch_size": 32, "width": 32, "checkpoint_every": 10}
    )
    names = [i.name for i in cfg.data.identities]
    if stop_at is None:
        return train_voice(voice, 0, voices_dir, names, ckpt)
    return killed_then_resumed(lambda: train_voice(voice, 0, voices_dir, names, ckpt), stop_at)


def test_voice_training_is_deterministic_and_resumes_exactly(voices, tmp_path):
    """A run stopped at a checkpoint and started again ends with the weights of an
    uninterrupted run (batch i depends on the seed and i alone)."""
    cfg, out, _ = voices
    whole = _train(cfg, out, tmp_path / "a")
    again = _train(cfg, out, tmp_path / "b")
    resumed = _train(cfg, out, tmp_path / "c", stop_at=20)
    assert resumed["report"]["resumed_from_step"] == 20
    for k, v in whole["module"].net.state_dict().items():
        assert torch.equal(v, again["module"].net.state_dict()[k]), k
        assert torch.allclose(v, resumed["module"].net.state_dict()[k], atol=1e-6), k


def test_streamed_conversion_matches_one_piece(voices, tmp_path):
    """Chunks of 1 s (cross-faded) give the clip a single pass gives: the same length and
    the same spectra and pitch (not the same waveform: each chunk's pulses start their
    own phase); and the voice moves toward the new speaker."""
    from pipeline.io.audio import read_wav
    from pipeline.voice.convert import convert_audio

    cfg, out, _ = voices
    from pipeline.voice.inference import Converter

    net = Converter.from_net(_train(cfg, out, tmp_path / "ck", steps=30)["module"].net)
    src = speakers.render(speakers.base_readings([TEXT])[0][1], speakers.speaker_from_seed("a", 2))
    wav = tmp_path / "in.wav"
    write_wav(wav, to_int16(src), world.RATE)
    one, many = tmp_path / "one.wav", tmp_path / "many.wav"
    stats = convert_audio(net, wav, one, 0, 1, 60.0, workers=1)
    assert stats["workers"] == 1
    assert convert_audio(net, wav, many, 0, 1, 1.0, workers=2)["workers"] == 2
    a, _ = read_wav(one)
    b, _ = read_wav(many)
    assert len(a) == len(b) == len(src) and stats["real_time_factor"] > 1
    fa, fb = world.analyse(a), world.analyse(b)
    voiced = (fa.f0 > 0) & (fb.f0 > 0)
    assert world.mcd(fa.envelope, fb.envelope)[voiced].mean() < 1.5
    assert np.median(np.abs(np.log(fa.f0[voiced] / fb.f0[voiced]))) < 0.02
    assert np.median(fa.f0[fa.f0 > 0]) > 1.8 * np.median(world.analyse(src).f0[fa.f0 > 0])


def test_a_clip_is_cut_so_every_core_gets_the_same_share():
    from pipeline.voice.convert import plan

    assert plan(6.0, 8.0, 2) == (1, 6.0)  # a short clip: one chunk, in process
    assert plan(12.0, 8.0, 2) == (1, 6.0)
    assert plan(20.0, 8.0, 2) == (2, 5.0)  # long enough to pay for the workers
    assert plan(60.0, 8.0, 2) == (2, 7.5)  # 8 chunks, 4 each, none over 8 s
    assert plan(0.5, 8.0, 2) == (1, 1.0)  # under a second: one chunk
    assert plan(30.0, 8.0, 1) == (1, 7.5)


def test_an_unreadable_sound_track_is_one_sentence(tmp_path):
    from pipeline.voice.convert import convert_audio
    from pipeline.voice.inference import Converter
    from pipeline.voice.model import VoiceNet

    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video at all" * 100)
    with pytest.raises(UserError, match="broken.mp4"):
        convert_audio(Converter.from_net(VoiceNet(2, 1, 8, 4)), bad, tmp_path / "o.wav", 0, 1, 8.0)
    assert not (tmp_path / "o.wav").exists()


def test_numpy_inference_is_the_torch_net():
    from pipeline.voice.inference import Converter
    from pipeline.voice.model import VoiceNet, windows

    torch.manual_seed(0)
    net = VoiceNet(2, 3, 16, 4).eval()
    env = torch.randn(30, world.MEL_BINS)
    with torch.no_grad():
        want = net.denormalise(net(windows(net.normalise(env), 3), 1)).numpy()
    got = Converter.from_net(net).envelope(env.numpy(), 1)
    assert np.abs(got - want).max() < 1e-4


def test_an_unknown_voice_kind_is_one_sentence():
    from pipeline.config.load import validate
    from pipeline.voice.stage import active, check_config

    cfg = validate(compose_conf(["voice.kind=clone"]))
    with pytest.raises(UserError, match=r"voice\.kind.*'clone'"):
        check_config(cfg)
    assert "keeps the target's own voice" in active(validate(compose_conf(["voice=none"])))
    assert active(validate(compose_conf())) is None


def test_a_silent_sound_track_is_one_sentence_and_leaves_nothing(tmp_path):
    from pipeline.voice.convert import convert_audio
    from pipeline.voice.inference import Converter
    from pipeline.voice.model import VoiceNet

    silent = tmp_path / "silent.wav"
    write_wav(silent, np.zeros(world.RATE * 2, np.int16), world.RATE)
    net = Converter.from_net(VoiceNet(2, 1, 8, 4))
    with pytest.raises(UserError, match=r"silent\.wav is silent.*voice=none"):
        convert_audio(net, silent, tmp_path / "o.wav", 0, 1, 8.0)
    assert not (tmp_path / "o.wav").exists()


def test_a_speaker_with_too_little_speech_is_one_sentence(voices, tmp_path):
    from pipeline.voice.features import SpeakerSet
    from pipeline.voice.train import train_voice

    cfg, out, _ = voices
    short = tmp_path / "voices"
    for ident in cfg.data.identities:
        s = SpeakerSet.load(out / ident.name)
        (short / ident.name).mkdir(parents=True)
        SpeakerSet.join(ident.name, [s.utterance(0)]).save(short / ident.name)
        if ident.name == "synth_b":
            cut = s.utterance(0)
            cut.f0, cut.envelope, cut.aperiodicity = (
                cut.f0[:50],
                cut.envelope[:50],
                cut.aperiodicity[:50],
            )
            SpeakerSet.join(ident.name, [cut]).save(short / ident.name)
    names = [i.name for i in cfg.data.identities]
    with pytest.raises(UserError, match=r"'synth_b' has 0\.5 s of speech.*voice\.sentences"):
        train_voice(cfg.voice, 0, short, names, tmp_path / "ck")


def test_verify_reads_the_audio_mark_of_a_wav(tmp_path):
    """``pipeline.verify`` reports the audio mark beside the video mark: found in a marked
    WAV (exit 0), not in the same speech unmarked (exit 1)."""
    import json
    import subprocess
    import sys

    from pipeline.provenance import audio_watermark

    texts = ["The quiet lantern found the ribbon near the station.", "Did Lena see it?"]
    speech = np.concatenate([s.samples for s in speak_many(texts)])
    tag = "0123456789ab"
    marked, plain = tmp_path / "marked.wav", tmp_path / "plain.wav"
    write_wav(marked, to_int16(audio_watermark.embed(speech, 22050, tag)), 22050)
    write_wav(plain, to_int16(speech), 22050)

    def verify(path):
        cmd = [sys.executable, "-m", "pipeline.verify", str(path), "--json"]
        return subprocess.run(cmd, capture_output=True, text=True)

    ok, no = verify(marked), verify(plain)
    assert ok.returncode == 0, ok.stderr
    report = json.loads(ok.stdout)
    assert report["audio_mark"]["run_tag"] == tag and report["marked"]
    assert report["watermark"]["note"] == "an audio file"
    assert no.returncode == 1 and json.loads(no.stdout)["audio_mark"]["found"] is False
