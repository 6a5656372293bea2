"""`python -m ecoach_dev.call METHOD [JSON]`: call the gRPC gateway from a terminal.

Works from server reflection (grpc-requests), so it knows every ecoach.v1 method without
generated code. METHOD is `SignIn`, `AuthService/SignIn` or `ecoach.v1.AuthService/SignIn`.
A successful SignIn keeps its access token in var/cli-token; later calls send it.

    python -m ecoach_dev.call SignIn '{"email": "operator@ecoach.test", "password": "..."}'
    python -m ecoach_dev.call CreateTenant '{"display_name": "Globex", "slug": "globex"}'
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format
from google.rpc import error_details_pb2
from grpc_requests import Client
from grpc_status import rpc_status

from services.kernel.config import settings


def resolve(client: Client, method: str) -> tuple[str, str]:
    if "/" in method:
        service, name = method.rsplit("/", 1)
        if "." not in service:
            service = f"ecoach.v1.{service}"
        return service, name
    for service in client.service_names:
        if service.startswith("ecoach.") and method in client.service(service).method_names:
            return service, method
    raise SystemExit(f"no ecoach.v1 method named {method!r}; try e.g. SignIn, GetMe, AddMember")


def describe_error(exc: grpc.RpcError) -> dict[str, Any]:
    out: dict[str, Any] = {"code": exc.code().name, "message": exc.details()}
    status = rpc_status.from_call(exc)  # type: ignore[arg-type]
    for detail in status.details if status else ():
        for kind, key in (
            (error_details_pb2.ErrorInfo, "error_info"),
            (error_details_pb2.BadRequest, "bad_request"),
            (error_details_pb2.LocalizedMessage, "localized_message"),
        ):
            if detail.Is(kind.DESCRIPTOR):
                message = kind()
                detail.Unpack(message)
                out[key] = json_format.MessageToDict(message)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ecoach_dev.call",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("method")
    parser.add_argument("body", nargs="?", default="{}", help="the request as JSON")
    parser.add_argument("--address", default=settings().gateway_address)
    parser.add_argument("--no-token", action="store_true", help="do not send the kept token")
    parser.add_argument("--locale", default="", help="accept-language, e.g. fr")
    args = parser.parse_args(argv)
    token_file = settings().var_dir / "cli-token"
    challenge_file = settings().var_dir / "cli-challenge"
    client = Client.get_by_endpoint(args.address)
    service, method = resolve(client, args.method)
    try:
        body = json.loads(args.body)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"the request is not JSON ({exc}): {args.body}") from None
    if method in CONTINUES_SIGN_IN and "challenge" not in body and challenge_file.exists():
        body["challenge"] = challenge_file.read_text().strip()  # the last SignIn's second step
    metadata = []
    if not args.no_token and method not in SIGNS_IN and token_file.exists():
        metadata.append(("authorization", f"Bearer {token_file.read_text().strip()}"))
    if args.locale:
        metadata.append(("accept-language", args.locale))
    try:
        reply = client.request(service, method, body, metadata=metadata, timeout=30)
    except grpc.RpcError as exc:
        print(json.dumps(describe_error(exc), indent=2, ensure_ascii=False))
        return 1
    except json_format.ParseError as exc:  # a field the request does not have, a wrong type
        raise SystemExit(f"the request does not fit {service}/{method}: {exc}") from None
    if method in SIGNS_IN and isinstance(reply, dict):
        reply = keep_secrets(reply, token_file, challenge_file)
    print(json.dumps(reply, indent=2, ensure_ascii=False))
    return 0


# Methods whose answer may hold an access token (kept) or a sign-in challenge (kept for the next
# of them: `SignIn`, then `VerifyMfa '{"code": "123456"}'`).
SIGNS_IN = ("SignIn", "VerifyMfa", "BeginMfaEnrolment", "CompleteMfaEnrolment")
# The steps after `SignIn`, which take the kept challenge (`SignIn` itself starts afresh: a kept
# challenge of an earlier sign-in is no field of its request).
CONTINUES_SIGN_IN = ("VerifyMfa", "BeginMfaEnrolment", "CompleteMfaEnrolment")


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(text)


def keep_secrets(reply: dict[str, Any], token_file: Path, challenge_file: Path) -> dict[str, Any]:
    signed_in = reply.get("sign_in", reply)  # CompleteMfaEnrolment nests it
    if signed_in.get("access_token"):
        _write_private(token_file, signed_in["access_token"])
        challenge_file.unlink(missing_ok=True)
        signed_in["access_token"] = f"(kept in {token_file})"
    elif reply.get("challenge"):
        _write_private(challenge_file, reply["challenge"])
    return reply


if __name__ == "__main__":
    sys.exit(main())
