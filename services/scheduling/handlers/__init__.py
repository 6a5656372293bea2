"""The scheduling service's use cases: one function per command or query, each in a unit of
work, grouped by use case (one module each). Handlers reach storage through the unit of work's
repositories (`uow.sessions`, ...: `storage/unit.py`), never by building storage classes, so the
same functions run on in-memory fakes (tests/unit/test_scheduling_handlers.py). Shared pieces
are public names of `access` (who reaches what) and `views` (what is answered and recorded).

Who may do what is decided by relationship to the space (rule 5): its coachee, coach or
co-coach; anyone else, a tenant admin included, sees no session (NOT_FOUND). Tenant admins set
the tenant's policy. Everything a person sees of another tenant is their own sessions; a coach's
busy time in other tenants only removes slots, and a coachee's shapes only the slots the coachee
sees (never their coach's view: issue 19).
"""
