"""The service map's drawing: a deterministic layered layout (callers left of callees) as SVG numbers.

Layers come from a breadth-first walk from the services nobody calls (for a cycle with no such
entry, from its busiest service); within a layer, busiest first. Edges are cubic curves from a
caller's right side to a callee's left side; calls that go back or stay within a layer bend below.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from scrywatch.models.traces import ServiceEdge, ServiceStats

NODE_W, NODE_H = 184, 74
COL_GAP, ROW_GAP = 96, 34
PAD = 24
MAX_LABEL_CHARS = 24


@dataclass(frozen=True)
class Node:
    name: str
    label: str  # the name cut to fit the box
    x: float
    y: float
    color: int
    stats: ServiceStats | None  # None: seen only as an edge end in this window
    error_rate: float  # 0..1
    health: str  # ok | warn | bad


@dataclass(frozen=True)
class Link:
    source: str
    target: str
    count: int
    path: str  # SVG path data
    label_x: float
    label_y: float


@dataclass(frozen=True)
class MapDrawing:
    width: float
    height: float
    nodes: list[Node]
    links: list[Link]
    node_w: int = NODE_W
    node_h: int = NODE_H

    def node(self, name: str) -> Node | None:
        return next((n for n in self.nodes if n.name == name), None)


def health(rate: float) -> str:
    return "bad" if rate >= 0.05 else "warn" if rate >= 0.01 else "ok"


def layers(names: list[str], edges: list[ServiceEdge], busy: dict[str, int]) -> dict[str, int]:
    """Each service's column: its distance from an entry service."""
    calls: dict[str, list[str]] = {n: [] for n in names}
    called = set()
    for e in edges:
        if e.source != e.target:
            calls[e.source].append(e.target)
            called.add(e.target)
    depth: dict[str, int] = {}
    by_busy = sorted(names, key=lambda n: (-busy.get(n, 0), n))
    starts = [n for n in by_busy if n not in called]
    for seed in [*starts, *by_busy]:  # a cycle nobody enters starts its own walk, in the first column
        if seed in depth:
            continue
        depth[seed] = 0
        queue = deque([seed])
        while queue:
            here = queue.popleft()
            for nxt in sorted(calls[here], key=lambda n: (-busy.get(n, 0), n)):
                if nxt not in depth:
                    depth[nxt] = depth[here] + 1
                    queue.append(nxt)
    return depth


def _curve(a: Node, b: Node) -> tuple[str, float, float]:
    """Path data and label point of an edge from a to b."""
    if b.x > a.x:
        x1, y1, x2, y2 = a.x + NODE_W, a.y + NODE_H / 2, b.x, b.y + NODE_H / 2
        dx = (x2 - x1) / 2
        c1, c2 = (x1 + dx, y1), (x2 - dx, y2)
    else:  # back or sideways: leave from the bottom, bend below, arrive at the bottom
        x1, y1, x2, y2 = a.x + NODE_W * 0.6, a.y + NODE_H, b.x + NODE_W * 0.4, b.y + NODE_H
        drop = ROW_GAP * 0.9 + abs(x2 - x1) * 0.15
        c1, c2 = (x1, max(y1, y2) + drop), (x2, max(y1, y2) + drop)
    mx = (x1 + 3 * c1[0] + 3 * c2[0] + x2) / 8
    my = (y1 + 3 * c1[1] + 3 * c2[1] + y2) / 8
    d = f"M{x1:.1f},{y1:.1f} C{c1[0]:.1f},{c1[1]:.1f} {c2[0]:.1f},{c2[1]:.1f} {x2:.1f},{y2:.1f}"
    return d, round(mx, 1), round(my, 1)


def layout(services: list[ServiceStats], edges: list[ServiceEdge], *,
           colors: dict[str, int] | None = None) -> MapDrawing:
    """Positions of every service (those in the stats, then edge ends not in them) and every edge;
    `colors`: the project's service colors (by default, in the order of `services`)."""
    stats = {s.service: s for s in services}
    names = [s.service for s in services]
    for e in edges:
        for n in (e.source, e.target):
            if n not in stats and n not in names:
                names.append(n)
    busy = {s.service: s.request_count for s in services}
    palette = {n: i % 10 for i, n in enumerate(names)} | (colors or {})
    depth = layers(names, edges, busy)
    columns: dict[int, list[str]] = {}
    for n in sorted(names, key=lambda n: (-busy.get(n, 0), n)):
        columns.setdefault(depth[n], []).append(n)
    rows = max((len(c) for c in columns.values()), default=0)
    height = PAD * 2 + rows * NODE_H + max(0, rows - 1) * ROW_GAP + ROW_GAP  # room for curves below
    nodes: dict[str, Node] = {}
    for col, members in sorted(columns.items()):
        offset = (rows - len(members)) * (NODE_H + ROW_GAP) / 2  # center short columns
        for i, n in enumerate(members):
            s = stats.get(n)
            rate = s.error_count / s.request_count if s and s.request_count else 0.0
            label = n if len(n) <= MAX_LABEL_CHARS else n[: MAX_LABEL_CHARS - 1] + "…"
            nodes[n] = Node(name=n, label=label, x=PAD + col * (NODE_W + COL_GAP),
                            y=PAD + offset + i * (NODE_H + ROW_GAP), color=palette[n], stats=s,
                            error_rate=rate, health=health(rate))
    links = []
    for e in sorted(edges, key=lambda e: (-e.count, e.source, e.target)):
        if e.source == e.target:
            continue  # a service calling itself: counted in its stats, not drawn
        d, lx, ly = _curve(nodes[e.source], nodes[e.target])
        links.append(Link(source=e.source, target=e.target, count=e.count, path=d, label_x=lx, label_y=ly))
    width = PAD * 2 + len(columns) * NODE_W + max(0, len(columns) - 1) * COL_GAP
    return MapDrawing(width=max(width, NODE_W + PAD * 2), height=height, nodes=list(nodes.values()), links=links)
