"""Identity's use cases: one function per command or query, each in a unit of work, grouped by
use case (one module each). Handlers reach storage through the unit of work's repositories
(`uow.persons`, ...: `storage/unit.py`), never by building storage classes, so the same
functions run on in-memory fakes (tests/unit/test_identity_handlers.py). What several groups
share is public in `common` (the settings handlers are given, the caller's standing, the audit
log, revocations), `views` (what is answered) and `links` (mailed links).

Sign-in is throttled per address and source and per account (`throttling`); a second factor is
asked for when the person enrolled one or a tenant's policy requires it (`second_factor`).
Roles gate administrative operations only (rule 5): a tenant's admins manage its members and
settings, operators its seats, its existence and the signing keys.
"""
