"""Imports only go down: every module of chainrule imports only from its own layer or lower ones,
and no import cycle exists, between modules or between packages.

The layers, bottom to top (issue 10, item 6). Every import is counted: top-level ones and those
inside functions, absolute and relative, since a lazy import is still a dependency (it only moves
the failure to run time).
"""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# The one layer map. A module belongs to the layer of the longest prefix listed here.
LAYERS = [
    ("engine core", ["chainrule.errors", "chainrule.constraints", "chainrule._version", "chainrule.engine"]),
    ("primitives", ["chainrule.primitives", "chainrule.extend", "chainrule.numpy"]),
    ("transforms and jit", ["chainrule.engine.transforms", "chainrule.engine.remat", "chainrule.jit",
                            "chainrule.gradcheck"]),
    ("nn / optim / data", ["chainrule.nn", "chainrule.optim", "chainrule.data"]),
    ("train / saving / diagnostics", ["chainrule.train", "chainrule.saving", "chainrule.diagnostics",
                                      "chainrule.plots"]),
    # The package's __init__ re-exports the public surface (grad, nn, Trainer, ...): above
    # everything it re-exports, below everything that may import it.
    ("the chainrule package", ["chainrule"]),
    ("runs", ["chainrule.runs"]),
    # hand-offs to other tools, built on runs (a run folder) and nn; sweeps of runs on Dask
    ("export / sklearn / sweep", ["chainrule.export", "chainrule.sklearn", "chainrule.sweep"]),
    # the playground's server: a front end over runs, train, diagnostics and export (the CLI starts it)
    ("playground", ["chainrule.playground"]),
    # chainrule.__main__ is `python -m chainrule`: the CLI under another name.
    ("experiments / cli", ["chainrule.experiments", "chainrule.cli", "chainrule.__main__"]),
]

# Imports known to break the rules: none (the engine-internal cycles were removed when the
# engine branch was merged). Add an entry only with a comment that says when it goes.
KNOWN = set()


def module_files():
    """{dotted module name: path} for every module under src/chainrule."""
    out = {}
    for path in sorted((SRC / "chainrule").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports_of(name, source, is_package, modules):
    """[(imported module, line)] for every chainrule import in a module's source, wherever it is."""
    package = name.split(".") if is_package else name.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            for alias in node.names:
                sub = f"{target}.{alias.name}"  # `from pkg import submodule` imports the submodule
                found.append((sub if sub in modules else target, node.lineno))
    out = []
    for target, line in found:
        if target != "chainrule" and not target.startswith("chainrule."):
            continue
        while target not in modules and "." in target:  # `import a.b.Name`-style names: the module part
            target = target.rpartition(".")[0]
        if target != name:
            out.append((target, line))
    return out


def layer_of(name):
    best, rank = None, None
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (name == p or name.startswith(p + ".")) and (best is None or len(p) > len(best)):
                best, rank = p, i
    return rank


def unit_of(name):
    """The package a module belongs to (chainrule.nn.layers -> chainrule.nn); top-level modules stand alone."""
    return ".".join(name.split(".")[:2])


def graph():
    modules = module_files()
    return modules, {name: imports_of(name, path.read_text(), path.name == "__init__.py", modules)
                     for name, path in modules.items()}


def find_cycles(edges):
    """One cycle (as a list of nodes, first == last) per strongly connected component with a cycle,
    followed by the component's other members that are not on that cycle, if any."""
    index, low, stack, on_stack, sccs, counter = {}, {}, [], set(), [], [0]

    def connect(v):  # Tarjan's algorithm; the graphs here are ~100 nodes, so recursion is fine
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1 or v in edges.get(v, ()):
                sccs.append(set(scc))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    cycles = []
    for scc in sccs:  # a shortest path back to the start, inside the component
        start = min(scc)
        paths, seen = [[start]], {start}
        while paths:
            path = paths.pop(0)
            nxt = sorted(w for w in edges.get(path[-1], ()) if w in scc)
            if start in nxt:
                others = sorted(scc - set(path))
                cycles.append(path + [start] + ([f"(and {', '.join(others)} in the same cycle)"] if others else []))
                break
            for w in nxt:
                if w not in seen:
                    seen.add(w)
                    paths.append(path + [w])
    return cycles


def allowed(src, dst):
    return (src, dst) in KNOWN


def test_every_module_has_a_layer():
    modules, _ = graph()
    missing = [m for m in modules if layer_of(m) is None]
    assert not missing, f"modules with no layer (add them to LAYERS in {__file__}): {missing}"


def test_imports_only_go_down():
    modules, imports = graph()
    violations = []
    for name, targets in imports.items():
        for target, line in targets:
            if allowed(name, target):
                continue
            src, dst = layer_of(name), layer_of(target)
            if src is not None and dst is not None and dst > src:
                violations.append(f"  {name} (line {line}, layer '{LAYERS[src][0]}') imports {target} "
                                  f"(layer '{LAYERS[dst][0]}')")
    violations = sorted(set(violations))
    report = "\n".join(violations)
    print(f"{len(violations)} upward import(s)" + (":\n" + report if report else ""))
    assert not violations, "imports from a higher layer:\n" + report


@pytest.mark.parametrize("level", ["module", "package"])
def test_no_import_cycles(level):
    _, imports = graph()
    unit = (lambda m: m) if level == "module" else unit_of
    edges = {}
    for name, targets in imports.items():
        for target, _ in targets:
            if not allowed(name, target) and unit(name) != unit(target):
                edges.setdefault(unit(name), set()).add(unit(target))
    cycles = find_cycles(edges)
    report = "\n".join("  " + " -> ".join(c).replace(" -> (", " (") for c in cycles)
    print(f"{len(cycles)} {level} import cycle(s)" + (":\n" + report if report else ""))
    assert not cycles, f"{level} import cycles:\n{report}"


def test_known_exceptions_still_exist():
    """An allowance whose import is gone must be deleted, so it cannot hide a new cycle later."""
    _, imports = graph()
    present = {(name, target) for name, targets in imports.items() for target, _ in targets}
    stale = sorted(KNOWN - present)
    assert not stale, f"delete these entries from KNOWN in {__file__}, their imports are gone: {stale}"


def test_the_checker_sees_cycles_and_upward_imports():
    """The checks above can fail: a hand-made cycle is found, and an upward edge is ranked upward."""
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": {"c"}}) == []
    assert layer_of("chainrule.saving.model_io") < layer_of("chainrule")  # saving may not import chainrule
    assert layer_of("chainrule.diagnostics.inspect") < layer_of("chainrule.cli.run")
    assert layer_of("chainrule.engine.core") < layer_of("chainrule.numpy.tracer_methods") < layer_of("chainrule.jit.x")
    modules = {"chainrule.diagnostics.inspect", "chainrule.diagnostics.x", "chainrule.diagnostics", "chainrule.cli",
               "chainrule.cli.run", "chainrule"}
    source = "import numpy\nfrom . import x\ndef f():\n    from ..cli.run import build_model\n    from .. import cli\n"
    assert imports_of("chainrule.diagnostics.inspect", source, False, modules) == [
        ("chainrule.diagnostics.x", 2), ("chainrule.cli.run", 4), ("chainrule.cli", 5)]
    assert imports_of("chainrule.cli", "from .run import f\nfrom .. import __version__\n", True, modules) == [
        ("chainrule.cli.run", 1), ("chainrule", 2)]
