"""deploy/k8s, rendered offline: `kubectl kustomize` on each overlay, every resource against
Kubernetes' schemas (kubernetes-validate, strict), and the manifests against the service
registry: each process a Deployment with probes, resources, a locked-down security context,
its own keys, a PodDisruptionBudget and an autoscaler; the migration job; network policies that
deny by default; RabbitMQ through its operator.

kubectl comes from the machine (.ci/run installs Debian's); without it these tests skip and
say so. The RabbitmqCluster has no schema in kubernetes-validate (a custom resource): its
fields are checked here by hand."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ecoach_dev import images, processes
from services.kernel.registry import SERVICE_NAMES

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
KUBERNETES = "1.33.0"  # the oldest release still supported upstream when this was written
USER = 10001  # deploy/Dockerfile's user
CREDENTIALS = re.compile(r"://[^/@\s]*:[^/@\s]*@")  # a URI with a password
# No schema in kubernetes-validate: the operator's RabbitmqCluster, KEDA's resources.
CUSTOM_KINDS = {"RabbitmqCluster", "ScaledObject", "TriggerAuthentication"}
NAMESPACES = {"dev": "ecoach-dev", "prod": "ecoach"}


@functools.cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip(
            "kubectl is not installed, so deploy/k8s cannot be rendered: "
            "apt-get install kubectl (.ci/run does)"
        )
    out = subprocess.run(
        [kubectl, "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return tuple(doc for doc in yaml.safe_load_all(out.stdout) if doc)


def of_kind(docs: tuple[dict[str, Any], ...], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def containers(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from doc["spec"]["template"]["spec"]["containers"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_resource_of_each_overlay_is_valid_against_kubernetes_schemas(overlay: str) -> None:
    import kubernetes_validate

    invalid = []
    for doc in rendered(overlay):
        if doc["kind"] in CUSTOM_KINDS:
            continue  # custom resources: checked by hand below
        try:
            kubernetes_validate.validate(doc, KUBERNETES, strict=True)
        except kubernetes_validate.ValidationError as exc:
            invalid.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message}")
    assert invalid == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_process_of_the_registry_is_a_deployment_with_a_pdb_and_an_autoscaler(
    overlay: str,
) -> None:
    docs = rendered(overlay)
    deployments = of_kind(docs, "Deployment")
    assert set(deployments) == set(processes.names())
    pdbs, hpas = of_kind(docs, "PodDisruptionBudget"), of_kind(docs, "HorizontalPodAutoscaler")
    scaled = of_kind(docs, "ScaledObject")
    for name, deployment in deployments.items():
        [container] = containers(deployment)
        assert container["args"] == [name]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/component"] == name
        assert pdbs[name]["spec"]["selector"]["matchLabels"] == {
            "app.kubernetes.io/component": name
        }
        assert pdbs[name]["spec"]["maxUnavailable"] == 1
        # One autoscaler each: an HPA, or a ScaledObject (KEDA makes its HPA), never both.
        assert (name in hpas) != (name in scaled), name
        if name in hpas:
            assert hpas[name]["spec"]["scaleTargetRef"] == {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": name,
            }
        else:
            assert scaled[name]["spec"]["scaleTargetRef"] == {"name": name}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_runs_as_the_image_user_read_only_without_capabilities_or_token(
    overlay: str,
) -> None:
    docs = rendered(overlay)
    pods = [*of_kind(docs, "Deployment").values(), *of_kind(docs, "Job").values()]
    for doc in pods:
        spec = doc["spec"]["template"]["spec"]
        assert spec["automountServiceAccountToken"] is False
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == USER
        assert spec["securityContext"]["runAsGroup"] == USER
        # the "restricted" Pod Security Standard's fields, so that such a namespace admits them
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in containers(doc):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"])
            assert {"cpu", "memory"} <= set(resources["limits"])
            mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
            assert "/tmp" in mounts, "/tmp is an emptyDir (read-only root)"  # noqa: S108


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_are_probed_over_the_broker_the_gateway_by_grpc_health_web_by_healthz(
    overlay: str,
) -> None:
    deployments = of_kind(rendered(overlay), "Deployment")
    for name in SERVICE_NAMES:
        [container] = containers(deployments[name])
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            command = container[probe]["exec"]["command"]
            assert command[:3] == ["/app/deploy/entrypoint.sh", "probe", name], (name, probe)
            timeout = float(command[command.index("--timeout") + 1])
            assert timeout < container[probe]["timeoutSeconds"], (name, probe)
    [gateway] = containers(deployments["gateway"])
    assert gateway["readinessProbe"]["grpc"]["port"] == 50051
    assert "tcpSocket" in gateway["livenessProbe"]
    [web] = containers(deployments["web"])
    for probe in ("readinessProbe", "livenessProbe"):
        assert web[probe]["httpGet"]["path"] == "/healthz"


def ecoach_config(docs: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    """The processes' ConfigMap (ecoach-config-<hash>)."""
    [config] = [c for n, c in of_kind(docs, "ConfigMap").items() if n.startswith("ecoach-config-")]
    return config


