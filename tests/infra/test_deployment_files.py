"""docker-compose.yml and the Kubernetes manifests are checked by parsing and validation: no
container engine runs where the tests run."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs installed; used in tests only
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP = ("intake", "referral", "keyperson", "notify", "site", "desk", "gateway")
K8S = ROOT / "infra" / "k8s"
COMPOSE_SCHEMA = Path(__file__).resolve().parent / "schemas" / "compose-spec.json"


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def test_compose_runs_postgres_redis_the_four_services_and_the_gateway() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", *APP} <= set(services)
    for name in APP:
        svc = services[name]
        assert svc["build"]["dockerfile"] == "infra/Dockerfile"
        assert (ROOT / svc["build"]["context"] / svc["build"]["dockerfile"]).is_file()
        assert svc["command"] == ["livewell", "serve", name]
        env = svc["environment"]
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["REDIS_URL"].startswith("redis://redis")
        assert env["LIVEWELL_HEALTH_URL"].startswith("http://127.0.0.1:")


def test_only_the_gateway_is_published() -> None:
    services = compose()["services"]
    published = {name for name, svc in services.items() if svc.get("ports")}
    assert published == {"gateway"}
    assert services["gateway"]["ports"] == ["8000:8000"]


def test_every_process_has_a_health_check_and_waits_for_what_it_needs() -> None:
    services = compose()["services"]
    dockerfile = (ROOT / "infra" / "Dockerfile").read_text()
    assert "HEALTHCHECK" in dockerfile  # the app services inherit it from the image
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"]
    for name in APP:
        deps = services[name]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy"
        assert deps["migrate"]["condition"] == "service_completed_successfully"
    gateway_deps = services["gateway"]["depends_on"]
    assert all(gateway_deps[s]["condition"] == "service_healthy" for s in APP[:-1])


def compose_errors(data: dict[str, Any]) -> list[str]:
    """Where `data` breaks the Compose Specification (the schema vendored beside this test,
    see schemas/README.md): the same verdict wherever the tests run, whichever
    `docker-compose` is installed (v1 refuses the top-level `name` that v2 and the spec allow)."""
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(data)]


def test_the_compose_schema_is_a_valid_schema_that_knows_the_project_name() -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    jsonschema.validators.validator_for(schema).check_schema(schema)
    assert "name" in schema["properties"]


def test_docker_compose_yml_follows_the_compose_specification() -> None:
    assert compose_errors(compose()) == []
    assert compose()["name"] == "livewell"


@pytest.mark.parametrize(("path", "value"), [
    (("servces",), {}),
    (("services", "gateway", "commnd"), ["livewell"]),
    (("services", "gateway", "depends_on", "referral", "condition"), "service_happy"),
    (("services", "gateway", "ports"), "8000:8000"),
], ids=["top-level-typo", "service-key-typo", "bad-condition", "ports-not-a-list"])
def test_the_schema_check_catches_what_compose_would_refuse(path: tuple[str, ...],
                                                           value: Any) -> None:
    data = copy.deepcopy(compose())
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert compose_errors(data), f"{'.'.join(path)} = {value!r} was not caught"


def manifests() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


@pytest.mark.parametrize("doc", manifests(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_each_manifest_is_valid_kubernetes(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, "1.30", strict=True)


def test_every_service_has_several_replicas_probes_and_secrets_from_a_secret() -> None:
    deployments = {d["metadata"]["name"]: d for d in manifests() if d["kind"] == "Deployment"}
    assert set(deployments) == {f"livewell-{n}" for n in APP}
    for dep in deployments.values():
        assert dep["spec"]["replicas"] >= 2
        (container,) = dep["spec"]["template"]["spec"]["containers"]
        assert container["readinessProbe"]["httpGet"]["path"] in ("/readyz", "/healthz")
        secret_refs = {e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"]}
        assert secret_refs == {"livewell-secrets"}
        assert not any("value" in e for e in container["env"]), "no secret in plain text"


def test_only_the_gateway_is_exposed_outside_the_cluster() -> None:
    docs = manifests()
    services = [d for d in docs if d["kind"] == "Service"]
    assert len(services) == len(APP)
    assert all(s["spec"]["type"] == "ClusterIP" for s in services)
    (ingress,) = [d for d in docs if d["kind"] == "Ingress"]
    backends = {p["backend"]["service"]["name"] for r in ingress["spec"]["rules"]
                for p in r["http"]["paths"]}
    assert backends == {"livewell-gateway"}


def test_kustomization_lists_every_manifest_but_the_example_secret() -> None:
    kust = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert set(kust["resources"]) == files
