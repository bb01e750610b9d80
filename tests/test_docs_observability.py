"""docs/grafana-dashboard.json and docs/alerts.yml: importable, and every query names a metric
the bot really exports (read from bot.app.metrics, not from a list kept here)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from bot.app.metrics import Metrics, read_live_facts

DOCS = Path(__file__).resolve().parents[1] / "docs"
DASHBOARD = DOCS / "grafana-dashboard.json"
ALERTS = DOCS / "alerts.yml"

#: The sample names Prometheus stores for each family type.
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "gauge": ("",),
}
_PROMQL_WORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"}
    | {"and", "or", "unless", "inf", "nan"}
)
_IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


class _Store:
    def count_watches(self) -> int:
        return 0


class _Redis:
    def status(self) -> str:
        return "ok"


class _Shared:
    redis = _Redis()


def exported_names() -> set[str]:
    """Every sample name a scrape of the bot can carry, Redis and watches included."""
    metrics = Metrics()
    read_live_facts(metrics, _Store(), _Shared())  # type: ignore[arg-type]
    text, _ = metrics.exposition()
    names = set()
    for family in text_string_to_metric_families(text.decode()):
        names.update(family.name + suffix for suffix in _SUFFIXES[family.type])
    return names


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: identifiers outside strings, label
    matchers, ranges and grouping clauses that are not functions, keywords or numbers."""
    bare = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)
    bare = re.sub(r"\{[^}]*\}", " ", bare)
    bare = re.sub(r"\[[^\]]*\]", " ", bare)
    bare = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", bare)
    names = set()
    for found in _IDENTIFIER.finditer(bare):
        name = found.group()
        rest = bare[found.end() :].lstrip()
        if rest.startswith("(") or name.lower() in _PROMQL_WORDS:
            continue
        if found.start() > 0 and (
            bare[found.start() - 1].isdigit() or bare[found.start() - 1] == "."
        ):
            continue  # the exponent of 1e-9 and the like
        names.add(name)
    return names


def load_dashboard() -> dict[str, Any]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert isinstance(dashboard, dict)
    return dashboard


def load_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    assert isinstance(document, dict) and set(document) == {"groups"}, document
    rules = []
    for group in document["groups"]:
        assert isinstance(group.get("name"), str) and group["name"]
        assert isinstance(group.get("rules"), list) and group["rules"]
        rules.extend(group["rules"])
    return rules


def query_panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    panels = []
    for panel in dashboard["panels"]:
        panels.extend([panel, *panel.get("panels", [])])  # a collapsed row holds its own
    return [p for p in panels if p.get("type") != "row"]


def test_the_metric_name_reader_sees_what_a_query_selects() -> None:
    assert metric_names(
        'histogram_quantile(0.95, sum by (le, door) (rate(foo_bucket{door="x", a=~"$a"}[5m])))'
        " / on (job) group_left bar > 1e-9 and baz offset 5m"
    ) == {"foo_bucket", "bar", "baz"}
    assert metric_names('sum(rate(x_total{outcome!~"ok|by(z)"}[$__rate_interval]))') == {"x_total"}


def test_the_exported_names_come_from_the_bot() -> None:
    names = exported_names()
    assert {
        "esign_flow_lookups_total",
        "esign_flow_esign_request_seconds_bucket",
        "esign_flow_watches_active",
        "esign_flow_redis_up",
        "esign_flow_esign_breaker_open",
    } <= names
    assert "esign_flow_lookups" not in names  # a counter is stored with _total


def test_the_dashboard_has_what_grafana_needs_to_import_it() -> None:
    dashboard = load_dashboard()
    assert dashboard["title"]
    assert dashboard["uid"] and len(dashboard["uid"]) <= 40
    assert isinstance(dashboard["schemaVersion"], int) and dashboard["schemaVersion"] >= 36
    assert [i["name"] for i in dashboard["__inputs"]] == ["DS_PROMETHEUS"]
    assert dashboard["__inputs"][0]["pluginId"] == "prometheus"
    ids = [panel["id"] for panel in dashboard["panels"]]
    ids += [inner["id"] for panel in dashboard["panels"] for inner in panel.get("panels", [])]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert {"h", "w", "x", "y"} <= set(grid), panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
    panels = query_panels(dashboard)
    assert len(panels) >= 12
    for panel in panels:
        assert panel["title"] and panel["type"] in {"timeseries", "stat", "gauge", "table"}
        assert panel["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
        assert panel["targets"], panel["title"]
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]
            assert target["datasource"] == panel["datasource"]
    for variable in dashboard["templating"]["list"]:
        assert variable["name"] and variable["datasource"] == {
            "type": "prometheus",
            "uid": "${DS_PROMETHEUS}",
        }


def test_every_family_the_bot_exports_has_a_panel() -> None:
    shown = set()
    for panel in query_panels(load_dashboard()):
        for target in panel["targets"]:
            shown |= metric_names(target["expr"])
    families = {re.sub(r"_(total|bucket)$", "", name) for name in shown}
    exported = {re.sub(r"_(total|bucket|sum|count|created)$", "", n) for n in exported_names()}
    assert exported - families == set(), "families without a panel"


def _dashboard_queries() -> list[tuple[str, str]]:
    return [
        (panel["title"], target["expr"])
        for panel in query_panels(load_dashboard())
        for target in panel["targets"]
    ] + [
        # label_values(<selector>, <label>): the label is no metric.
        (variable["name"], re.sub(r",\s*\w+\)\s*$", ")", variable["definition"]))
        for variable in load_dashboard()["templating"]["list"]
    ]


@pytest.mark.parametrize(("title", "expr"), _dashboard_queries())
def test_every_dashboard_query_names_an_exported_family(title: str, expr: str) -> None:
    names = metric_names(expr)
    assert names, f"{title}: no metric in {expr!r}"
    assert names <= exported_names(), f"{title}: {names - exported_names()} not exported"


def test_the_alert_rules_have_prometheus_rules_shape() -> None:
    rules = load_rules()
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names))
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
        assert isinstance(rule["expr"], str) and rule["expr"].strip()
        if "for" in rule:
            assert re.fullmatch(r"(\d+[smhdwy])+", rule["for"]), rule["alert"]
        assert rule["annotations"]["summary"]
        assert rule["expr"].count("(") == rule["expr"].count(")"), rule["alert"]
    exprs = " ".join(rule["expr"] for rule in rules)
    for wanted in ("esign_flow_esign_breaker_open", "esign_flow_redis_up", "0.95", "gave_up"):
        assert wanted in exprs


@pytest.mark.parametrize("rule", load_rules(), ids=lambda rule: str(rule["alert"]))
def test_every_alert_names_an_exported_family(rule: dict[str, Any]) -> None:
    names = metric_names(rule["expr"])
    assert names, rule["alert"]
    assert names <= exported_names(), f"{rule['alert']}: {names - exported_names()} not exported"


def test_a_misspelt_family_is_caught() -> None:
    """The check above bites: a panel naming a family the bot does not export fails it."""
    dashboard = load_dashboard()
    panel = query_panels(dashboard)[0]
    expr = panel["targets"][0]["expr"].replace(
        "esign_flow_lookups_total", "esign_flow_lookup_total"
    )
    with pytest.raises(AssertionError, match="not exported"):
        test_every_dashboard_query_names_an_exported_family(panel["title"], expr)
