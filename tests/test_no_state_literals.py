"""No code outside the workflow package tests a status against a literal state name.

The rest of the tracker asks the workflow (its groups of states), so a facility's own workflow
with other states works without a code change. This test reads the code: Python through its
syntax tree, templates through the comparisons they write.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tracker.workflow.definitions import load_registry

ROOT = Path(__file__).resolve().parent.parent
STATES = {state for w in load_registry().values() for state in w.states}


def _names_status(node: ast.AST) -> bool:
    text = ast.unparse(node)
    return "status" in text.lower()


def _literal_states(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value} & STATES
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return set().union(*(_literal_states(e) for e in node.elts)) if node.elts else set()
    return set()


def python_offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_names_status(o) for o in operands):
                for operand in operands:
                    if states := _literal_states(operand):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {sorted(states)}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("in_", "not_in", "__eq__")
            and _names_status(node.func.value)
        ):
            for argument in node.args:
                if states := _literal_states(argument):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {sorted(states)}")
    return found


TEMPLATE_COMPARISON = re.compile(
    r"status\s*(?:==|!=|\bin\b|\bnot in\b)\s*[\(\[]?\s*['\"](?P<state>[a-z_]+)['\"]"
)


def template_offences(path: Path) -> list[str]:
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for match in TEMPLATE_COMPARISON.finditer(line):
            if match.group("state") in STATES:
                found.append(f"{path.relative_to(ROOT)}:{number}: {match.group('state')}")
    return found


def test_the_scan_finds_what_it_looks_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "if proposal.status == 'selected': pass\n"
        "q = Proposal.status.in_(('selection', 'reserve'))\n"
        "ok = workflow.in_group(proposal.status, 'granted')\n"
    )
    original = ROOT
    try:
        globals()["ROOT"] = tmp_path
        assert len(python_offences(sample)) == 2
    finally:
        globals()["ROOT"] = original
    page = tmp_path / "page.html"
    page.write_text("{% if proposal.status in ('evaluation', 'x') %}{% endif %}")
    globals()["ROOT"] = tmp_path
    try:
        assert len(template_offences(page)) == 1
    finally:
        globals()["ROOT"] = original


def test_no_literal_state_names_outside_the_workflow_package():
    offences = []
    for path in sorted((ROOT / "tracker").rglob("*.py")):
        if "workflow" in path.relative_to(ROOT / "tracker").parts[:1]:
            continue
        offences += python_offences(path)
    for path in sorted((ROOT / "templates").rglob("*.html")):
        offences += template_offences(path)
    assert offences == [], "ask the workflow's groups instead:\n" + "\n".join(offences)
