"""`bot/domain/` is pure: no module there imports platform code, rendering, commands, services, jobs,
storage, SQL or HTTP, even inside a function or under TYPE_CHECKING."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import bot.domain

DOMAIN = Path(bot.domain.__file__).parent
FORBIDDEN = (
    "adapters",
    "bot.render",
    "bot.commands",
    "bot.services",
    "bot.jobs",
    "storage",
    "sqlalchemy",
    "fastapi",
    "httpx",
)


def imported(tree: ast.AST, package: str) -> list[str]:
    """Every module an import statement anywhere in `tree` names, relative imports resolved."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            # `from bot import render` imports bot.render: name each imported member as a module too.
            names += [base] + [f"{base}.{alias.name}" for alias in node.names]
    return names


def forbidden(module: str) -> bool:
    return any(module == bad or module.startswith(f"{bad}.") for bad in FORBIDDEN)


MODULES = sorted(DOMAIN.rglob("*.py"))


def test_the_domain_has_modules() -> None:
    assert len(MODULES) > 10


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(DOMAIN)))
def test_domain_module_imports_nothing_outside_the_domain(path: Path) -> None:
    package = "bot.domain" + "".join(f".{part}" for part in path.relative_to(DOMAIN).parent.parts)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    bad = sorted({module for module in imported(tree, package) if forbidden(module)})
    assert not bad, f"{path.name} imports {bad}"


def test_the_check_sees_imports_in_functions_and_under_type_checking() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from adapters.models import Card\n"
        "def f():\n    import sqlalchemy.orm\n"
        "from bot import render\n"
        "from ..services import audit\n"
    )
    found = {m for m in imported(ast.parse(source), "bot.domain") if forbidden(m)}
    assert {"adapters.models", "sqlalchemy.orm", "bot.render", "bot.services"} <= found
