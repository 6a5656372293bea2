"""A process's life in a cluster: the probe command that says whether a nameko service serves
(deploy/: readiness and liveness), and SIGTERM (what Kubernetes and Compose send before a pod or
container goes) letting the request in flight finish before the process exits 0."""

from __future__ import annotations

import http.client
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import grpc
import pytest

from ecoach_dev.deployment import ROOT, Deployment
from gateway.api.pb import identity_pb2 as pb
from gateway.api.pb import identity_pb2_grpc
from gateway.api.rpc_client import RpcClient
from services.kernel.runtime.broker_admin import management_request
from tests.support.deployments import WITNESS, own_deployment, start_witness
from tests.support.people import OPERATOR_PASSWORD, create_operator
from tests.support.waiting import wait_for


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """Its own deployment: its processes are stopped and started again."""
    with own_deployment(
        tmp_path_factory,
        "shutdown",
        extra_services=(WITNESS,),
        hold=("witness",),
        # The requests held in flight below wait on a frozen process: on a busy machine (two
        # test workers) the default 10 s deadline can pass before it is thawed.
        env={"ECOACH_RPC_TIMEOUT_SECONDS": "30"},
    ) as d:
        start_witness(d)
        yield d


def probe(
    world: Deployment, service: str, timeout: float = 3.0, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.kernel.runtime.probe", service, "--timeout", str(timeout)],
        cwd=ROOT,
        env={**world.env, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_the_probe_exits_0_while_a_service_serves_and_1_once_it_is_stopped(
    world: Deployment,
) -> None:
    for service in ("identity", "spaces", "scheduling"):
        answered = probe(world, service)
        assert answered.returncode == 0, answered.stderr
    world.stop_process("scheduling")
    started = time.monotonic()
    silent = probe(world, "scheduling", timeout=2.0)
    assert silent.returncode == 1
    assert "scheduling did not answer its ping within 2.0 s" in silent.stderr
    assert time.monotonic() - started < 30
    world.start_process("scheduling")
    world.wait_serving("scheduling")
    assert probe(world, "scheduling").returncode == 0
    # no broker (nothing listens on port 1): 1, within the timeout
    started = time.monotonic()
    unreachable = probe(world, "identity", timeout=2.0, ECOACH_AMQP_URI="amqp://127.0.0.1:1/")
    assert unreachable.returncode == 1, unreachable.stderr
    assert time.monotonic() - started < 30


def test_sigterm_lets_a_service_finish_the_request_in_flight_then_exit_0(
    world: Deployment, tmp_path: Path
) -> None:
    started = tmp_path / "lingering"
    witness = world.procs["witness"]
    with RpcClient(world.amqp_uri, name="shutdown-test") as client:
        reply = client.call_async(
            "witness", "linger", {"seconds": 3.0, "started": str(started)}, timeout=30
        )
        wait_for(started.exists, 30, "the witness to take the request")
        sent = time.monotonic()
        witness.send_signal(signal.SIGTERM)
        body = reply.result(timeout=30)
        assert body.get("error") is None, body
        assert body["result"] == {"lingered": 3.0, "pid": witness.pid}
        assert witness.wait(timeout=30) == 0, world.tail("witness")
        # it waited for its worker, and did not linger after it
        assert time.monotonic() - sent < 15
    world.procs.pop("witness")


def queued(world: Deployment, queue: str) -> int:
    found = management_request(
        world.amqp_uri, "GET", f"queues/{quote(world.vhost, safe='')}/{quote(queue, safe='')}"
    )
    return int(found.get("messages", 0))


def refused(world: Deployment) -> bool:
    try:
        world.health(timeout=0.5)
    except grpc.RpcError:
        return True
    return False


def test_sigterm_lets_the_gateway_finish_the_request_in_flight_then_exit_0(
    world: Deployment,
) -> None:
    email = create_operator(world.config)
    identity = world.procs["identity"]
    gateway = world.procs["gateway"]
    outcome: dict[str, Any] = {}

    def sign_in() -> None:
        with world.channel() as channel:
            stub = identity_pb2_grpc.AuthServiceStub(channel)
            try:
                outcome["reply"] = stub.SignIn(
                    pb.SignInRequest(email=email, password=OPERATOR_PASSWORD), timeout=60
                )
            except grpc.RpcError as exc:
                outcome["error"] = exc

    # identity frozen: the gateway's request waits in identity's queue, in flight at the gateway
    identity.send_signal(signal.SIGSTOP)
    try:
        caller = threading.Thread(target=sign_in)
        caller.start()
        wait_for(lambda: queued(world, "rpc-identity") > 0, 30, "the request to be queued")
        gateway.send_signal(signal.SIGTERM)
        # draining: a new call is refused, while the one in flight waits for identity
        wait_for(lambda: refused(world), 30, "the gateway to refuse new calls")
        assert gateway.poll() is None
    finally:
        identity.send_signal(signal.SIGCONT)
    try:
        caller.join(timeout=60)
        assert "error" not in outcome, outcome.get("error")
        assert outcome["reply"].next_step == pb.VERIFY_MFA
        assert gateway.wait(timeout=60) == 0, world.tail("gateway")
    finally:  # the next tests need a gateway, whatever happened here
        if gateway.poll() is None:
            gateway.kill()
            gateway.wait(timeout=30)
        world.procs.pop("gateway")
        world.start_process("gateway")
        world.wait_serving()


def connects(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except OSError:
        return False


def test_sigterm_lets_the_web_pages_finish_the_request_in_flight_then_exit_0(
    world: Deployment,
) -> None:
    scheduling = world.procs["scheduling"]
    web = world.procs["web"]
    outcome: dict[str, Any] = {}
    host, port = world.web_address.rsplit(":", 1)
    # a keep-alive connection left idle must not hold the drain
    idle = http.client.HTTPConnection(host, int(port), timeout=20)
    idle.request("GET", "/healthz")
    assert idle.getresponse().read() == b"ok"

    def open_feed() -> None:
        page = http.client.HTTPConnection(host, int(port), timeout=60)
        try:
            page.request("GET", f"/calendar/{secrets.token_urlsafe(32)}.ics")
            answer = page.getresponse()
            outcome["status"] = answer.status
            outcome["body"] = answer.read()
        except OSError as exc:
            outcome["error"] = exc
        finally:
            page.close()

    # scheduling frozen: the feed's call waits in its queue, the page in flight at the web
    scheduling.send_signal(signal.SIGSTOP)
    try:
        caller = threading.Thread(target=open_feed)
        caller.start()
        wait_for(lambda: queued(world, "rpc-scheduling") > 0, 30, "the feed's call to be queued")
        web.send_signal(signal.SIGTERM)
        wait_for(lambda: not connects(world.web_address), 30, "the web to stop accepting")
        assert web.poll() is None
    finally:
        scheduling.send_signal(signal.SIGCONT)
    caller.join(timeout=30)
    assert "error" not in outcome, outcome.get("error")
    assert (outcome["status"], outcome["body"]) == (404, b"not found\n")  # an unknown feed
    assert web.wait(timeout=30) == 0, world.tail("web")
    idle.close()
    world.procs.pop("web")
    world.start_process("web")
    wait_for(lambda: connects(world.web_address), 30, "the web to listen again")
