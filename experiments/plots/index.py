"""The figures' index.html page: every PNG with its one-line explanation."""

from __future__ import annotations

import html
from pathlib import Path

from experiments.plots.common import INDEX_NAME


def write_index(out_dir: str | Path, figures: list[tuple[Path, str]], title: str) -> Path:
    """Write ``out_dir/index.html``: every PNG with its one-line explanation (relative links,
    no external assets); return its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    items = []
    for path, caption in figures:
        p = Path(path)
        try:
            rel = p.resolve().relative_to(out.resolve()).as_posix()
        except ValueError:
            import os

            rel = Path(os.path.relpath(p.resolve(), out.resolve())).as_posix()
        src = html.escape(rel, quote=True)
        alt = html.escape(caption, quote=True)
        items.append(f'<figure id="{html.escape(p.stem, quote=True)}">\n'
                     f'  <a href="{src}"><img src="{src}" alt="{alt}"></a>\n'
                     f"  <figcaption>{html.escape(caption)}</figcaption>\n</figure>")
    toc = "\n".join(f'  <li><a href="#{html.escape(Path(p).stem, quote=True)}">'
                    f"{html.escape(Path(p).stem)}</a></li>" for p, _ in figures)
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1500px;
        padding: 0 1em; color: #222; }}
figure {{ margin: 2em 0; border-top: 1px solid #ddd; padding-top: 1em; }}
img {{ max-width: 100%; height: auto; }}
figcaption {{ color: #444; margin-top: .4em; }}
</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<ul>
{toc}
</ul>
{chr(10).join(items)}
</body>
</html>
"""
    path = out / INDEX_NAME
    path.write_text(page, encoding="utf-8")
    return path


