"""Each service's method table in its contracts module (`IdentityApi`, `SpacesApi`, ...) is what
its callers build and read: it must name every `@rpc` method the service serves, and no other,
with the very request and response contracts of the method's signature."""

from __future__ import annotations

import typing

import pytest
from pydantic import BaseModel

from services.contracts.base import Api, Empty, Method, PingResponse, api_of
from services.kernel.errors import Internal, InvalidArgument
from services.kernel.registry import SERVICE_NAMES
from tests.support.isolation import rpc_methods

pytestmark = pytest.mark.filterwarnings(r"ignore:\s*Eventlet is deprecated")  # imported only


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_a_service_s_method_table_matches_its_rpc_signatures_both_ways(name: str) -> None:
    served = {
        key.split(".", 1)[1]: fn
        for key, (_, fn) in rpc_methods().items()
        if key.split(".", 1)[0] == name
    }
    table = api_of(name).methods()
    assert sorted(table) == sorted(served), f"services/contracts/{name}.py's table drifted"
    for method_name, fn in served.items():
        hints = typing.get_type_hints(fn)
        method = table[method_name]
        assert (method.service, method.name) == (name, method_name)
        assert hints["request"] is method.request, f"{name}.{method_name} takes another request"
        assert hints["return"] is method.response, f"{name}.{method_name} answers another type"


class _Echo(Api):
    service = "echo"

    ping = Method(Empty, PingResponse)


def test_a_request_built_from_bad_values_names_each_field_and_a_bad_reply_is_internal() -> None:
    assert repr(_Echo.ping) == "<Method echo.ping>"
    with pytest.raises(InvalidArgument) as refused:
        _Echo.ping.build(surprise=1)
    assert [f.field for f in refused.value.fields] == ["surprise"]
    assert _Echo.ping.reply({"service": "echo", "ok": True}) == PingResponse(
        service="echo", ok=True
    )
    with pytest.raises(Internal):
        _Echo.ping.reply({"service": "echo"})
    with pytest.raises(TypeError):
        _Echo.ping.payload(PingResponse(service="echo", ok=True))  # type: ignore[arg-type]


def test_only_the_fields_a_caller_gave_travel() -> None:
    class Page(BaseModel):
        size: int = 50
        token: str = ""

    class _Pages(Api):
        service = "pages"
        list = Method(Page, Page)

    assert _Pages.list.payload(Page(token="t")) == {"token": "t"}
