"""The import rules of ARCHITECTURE.md hold (static analysis: nothing is imported to check)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]


def test_the_layers_and_processes_keep_the_import_rules():
    """The contracts in .importlinter: who may import whom, across processes and inside the backend."""
    lint = Path(sys.executable).with_name("lint-imports")
    checked = subprocess.run([str(lint), "--no-cache", "--no-logo", "--config", str(ROOT / ".importlinter")],
                             cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def shared_test_code_outside_support(graph) -> list[str]:
    """Imports of one test module by another that bypass tests/support (conftest modules included)."""
    found = []
    for module in sorted(graph.modules):
        if module.startswith("tests.support") or module == "tests":
            continue
        for importer in sorted(graph.find_modules_that_directly_import(module)):
            if importer.startswith("tests.") and not importer.startswith(module + "."):
                found.append(f"{importer} imports {module}")
    return found


def test_tests_share_code_only_through_tests_support():
    graph = grimp.build_graph("tests", cache_dir=None)
    assert shared_test_code_outside_support(graph) == []


def test_the_rule_for_tests_catches_a_test_importing_another():
    """The check above can fail: a graph where one test module imports another's helper."""
    graph = grimp.ImportGraph()
    for module in ("tests", "tests.support", "tests.support.chat", "tests.bot", "tests.bot.test_a", "tests.bot.test_b"):
        graph.add_module(module)
    graph.add_import(importer="tests.bot.test_a", imported="tests.support.chat")
    assert shared_test_code_outside_support(graph) == []
    graph.add_import(importer="tests.bot.test_b", imported="tests.bot.test_a")
    assert shared_test_code_outside_support(graph) == ["tests.bot.test_b imports tests.bot.test_a"]
