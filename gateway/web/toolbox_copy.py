"""A toolbox started from another space's (issue 24's templates, ADR 0018 web addendum).

On a space's toolbox page the coach (or co-coach) picks another space they coach or co-coach
in the same tenant; its tools (removed ones left out) are copied into this space in their order:

- a video room and a note template as they are (label, template text);
- an assessment: a new assignment of the same instrument and version in this space;
- a resource: a new recommendation of the same resource, without the coach's note (their words
  were to another coachee);
- a module: a new assignment of the same module.

Each target is created with the gateway's ordinary methods, as the coach: a target the coach can
no longer recreate (a resource deleted or no longer visible to them, a module or instrument
withdrawn) is skipped and named in the page's report, as is any tool whose creation failed.

Rules: sessions-held and by-hand conditions are copied; an after-tool-done condition is mapped
to the new tool (tools are added so that a tool comes after the one it waits for, then moved
back into the old order); a date belongs to the old coaching's calendar, so it is dropped and
the tool waits for the coach instead (by hand), named in the report so the coach opens it when
they choose. A condition on a tool that was skipped is replaced the same way. States (open,
done, locked by a coach) are not copied: the new space starts from the rules.

`plan_copy` is the pure part (old tools -> ordered steps); `copy_toolbox` carries it out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import grpc

from gateway.api.pb import assessment_pb2 as apb
from gateway.api.pb import content_pb2 as cpb
from gateway.api.pb import spaces_pb2 as spb

from . import library_forms as lf
from . import module_parts as mp
from . import questionnaire_forms as qf
from . import tool_words as tw
from .clients import authed
from .pages import clients

TARGETED = (spb.TOOL_ASSESSMENT, spb.TOOL_RESOURCE, spb.TOOL_MODULE)
# Why a tool was not copied.
GONE = "gone"  # its target can no longer be read in the old space
FAILED = "failed"  # its target or the tool could not be created in the new space


@dataclass(frozen=True)
class Target:
    """What recreates a tool's target: an instrument (id and version), a resource id or a
    module slug, according to the tool's kind."""

    key: str
    version: int = 0


@dataclass
class Step:
    """One tool to add: the old tool, what its target is made from, its rule without the
    after-tool condition (`after`, the old tool it waits for, mapped when added)."""

    old: spb.Tool
    target: Target | None
    rule: spb.ToolRule
    after: str = ""
    date_dropped: str = ""


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)  # in an order that respects `after`
    order: list[str] = field(default_factory=list)  # the old names of the copied, old order
    skipped: list[tuple[spb.Tool, str]] = field(default_factory=list)


def plan_copy(tools: list[spb.Tool], targets: dict[str, Target]) -> Plan:
    """The old toolbox's live tools, in order, as steps: each targeted tool's target looked up
    in `targets` (old target id -> what recreates it; absent: skipped as GONE); a date dropped
    and replaced by "by hand"; a condition on a tool not copied replaced the same way; a tool
    placed after the one it waits for (a cycle, which the service refuses, is broken the same
    way)."""
    plan = Plan()
    live = sorted((t for t in tools if t.state != spb.TOOL_REMOVED), key=lambda t: t.position)
    waiting: list[Step] = []
    for tool in live:
        target = targets.get(tool.target_id) if tool.kind in TARGETED else None
        if tool.kind in TARGETED and target is None:
            plan.skipped.append((tool, GONE))
            continue
        rule = spb.ToolRule(
            after_sessions_held=tool.rule.after_sessions_held, by_hand=tool.rule.by_hand
        )
        step = Step(tool, target, rule, after=tool.rule.after_tool)
        if tool.rule.on_date:
            step.date_dropped = tool.rule.on_date
            step.rule.by_hand = True
        waiting.append(step)
    copied = {s.old.name for s in waiting}
    for step in waiting:
        if step.after and step.after not in copied:
            step.after, step.rule.by_hand = "", True
    placed: set[str] = set()
    while waiting:
        ready = [s for s in waiting if not s.after or s.after in placed]
        if not ready:  # a cycle: its first tool waits for the coach instead
            ready = [waiting[0]]
            ready[0].after, ready[0].rule.by_hand = "", True
        for step in ready:
            plan.steps.append(step)
            placed.add(step.old.name)
            waiting.remove(step)
    plan.order = [t.name for t in live if t.name in placed]
    return plan


