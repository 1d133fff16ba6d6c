"""docker-compose.yml and the Kubernetes manifests are checked by parsing and validation: no
container engine runs where the tests run."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP = ("intake", "referral", "keyperson", "notify", "gateway")
K8S = ROOT / "infra" / "k8s"


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


@pytest.mark.skipif(not (shutil.which("docker-compose")), reason="docker-compose not installed; "
                    "the structural checks above still ran")
def test_docker_compose_config_accepts_the_file() -> None:
    env = {"POSTGRES_PASSWORD": "x", "PUBLIC_BASE_URL": "https://x", "EMAIL_INBOUND_SECRET": "x",
           "LIVEWELL_INTERNAL_TOKEN": "x", "PATH": "/usr/bin:/bin"}
    subprocess.run(["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
                   check=True, env=env, timeout=60)


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
    assert len(services) == 5
    assert all(s["spec"]["type"] == "ClusterIP" for s in services)
    (ingress,) = [d for d in docs if d["kind"] == "Ingress"]
    backends = {p["backend"]["service"]["name"] for r in ingress["spec"]["rules"]
                for p in r["http"]["paths"]}
    assert backends == {"livewell-gateway"}


def test_kustomization_lists_every_manifest_but_the_example_secret() -> None:
    kust = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert set(kust["resources"]) == files
