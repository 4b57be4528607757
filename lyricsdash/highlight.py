"""Lyrics as HTML with each word shaded by its contribution (an ``Explanation``): blue for, orange against.

Light shades under black text stay legible on screen and in print; each word's value is in its tooltip, and
its sign is also in the underline (solid: for, dotted: against), which survives a grey-scale printer.
"""

from __future__ import annotations

import html

from .explain import Explanation

FOR, AGAINST = (33, 102, 172), (230, 97, 1)  # ColorBrewer RdBu blue, PuOr orange: distinct for colour blindness


def _style(value: float, scale: float) -> str:
    rgb = FOR if value > 0 else AGAINST
    alpha = min(1.0, abs(value) / scale) * 0.6 if scale > 0 else 0.0
    line = "solid" if value > 0 else "dotted"
    return (f"background: rgba({rgb[0]}, {rgb[1]}, {rgb[2]}, {alpha:.2f}); border-bottom: 2px {line} "
            f"rgb{rgb}; border-radius: 2px" if alpha >= 0.03 else "")


def lyrics_html(e: Explanation) -> str:
    """The explained text's lines with the tokens the model read shaded (the explanation says where each lies:
    nothing is tokenized here); the text past the last word read (max_len) is left out with a note (a 200 KB
    paste made a 200,000-pixel page)."""
    norm, spans = e.text, e.spans
    if spans is None:  # fall back to the words alone
        norm, spans = " ".join(e.words), []
        for w in e.words:
            start = spans[-1][1] + 1 if spans else 0
            spans.append((start, start + len(w)))
    scale = float(abs(e.contributions).max()) if len(e.contributions) else 0.0
    read = spans[: len(e.contributions)]
    end = spans[len(read)][0] if len(spans) > len(read) else len(norm)  # the text after the last word read: cut
    out, pos = [], 0
    for (a, b), c in zip(read, e.contributions, strict=False):
        out.append(html.escape(norm[pos:a]))
        out.append(f'<span style="{_style(float(c), scale)}" title="{float(c):+.3f}">{html.escape(norm[a:b])}</span>')
        pos = b
    out.append(html.escape(norm[pos:end]))
    if end < len(norm):
        out.append(f"\n… and {len(norm) - end:,} more characters the model does not read (it reads the first "
                   f"{len(read):,} words).")
    body = "".join(out).strip().replace("\n", "<br>")
    return f'<div style="line-height: 1.9; font-size: 1rem; color: #111">{body}</div>'


def legend_html(artist: str, against: str | None) -> str:
    other = against or "the other artists"
    return (f'<span style="{_style(1, 1)}">&nbsp;for {html.escape(artist)}&nbsp;</span> &nbsp; '
            f'<span style="{_style(-1, 1)}">&nbsp;for {html.escape(other)}&nbsp;</span> &nbsp; '
            "darker = stronger; hover a word for its value (nats)")