# ------------------------------------------------------------------------------ carrying it out


@dataclass
class Report:
    """What the page says after a copy: labels to show, and the tools' ids (the new space's
    tools copied and made to wait by hand, the old space's tools skipped) which carry it across
    the redirect after the POST (`report_query`, `report_from_query`): ids, never labels, go
    in the address, and a reload of the page shows the report again without copying again."""

    copied: list[str] = field(default_factory=list)  # labels
    skipped: list[tuple[str, str]] = field(default_factory=list)  # label, GONE / FAILED
    by_hand: list[str] = field(default_factory=list)  # labels whose date or wait was replaced
    copied_ids: list[str] = field(default_factory=list)  # new tools
    skipped_ids: list[tuple[str, str]] = field(default_factory=list)  # old tool, GONE / FAILED
    by_hand_ids: list[str] = field(default_factory=list)  # new tools


REASONS = (GONE, FAILED)


def report_query(source_id: str, report: Report) -> dict[str, str]:
    """The toolbox page's query arguments that show `report` after the redirect."""
    return {
        "copied_from": source_id,
        "copied": ",".join(report.copied_ids),
        "by_hand": ",".join(report.by_hand_ids),
        "skipped": ",".join(f"{why}.{tool_id}" for tool_id, why in report.skipped_ids),
    }


def report_from_query(
    args: dict[str, str],
    tools: list[spb.Tool],
    old_tools: list[spb.Tool],
    valid: Callable[[str], bool],
) -> Report:
    """The report `report_query` carried, its labels read from the caller's own toolboxes (the
    new space's `tools`, the old space's `old_tools`); ids that are not `valid`, or no longer in
    either toolbox (removed since), are left out."""
    new = {t.tool_id: t.label for t in tools}
    old = {t.tool_id: t.label for t in old_tools}

    def ids(key: str) -> list[str]:
        return [i for i in args.get(key, "").split(",") if valid(i)]

    report = Report()
    report.copied_ids = [i for i in ids("copied") if i in new]
    report.by_hand_ids = [i for i in ids("by_hand") if i in new]
    report.copied = [new[i] for i in report.copied_ids]
    report.by_hand = [new[i] for i in report.by_hand_ids]
    for item in args.get("skipped", "").split(","):
        why, _dot, tool_id = item.partition(".")
        if why in REASONS and valid(tool_id) and tool_id in old:
            report.skipped_ids.append((tool_id, why))
            report.skipped.append((old[tool_id], why))
    return report


def targets_of(space_name: str) -> dict[str, Target]:
    """The old space's targets as the caller reads them: old target id -> what recreates it."""
    found: dict[str, Target] = {}
    for a in qf.assignments_of(space_name):
        found[a.assignment_id] = Target(a.instrument_id, a.version)
    for r in lf.recommendations_of(space_name):
        found[r.recommendation_id] = Target(r.resource_id)
    for m in mp.assignments_of(space_name):
        found[m.assignment_id] = Target(m.slug)
    return found


def existing_targets(space_name: str, taken: set[str]) -> dict[tuple[int, str], list[str]]:
    """The new space's targets not in its toolbox yet, by kind and what they are made from:
    reused rather than made twice (a space's instrument or module is assigned once)."""
    free: dict[tuple[int, str], list[str]] = {}
    for a in qf.assignments_of(space_name):
        if a.assignment_id not in taken:
            free.setdefault((spb.TOOL_ASSESSMENT, a.instrument_id), []).append(a.assignment_id)
    for r in lf.recommendations_of(space_name):
        if r.recommendation_id not in taken:
            free.setdefault((spb.TOOL_RESOURCE, r.resource_id), []).append(r.recommendation_id)
    for m in mp.assignments_of(space_name):
        if m.assignment_id not in taken:
            free.setdefault((spb.TOOL_MODULE, m.slug), []).append(m.assignment_id)
    return free


