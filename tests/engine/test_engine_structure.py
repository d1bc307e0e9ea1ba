"""The engine's structure: imports only go down, no jit hooks below jit, one rule protocol.

These are checks of the code itself (its imports and attributes), each of which fails on the
structure this rebuild removed (tests name what they would catch).
"""

import ast
import pathlib
import subprocess
import sys

import chainrule
from chainrule.engine import core

SRC = pathlib.Path(chainrule.__file__).parent

# package -> the chainrule packages it may import (besides itself): each layer only looks down.
# (chainrule.constraints, the declared argument checks, sits beside errors at the bottom.)
ALLOWED = {
    "engine": {"errors", "constraints"},
    "extend": {"engine"},
    "primitives": {"engine", "errors", "extend"},
    "numpy": {"engine", "primitives"},
    "jit": {"engine", "errors", "primitives"},
    "gradcheck": {"engine", "errors", "constraints"},
}


def _imports(path):
    """Every chainrule module a file imports, including imports inside functions."""
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    package = parts[:-1]  # the package a relative import starts from (for __init__.py, its own)
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if not node.level:
                yield node.module or ""
                continue
            base = ".".join(package[: len(package) - node.level + 1])
            if node.module:
                yield f"{base}.{node.module}"
            else:  # from .. import numpy: the names are modules
                yield from (f"{base}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names)


def _top(module):
    parts = module.split(".")
    return parts[1] if parts[0] == "chainrule" and len(parts) > 1 else None


def test_each_engine_layer_imports_only_the_layers_below_it():
    bad = []
    for top, allowed in ALLOWED.items():
        files = [SRC / f"{top}.py"] if (SRC / f"{top}.py").exists() else sorted((SRC / top).rglob("*.py"))
        for path in files:
            for module in _imports(path):
                if module.split(".")[0] != "chainrule":
                    continue
                target = _top(module)
                if target is None or (target != top and target not in allowed):
                    bad.append(f"{path.relative_to(SRC)} imports {module}")
    assert bad == []


def test_import_chainrule_does_not_import_scipy():
    code = "import sys, chainrule; print(any(m == 'scipy' or m.startswith('scipy.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_no_jit_hooks_below_jit():
    prim = core.Primitive("p", lambda x: x)
    for name in ("inline", "vjps", "jvps", "vjp_all"):
        assert not hasattr(prim, name)
    assert not hasattr(core.Trace, "stages") and not hasattr(core, "IndexingPrimitive")
    assert not hasattr(core, "unwrap")
    for path in [*sorted((SRC / "engine").rglob("*.py")), *sorted((SRC / "primitives").rglob("*.py"))]:
        text = path.read_text()
        for word in ("Staged", "StagingTrace", ".inline", ".stages", "IndexingPrimitive"):
            assert word not in text, f"{path.name} mentions {word}"


def test_one_vjp_call_site_in_the_sweep():
    text = (SRC / "engine" / "reverse.py").read_text()
    assert text.count(".vjp(") == 1


def test_rules_are_registered_through_the_extension_api_only():
    # a rule set by assigning to a primitive's attribute bypasses chainrule.extend
    for path in [*sorted((SRC / "engine").rglob("*.py")), *sorted((SRC / "primitives").rglob("*.py"))]:
        if path.name == "rules.py" or path.name == "core.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    attr = target.attr if isinstance(target, ast.Attribute) else (
                        target.value.attr if isinstance(target, ast.Subscript)
                        and isinstance(target.value, ast.Attribute) else None)
                    assert attr not in ("vjp", "jvp", "vjps", "jvps", "vjp_all"), f"{path.name}:{node.lineno}"


def test_the_protocol_and_its_sugar_on_user_primitives():
    import numpy as np

    import chainrule.numpy as cnp
    from chainrule.extend import defjvp_argnum, defjvp_argnums, defvjp_argnum, defvjp_argnums, primitive

    # variadic: total(*xs) = Σ_k k·x_k, one rule for every argument number
    total = primitive("weighted_total", lambda *xs: sum(k * x for k, x in enumerate(xs, 1)))
    defvjp_argnum(total, lambda i, g, ans, *xs: g * (i + 1))
    defjvp_argnum(total, lambda i, x_dot, ans, *xs: x_dot * (i + 1))
    xs = tuple(np.random.default_rng(k).standard_normal(3) for k in range(4))
    chainrule.check_grads(lambda *xs: total(*xs) ** 2, xs, order=2)

    # the protocol itself: the rule is asked only for the arguments being differentiated
    asked = []
    prod = primitive("prod2", lambda x, y: x * y)

    def vjp(argnums, g, ans, args, params):
        x, y = args
        asked.append(argnums)
        return [g * y if i == 0 else g * x for i in argnums]

    defvjp_argnums(prod, vjp)
    defjvp_argnums(prod, lambda argnums, tangents, ans, args, params: sum(
        t * args[1] if i == 0 else args[0] * t for i, t in zip(argnums, tangents)))
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    g = chainrule.grad(lambda y: cnp.sum(prod(x, y)))(y)
    np.testing.assert_array_equal(g, x)
    assert asked == [(1,)]
    chainrule.check_grads(lambda x, y: prod(x, y) ** 2, (x, y), order=2)