def secret_refs(container: dict[str, Any]) -> dict[str, str]:
    return {
        env["name"]: env["valueFrom"]["secretKeyRef"]["name"]
        for env in container.get("env", [])
        if "secretKeyRef" in env.get("valueFrom", {})
    }


def projected_secrets(doc: dict[str, Any]) -> dict[str, list[str]]:
    """secret name -> the files (paths) a pod's keys volume takes from it."""
    found: dict[str, list[str]] = {}
    for volume in doc["spec"]["template"]["spec"]["volumes"]:
        for source in volume.get("projected", {}).get("sources", []):
            if "secret" in source:
                found[source["secret"]["name"]] = [i["path"] for i in source["secret"]["items"]]
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_has_its_own_database_url_and_keys_and_nothing_in_plain_env(
    overlay: str,
) -> None:
    docs = rendered(overlay)
    deployments = of_kind(docs, "Deployment")
    for name in SERVICE_NAMES:
        [container] = containers(deployments[name])
        # the server's address only: it logs in as its own user, from its own keys
        assert secret_refs(container)["ECOACH_DATABASE_URL"] == "ecoach-database"
        assert projected_secrets(deployments[name]) == {
            f"ecoach-{name}-keys": [f"{name}.key", f"{name}.amqp", f"{name}.database"]
        }
    [gateway] = containers(deployments["gateway"])
    assert "ECOACH_DATABASE_URL" not in secret_refs(gateway)
    assert projected_secrets(deployments["gateway"]) == {
        "ecoach-gateway-keys": ["gateway.key", "gateway.amqp"]
    }
    [web] = containers(deployments["web"])
    assert secret_refs(web) == {"ECOACH_WEB_SESSION_KEY": "ecoach-web-session-key"}
    assert projected_secrets(deployments["web"]) == {}
    for doc in docs:
        for env in doc.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
            for item in env.get("env", []):
                assert not CREDENTIALS.search(str(item.get("value", ""))), item["name"]
    config = ecoach_config(docs)
    secrets = {"MASTER_KEY", "MASTER_KEY_PREVIOUS", "WEB_SESSION_KEY", "DATABASE_URL", "SMTP_URL"}
    assert not {f"ECOACH_{name}" for name in secrets} & set(config["data"])
    assert not any(CREDENTIALS.search(str(value)) for value in config["data"].values())
    assert config["data"]["ECOACH_DATABASE_USERS"] == "true"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_migration_job_alone_holds_the_owner_url_and_every_broker_and_database_user(
    overlay: str,
) -> None:
    jobs = of_kind(rendered(overlay), "Job")
    assert set(jobs) == {"migrate"}
    [container] = containers(jobs["migrate"])
    assert container["args"] == ["migrate"]
    assert secret_refs(container) == {
        "ECOACH_DATABASE_URL": "ecoach-migrate",
        "ECOACH_AMQP_URI": "ecoach-migrate",
    }
    owners = [*SERVICE_NAMES, "gateway", *(["scaler"] if overlay == "prod" else [])]
    assert projected_secrets(jobs["migrate"]) == {
        f"ecoach-{owner}-keys": [f"{owner}.amqp"]
        + ([f"{owner}.database"] if owner in SERVICE_NAMES else [])
        for owner in owners
    }
    assert jobs["migrate"]["spec"]["template"]["spec"]["restartPolicy"] == "Never"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_deny_by_default_then_allow_each_process_its_ways(overlay: str) -> None:
    docs = rendered(overlay)
    policies = of_kind(docs, "NetworkPolicy")
    deny = policies["default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny

    def selects(policy: dict[str, Any], labels: dict[str, str]) -> bool:
        selector = policy["spec"]["podSelector"]
        if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
            return False
        for expr in selector.get("matchExpressions", []):
            inside = labels.get(expr["key"]) in expr["values"]
            if inside != (expr["operator"] == "In"):
                return False
        return True

    pods = [*of_kind(docs, "Deployment").values(), *of_kind(docs, "Job").values()]
    for doc in pods:
        labels = doc["spec"]["template"]["metadata"]["labels"]
        allowing = [
            name
            for name, p in policies.items()
            if name not in {"default-deny", "dns"} and selects(p, labels)
        ]
        assert allowing, f"{doc['metadata']['name']} is allowed nothing"
    for name in (*SERVICE_NAMES, "gateway", "migrate"):
        labels = {"app.kubernetes.io/component": name, "ecoach.io/kind": "service"}
        if name in ("gateway", "migrate"):
            labels["ecoach.io/kind"] = "door" if name == "gateway" else "job"
        assert selects(policies["broker-clients"], labels), f"{name} cannot reach the broker"
    web = {"app.kubernetes.io/component": "web", "ecoach.io/kind": "door"}
    assert not selects(policies["broker-clients"], web), "the web pages never use the broker"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_rabbitmq_comes_from_its_cluster_operator(overlay: str) -> None:
    [cluster] = of_kind(rendered(overlay), "RabbitmqCluster").values()
    assert cluster["apiVersion"] == "rabbitmq.com/v1beta1"
    assert cluster["metadata"]["name"] == "ecoach-rabbitmq"
    spec = cluster["spec"]
    assert spec["replicas"] % 2 == 1, "an odd number of nodes (pause_minority)"
    assert "cluster_partition_handling = pause_minority" in spec["rabbitmq"]["additionalConfig"]
    assert spec["resources"]["limits"]["memory"] == spec["resources"]["requests"]["memory"]
    assert images.EXACT_TAG.match(images.DIGEST.sub("", spec["image"])), (
        "not the operator's default"
    )
    allowed = {
        "image",
        "replicas",
        "resources",
        "persistence",
        "rabbitmq",
        "override",
        "tls",
        "affinity",
    }
    assert set(spec) <= allowed
    # the CRD requires a container list in a pod override, even an empty one
    assert spec["override"]["statefulSet"]["spec"]["template"]["spec"]["containers"] == []
    pdb = of_kind(rendered(overlay), "PodDisruptionBudget")["ecoach-rabbitmq"]
    assert pdb["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "ecoach-rabbitmq"}


def test_production_speaks_tls_to_the_broker_and_runs_two_pods_of_everything() -> None:
    docs = rendered("prod")
    config = ecoach_config(docs)
    assert config["data"]["ECOACH_ENV"] == "production"
    assert config["data"]["ECOACH_AMQP_URI"].startswith("amqps://")
    assert config["data"]["ECOACH_PUBLIC_URL"].startswith("https://")
    [cluster] = of_kind(docs, "RabbitmqCluster").values()
    assert cluster["spec"]["replicas"] == 3 and cluster["spec"]["tls"]["secretName"]
    for hpa in of_kind(docs, "HorizontalPodAutoscaler").values():
        assert hpa["spec"]["minReplicas"] >= 2
    for scaled in of_kind(docs, "ScaledObject").values():
        assert scaled["spec"]["minReplicaCount"] >= 2
    for deployment in of_kind(docs, "Deployment").values():
        assert deployment["spec"]["replicas"] >= 2


def test_the_overlays_render_the_same_processes_in_their_own_namespaces() -> None:
    namespaces = {
        overlay: {d["metadata"].get("namespace") for d in rendered(overlay)} for overlay in OVERLAYS
    }
    assert namespaces == {overlay: {NAMESPACES[overlay]} for overlay in OVERLAYS}
    # prod's autoscaling is KEDA's (its component), dev's the base's HPAs
    # (ConfigMap ecoach-scaler, as kinds() cuts the last part of a ConfigMap's name)
    keda = {("ConfigMap", "ecoach"), ("TriggerAuthentication", "ecoach-rabbitmq-scaler")}

    def processes(overlay: str) -> list[tuple[str, str]]:
        autoscalers = {"HorizontalPodAutoscaler", "ScaledObject"}
        return [k for k in kinds(overlay) if k[0] not in autoscalers and k not in keda]

    for overlay in OVERLAYS:
        assert processes(overlay) == processes("prod")


def kinds(overlay: str) -> list[tuple[str, str]]:
    """Each resource's kind and name (the generated ConfigMap's hash suffix left out)."""
    return sorted(
        (
            d["kind"],
            d["metadata"]["name"].rsplit("-", 1)[0]
            if d["kind"] == "ConfigMap"
            else d["metadata"]["name"],
        )
        for d in rendered(overlay)
    )


# KEDA's rabbitmq trigger's metadata (keda.sh/docs, scalers/rabbitmq-queue) that these use.
RABBITMQ_TRIGGER = {"protocol", "host", "vhostName", "queueName", "mode", "value"}
SCALED_OBJECT_SPEC = {
    "scaleTargetRef",
    "minReplicaCount",
    "maxReplicaCount",
    "pollingInterval",
    "cooldownPeriod",
    "advanced",
    "triggers",
}


def test_production_scales_each_service_on_its_rpc_queue_backlog_and_cpu_with_keda() -> None:
    docs = rendered("prod")
    scaled, hpas = of_kind(docs, "ScaledObject"), of_kind(docs, "HorizontalPodAutoscaler")
    assert set(scaled) == set(SERVICE_NAMES), "each service scales on its queue"
    assert set(hpas) == {"gateway", "web"}, "the doors have no queue: CPU"
    [auth] = of_kind(docs, "TriggerAuthentication").values()
    # KEDA reads `tls` from the authentication only (its rabbitmq scaler's authParams)
    [tls] = auth["spec"]["configMapTargetRef"]
    assert tls["parameter"] == "tls"
    assert of_kind(docs, "ConfigMap")[tls["name"]]["data"][tls["key"]] == "enable"
    assert {
        ref["parameter"]: (ref["name"], ref["key"]) for ref in auth["spec"]["secretTargetRef"]
    } == {
        "username": ("ecoach-scaler-keys", "username"),
        "password": ("ecoach-scaler-keys", "password"),
        "ca": ("ecoach-scaler-keys", "ca.crt"),
    }
    for name, doc in scaled.items():
        assert doc["apiVersion"] == "keda.sh/v1alpha1"
        spec = doc["spec"]
        assert set(spec) <= SCALED_OBJECT_SPEC, set(spec) - SCALED_OBJECT_SPEC
        assert 2 <= spec["minReplicaCount"] < spec["maxReplicaCount"]
        by_type = {trigger["type"]: trigger for trigger in spec["triggers"]}
        assert set(by_type) == {"rabbitmq", "cpu"}
        queue = by_type["rabbitmq"]
        assert set(queue["metadata"]) <= RABBITMQ_TRIGGER, set(queue["metadata"]) - RABBITMQ_TRIGGER
        assert queue["metadata"]["queueName"] == f"rpc-{name}"
        assert queue["metadata"]["mode"] == "QueueLength"
        assert float(queue["metadata"]["value"]) > 0
        assert queue["authenticationRef"] == {"name": auth["metadata"]["name"]}
        # KEDA runs in its own namespace: the broker by its full name, TLS as every client.
        host = queue["metadata"]["host"]
        assert host == f"amqps://ecoach-rabbitmq.{NAMESPACES['prod']}.svc:5671/", name
        assert not CREDENTIALS.search(host)
        assert by_type["cpu"]["metricType"] == "Utilization"
    assert scaled["identity"]["spec"]["maxReplicaCount"] == 10, "identity first (argon2id)"


def test_keda_reaches_the_broker_and_the_migration_job_makes_its_user() -> None:
    docs = rendered("prod")
    rabbitmq = of_kind(docs, "NetworkPolicy")["rabbitmq"]["spec"]["ingress"]
    keda = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "keda"}}}
    [rule] = [r for r in rabbitmq if keda in r["from"]]
    assert {p["port"] for p in rule["ports"]} == {5671, 5672}
    migrate = of_kind(docs, "Job")["migrate"]
    assert projected_secrets(migrate)["ecoach-scaler-keys"] == ["scaler.amqp"]
    dev = rendered("dev")
    assert of_kind(dev, "ScaledObject") == {}, "dev needs no KEDA"
    assert "ecoach-scaler-keys" not in projected_secrets(of_kind(dev, "Job")["migrate"])


