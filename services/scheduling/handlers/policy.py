"""Each tenant's cancel and reschedule policy: read by its members, set by its admins."""

from __future__ import annotations

from datetime import datetime

from services.contracts import identity as ic
from services.contracts import scheduling as c
from services.kernel.caller import Caller, admin_of, member_of

from ..domain.policy import Policy
from ..storage.unit import Db, SchedulingUnit


def _policy_view(p: Policy, now: datetime) -> c.Policy:
    return c.Policy(
        tenant_id=p.tenant_id,
        free_hours=p.free_hours,
        request_hours=p.request_hours,
        late_cancel_uses_session=p.late_cancel_uses_session,
        updated_at=p.updated_at or now,
        updated_by_person_id=p.updated_by,
    )


def get_policy(db: Db, caller: Caller, request: c.TenantRef) -> c.Policy:
    """Every member of the tenant may read it: it is shown to whoever books."""
    member_of(caller, request.tenant_id)
    with db.read_only() as uow:
        found = uow.policies.get(request.tenant_id)
        now = uow.clock.now()
    return _policy_view(found, now)


def update_policy(db: Db, caller: Caller, request: c.UpdatePolicyRequest) -> c.Policy:
    who = admin_of(caller, request.tenant_id, "sets the policy")
    with db.unit_of_work() as uow:
        now = uow.clock.now()
        policy = Policy(
            tenant_id=request.tenant_id,
            free_hours=request.policy.free_hours,
            request_hours=request.policy.request_hours,
            late_cancel_uses_session=request.policy.late_cancel_uses_session,
            updated_at=now,
            updated_by=who.person_id,
        ).check()
        uow.policies.save(policy)
    return _policy_view(policy, now)


def create_default_policy(uow: SchedulingUnit, event: ic.TenantCreated) -> None:
    uow.policies.create_default(event.tenant_id, uow.clock.now())
