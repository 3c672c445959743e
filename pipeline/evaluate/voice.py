"""Voice figures against the exact ground truth: the same sentence read by the new
identity's voice with the same phoneme timing (pipeline/voice/speakers.py).

* speaker retrieval: the share of converted utterances the voice evaluator names as the
  new identity, among a gallery of synthetic voices; ``_truth`` is the same for the
  ground-truth speech (the floor), ``_source`` for the unconverted speech;
* mel-cepstral distortion (dB, 24 coefficients, voiced frames of the truth) and log-F0
  RMSE (voiced in both) against the truth, frame by frame (the timing is shared);
* STOI (pystoi) against the truth: intelligibility kept.

Measured on the performer's held-out sentences (``voice.test_sentences``, read by no one
in training or in the evaluator's gallery), and on each clip's final MP4 sound track.
Every clip, real ones too, also gets Resemblyzer's speaker similarity
(``voice_similarity.py``), which needs no ground truth.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from pipeline import paths
from pipeline.io.audio import decode_audio, read_wav
from pipeline.voice import speakers, world
from pipeline.voice.convert import convert_speech
from pipeline.voice.evaluator import test_texts
from pipeline.voice.inference import Converter


def pair_figures(output: np.ndarray, truth: np.ndarray) -> dict:
    """MCD, log-F0 RMSE and STOI of ``output`` against ``truth`` (both at world.RATE)."""
    from pystoi import stoi

    n = min(len(output), len(truth))
    # F0 and envelope only: the aperiodicity (D4C, a third of the analysis) is not read.
    out = world.analyse(output[:n], aperiodicity=False)
    ref = world.analyse(truth[:n], aperiodicity=False)
    m = min(len(out), len(ref))
    voiced_ref = ref.f0[:m] > 0
    both = voiced_ref & (out.f0[:m] > 0)
    mcd = world.mcd(out.envelope[:m], ref.envelope[:m])[voiced_ref]
    f0 = np.log(out.f0[:m][both]) - np.log(ref.f0[:m][both])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        intelligibility = stoi(
            truth[:n].astype(np.float64), output[:n].astype(np.float64), world.RATE
        )
    return {
        "mcd": float(mcd.mean()) if len(mcd) else float("nan"),
        "log_f0_rmse": float(np.sqrt(np.mean(f0**2))) if len(f0) else float("nan"),
        "stoi": float(intelligibility),
    }


def _named(evaluator, samples: np.ndarray) -> int:
    return int(np.argmax(evaluator.scores(world.analyse(samples))))


def held_out_figures(
    data: DictConfig, voice: DictConfig, src: str, dst: str, speaker_evaluator
) -> dict:
    """``src``'s held-out sentences converted to ``dst``'s voice; ``speaker_evaluator``:
    ``load_evaluator``'s (net, report)."""
    converter = Converter.from_file(paths.VOICE_MODEL)
    evaluator, ev_report = speaker_evaluator
    names, seeds = converter.speakers, {i.name: int(i.voice) for i in data.identities}
    who_src = speakers.speaker_from_seed(src, seeds[src])
    who_dst = speakers.speaker_from_seed(dst, seeds[dst])
    target = ev_report["speakers"].index(dst)
    rows = []
    for _, base in speakers.base_readings(test_texts(voice)):
        source, truth = speakers.render(base, who_src), speakers.render(base, who_dst)
        converted = convert_speech(source, converter, names.index(src), names.index(dst))
        rows.append(
            {
                "converted": pair_figures(converted, truth),
                "source": pair_figures(source, truth),
                "named": _named(evaluator, converted) == target,
                "named_truth": _named(evaluator, truth) == target,
                "named_source": _named(evaluator, source) == target,
            }
        )
    mean = lambda key, part: round(float(np.nanmean([r[part][key] for r in rows])), 4)  # noqa: E731
    share = lambda key: round(float(np.mean([r[key] for r in rows])), 4)  # noqa: E731
    return {
        "from": src,
        "to": dst,
        "sentences": len(rows),
        "speaker_retrieval": share("named"),
        "speaker_retrieval_truth": share("named_truth"),
        "speaker_retrieval_source": share("named_source"),
        "mcd": mean("mcd", "converted"),
        "mcd_source": mean("mcd", "source"),
        "log_f0_rmse": mean("log_f0_rmse", "converted"),
        "log_f0_rmse_source": mean("log_f0_rmse", "source"),
        "stoi": mean("stoi", "converted"),
    }


def _truth(target) -> np.ndarray | None:
    """A synthetic clip's ground-truth speech at ``world.RATE``; None for a real clip."""
    path = target.folder / "voice_truth.wav"
    if not path.is_file():
        return None
    truth, rate = read_wav(path)
    return world.to_rate(truth, rate).astype(np.float32)


def clip_figures(target, final: Path, tag: str, new_voice: np.ndarray, speaker_evaluator=None):
    """The final MP4's sound track: its audio mark, its speaker similarity by Resemblyzer
    to ``new_voice`` (``voice_similarity.speaker_embedding`` of the new identity), and for
    a synthetic clip (``speaker_evaluator``: ``load_evaluator``'s (net, report)) its
    figures against the truth speech."""
    from pipeline.evaluate.voice_similarity import similarity_figures
    from pipeline.voice.watermarking import read_mark

    output = decode_audio(final, world.RATE)
    truth = _truth(target)
    figures = read_mark(output, world.RATE, tag) | similarity_figures(
        output, decode_audio(target.media, world.RATE), new_voice, truth
    )
    if truth is None or speaker_evaluator is None:
        return figures
    evaluator, ev_report = speaker_evaluator
    named = ev_report["speakers"][_named(evaluator, output)]
    against_truth = {f"audio_{k}": round(v, 4) for k, v in pair_figures(output, truth).items()}
    return figures | against_truth | {"audio_named_as_new": float(named == target.swap_to)}


def conversion_speed() -> float | None:
    report = paths.VOICE_OUT / "convert.json"
    if not report.is_file():
        return None
    stats = json.loads(report.read_text()).values()
    seconds = sum(s["seconds"] for s in stats)
    rates = [s["seconds"] / s["real_time_factor"] for s in stats]
    return round(seconds / max(sum(rates), 1e-9), 1) if stats else None
