"""Which float type the networks compute in: ``auto`` picks bf16 only where it is fast.

A CPU with AVX512-BF16 or AMX does bf16 matmuls and convolutions natively and trains the
default model about twice as fast in bf16 autocast as in fp32. A CPU with only AVX2
emulates them: measured on one (AMD EPYC, 2 cores), an evaluator training step took 1.9 s
in bf16 autocast and 0.2 s in fp32, and the default ``make run`` would have taken hours.
So ``auto`` (the default) means bf16 on a GPU or a CPU with native bf16, else fp32; an
explicit ``bf16-mixed`` / ``32-true`` (training) or ``bf16`` / ``fp32`` (inference) is
kept as asked. The choice is recorded with each run, since it changes the numbers a run
produces (not what it means).
"""

from __future__ import annotations

import contextlib
from functools import lru_cache

import torch


@lru_cache(maxsize=1)
def native_bf16() -> bool:
    """True when this CPU computes bf16 natively (AVX512-BF16 or AMX tiles)."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    found = [getattr(torch.cpu, name, None) for name in checks]
    if all(f is not None for f in found):
        return any(f() for f in found)
    try:  # torch without those probes: the kernel's flags
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def training(accelerator: str, precision: str) -> str:
    """Lightning's ``precision`` for ``trainer.precision`` (``auto`` resolved)."""
    if precision != "auto":
        return precision
    return "bf16-mixed" if accelerator != "cpu" or native_bf16() else "32-true"


def inference(precision: str) -> str:
    """``bf16`` or ``fp32`` for a CPU inference setting (``auto`` resolved)."""
    if precision != "auto":
        return precision
    return "bf16" if native_bf16() else "fp32"


def cpu_autocast(precision: str = "auto"):
    """bf16 autocast on the CPU when ``precision`` resolves to bf16, else nothing."""
    if inference(precision) == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()
