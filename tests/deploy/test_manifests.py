"""deploy/ checked here, without a cluster or a container engine: YAML lint, every core Kubernetes object
against the Kubernetes JSON schemas (kubernetes-validate), the compose file against the Compose
specification (compose-spec), and what the schemas cannot know: probes, resources, secrets by reference,
one KEDA trigger per durable consumer the code declares."""

import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from compose_spec import PyOptions
from yamllint import linter
from yamllint.config import YamlLintConfig

from palabre.registry import SERVICE_NAMES as SERVICES
from palabre.registry import SERVICES as ENTRIES

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SERVICES_DIR = DEPLOY.parent / "services"
KUBERNETES_VERSION = "1.31"


def documents() -> list[tuple[str, dict]]:
    found = []
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        found += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def test_every_yaml_file_passes_yamllint():
    config = YamlLintConfig(file=str(DEPLOY / ".yamllint.yaml"))
    problems = [f"{path.relative_to(DEPLOY)}:{p.line}: {p.message}"
                for path in sorted(DEPLOY.rglob("*.yaml"))
                for p in linter.run(path.read_text(), config) if p.level == "error"]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name,doc", [d for d in documents() if "." not in d[1]["apiVersion"].split("/")[0]
                                      or d[1]["apiVersion"].startswith(("apps/", "policy/", "networking.k8s.io/"))],
                         ids=lambda value: value if isinstance(value, str) else value["kind"])
def test_core_objects_match_the_kubernetes_schemas(name, doc):
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


CONSUMING = [entry.name for entry in ENTRIES if not entry.background]
BACKGROUND = [entry.name for entry in ENTRIES if entry.background]


def test_each_service_is_deployed_with_probes_resources_and_secrets_by_reference():
    deployments = {doc["metadata"]["name"]: doc for _, doc in documents() if doc["kind"] == "Deployment"}
    assert set(deployments) == {f"palabre-{name}" for name in SERVICES}
    for name, deployment in deployments.items():
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert container["resources"]["requests"]["cpu"] and container["resources"]["limits"]["memory"], name
        env = {item["name"]: item for item in container["env"]}
        for secret in ("PALABRE_NATS_URL", "PALABRE_DATABASE_URL", "PALABRE_ADMIN_KEY", "PALABRE_SECRET_KEY"):
            assert "secretKeyRef" in env[secret]["valueFrom"], f"{name}: {secret} must come from a Secret"
        assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_a_background_worker_runs_once_with_its_cpu_capped():
    """One replica is enough (an advisory lock lets one recompute at a time); the CPU limit is what keeps it
    from taking the cores the pipeline needs, as a lower priority does on one machine."""
    deployments = {doc["metadata"]["name"]: doc for _, doc in documents() if doc["kind"] == "Deployment"}
    for name in BACKGROUND:
        deployment = deployments[f"palabre-{name}"]
        assert deployment["spec"]["replicas"] == 1, name
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        assert container["args"][:2] == ["serve", name]
        assert container["resources"]["limits"]["cpu"], name


def durable_consumers_in_code() -> set[str]:
    source = "\n".join(path.read_text() for path in SERVICES_DIR.rglob("*.py"))
    names = set(re.findall(r'"((?:intake|moderation|synthesis|notifications)-[a-z-]+)"', source))
    names |= {f"intake-{kind}" for kind in ("published", "rejected", "held")}  # built from the event names
    return names


def test_keda_scales_every_service_on_its_own_durable_consumers():
    scaled = {doc["spec"]["scaleTargetRef"]["name"]: doc for _, doc in documents() if doc["kind"] == "ScaledObject"}
    assert set(scaled) == {f"palabre-{name}" for name in CONSUMING}
    known = durable_consumers_in_code()
    for target, scaled_object in scaled.items():
        service = target.removeprefix("palabre-")
        for trigger in scaled_object["spec"]["triggers"]:
            metadata = trigger["metadata"]
            assert trigger["type"] == "nats-jetstream"
            assert metadata["consumer"].startswith(service + "-"), (target, metadata["consumer"])
            assert metadata["consumer"] in known, f"{metadata['consumer']} is no durable consumer of the code"
            assert metadata["stream"] in ("PALABRE_EVENTS", "PALABRE_INTAKE")
            assert int(metadata["lagThreshold"]) > 0
    consumers = {t["metadata"]["consumer"] for d in scaled.values() for t in d["spec"]["triggers"]}
    for essential in ("moderation-submitted", "synthesis-published", "notifications-published", "intake-published"):
        assert essential in consumers


def test_postgres_is_a_replicated_cloudnativepg_cluster_and_nats_a_three_node_jetstream_cluster():
    [cluster] = [doc for _, doc in documents() if doc["kind"] == "Cluster"]
    assert cluster["apiVersion"].startswith("postgresql.cnpg.io/") and cluster["spec"]["instances"] >= 3
    values = yaml.safe_load((DEPLOY / "nats" / "values.yaml").read_text())
    assert values["config"]["cluster"] == {"enabled": True, "replicas": 3}
    assert values["config"]["jetstream"]["fileStore"]["enabled"] is True
    config = yaml.safe_load((DEPLOY / "kubernetes" / "config.yaml").read_text())
    assert config["data"]["PALABRE_STREAM_REPLICAS"] == "3"


def test_the_compose_file_follows_the_compose_specification():
    compose = PyOptions(apply_merge=True).from_yaml((DEPLOY / "compose" / "compose.yaml").read_text())
    compose.validate()
    assert set(SERVICES) <= set(compose.service_names())


def test_the_compose_validator_refuses_a_broken_file():
    text = (DEPLOY / "compose" / "compose.yaml").read_text().replace("service_healthy", "service_happy", 1)
    with pytest.raises(ValueError):
        PyOptions(apply_merge=True).from_yaml(text).validate()
