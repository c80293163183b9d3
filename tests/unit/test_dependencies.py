"""Who may import whom, where import-linter's contracts (pyproject.toml) cannot say it: infra
takes only contract modules from the functions, and contracts use only the standard library."""

from __future__ import annotations

import ast
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
FUNCTIONS = PROJECT / "functions"
#: Top-level packages of the Lambda asset root, importable as Lambda imports them.
FUNCTION_PACKAGES = {path.name for path in FUNCTIONS.iterdir() if (path / "__init__.py").exists()}


def absolute_imports(paths: Iterator[Path]) -> Iterator[tuple[str, str]]:
    """(file, imported module) for every absolute import; `from a import b` yields `a.b`."""
    for path in paths:
        where = str(path.relative_to(PROJECT))
        for node in ast.walk(ast.parse(path.read_text(), filename=where)):
            if isinstance(node, ast.Import):
                yield from ((where, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield from ((where, f"{node.module}.{alias.name}") for alias in node.names)


def test_infra_takes_only_contract_modules_from_the_functions():
    offending = [
        (where, module)
        for where, module in absolute_imports((PROJECT / "infra").rglob("*.py"))
        if module.split(".")[0] in FUNCTION_PACKAGES
        and module.split(".")[:2] != [module.split(".")[0], "contract"]
    ]
    assert offending == []


def test_contract_modules_import_only_the_standard_library():
    offending = [
        (where, module)
        for where, module in absolute_imports(FUNCTIONS.glob("*/contract.py"))
        if module.split(".")[0] not in sys.stdlib_module_names | {"__future__"}
    ]
    assert offending == []


def test_every_functions_package_is_held_to_the_import_contracts():
    # A package missing from these lists escapes "functions import neither infra, localcloud
    # nor demo", "localcloud never imports the functions" and the cycle check without a word.
    config = tomllib.loads((PROJECT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contracts = {contract["name"]: contract for contract in config["contracts"]}
    lambda_code = next(c for name, c in contracts.items() if name.startswith("Lambda code"))
    localcloud = next(c for name, c in contracts.items() if name.startswith("localcloud serves"))
    acyclic = next(c for c in contracts.values() if c["type"] == "acyclic_siblings")

    for listed in (
        config["root_packages"],
        lambda_code["source_modules"],
        localcloud["forbidden_modules"],
        acyclic["ancestors"],
    ):
        assert FUNCTION_PACKAGES - set(listed) == set()
