"""The spaces service's use cases: one function per command or query, each in a unit of work,
grouped by use case (one module each). Handlers reach storage through the unit of work's
repositories (`uow.spaces`, ...: `storage/unit.py`), never by building storage classes. Shared
pieces are public names of `access` (who reaches what), `views` (what is answered and recorded)
and `set_ups` (who a space's participants are).

Who may do what is decided by relationship to the space (rule 5): its coachee, coach or
co-coach, and the tenant's admins for its set-up; anyone else, another tenant's member included,
gets NOT_FOUND.
"""
