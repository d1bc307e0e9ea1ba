"""Experiment reports: results.json, report.md and a self-contained report.html (figures inlined)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from .sources import listing, titles


def _claims_rows(results):
    for r in results:
        for c in r["claims"]:
            yield r["name"], c


def _cell(value):
    """A Markdown table cell: a '|' inside it would end the cell (|Δ| ≤ 0.05 became two cells and
    pushed the verdict out of its column), a line break would end the row."""
    return " ".join(str(value).split()).replace("|", "\\|")


def _source(claim):
    """The claim's source by title (results written before titles: from its number)."""
    return claim.get("source") or titles(claim["seed_file"])


def _sources_line(r):
    return "Sources: " + "; ".join(listing(r.get("seeds", []))) if r.get("seeds") else ""


def _row(cells):
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def markdown(results, title="chainrule experiments"):
    lines = [f"# {title}", ""]
    n = sum(1 for _ in _claims_rows(results))
    ok = sum(1 for _, c in _claims_rows(results) if c["verdict"] == "reproduced")
    lines += [f"{ok} of {n} claims reproduced.", ""]
    for r in results:
        lines += [f"## {r['name']}: {r['title']}", "", _sources_line(r), "",
                  "| claim | source | expected | measured | tolerance | verdict |",
                  "|---|---|---|---|---|---|"]
        for c in r["claims"]:
            measured = c["measured"]
            measured = f"{measured:.4g}" if isinstance(measured, float) else measured
            lines.append(_row([c["claim"], _source(c), c["expected"], measured, c["tolerance"],
                               f"{'✅' if c['verdict'] == 'reproduced' else '❌'} {c['verdict']}"]))
        for t in r.get("tables", []):
            lines += ["", f"**{t['title']}**", "", _row(t["header"]), "|" + "---|" * len(t["header"])]
            lines += [_row(row) for row in t["rows"]]
        for note in r.get("notes", []):
            lines += ["", note]
        for fig in r["figures"]:
            lines += ["", f"![{fig}]({r.get('dir', '.')}/{fig})"]
        lines.append("")
    return "\n".join(lines)


def html_page(results, base_dir, title="chainrule experiments"):
    """One HTML file with every figure embedded as base64, readable offline."""
    e = html.escape
    parts = [f"<!doctype html><meta charset='utf-8'><title>{e(title)}</title>",
             "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;"
             "font-size:14px}.ok{color:#070}.bad{color:#b00;font-weight:bold}img{max-width:100%}</style>",
             f"<h1>{e(title)}</h1>"]
    n = sum(1 for _ in _claims_rows(results))
    ok = sum(1 for _, c in _claims_rows(results) if c["verdict"] == "reproduced")
    parts.append(f"<p>{ok} of {n} claims reproduced.</p>")
    for r in results:
        parts.append(f"<h2>{e(r['name'])}: {e(r['title'])}</h2><p>{e(_sources_line(r))}</p>"
                     "<table><tr><th>claim</th><th>source</th>"
                     "<th>expected</th><th>measured</th><th>tolerance</th><th>verdict</th></tr>")
        for c in r["claims"]:
            m = c["measured"]
            m = f"{m:.4g}" if isinstance(m, float) else str(m)
            cls = "ok" if c["verdict"] == "reproduced" else "bad"
            parts.append(f"<tr><td>{e(c['claim'])}</td><td>{e(_source(c))}</td><td>{e(str(c['expected']))}</td>"
                         f"<td>{e(m)}</td><td>{e(c['tolerance'])}</td><td class='{cls}'>{e(c['verdict'])}</td></tr>")
        parts.append("</table>")
        for t in r.get("tables", []):
            parts.append(f"<p><b>{e(t['title'])}</b></p><table><tr>"
                         + "".join(f"<th>{e(h)}</th>" for h in t["header"]) + "</tr>")
            parts += ["<tr>" + "".join(f"<td>{e(v)}</td>" for v in row) + "</tr>" for row in t["rows"]]
            parts.append("</table>")
        for note in r.get("notes", []):
            parts.append(f"<p>{e(note)}</p>")
        for fig in r["figures"]:
            path = Path(base_dir) / r.get("dir", ".") / fig
            if path.is_file():
                data = base64.b64encode(path.read_bytes()).decode()
                parts.append(f"<p><img alt='{e(fig)}' src='data:image/png;base64,{data}'></p>")
    return "\n".join(parts)


def write_reports(results, out_dir, title="chainrule experiments"):
    out_dir = Path(out_dir)
    from ..saving.atomic import atomic_write_bytes, atomic_write_json

    atomic_write_json(out_dir / "results.json", {"experiments": results})
    atomic_write_bytes(out_dir / "report.md", markdown(results, title).encode())
    atomic_write_bytes(out_dir / "report.html", html_page(results, out_dir, title).encode())
