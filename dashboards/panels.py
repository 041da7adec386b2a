"""Panels by type, with the options toir's dashboards share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypedDict, Unpack

from dashboards.grafana import JSON, Panel, Query

Draw = Literal["line", "points", "bars"]


class Chrome(TypedDict, total=False):
    """What every panel may set besides its data: size on the grid and a description."""

    width: int
    height: int
    description: str


LEGEND: JSON = {"displayMode": "list", "placement": "bottom", "showLegend": True, "calcs": []}
TOOLTIP: JSON = {"mode": "multi", "sort": "desc"}
# Marker colours by status, for vehicles (movement) and engineers (their ticket work).
STATUS_COLORS = {
    "moving": "green",
    "parked": "blue",
    "offline": "red",
    "available": "green",
    "en_route": "orange",
    "on_site": "purple",
    "off": "text",
}
PRIORITY_COLORS = {"low": "blue", "normal": "green", "high": "orange", "critical": "red"}


def timeseries(
    title: str,
    queries: Sequence[Query],
    *,
    unit: str = "short",
    draw: Draw = "line",
    stacked: bool = False,
    **chrome: Unpack[Chrome],
) -> Panel:
    """A time series: every query returns `time` first, then values (long or wide)."""
    custom = {
        "drawStyle": draw,
        "lineWidth": 1,
        "fillOpacity": 80 if draw == "bars" else 20 if stacked else 0,
        "pointSize": 6 if draw == "points" else 4,
        "showPoints": "always" if draw == "points" else "auto",
        "spanNulls": False,
        "stacking": {"mode": "normal" if stacked else "none", "group": "A"},
    }
    return Panel(
        "timeseries",
        title,
        queries,
        options={"legend": LEGEND, "tooltip": TOOLTIP},
        defaults={"unit": unit, "custom": custom},
        **chrome,
    )


def stat(
    title: str,
    queries: Sequence[Query],
    *,
    unit: str = "short",
    thresholds: JSON | None = None,
    **chrome: Unpack[Chrome],
) -> Panel:
    options = {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "colorMode": "value",
        "graphMode": "none",
        "justifyMode": "auto",
        "orientation": "auto",
        "textMode": "auto",
    }
    defaults: JSON = {"unit": unit, "thresholds": thresholds or steps(("green", None))}
    return Panel("stat", title, queries, options=options, defaults=defaults, **chrome)


def table(
    title: str,
    queries: Sequence[Query],
    *,
    overrides: Sequence[JSON] = (),
    **chrome: Unpack[Chrome],
) -> Panel:
    """A table in the order the query sorts it."""
    options = {"showHeader": True, "cellHeight": "sm", "footer": {"show": False}}
    return Panel(
        "table",
        title,
        queries,
        options=options,
        defaults={"custom": {"align": "auto"}},
        overrides=overrides,
        **chrome,
    )


def barchart(
    title: str,
    queries: Sequence[Query],
    *,
    unit: str = "short",
    stacked: bool = False,
    horizontal: bool = True,
    **chrome: Unpack[Chrome],
) -> Panel:
    """Bars for rows: the first text column labels them, each number column is a series."""
    options = {
        "orientation": "horizontal" if horizontal else "vertical",
        "stacking": "normal" if stacked else "none",
        "showValue": "auto",
        "groupWidth": 0.7,
        "barWidth": 0.9,
        "legend": LEGEND,
        "tooltip": TOOLTIP,
    }
    return Panel("barchart", title, queries, options=options, defaults={"unit": unit}, **chrome)


def geomap(
    title: str,
    queries: Sequence[Query],
    layers: Sequence[JSON],
    *,
    overrides: Sequence[JSON] = (),
    **chrome: Unpack[Chrome],
) -> Panel:
    """A map that fits its data; every query returns `latitude` and `longitude`."""
    options = {
        "view": {"id": "fit", "lat": 55.75, "lon": 37.62, "zoom": 10, "allLayers": True},
        "controls": {"showZoom": True, "mouseWheelZoom": True, "showAttribution": True},
        "basemap": {"type": "default", "name": "Basemap", "config": {}},
        "layers": list(layers),
        "tooltip": {"mode": "details"},
    }
    return Panel("geomap", title, queries, options=options, overrides=overrides, **chrome)


def markers(
    name: str,
    ref_id: str,
    *,
    color_field: str | None = None,
    color: str = "blue",
    size_field: str | None = None,
    size: int = 6,
) -> JSON:
    """A marker layer of one query's rows, coloured and sized by fields if given."""
    size_style: JSON = {"fixed": size, "min": 5, "max": 18}
    if size_field:
        size_style["field"] = size_field
    color_style: JSON = {"fixed": color}
    if color_field:
        color_style["field"] = color_field
    return {
        "type": "markers",
        "name": name,
        "config": {
            "showLegend": True,
            "style": {
                "color": color_style,
                "size": size_style,
                "opacity": 0.8,
                "symbol": {"mode": "fixed", "fixed": "img/icons/marker/circle.svg"},
            },
        },
        "location": {"mode": "coords", "latitude": "latitude", "longitude": "longitude"},
        "filterData": {"id": "byRefId", "options": ref_id},
        "tooltip": True,
    }


def steps(*colored: tuple[str, float | None]) -> JSON:
    """Absolute thresholds: (colour, from value), the first from -infinity (None)."""
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for c, v in colored]}
