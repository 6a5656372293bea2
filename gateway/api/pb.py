"""Generated protobuf modules for `protos/ecoach/v1`, regenerated when a .proto is newer.

The generated code lives in gateway/api/generated (not committed) and imports itself as
`ecoach.v1`, so that folder goes on sys.path here, once.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROTOS = ROOT / "protos"
GENERATED = Path(__file__).resolve().parent / "generated"


def _stale() -> bool:
    protos = list(PROTOS.rglob("*.proto"))
    outputs = list(GENERATED.rglob("*_pb2.py"))
    if len(outputs) < len(protos):
        return True
    newest_proto = max(p.stat().st_mtime for p in protos)
    return newest_proto > min(p.stat().st_mtime for p in outputs)


def generate() -> None:
    """Compile every .proto into a temporary folder, then swap it in (safe for concurrent runs)."""
    from grpc_tools import protoc

    protos = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    include = Path(protoc.__file__).parent / "_proto"
    tmp = Path(tempfile.mkdtemp(prefix="generated-", dir=GENERATED.parent))
    args = [
        "protoc",
        f"-I{PROTOS}",
        f"-I{include}",
        f"--python_out={tmp}",
        f"--pyi_out={tmp}",
        f"--grpc_python_out={tmp}",
        *protos,
    ]
    if protoc.main(args) != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError("protoc failed on protos/; see the message above")
    old = GENERATED.with_name(f"generated-old-{os.getpid()}")
    if GENERATED.exists():
        GENERATED.rename(old)
    tmp.rename(GENERATED)
    shutil.rmtree(old, ignore_errors=True)


if not GENERATED.exists() or _stale():
    generate()
if str(GENERATED) not in sys.path:
    sys.path.insert(0, str(GENERATED))

from ecoach.v1 import (  # type: ignore[import-not-found]  # noqa: E402
    assessment_pb2,
    assessment_pb2_grpc,
    content_pb2,
    content_pb2_grpc,
    identity_pb2,
    identity_pb2_grpc,
    reporting_pb2,
    reporting_pb2_grpc,
    scheduling_pb2,
    scheduling_pb2_grpc,
    spaces_pb2,
    spaces_pb2_grpc,
)

__all__ = [
    "assessment_pb2",
    "assessment_pb2_grpc",
    "content_pb2",
    "content_pb2_grpc",
    "identity_pb2",
    "identity_pb2_grpc",
    "reporting_pb2",
    "reporting_pb2_grpc",
    "scheduling_pb2",
    "scheduling_pb2_grpc",
    "spaces_pb2",
    "spaces_pb2_grpc",
]
