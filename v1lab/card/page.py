"""The card's page, ``card.html``: one self-contained HTML page, in the run report's style.

Like :mod:`v1lab.report`'s page it opens from disk with no server and no scripts: the
figures are embedded as ``data:`` URIs, the tables are plain HTML. It shows the scores
beside AlexNet's, the checks the model work is judged by, a figure per property, the
bands and the time each battery part took, and every source with where its numbers
were read.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from v1lab._version import __version__

__all__ = ["render_card_page"]

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 1.6em; }
table { border-collapse: collapse; font-size: 0.85em; }
td, th { border: 1px solid #ddd; padding: 3px 7px; text-align: right; }
th { background: #f3f3f3; } td.l, th.l { text-align: left; }
.figs { display: flex; flex-wrap: wrap; gap: 1em; }
.figs img { width: 520px; max-width: 100%; border: 1px solid #eee; }
.sub, .note { color: #555; } .note { font-size: 0.9em; }
"""


def _num(value: Any, digits: int = 3) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return html.escape(str(value))


def _score_table(card: Any) -> str:
    head = (
        "<tr><th class='l'>property</th><th>model n</th><th>with a value</th>"
        "<th>model median</th><th>data n</th><th>KS similarity</th><th>ceiling</th>"
        "<th>score</th><th>AlexNet</th><th class='l'>source</th></tr>"
    )
    body = []
    for r in card.rows:
        body.append(
            f"<tr><td class='l'>{html.escape(r['property'])}</td><td>{r['model_n']}</td>"
            f"<td>{r['model_finite']}</td><td>{_num(r['model_median'])}</td>"
            f"<td>{_num(r['data_n'])}</td><td>{_num(r['ks_similarity'])}</td>"
            f"<td>{_num(r['ceiling'])}</td><td><b>{_num(r['score'])}</b></td>"
            f"<td>{_num(r['alexnet'])}</td><td class='l'>{html.escape(r['source'])}</td></tr>"
        )
    scored = [r for r in card.rows if r["scored"]]
    if scored:
        alex = [r["alexnet"] for r in scored]
        body.append(
            f"<tr><td class='l'><b>mean of {len(scored)} scored</b></td><td colspan='6'></td>"
            f"<td><b>{_num(card.mean_score)}</b></td><td>{_num(sum(alex) / len(alex))}</td>"
            "<td></td></tr>"
        )
    return f"<table>{head}{''.join(body)}</table>"


def _checks_table(card: Any) -> str:
    rows = "".join(
        f"<tr><td class='l'>{html.escape(name)}</td><td>{_num(value)}</td>"
        f"<td class='l'>{html.escape(target)}</td></tr>"
        for name, value, target in card.checks
    )
    head = "<tr><th class='l'>check</th><th>measured</th><th class='l'>target or source</th></tr>"
    return f"<table>{head}{rows}</table>"


def _timing_table(card: Any) -> str:
    rows = "".join(
        f"<tr><td class='l'>{html.escape(part)}</td><td>{seconds:.1f}</td></tr>"
        for part, seconds in card.seconds.items()
    )
    bands = "".join(
        f"<tr><td>×{k:g}</td><td>{f_ref:.3g}</td><td>{n}</td></tr>" for k, f_ref, n in card.bands
    )
    return (
        f"<table><tr><th class='l'>battery part</th><th>seconds</th></tr>{rows}</table>"
        "<p>Bands (retina scaled by the factor; reference frequency in c/deg):</p>"
        f"<table><tr><th>factor</th><th>f_ref</th><th>cells</th></tr>{bands}</table>"
    )


def _sources(card: Any) -> str:
    items = "".join(
        f"<li><b>{html.escape(r['property'])}</b>: {html.escape(r['source'])} — "
        f"<span class='note'>{html.escape(r['where'])}</span></li>"
        for r in card.rows
    )
    return f"<ul>{items}</ul>"


def render_card_page(card: Any, figures: Mapping[str, bytes]) -> str:
    """The page as text.

    Parameters
    ----------
    card : Card
        From :func:`v1lab.card.scores.compute_card`.
    figures : mapping of property name to PNG bytes
        Embedded in the order given.
    """
    title = f"v1lab population card — {card.species}, {len(card.cells['band_factor'])} cells"
    imgs = "".join(
        f"<figure><img alt='{html.escape(name)}' src='data:image/png;base64,"
        f"{base64.b64encode(png).decode('ascii')}'></figure>"
        for name, png in figures.items()
    )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    total_s = card.seconds.get("total", math.nan)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_STYLE}</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="sub">seed {card.seed} · v1lab {html.escape(__version__)} · {stamp} ·
battery {total_s:.0f} s</p>
<h2>Scores</h2>
<p class="note">KS similarity: 1 − KS / KS_max on the paper's bins, the model's responsive
cells resampled to the paper's n 1000 times (Marques, Schrimpf &amp; DiCarlo 2021);
ceiling: the data resampled against itself; score = KS similarity / ceiling, as Brain-Score
reports it and as AlexNet's published values are. Properties without published counts are
measured and shown, not scored.</p>
{_score_table(card)}
<h2>Checks</h2>
{_checks_table(card)}
<h2>Model over data</h2>
<div class="figs">{imgs}</div>
<h2>Battery</h2>
{_timing_table(card)}
<h2>Sources</h2>
{_sources(card)}
</body></html>
"""
