"""Any value in any key (issue 14): every stage's checks accept it, or refuse it in one
sentence naming where it is, before any work. A traceback is a failure."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.collect import synthetic
from pipeline.config.compose import compose_conf
from pipeline.config.load import validate
from pipeline.errors import UserError
from pipeline.generate.stage import check_config as check_generate
from pipeline.pretrain.stage import check_config as check_pretrain
from pipeline.refine.stage import check_config as check_refine
from pipeline.segment.stage import check_config as check_segment
from pipeline.train.stage import check_config as check_train

BASE = compose_conf()


def _leaves(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(node, list) and node and isinstance(node[0], dict):
        yield from _leaves(node[0], (*path, 0))
    else:
        yield path


LEAVES = sorted(_leaves(BASE), key=str)
GROUPS = sorted(k for k, v in BASE.items() if isinstance(v, dict))
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.sampled_from([0, 1, -1, 2**31, 2**63]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e-300, 1e300, float("nan"), float("inf")]),
    st.text(max_size=12),
    st.sampled_from(["", "../x", "none", "cnn", "gpu", "1e-3", "true"]),
    st.lists(st.integers(-5, 300), max_size=4),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


def _all_checks(cfg) -> None:
    """Each stage's own check, as the stage runs it before any work."""
    if cfg.data.source == "synthetic":
        synthetic.check_config(cfg.data)
    check_train(cfg, [i.name for i in cfg.data.identities])
    check_pretrain(cfg.pretrain)
    check_generate(cfg)
    check_refine(cfg)
    check_segment(cfg)


def _accepted_or_one_sentence(raw: dict, where: str) -> None:
    try:
        _all_checks(validate(raw))
    except UserError as err:
        message = str(err)
        assert "\n" not in message and message.endswith("."), message
        assert where in message, (where, message)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(path=st.sampled_from(LEAVES), value=VALUES)
def test_any_value_in_any_key_is_accepted_or_refused_in_one_sentence(path, value):
    raw = copy.deepcopy(BASE)
    node = raw
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    _accepted_or_one_sentence(raw, str(path[0]))


@settings(max_examples=50, deadline=None, derandomize=True)
@given(group=st.sampled_from(GROUPS), key=st.text(min_size=1, max_size=8), value=VALUES)
def test_an_unknown_key_or_group_choice_is_refused_in_one_sentence(group, key, value):
    raw = copy.deepcopy(BASE)
    raw[group][key] = value  # a known key gets a random value, an unknown one appears
    _accepted_or_one_sentence(raw, group)
    raw = copy.deepcopy(BASE)
    raw["data"]["source"] = key
    _accepted_or_one_sentence(raw, "data")
