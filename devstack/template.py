"""Reads template.yaml the way the local runner needs it: a function's handler, code path, layer and
environment, and the queue settings. CloudFormation tags (!Ref, !Sub, ...) load as {"Ref": ...} etc.;
`resolve` turns the ones the local stack can answer into values."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from devstack.database import REPO_ROOT

TEMPLATE = REPO_ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    pass


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


@cache
def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    loaded = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    assert isinstance(loaded, dict)
    return loaded


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    module: str
    function: str
    layer_dirs: tuple[Path, ...]
    environment: dict[str, Any]
    timeout_seconds: float


def function_spec(logical_id: str, template: dict[str, Any] | None = None) -> FunctionSpec:
    template = template or load_template()
    resources = template["Resources"]
    resource = resources.get(logical_id)
    if not resource or resource.get("Type") != "AWS::Serverless::Function":
        names = ", ".join(k for k, v in resources.items() if v.get("Type") == "AWS::Serverless::Function")
        raise KeyError(f"{logical_id} is not a function in template.yaml (functions: {names})")
    globals_ = template.get("Globals", {}).get("Function", {})
    props = {**globals_, **resource["Properties"]}
    env = {
        **globals_.get("Environment", {}).get("Variables", {}),
        **resource["Properties"].get("Environment", {}).get("Variables", {}),
    }
    module, function = str(props["Handler"]).rsplit(".", 1)
    layers = []
    for layer in props.get("Layers", []):
        layer_id = layer["Ref"] if isinstance(layer, dict) else layer
        layers.append(REPO_ROOT / resources[layer_id]["Properties"]["ContentUri"])
    return FunctionSpec(
        logical_id=logical_id,
        code_dir=REPO_ROOT / props["CodeUri"],
        module=module,
        function=function,
        layer_dirs=tuple(layers),
        environment=env,
        timeout_seconds=int(resolve(props.get("Timeout", 3), {})),
    )


def parameter_defaults() -> dict[str, str]:
    """Each template parameter's Default, as the local stack deploys them."""
    parameters = load_template().get("Parameters", {})
    return {name: str(spec["Default"]) for name, spec in parameters.items() if "Default" in spec}


def resolve(value: Any, refs: dict[str, str]) -> str:
    """A template value as a string, with !Ref and !Join resolved from `refs`, then from the
    parameters' defaults (missing → "")."""
    if isinstance(value, dict):
        if "Ref" in value:
            name = str(value["Ref"])
            return str(refs.get(name, parameter_defaults().get(name, "")))
        if "Fn::Join" in value:
            sep, items = value["Fn::Join"]
            parts = items if isinstance(items, list) else [items]
            return str(sep).join(resolve(item, refs) for item in parts)
        if "Fn::GetAtt" in value:
            return str(refs.get(".".join(value["Fn::GetAtt"]), ""))
        return ""
    return str(value)


def queue_properties(logical_id: str) -> dict[str, Any]:
    """A queue's properties with parameter references resolved to their defaults."""

    def resolved(value: Any) -> Any:
        if isinstance(value, dict) and "Ref" in value and value["Ref"] in parameter_defaults():
            return int(parameter_defaults()[value["Ref"]])
        if isinstance(value, dict):
            return {k: resolved(v) for k, v in value.items()}
        return value

    return {k: resolved(v) for k, v in load_template()["Resources"][logical_id]["Properties"].items()}


def function_environment(spec: FunctionSpec, refs: dict[str, str]) -> dict[str, str]:
    """The function's environment variables with template references resolved from `refs`."""
    return {name: resolve(value, refs) for name, value in spec.environment.items()}
