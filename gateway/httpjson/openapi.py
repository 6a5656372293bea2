"""The OpenAPI 3.1 document of the HTTP/JSON API, generated from the protos' descriptors.

Each message becomes a JSON Schema by the proto3 JSON mapping: fields by their JSON (lowerCamel)
names, 64-bit integers as decimal strings, enums by their value names, `Timestamp` as an RFC 3339
`date-time` string, `FieldMask` as one string of comma-separated paths, repeated fields as arrays,
maps as objects; a oneof's members are noted in its fields' descriptions. The protos' comments
(read with protoc's source info) are the descriptions.

`python -m gateway.httpjson.openapi` writes docs/api/openapi.json; a unit test fails when the
committed file differs from what this generates (tests/unit/test_http_json_openapi.py).
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from gateway.api.pb import PROTOS

from .methods import PREFIX, UnaryMethod, streaming_methods, unary_methods
from .problems import MEDIA_TYPE

log = logging.getLogger("gateway.httpjson")

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "api" / "openapi.json"
VERSION = "1"

INT32 = {"type": "integer", "format": "int32", "minimum": -(2**31), "maximum": 2**31 - 1}
UINT32 = {"type": "integer", "format": "int64", "minimum": 0, "maximum": 2**32 - 1}
INT64 = {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"}
UINT64 = {"type": "string", "format": "uint64", "pattern": "^[0-9]+$"}
T = FieldDescriptor
SCALARS: dict[int, dict[str, Any]] = {
    T.TYPE_DOUBLE: {"type": "number", "format": "double"},
    T.TYPE_FLOAT: {"type": "number", "format": "float"},
    T.TYPE_INT32: INT32,
    T.TYPE_SINT32: INT32,
    T.TYPE_SFIXED32: INT32,
    T.TYPE_UINT32: UINT32,
    T.TYPE_FIXED32: UINT32,
    T.TYPE_INT64: INT64,
    T.TYPE_SINT64: INT64,
    T.TYPE_SFIXED64: INT64,
    T.TYPE_UINT64: UINT64,
    T.TYPE_FIXED64: UINT64,
    T.TYPE_BOOL: {"type": "boolean"},
    T.TYPE_STRING: {"type": "string"},
    T.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
}
# The well-known types the protos use, by their own JSON mapping.
WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.FieldMask": {
        "type": "string",
        "description": "Field paths, comma-separated, in lowerCamel JSON names.",
    },
    "google.protobuf.Empty": {"type": "object", "additionalProperties": False},
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `code` is the gRPC status, `reason` the stable "
    "reason (google.rpc.ErrorInfo), `errors` the wrong fields (google.rpc.BadRequest).",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "reason": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "detail"],
                "properties": {"field": {"type": "string"}, "detail": {"type": "string"}},
            },
        },
    },
}


def _ref(full_name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{full_name}"}


class _Builder:
    def __init__(self, comments: dict[str, str]) -> None:
        self.comments = comments
        self.schemas: dict[str, dict[str, Any]] = {}

    def described(self, schema: dict[str, Any], key: str) -> dict[str, Any]:
        text = self.comments.get(key)
        return {**schema, "description": text} if text else schema

    def message(self, message: Descriptor) -> dict[str, Any]:
        name = message.full_name
        if name in WELL_KNOWN:
            return dict(WELL_KNOWN[name])
        if name not in self.schemas:
            self.schemas[name] = {}  # claimed first: messages may refer to themselves
            properties = {f.json_name: self.field(f) for f in message.fields}
            schema: dict[str, Any] = {"type": "object", "properties": properties}
            schema["additionalProperties"] = False
            self.schemas[name] = self.described(schema, name)
        return _ref(name)

    def enum(self, enum: EnumDescriptor) -> dict[str, Any]:
        if enum.full_name not in self.schemas:
            schema = {"type": "string", "enum": [v.name for v in enum.values]}
            self.schemas[enum.full_name] = self.described(schema, enum.full_name)
        return _ref(enum.full_name)

    def single(self, field: FieldDescriptor) -> dict[str, Any]:
        if field.type in (T.TYPE_MESSAGE, T.TYPE_GROUP):
            return self.message(field.message_type)
        if field.type == T.TYPE_ENUM:
            return self.enum(field.enum_type)
        return dict(SCALARS[field.type])

    def field(self, field: FieldDescriptor) -> dict[str, Any]:
        schema: dict[str, Any]
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value = field.message_type.fields_by_name["value"]
            schema = {"type": "object", "additionalProperties": self.single(value)}
        elif field.is_repeated:
            schema = {"type": "array", "items": self.single(field)}
        else:
            schema = self.single(field)
        text = self.comments.get(field.full_name, "")
        oneof = field.containing_oneof
        if oneof is not None and not _synthetic(oneof.name, field.name, len(oneof.fields)):
            others = [f.json_name for f in oneof.fields if f is not field]
            note = f"One of `{oneof.name}`: set at most one of this and `{'`, `'.join(others)}`."
            text = f"{text}\n\n{note}" if text else note
        if not text:
            return schema
        if "$ref" in schema:  # 3.1 allows siblings of $ref; kept explicit for older tools
            return {"allOf": [schema], "description": text}
        return {**schema, "description": text}

    def operation(self, method: UnaryMethod) -> dict[str, Any]:
        d = method.descriptor
        service = d.containing_service
        operation: dict[str, Any] = {
            "operationId": f"{service.name}_{d.name}",
            "tags": [service.name],
            "summary": f"{service.name}.{d.name}",
        }
        text = self.comments.get(d.full_name)
        if text:
            operation["description"] = text
        if method.public:
            operation["security"] = [{}]
        operation["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": self.message(d.input_type)}},
        }
        operation["responses"] = {
            "200": {
                "description": f"The {d.output_type.name}.",
                "content": {"application/json": {"schema": self.message(d.output_type)}},
            },
            "default": {"$ref": "#/components/responses/Problem"},
        }
        return operation


def _synthetic(oneof_name: str, field_name: str, size: int) -> bool:
    """proto3 `optional` fields live in a oneof of their own (`_name`): not a choice."""
    return size == 1 and oneof_name == f"_{field_name}"


def document(comments: dict[str, str] | None = None) -> dict[str, Any]:
    builder = _Builder(proto_comments() if comments is None else comments)
    paths = {path: {"post": builder.operation(method)} for path, method in unary_methods().items()}
    left_out = ", ".join(streaming_methods()) or "none"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ecoach HTTP/JSON API",
            "version": VERSION,
            "description": (
                "The gRPC gateway's unary methods over HTTP: `POST "
                f"{PREFIX}/{{package.Service}}/{{Method}}` with the request message as JSON "
                "(protobuf's JSON mapping; an unknown field is refused), `Authorization: Bearer "
                "<access token>` (from AuthService/SignIn) on every method but the public "
                "ones, errors as RFC 9457 problem details. Streaming methods are gRPC only: "
                f"{left_out}."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "An access token from AuthService/SignIn (or Refresh).",
                }
            },
            "responses": {
                "Problem": {
                    "description": "The call failed: the gRPC status as HTTP status.",
                    "content": {MEDIA_TYPE: {"schema": _ref("Problem")}},
                }
            },
            "schemas": {"Problem": PROBLEM_SCHEMA, **dict(sorted(builder.schemas.items()))},
        },
    }


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


@cache
def served() -> bytes:
    """The document the facade serves at /api/v1/openapi.json, built once per process (the
    committed one: a unit test keeps them equal). Without protoc's source info (no writable
    temporary folder, say) it is served without the protos' comments rather than not at all."""
    try:
        return render(document()).encode()
    except (RuntimeError, OSError, ImportError):
        log.warning("the OpenAPI document is served without the protos' comments", exc_info=True)
        return render(document(comments={})).encode()


