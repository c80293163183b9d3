"""Every library localcloud imports is declared by the project, or required outright (not
through an extra) by a library it declares: nothing rests on another package's optional extras.
"""

from __future__ import annotations

import importlib.metadata
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.unit.test_dependencies import PROJECT, absolute_imports


def _imported_top_level_modules(package: Path) -> set[str]:
    modules = {module.split(".")[0] for _, module in absolute_imports(package.rglob("*.py"))}
    return {name for name in modules if name not in sys.stdlib_module_names} - {package.name}


def _declared() -> set[str]:
    groups = tomllib.loads((PROJECT / "pyproject.toml").read_text())["dependency-groups"]
    return {
        canonicalize_name(Requirement(entry).name)
        for entries in groups.values()
        for entry in entries
        if isinstance(entry, str)
    }


def _required_outright_by(distributions: set[str]) -> set[str]:
    required = set()
    for distribution in distributions:
        for entry in importlib.metadata.requires(distribution) or []:
            requirement = Requirement(entry)
            if requirement.marker is None or "extra" not in str(requirement.marker):
                required.add(canonicalize_name(requirement.name))
    return required


def test_every_library_localcloud_imports_is_declared_or_required_outright():
    declared = _declared()
    available = declared | _required_outright_by(declared)
    by_module = importlib.metadata.packages_distributions()

    undeclared = {
        module: by_module.get(module)
        for module in _imported_top_level_modules(PROJECT / "localcloud")
        if not {canonicalize_name(name) for name in by_module.get(module, [])} & available
    }

    assert undeclared == {}
