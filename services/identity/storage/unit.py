"""Identity's unit of work: the repositories its handlers reach (`uow.persons`, ...), each built
on the unit's connection when first used (`services.kernel.runtime.sql.Repository`).

The service gives this class to its `Database` dependency (`service.py`); the unit tests give
the same names, in memory, to a fake unit of work (tests/unit/fakes/identity.py).
"""

from __future__ import annotations

from services.kernel.runtime.sql import Repository, UnitOfWork, WorkerDatabase

from .audit import AuditLog
from .coach_links import CoachLinks
from .erasures import Erasures
from .links import PersonLinks
from .memberships import Memberships
from .mfa import Mfa
from .persons import Persons
from .refresh_tokens import RefreshTokens
from .revocations import AccessRevocations
from .service_secrets import Secrets
from .sign_ins import SignInHistory
from .signing_keys import SigningKeys
from .tenants import Tenants
from .throttle import Throttle


class IdentityUnit(UnitOfWork):
    tenants = Repository(Tenants)
    persons = Repository(Persons)
    memberships = Repository(Memberships)
    signing_keys = Repository(SigningKeys)
    refresh_tokens = Repository(RefreshTokens)
    revocations = Repository(AccessRevocations)
    throttle = Repository(Throttle)
    sign_ins = Repository(SignInHistory)
    audit = Repository(AuditLog)
    links = Repository(PersonLinks)
    secrets = Repository(Secrets)
    erasures = Repository(Erasures)
    mfa = Repository(Mfa)
    coach_links = Repository(CoachLinks)


# What identity's handlers are given: the worker's database, whose units are IdentityUnits.
Db = WorkerDatabase[IdentityUnit]
