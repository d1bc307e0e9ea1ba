"""The configuration reference (docs/config.md), written from the one schema so it cannot drift.

    python -m chainrule.runs.reference > docs/config.md
"""

from __future__ import annotations

from .schema import SECTIONS, UNSET, _toml


def _type_name(t):
    return t.__name__ if isinstance(t, type) else " or ".join(x.__name__ for x in t)


def _cell(text):
    return str(text).replace("|", "\\|")


def markdown():
    """Every key of every section: its type, default, allowed values and meaning, as Markdown."""
    lines = ["# Configuration reference", "",
             "A run is described by a TOML file (`chainrule train CONFIG.toml`, `chainrule inspect CONFIG.toml`) or",
             "the same keys as a dict (`chainrule.runs.build(cfg)`). Every key is optional; a missing key takes",
             "its default. Unknown keys are errors that name the closest valid key. Ready-made configs are in",
             "`examples/`. This page is generated from `chainrule/runs/schema.py`",
             "(`python -m chainrule.runs.reference > docs/config.md`); a test checks that it is current.", ""]
    for section in SECTIONS:
        title = f"`[{section.name}]`" if section.name else "Top level"
        lines += [f"## {title}" + (f" — {section.doc}" if section.doc else ""), ""]
        lines += ["| key | type | default | meaning |", "|---|---|---|---|"]
        for f in section.fields:
            default = "(none)" if f.default in (None, UNSET) else f"`{_toml(f.default)}`"
            meaning = f.doc
            if f.choices:
                meaning += "; one of " + ", ".join(f"`{c}`" for c in f.choices)
            elif f.says:
                meaning += f"; must {f.says}"
            lines.append(f"| `{f.name}` | {_type_name(f.type)} | {_cell(default)} | {_cell(meaning)} |")
        if section.extra_doc:
            lines += ["", f"Other keys: {section.extra_doc}."]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(), end="")
