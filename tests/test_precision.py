"""``auto`` precision: bf16 only where the hardware computes it natively."""

import torch

from pipeline import precision


def test_auto_follows_the_cpu_and_explicit_choices_are_kept():
    native = precision.native_bf16()
    assert precision.training("cpu", "auto") == ("bf16-mixed" if native else "32-true")
    assert precision.inference("auto") == ("bf16" if native else "fp32")
    assert precision.training("gpu", "auto") == "bf16-mixed"
    assert precision.training("cpu", "32-true") == "32-true"
    assert precision.training("cpu", "bf16-mixed") == "bf16-mixed"
    assert precision.inference("fp32") == "fp32"


def test_cpu_autocast_computes_in_the_resolved_type():
    a = torch.rand(8, 8)
    with precision.cpu_autocast("fp32"):
        assert (a @ a).dtype == torch.float32
    with precision.cpu_autocast("bf16"):
        assert (a @ a).dtype == torch.bfloat16
    with precision.cpu_autocast("auto"):
        expected = torch.bfloat16 if precision.native_bf16() else torch.float32
        assert (a @ a).dtype == expected
