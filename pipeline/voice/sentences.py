"""Sentences to read, drawn from a small grammar by seed: as many as a speaker needs,
never the same list for training, the gallery and the target (their seeds differ)."""

from __future__ import annotations

import numpy as np

_ADJECTIVES = (
    "small red quiet bright heavy narrow golden wooden silver gentle sudden empty warm "
    "cold green distant hollow steady crooked ancient careful rapid smooth bitter"
).split()
_NOUNS = (
    "river window garden basket engine harbour ladder mirror pocket candle village "
    "blanket whistle orchard tunnel kettle meadow lantern bridge cabinet saddle ribbon "
    "button feather"
).split()
_VERBS = (
    "carried painted followed watched lifted opened covered pushed crossed found "
    "borrowed cleaned measured dropped repaired counted"
).split()
_PLACES = (
    "near the station|behind the old mill|across the valley|under the stairs|"
    "beside the fountain|along the north road|inside the tent|before the storm|"
    "after the long winter|at the end of the pier"
).split("|")
_NAMES = "Mara Tobias Ines Oskar Lena Ruben Sofia Emil Nadia Felix".split()


def sentences(seed: int, count: int) -> list[str]:
    """``count`` sentences of 8-16 words, deterministic from ``seed``."""
    rng = np.random.default_rng([seed, 0x7E])
    pick = lambda words: words[rng.integers(len(words))]  # noqa: E731
    out = []
    for _ in range(count):
        form = rng.integers(3)
        if form == 0:
            s = f"The {pick(_ADJECTIVES)} {pick(_NOUNS)} {pick(_VERBS)} the {pick(_NOUNS)} {pick(_PLACES)}."
        elif form == 1:
            s = (
                f"{pick(_NAMES)} {pick(_VERBS)} a {pick(_ADJECTIVES)} {pick(_NOUNS)} and "
                f"a {pick(_ADJECTIVES)} {pick(_NOUNS)} {pick(_PLACES)}."
            )
        else:
            s = (
                f"Did {pick(_NAMES)} see the {pick(_ADJECTIVES)} {pick(_NOUNS)} "
                f"{pick(_PLACES)}, or was it a {pick(_NOUNS)}?"
            )
        out.append(s)
    return out
