"""The report page's charts: pygal SVG, rendered on the server, shown inline and accessible.

Each chart is an `<svg role="img">` labelled by its `<title>` and a `<desc>` saying what it
shows, with the same numbers in a table beside it. The desk's Content-Security-Policy allows
no inline script or style, so pygal renders without its JavaScript (`js=[]`) and without an
XML declaration, with unprefixed CSS that is taken out of each SVG and served once from
`/desk/report/charts.css` (the page links it).
"""

from __future__ import annotations

import functools
import html
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import pygal  # type: ignore[import-untyped]
from pygal.style import Style  # type: ignore[import-untyped]

# pygal appends a `sys.meta_path` finder for map plugins (which the desk does not use) that
# has no `find_spec`: every later import in the process would warn. Take it out again.
sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, pygal.PluginImportFixer)]

_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.S)
_INLINE = re.compile(r'\sstyle="[^"]*"')
_SCRIPT = re.compile(r"<script[^>]*>.*?</script>", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
# NHS.UK colours, and the frutiger stack the desk's pages use.
NHS_STYLE = Style(
    background="transparent", plot_background="transparent", foreground="#212b32",
    foreground_strong="#212b32", foreground_subtle="#4c6272", opacity=".9",
    opacity_hover="1", colors=("#005eb8", "#007f3b", "#ffb81c", "#d5281b", "#330072"),
    font_family="Frutiger W01, Arial, sans-serif", title_font_size=18, label_font_size=14,
    major_label_font_size=14, value_font_size=14, legend_font_size=14)


@dataclass(frozen=True, slots=True)
class Chart:
    """One chart: its id (for the page's anchors), the SVG, and what it says in words."""

    id: str
    title: str
    description: str
    svg: str


def _config() -> dict[str, object]:
    return {"disable_xml_declaration": True, "js": [], "no_prefix": True,
            "style": NHS_STYLE, "width": 640, "height": 320, "print_values": True,
            "show_legend": False, "explicit_size": False, "truncate_label": -1}


def _accessible(chart_id: str, title: str, description: str, svg: str) -> str:
    """The SVG without its CSS (served apart), labelled by its title and description."""
    svg = _COMMENT.sub("", _SCRIPT.sub("", _STYLE.sub("", svg)))
    svg = _INLINE.sub("", svg)  # CSP refuses inline styles; the tooltip's is not needed
    svg = svg.replace('id=""', "", 1)
    head = (f'<svg role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
            f'focusable="false"')
    svg = svg.replace("<svg", head, 1)
    first = svg.index(">") + 1
    label = (f'<title id="{chart_id}-title">{html.escape(title)}</title>'
             f'<desc id="{chart_id}-desc">{html.escape(description)}</desc>')
    return svg[:first] + label + svg[first:]


def _render(chart: pygal.graph.graph.Graph, chart_id: str, title: str,
            description: str) -> Chart:
    svg = chart.render(is_unicode=True)
    return Chart(chart_id, title, description, _accessible(chart_id, title, description, svg))


def line(chart_id: str, title: str, description: str, labels: Sequence[str],
         values: Sequence[float | None]) -> Chart:
    chart = pygal.Line(**_config(), x_label_rotation=30, dots_size=4)
    chart.x_labels = list(labels)
    chart.add(title, list(values))
    return _render(chart, chart_id, title, description)


def bars(chart_id: str, title: str, description: str, labels: Sequence[str],
         series: Sequence[tuple[str, Sequence[float]]], *, horizontal: bool = False) -> Chart:
    kind = pygal.HorizontalBar if horizontal else pygal.Bar
    config = _config()
    config["show_legend"] = len(series) > 1
    chart = kind(**config, legend_at_bottom=True)
    chart.x_labels = list(labels)
    for name, values in series:
        chart.add(name, list(values))
    return _render(chart, chart_id, title, description)


_RULE = re.compile(r"([^{}]*)\{([^{}]*)\}")


def _scoped(css: str) -> str:
    """Every rule under `.pygal-chart`, so none reaches the page around the charts (pygal's
    rules for the chart's own id have an empty selector once unprefixed)."""
    out = []
    for selectors, body in _RULE.findall(css):
        scoped = [f".pygal-chart {s.strip()}" if s.strip() else ".pygal-chart"
                  for s in selectors.split(",")]
        out.append(f"{','.join(scoped)}{{{body}}}")
    return "\n".join(out)


@functools.cache
def stylesheet() -> str:
    """pygal's CSS for the desk's style, once (the same for every chart: unprefixed)."""
    chart = pygal.Bar(**_config())
    chart.add("", [1])
    found = _STYLE.findall(chart.render(is_unicode=True))
    # Without its script a tooltip would never hide again: never show it.
    return _scoped(html.unescape("".join(found))) + "\n.pygal-chart .tooltip{opacity:0}\n"