def test_the_scaler_broker_user_exists_only_with_its_file_and_may_do_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ecoach_dev import broker, cli
    from services.kernel.config import Settings
    from services.kernel.runtime import broker_admin

    config = Settings(keys_dir=tmp_path)
    services = [cli.spec(name) for name in SERVICE_NAMES]
    assert cli.QUEUE_SCALER not in cli.broker_grants(config, services)
    made = {p.name for p in cli.deploy_secrets(tmp_path / "secrets", keda=True)}
    assert "scaler.amqp" in made and "scaler.key" not in made, "a broker user, no signing key"
    assert "scaler.amqp" not in {p.name for p in cli.deploy_secrets(tmp_path / "plain")}

    broker.process_credentials("amqp://localhost/", tmp_path, cli.QUEUE_SCALER)
    grants = cli.broker_grants(config, services)
    assert grants[cli.QUEUE_SCALER] == cli.NO_GRANTS
    calls: list[tuple[str, str, Any]] = []

    def management_request(uri: str, method: str, path: str, body: Any = None) -> Any:
        calls.append((method, path, body))
        return []

    monkeypatch.setattr(broker_admin, "management_request", management_request)
    broker.ensure_process_users(
        "amqp://admin:pw@localhost/", tmp_path, {cli.QUEUE_SCALER: grants[cli.QUEUE_SCALER]}
    )
    puts = {path: body for method, path, body in calls if method == "PUT"}
    assert puts["users/ecoach-scaler"]["tags"] == "", "no management API"
    assert puts["permissions/%2F/ecoach-scaler"] == {"configure": "^$", "write": "^$", "read": "^$"}
    assert not any(path.startswith("topic-permissions/") for path in puts)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_process_serves_metrics_on_its_pod_and_prometheus_may_scrape_them(
    overlay: str,
) -> None:
    docs = rendered(overlay)
    deployments = of_kind(docs, "Deployment")
    [config] = [d for d in of_kind(docs, "ConfigMap").values() if "ECOACH_ENV" in d["data"]]
    port = int(config["data"]["ECOACH_METRICS_PORT"])
    assert port and config["data"]["ECOACH_METRICS_HOST"] == "0.0.0.0"
    for name in processes.names():
        pod = deployments[name]["spec"]["template"]
        annotations = pod["metadata"].get("annotations", {})
        assert annotations.get("prometheus.io/scrape") == "true", name
        assert annotations.get("prometheus.io/port") == str(port), name
        [container] = pod["spec"]["containers"]
        assert {"name": "metrics", "containerPort": port} in container.get("ports", []), name
    scrape = of_kind(docs, "NetworkPolicy")["metrics-scrape"]["spec"]
    assert scrape["ingress"][0]["ports"] == [{"protocol": "TCP", "port": port}]
