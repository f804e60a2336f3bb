"""The one graph of every output across kinds and entities: evaluation order, cycles with
their path, and dependency levels. Over IR names only, so lowering (which reports cycles)
and planning (which computes outputs level by level) share it.

With an account the levels interleave entities: an account output reads the lead outputs
its roll-ups read (in their value or `where`), and a lead output reading an account output
comes after it, so a lead score may sit above an account tier that sits above a lead
composite."""

from __future__ import annotations

from dataclasses import dataclass

from . import ir

# Output kinds in the order the IR lists them: each reads only its own kind and earlier ones.
KINDS = ("score", "composite", "tier", "percentile_tier", "matrix", "flag")


@dataclass(frozen=True)
class Output:
    """A node of the output graph: an output of an entity and the outputs it reads (of any
    entity: a roll-up reads lead outputs, `account.X` an account output)."""

    name: str
    kind: str
    reads: tuple[str, ...] = ()
    entity: str = ir.LEAD


@dataclass(frozen=True)
class OutputGraph:
    """Every output of every entity, kinds in KINDS order and each kind in declaration
    order, with the outputs each reads (by name: output names are one namespace)."""

    outputs: tuple[Output, ...]

    def walk(self) -> tuple[tuple[Output, ...], tuple[tuple[Output, ...], ...]]:
        """The evaluation order (each output after what it reads; depth first from each
        output in turn, so each kind keeps its declaration order where it can) and every
        cycle found, as its path back to where it started."""
        by_name = {o.name: o for o in self.outputs}
        order: list[Output] = []
        cycles: list[tuple[Output, ...]] = []
        state: dict[str, str] = {}

        def visit(output: Output, path: list[Output]) -> None:
            if state.get(output.name) == "done":
                return
            if state.get(output.name) == "active":
                start = [o.name for o in path].index(output.name)
                cycles.append((*path[start:], output))
                return
            state[output.name] = "active"
            for name in output.reads:
                if name in by_name:
                    visit(by_name[name], [*path, output])
            state[output.name] = "done"
            order.append(output)

        for output in self.outputs:
            visit(output, [])
        return tuple(order), tuple(cycles)

    def levels(self) -> tuple[tuple[Output, ...], ...]:
        """The outputs by dependency level (what reads nothing is level 0, anything else one
        above the highest it reads), in evaluation order: a level's outputs can be computed
        together. Only for a graph without cycles."""
        order = self.walk()[0]
        level: dict[str, int] = {}
        for output in order:
            level[output.name] = 1 + max((level[r] for r in output.reads if r in level), default=-1)
        grouped: list[list[Output]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
        for output in order:
            grouped[level[output.name]].append(output)
        return tuple(tuple(outputs) for outputs in grouped)


def output_refs(expr: ir.Expr) -> tuple[str, ...]:
    """The outputs an expression reads, first use first (a function call names none)."""
    refs = (
        n.name
        for n in ir.subexpressions(expr)
        if isinstance(n, ir.ScoreRef | ir.TierRef | ir.MatrixRef | ir.FlagRef)
    )
    return tuple(dict.fromkeys(refs))


def score_refs(score: ir.Score) -> tuple[str, ...]:
    """The outputs a rule-based score's rules read: account outputs from a lead score, lead
    outputs inside an account score's roll-ups."""
    refs = (
        name
        for rule in score.rules
        if not isinstance(rule, ir.EachRule)
        for name in output_refs(rule.condition)
    )
    return tuple(dict.fromkeys(refs))


def output_graph(model: ir.Model) -> OutputGraph:
    """The graph of a model's outputs, as the IR lists them."""
    return OutputGraph(
        (
            *(Output(s.name, "score", score_refs(s), s.entity) for s in model.scores),
            *(Output(c.name, "composite", output_refs(c.expr), c.entity) for c in model.composites),
            *(Output(t.name, "tier", (t.source,), t.entity) for t in model.tiers),
            *(
                Output(t.name, "percentile_tier", (t.source,), t.entity)
                for t in model.percentile_tiers
            ),
            *(Output(m.name, "matrix", (m.rows, m.columns), m.entity) for m in model.matrices),
            *(Output(f.name, "flag", output_refs(f.condition), f.entity) for f in model.flags),
        )
    )
