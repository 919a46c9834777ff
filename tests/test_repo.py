"""Repository hygiene: dependency files in step, notebooks thin and clean."""

from __future__ import annotations

import ast
import json
import re
import tomllib

import pytest
import yaml

from tests.conftest import PROJECT

NOTEBOOKS = sorted(PROJECT.glob("notebooks/**/*.ipynb"))


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
    assert m, req
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_pyproject_and_environment_yml_list_the_same_packages_and_bounds():
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs += extra
    py = dict(_split(r) for r in reqs)
    env = yaml.safe_load((PROJECT / "environment.yml").read_text())
    conda = dict(_split(d) for d in env["dependencies"] if isinstance(d, str) and d not in ("pip",))
    conda.pop("python")
    assert py == conda


def test_python_floor_is_the_same():
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((PROJECT / "environment.yml").read_text())
    py = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert project["requires-python"] == ">=3.11" and py.startswith("python>=3.11")


def test_generated_things_are_ignored():
    ignored = (PROJECT / ".gitignore").read_text().split()
    for entry in ("/reports/", ".venv/", "/learner/", ".ipynb_checkpoints/", "__pycache__/"):
        assert entry in ignored


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(PROJECT)))
def test_notebook_is_thin_and_clean(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), "stored outputs"
    params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1, "exactly one cell tagged parameters"
    tree = ast.parse("".join(params[0]["source"]))
    for node in tree.body:  # literals only, type-annotated, each with a help comment
        assert isinstance(node, ast.AnnAssign), ast.dump(node)
        assert isinstance(node.value, ast.Constant), f"{ast.unparse(node)}: parameters are literals only"
    for line in "".join(params[0]["source"]).splitlines():
        if ":" in line and "=" in line and not line.lstrip().startswith("#"):
            assert "#" in line, f"parameter without a help comment: {line}"
    for cell in code:
        src = "".join(cell["source"])
        if src.lstrip().startswith(("%", "!")):
            continue
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                assert length <= 6, f"function {node.name} is {length} lines: logic belongs in kpi_kit"
