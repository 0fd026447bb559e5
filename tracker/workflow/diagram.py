"""A workflow drawn: as text for the command line, as SVG for the administration page.

Pure: no Flask, no database. The SVG places states in columns by their distance from the first
state, and draws each transition as an arrow labelled with its key (its title on hover).
"""

from __future__ import annotations

from collections import deque
from html import escape

from tracker.workflow.definitions import (
    RETURN_FROM_REJECTION,
    RETURN_TO_PREVIOUS,
    SAME_STATE,
    Workflow,
)

SPECIAL = {
    RETURN_TO_PREVIOUS: "back to where it was before",
    RETURN_FROM_REJECTION: "back to where it was rejected",
    SAME_STATE: "stays",
}


def text_diagram(workflow: Workflow) -> str:
    """Each state, then the ways out of it: ``--key (roles)--> target``."""
    lines = [f"{workflow.key}: {workflow.label['en']}", f"starts in: {workflow.initial}", ""]
    for key in workflow.ordered_states():
        state = workflow.states[key]
        flags = [
            f
            for f, on in (("terminal", state.terminal), ("applicant edits", state.applicant_edits))
            if on
        ]
        groups = sorted(name for name, members in workflow.groups.items() if key in members)
        lines.append(f"[{key}] {state.label['en']}" + (f"  ({', '.join(flags)})" if flags else ""))
        if groups:
            lines.append(f"    groups: {', '.join(groups)}")
        for transition in workflow.transitions_from(key):
            target = SPECIAL.get(transition.target, transition.target)
            extras = []
            if transition.guards:
                extras.append("if " + ", ".join(transition.guards))
            if transition.effects:
                extras.append("then " + ", ".join(transition.effects))
            if transition.inputs:
                extras.append("asks " + ", ".join(transition.inputs))
            if transition.requires_reason:
                extras.append("reason required")
            lines.append(
                f"    --{transition.key} ({', '.join(sorted(transition.roles))})--> {target}"
                + (f"   [{'; '.join(extras)}]" if extras else "")
            )
        lines.append("")
    return "\n".join(lines)


def _columns(workflow: Workflow) -> dict[str, int]:
    depth = {workflow.initial: 0}
    queue = deque([workflow.initial])
    while queue:
        state = queue.popleft()
        for transition in workflow.transitions_from(state):
            target = transition.target
            if target in workflow.states and target not in depth:
                depth[target] = depth[state] + 1
                queue.append(target)
    for key in workflow.states:
        depth.setdefault(key, max(depth.values(), default=0) + 1)
    return depth


def svg_diagram(workflow: Workflow, labels: dict[str, str] | None = None) -> str:
    """The workflow as an SVG image (states as boxes, transitions as arrows)."""
    labels = labels or {}
    depth = _columns(workflow)
    columns: dict[int, list[str]] = {}
    for key in workflow.ordered_states():
        columns.setdefault(depth[key], []).append(key)
    box_w, box_h, gap_x, gap_y, margin = 150, 40, 70, 26, 20
    position = {}
    for column, keys in columns.items():
        for row, key in enumerate(keys):
            position[key] = (
                margin + column * (box_w + gap_x),
                margin + row * (box_h + gap_y),
            )
    width = margin * 2 + (max(columns) + 1) * (box_w + gap_x)
    height = margin * 2 + max(len(k) for k in columns.values()) * (box_h + gap_y)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="wf-title" class="workflow-diagram">',
        f'<title id="wf-title">{escape(str(workflow.label))}</title>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#495057"/></marker></defs>',
    ]
    for transition in workflow.transitions.values():
        if transition.target not in workflow.states:
            continue
        x2, y2 = position[transition.target]
        for source in sorted(transition.sources):
            x1, y1 = position[source]
            if source == transition.target:
                continue
            start = (x1 + box_w, y1 + box_h / 2) if x2 > x1 else (x1, y1 + box_h / 2)
            end = (x2, y2 + box_h / 2) if x2 > x1 else (x2 + box_w, y2 + box_h / 2)
            if x1 == x2:
                start, end = (
                    (x1 + box_w / 2, y1 + (box_h if y2 > y1 else 0)),
                    (
                        x2 + box_w / 2,
                        y2 + (0 if y2 > y1 else box_h),
                    ),
                )
            title = escape(labels.get(transition.key, transition.key))
            parts.append(
                f'<line x1="{start[0]:.0f}" y1="{start[1]:.0f}" x2="{end[0]:.0f}" y2="{end[1]:.0f}" '
                f'stroke="#6c757d" stroke-width="1.2" marker-end="url(#arrow)">'
                f"<title>{title}</title></line>"
            )
    for key, (x, y) in position.items():
        state = workflow.states[key]
        fill = (
            "#e9ecef"
            if not state.terminal
            else "#f8d7da"
            if key in workflow.group("rejected")
            else "#d1e7dd"
        )
        parts.append(
            f'<g><rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="6" fill="{fill}" '
            f'stroke="#343a40"/><text x="{x + box_w / 2:.0f}" y="{y + box_h / 2 + 4:.0f}" '
            f'text-anchor="middle" font-size="12" font-family="sans-serif" fill="#212529">'
            f"{escape(labels.get(key, key))[:24]}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)
