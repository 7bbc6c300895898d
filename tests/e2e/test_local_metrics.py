"""The local stack disables metrics; powertools then keeps every value and prints them itself
once a metric holds 100. The stack drops them after each invocation, as Lambda's flush would."""

from __future__ import annotations

from types import SimpleNamespace

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from infra.local.functions import _drop_disabled_metrics


def test_disabled_metrics_are_dropped_after_each_invocation_and_never_printed(monkeypatch, capsys) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    module = SimpleNamespace(metrics=Metrics(namespace="LocalTest"))
    for _ in range(150):  # 150 invocations, one value each
        module.metrics.add_metric(name="Projection-written", unit=MetricUnit.Count, value=1)
        module.metrics.flush_metrics(raise_on_empty_metrics=True)  # what log_metrics does at the end
        _drop_disabled_metrics(module)

    assert module.metrics.metric_set == {}
    assert capsys.readouterr().out == ""
