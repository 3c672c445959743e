"""conf/ composes into params.yaml; bad keys and types stop a stage with one sentence."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hydra.errors import ConfigCompositionException
from omegaconf.errors import ReadonlyConfigError

from pipeline.config.compose import compose_conf
from pipeline.config.load import flatten, load_params, validate
from pipeline.errors import UserError
from tests.helpers import ROOT, run


def test_params_yaml_is_the_composition_of_conf():
    committed = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert committed == compose_conf(), "params.yaml drifted from conf/: run `make params`"


# Every file of every config group, experiment presets included (the lightning-hydra
# template's experiment=glob(*)); hparams_search is not a pipeline group (see below).
CHOICES = sorted(
    f"{d.name}={f.stem}"
    for d in (ROOT / "conf").iterdir()
    if d.is_dir() and d.name != "hparams_search"
    for f in d.glob("*.yaml")
)


@pytest.mark.parametrize("choice", CHOICES)
def test_every_group_choice_and_preset_composes_and_validates(choice):
    cfg = validate(compose_conf([choice]))
    group, _ = choice.split("=")
    assert cfg.data.identities if group == "experiment" else cfg[group] is not None


@pytest.mark.parametrize(
    "search", sorted(p.stem for p in (ROOT / "conf/hparams_search").glob("*.yaml"))
)
def test_every_search_space_names_keys_that_exist_with_values_they_take(search):
    spec = yaml.safe_load((ROOT / "conf/hparams_search" / f"{search}.yaml").read_text())
    for key, dist in spec["space"].items():
        ends = dist["choices"] if dist["type"] == "categorical" else [dist["low"], dist["high"]]
        for value in ends:
            validate(compose_conf([*spec["overrides"], f"{key}={value}"]))


def test_composition_rejects_unknown_key_and_wrong_type():
    with pytest.raises(ConfigCompositionException, match="data.crop_sise"):
        compose_conf(["data.crop_sise=32"])
    with pytest.raises(ConfigCompositionException, match="data.crop_size"):
        compose_conf(["data.crop_size=big"])
    # Hydra's `+` appends even to a typed node; the stage's own check still refuses it.
    with pytest.raises(UserError, match="unknown key 'data.extra'"):
        validate(compose_conf(["+data.extra=1"]))


def _params(tmp_path: Path, edit) -> Path:
    raw = compose_conf()
    edit(raw)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _refused(tmp_path: Path, edit, pattern: str) -> None:
    """params.yaml with ``edit`` applied is refused with a message matching ``pattern``."""
    with pytest.raises(UserError, match=pattern):
        load_params(_params(tmp_path, edit))


def test_load_params_names_an_unknown_key(tmp_path):
    path = _params(tmp_path, lambda r: r["data"].update(frame_sise=3))
    with pytest.raises(UserError, match=r"unknown key 'data.frame_sise'"):
        load_params(path)


def test_load_params_names_a_wrongly_typed_key(tmp_path):
    path = _params(tmp_path, lambda r: r["data"]["identities"][1].update(frames="many"))
    with pytest.raises(UserError, match=r"'data.identities\[1\].frames' has the wrong type"):
        load_params(path)


def test_load_params_names_an_unknown_group_choice(tmp_path):
    path = _params(tmp_path, lambda r: r["tracking"].update(backend="postgres"))
    with pytest.raises(UserError, match=r"'tracking.backend' is 'postgres'"):
        load_params(path)


def test_loaded_config_is_read_only_and_flattens():
    cfg = load_params(ROOT / "params.yaml")
    with pytest.raises(ReadonlyConfigError):
        cfg.data.crop_size = 3
    flat = flatten(cfg)
    assert flat["data.identities.0.name"] == "synth_a"
    assert flat["tracking.backend"] == "sqlite"


def _run_stage(stage: str, cwd: Path, **env: str):
    return run(
        ["python", "-m", f"pipeline.{stage}"],
        cwd,
        check=False,
        env={"PYTHONPATH": str(ROOT), "DVC_ROOT": str(cwd), **env},
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("stage", "section", "key"), [("collect", "data", "crop_size"), ("train", "train", "lr")]
)
def test_stage_reports_a_config_error_in_one_sentence(tmp_path, stage, section, key):
    _params(tmp_path, lambda r: r[section].update({key: "huge"}))
    proc = _run_stage(stage, tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines == [lines[-1]] and f"{section}.{key}" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "data").exists() and not (tmp_path / "models").exists()
    assert not (tmp_path / "mlflow.db").exists()


@pytest.mark.slow
def test_debug_flag_shows_the_traceback(tmp_path):
    _params(tmp_path, lambda r: r["data"].update(crop_size="huge"))
    proc = _run_stage("collect", tmp_path, HYDRA_FULL_ERROR="1")
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_plugin_choices_match_their_tables_and_conf_files():
    """A plugin is one file, one table entry and (for a config group) one conf file:
    the schema's group choices and the conf/ files follow the detector table."""
    from pipeline.config.schema import GROUP_SCHEMAS
    from pipeline.faces import detectors
    from pipeline.refine import blenders, color

    kinds = set(detectors.KINDS)
    assert set(GROUP_SCHEMAS["detector"][1]) == kinds
    assert {p.stem for p in (ROOT / "conf/detector").glob("*.yaml")} == kinds
    assert set(color.MODES) == {"none", "rct", "lct", "hist"}
    assert set(blenders.MODES) == {"alpha", "poisson"}