def make_target(space_name: str, kind: int, target: Target) -> str:
    """A new target in the space, its id."""
    call: Callable[..., object]
    if kind == spb.TOOL_ASSESSMENT:
        call, request_ = (
            clients().assessment.AssignInstrument,
            apb.AssignInstrumentRequest(
                parent=space_name, instrument_id=target.key, version=target.version
            ),
        )
        made: apb.Assignment = authed(clients(), call, request_)
        return made.assignment_id
    if kind == spb.TOOL_RESOURCE:
        call = clients().content.RecommendResource
        recommended: cpb.Recommendation = authed(
            clients(), call, cpb.RecommendResourceRequest(parent=space_name, resource_id=target.key)
        )
        return recommended.recommendation_id
    call = clients().content.AssignModule
    assigned: cpb.ModuleAssignment = authed(
        clients(), call, cpb.AssignModuleRequest(parent=space_name, slug=target.key)
    )
    return assigned.assignment_id


def copy_toolbox(source: spb.Space, space: spb.Space) -> Report:
    """Copy `source`'s toolbox into `space` (both checked as the caller's before the call)."""
    report = Report()
    plan = plan_copy(list(tw.tools_of(source.name).tools), targets_of(source.name))
    report.skipped = [(t.label, why) for t, why in plan.skipped]
    report.skipped_ids = [(t.tool_id, why) for t, why in plan.skipped]
    before = list(tw.tools_of(space.name).tools)
    free = existing_targets(space.name, {t.target_id for t in before if t.target_id})
    new_names: dict[str, str] = {}  # old tool name -> new
    box = clients().toolbox
    for step in plan.steps:
        old = step.old
        rule = spb.ToolRule()
        rule.CopyFrom(step.rule)
        if step.after:
            if step.after in new_names:
                rule.after_tool = new_names[step.after]
            else:  # the tool it waits for failed: it waits for the coach
                rule.by_hand = True
        tool = spb.Tool(kind=old.kind, label=old.label, template=old.template, rule=rule)
        try:
            if step.target is not None:
                reusable = free.get((old.kind, step.target.key), [])
                tool.target_id = (
                    reusable.pop(0) if reusable else make_target(space.name, old.kind, step.target)
                )
            added: spb.Tool = authed(
                clients(), box.AddTool, spb.AddToolRequest(parent=space.name, tool=tool)
            )
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.UNAVAILABLE:  # type: ignore[attr-defined]
                raise
            why = GONE if gone(exc) else FAILED
            report.skipped.append((old.label, why))
            report.skipped_ids.append((old.tool_id, why))
            continue
        new_names[old.name] = added.name
        report.copied.append(old.label)
        report.copied_ids.append(added.tool_id)
        if step.date_dropped or (rule.by_hand and not old.rule.by_hand):
            report.by_hand.append(old.label)
            report.by_hand_ids.append(added.tool_id)
    restore_order(space, [new_names[n] for n in plan.order if n in new_names], len(before))
    return report


def gone(exc: grpc.RpcError) -> bool:
    """Its target no longer exists or is no longer the caller's to use (else: FAILED, as when
    a service has not learnt of the new space yet)."""
    return exc.code() in (  # type: ignore[attr-defined]
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.PERMISSION_DENIED,
    )


def restore_order(space: spb.Space, wanted: list[str], first: int) -> None:
    """Move the copied tools (added in dependency order, after the `first` tools already there)
    back into the old toolbox's order."""
    now = [t.name for t in tw.tools_of(space.name).tools][first:]
    if now == wanted:
        return
    for offset, name in enumerate(wanted):
        authed(
            clients(),
            clients().toolbox.MoveTool,
            spb.MoveToolRequest(name=name, position=first + offset),
        )
