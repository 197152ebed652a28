"""The workflows page's views: a workflow's node graph as SVG drawn server-side (layers
left to right, links as curves), our slots highlighted, models named, problems on their
nodes; and the list of problems under it. Follows apps/workflows_state.py."""

import html

import panel as pn

from apps.theme import COLOURS, TYPE
from apps.workflows_state import WorkflowsSession
from trulience.generation.workflow_graph import GraphNode, WorkflowGraph

_C = COLOURS["light"]
NODE_W, COLUMN_GAP, ROW_GAP, LINE_H, HEAD_H = 230, 70, 24, 16, 24
SLOT_FILL, MODEL_FILL, ERROR_STROKE, WARNING_STROKE = "#fff3bf", "#e7f5ff", _C["danger"], "#e8590c"


def _height(node: GraphNode) -> int:
    return HEAD_H + LINE_H * (len(node.inputs) + len(node.problems)) + 8


def _places(graph: WorkflowGraph) -> dict[str, tuple[int, int]]:
    """Each node's top-left corner: its layer's column, below the nodes of its layer."""
    places, tops = {}, {}
    for node in graph.nodes:  # by layer, then row
        top = tops.get(node.layer, 10)
        places[node.id] = (10 + node.layer * (NODE_W + COLUMN_GAP), top)
        tops[node.layer] = top + _height(node) + ROW_GAP
    return places


def _node_svg(node: GraphNode, x: int, y: int) -> str:
    stroke = ERROR_STROKE if node.has_error else WARNING_STROKE if node.problems else _C["border"]
    classes = ["wf-node", f"wf-node-{node.id}"]
    classes += ["wf-node-error"] if node.has_error else []
    classes += ["wf-node-slot"] if node.slots else []
    out = [
        f'<g class="{" ".join(classes)}" data-class-type="{html.escape(node.class_type)}">',
        f'<rect x="{x}" y="{y}" width="{NODE_W}" height="{_height(node)}" rx="6" '
        f'fill="{_C["surface"]}" stroke="{stroke}" stroke-width="{2 if node.problems else 1}"/>',
        f'<text x="{x + 8}" y="{y + 16}" font-weight="600">#{node.id} '
        f"{html.escape(node.title)}</text>",
    ]
    if node.output_slots:
        out.append(
            f'<text class="wf-slot wf-slot-{node.output_slots[0]}" x="{x + NODE_W - 8}" '
            f'y="{y + 16}" text-anchor="end" fill="{_C["accent"]}">'
            f"{html.escape(', '.join(node.output_slots))} ▶</text>"
        )
    line_y = y + HEAD_H
    for item in node.inputs:
        fill = SLOT_FILL if item.slot else MODEL_FILL if item.model is not None else None
        if fill:
            out.append(
                f'<rect x="{x + 2}" y="{line_y}" width="{NODE_W - 4}" height="{LINE_H}" '
                f'fill="{fill}"/>'
            )
        label = f"{item.name}: {item.value}"
        css = "wf-input"
        if item.slot:
            label += f"  [{item.slot}]"
            css += f" wf-slot wf-slot-{item.slot}"
        if item.model is not None:
            css += " wf-model"
        out.append(
            f'<text class="{css}" x="{x + 8}" y="{line_y + 12}">{html.escape(label[:40])}'
            f"<title>{html.escape(label)}</title></text>"
        )
        line_y += LINE_H
    for problem in node.problems:
        colour = ERROR_STROKE if problem.severity == "error" else WARNING_STROKE
        text = f"{'✖' if problem.severity == 'error' else '⚠'} {problem.input_name or ''} "
        text += problem.message
        out.append(
            f'<text class="wf-problem wf-problem-{problem.severity}" x="{x + 8}" '
            f'y="{line_y + 12}" fill="{colour}">{html.escape(text[:40])}'
            f"<title>{html.escape(str(problem))}</title></text>"
        )
        line_y += LINE_H
    out.append("</g>")
    return "".join(out)


def graph_svg(graph: WorkflowGraph) -> str:
    """The whole graph as one SVG element (links first, nodes over them)."""
    places = _places(graph)
    by_id = {n.id: n for n in graph.nodes}
    width = 20 + graph.layers * (NODE_W + COLUMN_GAP)
    height = 20 + max((places[n.id][1] + _height(n) for n in graph.nodes), default=0)
    parts = []
    for edge in graph.edges:
        (sx, sy), (tx, ty) = places[edge.source], places[edge.target]
        row = next(i for i, item in enumerate(by_id[edge.target].inputs) if item.name == edge.input)
        x1, y1 = sx + NODE_W, sy + HEAD_H // 2
        x2, y2 = tx, ty + HEAD_H + LINE_H * row + LINE_H // 2
        mid = (x1 + x2) / 2
        parts.append(
            f'<path class="wf-link" d="M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}" '
            f'fill="none" stroke="{_C["muted"]}" stroke-width="1.2"/>'
        )
    parts += [_node_svg(n, *places[n.id]) for n in graph.nodes]
    return (
        f'<svg class="wf-graph" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" font-family="{TYPE["family"]}" font-size="11">{"".join(parts)}</svg>'
    )


def problems_html(graph: WorkflowGraph, warnings: list[str]) -> str:
    """The problems on no node and the warnings registration stored, as a list."""
    items = [str(p) for p in graph.loose] + [f"at registration: {w}" for w in warnings]
    if not items:
        return ""
    return '<ul class="wf-loose">' + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>"


class GraphView(pn.viewable.Viewer):
    """The opened workflow: its title, the drawn graph (scrolling), its other problems."""

    def __init__(self, session: WorkflowsSession, **params):
        super().__init__(**params)
        self.session = session
        self.title = pn.pane.Markdown("", css_classes=["workflows-title"])
        self.drawing = pn.pane.HTML(
            "",
            css_classes=["workflows-graph"],
            styles={"overflow": "auto"},
            sizing_mode="stretch_width",
        )
        self.loose = pn.pane.HTML("", css_classes=["workflows-problems"])
        self.layout = pn.Column(self.title, self.drawing, self.loose, sizing_mode="stretch_width")
        session.param.watch(self._show, ["graph", "warnings"])
        self._show()

    def _show(self, *_events) -> None:
        session, graph = self.session, self.session.graph
        self.layout.visible = graph is not None
        if graph is None or session.workflow is None:
            return
        w = session.workflow
        checked = f" · checked on {session.checked_on}" if session.checked_on else ""
        models = sorted({m for n in graph.nodes for m in n.models})
        self.title.object = (
            f"### {w.name} v{w.version}{checked}\n"
            f"{len(graph.nodes)} nodes · slots: "
            + (", ".join(s for n in graph.nodes for s in n.slots) or "none")
            + (" · models: " + ", ".join(models) if models else "")
        )
        self.drawing.object = graph_svg(graph)
        self.loose.object = problems_html(graph, session.warnings)

    def __panel__(self) -> pn.Column:
        return self.layout
