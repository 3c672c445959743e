"""Augmentation: the warp only displaces, and everything a sample holds moves together."""

from __future__ import annotations

import numpy as np

from pipeline.config.compose import compose_conf
from pipeline.config.load import validate
from pipeline.faces.mask import hull_mask
from pipeline.faces.template import template_points
from pipeline.train.augment import augment, random_warp
from tests.helpers import ROOT


def _face(size=64):
    rng = np.random.default_rng(0)
    img = (rng.uniform(0, 255, (size, size, 3))).astype(np.uint8)
    lm = template_points(size)
    return img, hull_mask(lm, (size, size)), lm


def test_zero_warp_is_the_identity():
    img, _, _ = _face()
    out = random_warp(np.random.default_rng(1), img, 0.0)
    assert np.array_equal(out, img)


def test_warp_moves_pixels_by_about_its_scale():
    yy, xx = np.mgrid[0:64, 0:64].astype(np.float32)
    coords = np.dstack([xx, yy, np.zeros_like(xx)])
    out = random_warp(np.random.default_rng(2), coords, 0.035)
    shift = np.hypot(out[..., 0] - xx, out[..., 1] - yy)
    assert 0.3 < shift.mean() < 4.0
    assert shift[0].max() < 0.5 and shift[:, -1].max() < 0.5  # the border stays put


def test_augment_is_deterministic_per_draw_and_keeps_shapes():
    aug = validate(compose_conf([], ROOT / "conf")).train.augment
    img, mask, lm = _face()
    a = augment(np.random.default_rng([0, 5]), img, mask, lm, aug)
    b = augment(np.random.default_rng([0, 5]), img, mask, lm, aug)
    for x, y in ((a.input, b.input), (a.target, b.target), (a.mask, b.mask)):
        assert np.array_equal(x, y)
    assert a.input.shape == a.target.shape == (64, 64, 3)
    assert a.mask.shape == (64, 64) and a.priority.shape == (2, 64, 64)
    assert 0 < a.priority[0].sum() < a.mask.sum() * 64
