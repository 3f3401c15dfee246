"""Judge-side check that "from scratch" code does not reach for the built-in it replaces.

The sandbox switches forbidden built-ins off at run time (tripwires in
:mod:`autograder.seam.sandbox`), but everything inside the sandbox is in the
student's hands: a determined student can dig out another alias. This check
runs in the judge, on the text of the learner's own cells, where the student
cannot reach: it reports any reference to a forbidden function's name (as an
attribute, an imported name or a string, e.g. ``getattr(torch, "softmax")``)
and any use of torch's private dispatch entry points or of dynamic code
(``exec``, ``eval``, ``compile``, ``__import__``, ``importlib``), which could
hide one.

Not handled: names assembled from pieces at run time inside dynamic code
(that is why dynamic code itself is reported), cells that do not parse (the
run-time tripwires still apply to whatever they define).
"""

from __future__ import annotations

import ast

PRIVATE_ENTRY_POINTS = {
    "_C", "_VariableFunctions", "ops", "_ops", "_refs", "_decomp", "_prims",
    "overrides", "_python_dispatch", "_pop_mode", "_disable_torch_dispatch",
}
DYNAMIC = {"exec", "eval", "compile", "__import__", "importlib", "__builtins__", "__dict__"}


def forbidden_references(cells: list[dict], forbidden: list[str]) -> list[str]:
    """Findings, one string each, for the learner's (unlocked) cells."""
    tails = {name.rsplit(".", 1)[-1] for name in forbidden}
    findings: list[str] = []
    for cell in cells:
        if cell.get("locked"):
            continue
        try:
            tree = ast.parse(cell["source"])
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            found = None
            if isinstance(node, ast.Attribute):
                if node.attr in tails:
                    found = f"uses .{node.attr}"
                elif node.attr in PRIVATE_ENTRY_POINTS or node.attr in DYNAMIC:
                    found = f"uses torch internals or dynamic code (.{node.attr})"
            elif isinstance(node, ast.Name) and node.id in DYNAMIC:
                found = f"uses dynamic code ({node.id})"
            elif isinstance(node, ast.alias) and (node.name.rsplit(".", 1)[-1] in tails | DYNAMIC):
                found = f"imports {node.name}"
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                module = getattr(node, "module", None) or ""
                if any(part in PRIVATE_ENTRY_POINTS | DYNAMIC for part in module.split(".")):
                    found = f"imports {module}"
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in tails:
                found = f"names {node.value!r} in a string"
            if found and found not in findings:
                findings.append(found)
    return findings
