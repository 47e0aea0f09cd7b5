"""The Helm chart, rendered by helm for every Phalanx environment and validated against the Kubernetes
schemas (kubernetes-validate)."""

from __future__ import annotations

import subprocess

import kubernetes_validate
import pytest
import yaml

from bot.config import parse_settings
from tests.conftest import EXAMPLE_CONFIG
from tests.support.helm import ENVIRONMENTS, objects, render

KUBERNETES = "1.33"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_chart_renders_for_every_environment_into_valid_kubernetes_objects(environment):
    for document in render(environment):
        if document["kind"] == "VaultSecret":  # Phalanx's operator's own kind, not in Kubernetes' schemas
            assert document["spec"]["path"] == f"secret/phalanx/{environment}/consdb-bot"
            continue
        kubernetes_validate.validate(document, KUBERNETES, strict=True)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_pod_is_probed_on_healthz_scraped_on_metrics_and_runs_as_nobody_special(environment):
    deployment = objects(environment)["Deployment"]
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert pod["metadata"]["annotations"]["prometheus.io/path"] == "/metrics"
    assert container["resources"]["limits"]["memory"]
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["envFrom"] == [{"secretRef": {"name": "consdb-bot"}}]
    stop = container["args"][container["args"].index("--stop-seconds") + 1]
    assert int(stop) < pod["spec"]["terminationGracePeriodSeconds"]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_environment_runs_one_replica_replaced_with_recreate(environment):
    spec = objects(environment)["Deployment"]["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}


@pytest.mark.parametrize("value", ["replicaCount=2", "strategy=RollingUpdate"])
def test_values_asking_for_more_replicas_or_another_strategy_fail_to_render_saying_why(value):
    with pytest.raises(subprocess.CalledProcessError) as refused:
        render("usdfprod", value)
    assert "consdb-bot runs one replica" in refused.value.stderr
    assert f"remove {value.split('=')[0]} from the values" in refused.value.stderr


def test_socket_mode_by_default_http_mode_behind_an_ingress_as_an_option():
    base = objects("base")
    assert "--socket-mode" in base["Deployment"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "Ingress" not in base

    usdfint = objects("usdfint")
    assert "--socket-mode" not in usdfint["Deployment"]["spec"]["template"]["spec"]["containers"][0]["args"]
    (rule,) = usdfint["Ingress"]["spec"]["rules"]
    assert rule["host"] == "usdfint.lsst.cloud"
    assert rule["http"]["paths"][0]["path"] == "/consdb-bot/slack/events"
    assert (
        usdfint["Ingress"]["metadata"]["annotations"]["nginx.ingress.kubernetes.io/rewrite-target"] == "/slack/events"
    )


def test_the_configuration_is_the_example_as_the_bot_loads_it_and_the_role_is_granted_in_consdbs_namespace():
    rendered = objects("summit")
    config = rendered["ConfigMap"]["data"]["consdb-bot.yaml"]
    assert yaml.safe_load(config) == yaml.safe_load(EXAMPLE_CONFIG.read_text())
    assert parse_settings(config, environ={}).environment("summit").requires_ticket
    assert rendered["Role"]["metadata"]["namespace"] == "consdb"
    assert rendered["RoleBinding"]["subjects"] == [
        {"kind": "ServiceAccount", "name": "consdb-bot", "namespace": "consdb-bot"}
    ]
    in_cluster = rendered["Deployment"]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "CONSDB_BOT_IN_CLUSTER_CONTEXT", "value": "summit"} in in_cluster


def test_the_slack_app_manifest_asks_for_what_the_bot_uses():
    manifest = yaml.safe_load((EXAMPLE_CONFIG.parent / "slack-app-manifest.yaml").read_text())
    assert [command["command"] for command in manifest["features"]["slash_commands"]] == ["/consdb"]
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_home_opened", "reaction_added", "reaction_removed"
    }  # fmt: skip
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True  # the booking buttons
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "commands", "chat:write", "files:write", "reactions:read", "usergroups:read", "users:read"
    }  # fmt: skip
    assert manifest["settings"]["socket_mode_enabled"] is True
