"""What import-linter cannot say about the layers (its contracts are in pyproject.toml and run by
`make lint`): no module takes another module's private names."""

import ast

import pytest

from tests.conftest import REPO_ROOT

PACKAGES = ("core", "accounts", "market", "billing", "similarity", "alerts", "stocksite")


def _private_imports(path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level == 0 and (node.module or "").split(".")[0] not in PACKAGES:
            continue
        for alias in node.names:
            if alias.name.startswith("_") and not alias.name.startswith("__"):
                module = "." * node.level + (node.module or "")
                found.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno} {module}.{alias.name}")
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_imports_another_modules_private_names(package):
    offenders = [
        offence
        for path in sorted((REPO_ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
        for offence in _private_imports(path)
    ]
    assert offenders == []
