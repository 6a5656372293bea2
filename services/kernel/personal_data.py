"""The personal-data contract every service implements (see docs/personal-data.md).

Every service that keeps anything about a person lists itself here and exposes
`export_personal_data` (RPC, person token: the caller's own data, as one JSON document). The
gateway's `ExportMyData` calls every service listed and streams one document per service.
Erasure (`identity.person_erased`, then `<service>.person_erased` when done) is the next part of
the contract; see the document.
"""

from __future__ import annotations

# Services holding personal data, in the order their documents are streamed.
PERSONAL_DATA_SERVICES: tuple[str, ...] = ("identity",)

EXPORT_METHOD = "export_personal_data"
