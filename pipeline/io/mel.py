"""The mel scale (HTK's formula), one definition for numpy arrays, floats and torch
tensors: the voice features, the voice model's random warp and the audio mark's bands."""

from __future__ import annotations

import numpy as np


def hz_to_mel(hz):
    if hasattr(hz, "log10"):  # a torch tensor: stays one, on its device
        return 2595.0 * (1.0 + hz / 700.0).log10()
    return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)


def mel_to_hz(mel):
    return 700.0 * (10.0 ** (np.asarray(mel) / 2595.0) - 1.0)
