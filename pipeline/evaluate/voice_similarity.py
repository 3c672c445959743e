"""Voice figures that need no ground truth: speaker similarity by Resemblyzer.

Resemblyzer's speaker encoder (a GE2E LSTM trained on thousands of real speakers; its
weights ship inside the wheel) embeds speech as a unit vector; the cosine of two
embeddings says how alike the voices are. It is trained on none of this project's data,
so it is independent of the voice conversion. Per clip:

* ``voice_similarity_new``: the output's voice against the new identity's collected
  speech (``data/voices/<name>/speech.wav``), and ``voice_similarity_new_unswapped``:
  the target's own voice against it, the reference a swap has to beat;
* ``voice_similarity_old``: the output against the target's own voice (1 for no swap);
* ``voice_share_nearer_new``: the share of the output's 1.6 s windows whose embedding is
  nearer the new identity than the target's own voice;
* ``voice_similarity_new_truth`` (synthetic clips): the ground-truth speech against the
  new identity, the figure a perfect conversion would get.

Feeding the target's own sound in as the output scores "no swap": similarity to the old
voice 1, to the new one the unswapped figure, and a share near 0 (tested).
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import numpy as np

from pipeline.voice import world


@functools.cache
def _encoder():
    with warnings.catch_warnings():
        # webrtcvad (imported by resemblyzer) imports pkg_resources, which warns.
        warnings.simplefilter("ignore")
        from resemblyzer import VoiceEncoder

    return VoiceEncoder("cpu", verbose=False)


def _prepare(samples: np.ndarray) -> np.ndarray:
    """Resemblyzer's own preprocessing (volume to -30 dBFS, long silences trimmed) of
    samples at ``world.RATE``, which is also its rate."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from resemblyzer import preprocess_wav
        from resemblyzer.hparams import sampling_rate

    assert sampling_rate == world.RATE
    return preprocess_wav(np.asarray(samples, np.float32))


def embed(samples: np.ndarray) -> np.ndarray:
    """The unit speaker embedding of speech at ``world.RATE``."""
    return embed_windows(samples)[0]


def embed_windows(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The embedding of speech at ``world.RATE``, and one per 1.6 s window of it."""
    import torch

    with torch.inference_mode():
        whole, windows, _ = _encoder().embed_utterance(_prepare(samples), return_partials=True)
    return whole, windows


def speaker_embedding(folder: Path) -> np.ndarray:
    """The embedding of a collected speaker's speech (``data/voices/<name>/``)."""
    from pipeline.io.audio import read_wav
    from pipeline.voice.collect import SPEECH

    speech, rate = read_wav(folder / SPEECH)
    return embed(world.to_rate(speech, rate).astype(np.float32))


def similarity_figures(
    output: np.ndarray,
    original: np.ndarray,
    new: np.ndarray,
    truth: np.ndarray | None = None,
) -> dict:
    """The figures above for one clip: ``output``, ``original`` and ``truth`` are speech
    at ``world.RATE``, ``new`` the new identity's embedding (``speaker_embedding``)."""
    out, windows = embed_windows(output)
    own = embed(original)
    nearer = (windows @ new) > (windows @ own)
    figures = {
        "voice_similarity_new": float(out @ new),
        "voice_similarity_new_unswapped": float(own @ new),
        "voice_similarity_old": float(out @ own),
        "voice_share_nearer_new": float(nearer.mean()),
    }
    if truth is not None:
        figures["voice_similarity_new_truth"] = float(embed(truth) @ new)
    return {k: round(v, 4) for k, v in figures.items()}