# Field numbers in descriptor.proto, for reading comments out of SourceCodeInfo paths.
_FILE_MESSAGE, _FILE_ENUM, _FILE_SERVICE = 4, 5, 6
_MESSAGE_FIELD, _MESSAGE_NESTED, _MESSAGE_ENUM = 2, 3, 4
_SERVICE_METHOD = 2


def proto_comments() -> dict[str, str]:
    """Each element's leading comment (else its trailing one), by its full name."""
    from grpc_tools import protoc

    protos = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    include = Path(protoc.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.pb"
        args = ["protoc", f"-I{PROTOS}", f"-I{include}", "--include_source_info"]
        if protoc.main([*args, f"--descriptor_set_out={out}", *protos]) != 0:
            raise RuntimeError("protoc failed on protos/")
        files = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    comments: dict[str, str] = {}
    for file in files.file:
        names: dict[tuple[int, ...], str] = {}
        for i, message in enumerate(file.message_type):
            _name_message(names, (_FILE_MESSAGE, i), f"{file.package}.{message.name}", message)
        for i, enum in enumerate(file.enum_type):
            names[(_FILE_ENUM, i)] = f"{file.package}.{enum.name}"
        for i, service in enumerate(file.service):
            full = f"{file.package}.{service.name}"
            names[(_FILE_SERVICE, i)] = full
            for j, method in enumerate(service.method):
                names[(_FILE_SERVICE, i, _SERVICE_METHOD, j)] = f"{full}.{method.name}"
        for location in file.source_code_info.location:
            name = names.get(tuple(location.path))
            text = _clean(location.leading_comments or location.trailing_comments)
            if name and text:
                comments[name] = text
    return comments


def _name_message(
    names: dict[tuple[int, ...], str],
    path: tuple[int, ...],
    full: str,
    message: descriptor_pb2.DescriptorProto,
) -> None:
    names[path] = full
    for i, field in enumerate(message.field):
        names[(*path, _MESSAGE_FIELD, i)] = f"{full}.{field.name}"
    for i, nested in enumerate(message.nested_type):
        _name_message(names, (*path, _MESSAGE_NESTED, i), f"{full}.{nested.name}", nested)
    for i, enum in enumerate(message.enum_type):
        names[(*path, _MESSAGE_ENUM, i)] = f"{full}.{enum.name}"


def _clean(comment: str) -> str:
    lines = [line[1:] if line.startswith(" ") else line for line in comment.strip("\n").split("\n")]
    return "\n".join(lines).strip()


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else DOCUMENT
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(document()), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