def _rename_a(raw: dict, name: str) -> None:
    """Rename identity synth_a everywhere it is referred to."""
    data = raw["data"]
    data["identities"][0]["name"] = name
    for item in data["targets"] + data["stills"]:
        for key in ("identity", "swap_to"):
            if item[key] == "synth_a":
                item[key] = name


@pytest.mark.parametrize("name", ["../../evil", "a/b", ".hidden", "", "x..y", "-dash", "a b"])
def test_a_name_that_is_not_a_safe_slug_is_refused_by_key(tmp_path, name):
    _refused(
        tmp_path, lambda r: _rename_a(r, name), r"data\.identities\[0\]\.name is .* must start"
    )


def test_names_must_be_unique_within_their_list(tmp_path):
    clash = r"data.targets and data.stills both name \['a_stills'\]"
    _refused(tmp_path, lambda r: r["data"]["targets"][0].update(name="a_stills"), clash)
    twice = r"data.identities names \['synth_a'\] more than once"
    _refused(tmp_path, lambda r: r["data"]["identities"][1].update(name="synth_a"), twice)


@pytest.mark.slow
def test_an_escaping_name_writes_nothing_anywhere(tmp_path):
    """The report that opened issue 14: '../../evil' made collect create a folder two
    levels above data/faces and then die with an MLflow traceback."""
    project = tmp_path / "a" / "b" / "project"
    project.mkdir(parents=True)
    _params(project, lambda r: _rename_a(r, "../../evil"))
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    proc = _run_stage("collect", project)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines == [lines[-1]] and "data.identities[0].name" in lines[0], proc.stderr
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_number_that_is_not_finite_is_refused_by_key(tmp_path, value):
    edit = lambda r: r["train"].update(dssim_weight=value)  # noqa: E731
    _refused(tmp_path, edit, r"train.dssim_weight is .*: numbers must be finite")


def test_a_mapping_where_a_list_belongs_is_refused_by_key(tmp_path):
    wrong_kind = r"'model.decoder_dims' has a value of the wrong kind"
    _refused(tmp_path, lambda r: r["model"].update(decoder_dims={}), wrong_kind)
    listed = r"'detector.kind' is \['hog'\], expected one of"
    _refused(tmp_path, lambda r: r["detector"].update(kind=["hog"]), listed)
