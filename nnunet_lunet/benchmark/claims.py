"""The Lean U-Net paper's claims, judged from the benchmark's numbers: ``claims.md`` next to ``benchmark.md``.

Claims (arXiv 2512.03834):

- (a) a LUnet is within 1 Dice point of the default network with over 30x fewer parameters;
- (b) a LUnet beats the linearly scaled U-Net of its size (``<c>_scaled_as_lunetN``);
- (c) a random channel in STAMP's chosen layer does as well as STAMP (at each pruning level both have);
- (d) STAMP prunes the widest layers first (``pruning_order.width_rank_correlation`` of each fold's pruning log, at
  every level 75, 50, 25%); the other pruning criteria present (random in STAMP's layer, widest layer, L1 with and
  without STAMP's per-layer normalisation, uniform random) are shown as controls at the same levels (widest-layer
  pruning gives about 1 by construction, uniform random about 0). A level a fold's validation guard kept it from
  reaching gives no number (the reason counts such folds).

Rule (one per claim row, from the paired per-fold differences ``aggregate.paired_differences``, or for (d) the
per-fold correlations): with fewer than ``MIN_FOLDS`` folds the verdict is "not resolved at this budget"; else
"holds" when every fold is on the claim's side of its bound, "not shown at this budget" when every fold is on the
other side (a few folds cannot show that a claim is false: see below), and "not resolved at this budget" when the folds straddle it (their min-max range crosses the bound). Bounds: (a) a
difference to the default of at least -1 Dice point (``MARGIN``), with parameters (median) at most 1/30 of the
default's; (b) a difference above 0; (c) a difference of at least -1 point; (d) a correlation of at least
``RHO_BOUND``. Two points trained with different budgets are never compared ("not resolved": budgets differ).

``MIN_FOLDS`` = 3 is the paper's number of runs. For a pair with no real difference every fold lands on one side by
chance with probability 2^-n per side (n = 3: 12.5%, a one-sided sign test at p = 0.125), so a verdict on 3 folds
is what the paper's form of evidence can give, not a 5% test; 5 folds bring that chance under 5% (3.1%).
Differences are shown in Dice points (Dice x 100): median [min, max] over the n folds.
"""

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

from nnunet_lunet.benchmark.aggregate import Point, paired_differences, reference_point, spread
from nnunet_lunet.benchmark.labels import LUNET, MATCHED
from nnunet_lunet.benchmark.pruning_order import LEVELS
from nnunet_lunet.benchmark.report import signed_points
from nnunet_lunet.plans.run_names import CRITERIA, criterion_of, short_trainer, suffix_of
from nnunet_lunet.tables import markdown_table

MIN_FOLDS = 3
MARGIN = 0.01  # 1 Dice point on nnU-Net's 0-1 scale
MIN_PARAMETER_RATIO = 30
RHO_BOUND = 0.5
HOLDS, FAILS, OPEN = "holds", "not shown at this budget", "not resolved at this budget"
STAMP = CRITERIA[0][1]
RANDOM_IN_LAYER = CRITERIA[1][1]


@dataclass(frozen=True)
class Verdict:
    claim: str  # "(a)"
    comparison: str  # what was compared, in labels
    verdict: str
    n: int
    numbers: str  # median [min, max]
    budget: str
    why: str


def judge(values: Sequence[float], on_side: Callable[[float], bool], off_side: Callable[[float], bool]) -> str:
    """The module rule on per-fold ``values``."""
    if len(values) < MIN_FOLDS:
        return OPEN
    if all(on_side(v) for v in values):
        return HOLDS
    if all(off_side(v) for v in values):
        return FAILS
    return OPEN


def _spread_text(values: Sequence[float], fmt: Callable[[float], str]) -> str:
    s = spread(values)
    return "" if s is None else f"{fmt(s.median)} [{fmt(s.min)}, {fmt(s.max)}]"


def _why(verdict: str, n: int, bound: str) -> str:
    if n < MIN_FOLDS:
        return f"{n} paired fold(s); {MIN_FOLDS} needed"
    return {HOLDS: f"all {n} folds {bound}", FAILS: f"no fold {bound}",
            OPEN: f"the folds straddle the bound ({bound} on some only)"}[verdict]


def _pair(claim: str, a: Point, b: Point, on_side: Callable[[float], bool], off_side: Callable[[float], bool],
          bound: str, extra: str = "") -> Verdict:
    """A claim row from ``Dice(a) - Dice(b)`` per fold."""
    comparison = f"{a.label} - {b.label}" + extra
    if sorted(a.budgets) != sorted(b.budgets) or len(a.budgets) > 1:
        return Verdict(claim, comparison, OPEN, 0, "", " / ".join(a.budgets + b.budgets),
                       f"budgets differ ({', '.join(a.budgets) or '?'} vs {', '.join(b.budgets) or '?'}): not "
                       f"compared")
    diffs = list(paired_differences(a, b).values())
    verdict = judge(diffs, on_side, off_side)
    return Verdict(claim, comparison, verdict, len(diffs), _spread_text(diffs, signed_points), ", ".join(a.budgets),
                   _why(verdict, len(diffs), bound))


def _none(claim: str, what: str) -> Verdict:
    return Verdict(claim, what, OPEN, 0, "", "", "not among the benchmarked models")


def claim_a(points: Sequence[Point]) -> List[Verdict]:
    ref = reference_point(points)
    if ref is None:
        return [_none("(a)", "LUnet vs default network (no reference row)")]
    ref_size = ref.spread_of("parameters")
    out = []
    for p in points:
        size = p.spread_of("parameters")
        if p.identity.family != LUNET or size is None or ref_size is None:
            continue
        ratio = ref_size.median / size.median
        if ratio > MIN_PARAMETER_RATIO:
            out.append(_pair("(a)", p, ref, lambda d: d >= -MARGIN, lambda d: d < -MARGIN, "within 1 point",
                             f" ({ratio:.0f}x fewer parameters)"))
    return out or [_none("(a)", f"a LUnet with over {MIN_PARAMETER_RATIO}x fewer parameters than the default")]


def claim_b(points: Sequence[Point]) -> List[Verdict]:
    matched = {p.identity.lunet_width: p for p in points if p.identity.family == MATCHED}
    out = [_pair("(b)", p, matched[p.identity.lunet_width], lambda d: d > 0, lambda d: d <= 0, "above 0")
           for p in points if p.identity.family == LUNET and p.identity.lunet_width in matched]
    return out or [_none("(b)", "a LUnetN and the U-Net of LUnetN's size")]


def claim_c(points: Sequence[Point]) -> List[Verdict]:
    stamp = {p.identity.level: p for p in points if p.identity.family == STAMP}
    out = [_pair("(c)", p, stamp[p.identity.level], lambda d: d >= -MARGIN, lambda d: d < -MARGIN,
                 "at least -1 point")
           for p in points if p.identity.family == RANDOM_IN_LAYER and p.identity.level in stamp]
    return out or [_none("(c)", f"{STAMP} and {RANDOM_IN_LAYER} runs at the same level")]


def claim_d(rows: Sequence[Dict[str, object]], base: str) -> List[Verdict]:
    """From the rows' rank correlations (pruning runs of the base configuration) at every level: STAMP, then the
    other criteria as controls (a pruning trainer not named in ``run_names.CRITERIA``, e.g. an l1 one, by its short
    name). A fold whose run did not reach a level (its validation guard stopped it) gives no number there and is
    counted in the verdict's reason."""
    known = [c for _, c in CRITERIA]
    out = []
    for level in LEVELS:
        column = "width_rank_correlation" if level == LEVELS[0] else f"level{level}_width_rank_correlation"
        by_criterion: Dict[str, Dict[str, float]] = {}
        unreached: Dict[str, int] = {}
        budgets: Dict[str, List[str]] = {}
        for row in rows:
            if suffix_of(str(row.get("configuration")), base):
                continue
            criterion = criterion_of(str(row.get("trainer"))) or short_trainer(str(row.get("trainer")))
            rho = row.get(column)
            if rho in (None, ""):
                if row.get(f"level{level}_guard") not in (None, ""):
                    unreached[criterion] = unreached.get(criterion, 0) + 1
                continue
            by_criterion.setdefault(criterion, {})[str(row["fold"])] = float(rho)
            if row.get("budget") and str(row["budget"]) not in budgets.setdefault(criterion, []):
                budgets[criterion].append(str(row["budget"]))
        for criterion in sorted(set(by_criterion) | set(unreached),
                                key=lambda c: (known.index(c) if c in known else len(known), c)):
            rhos = list(by_criterion.get(criterion, {}).values())
            verdict = judge(rhos, lambda r: r >= RHO_BOUND, lambda r: r < RHO_BOUND) if rhos else OPEN
            why = _why(verdict, len(rhos), f"at least {RHO_BOUND}") if rhos else "no fold reached the level"
            if unreached.get(criterion):
                why += f"; {unreached[criterion]} fold(s) did not reach {level}% (validation guard)"
            out.append(Verdict("(d)" if criterion == STAMP else "(d) control",
                               f"{criterion}: rank correlation of layer width and share pruned at {level}%", verdict,
                               len(rhos), _spread_text(rhos, lambda r: f"{r:.2f}") if rhos else "",
                               ", ".join(budgets.get(criterion, [])), why))
    if not any(v.claim == "(d)" for v in out):
        out.insert(0, _none("(d)", f"{STAMP} pruning logs"))
    return out


def judge_claims(points: Sequence[Point], rows: Sequence[Dict[str, object]], base: str) -> List[Verdict]:
    return claim_a(points) + claim_b(points) + claim_c(points) + claim_d(rows, base)


def claims_markdown(verdicts: Sequence[Verdict], title: str, source: Optional[str] = "benchmark.md") -> str:
    table = markdown_table([{"claim": v.claim, "compared": v.comparison, "verdict": v.verdict, "n": v.n,
                             "median [min, max]": v.numbers, "budget": v.budget, "why": v.why} for v in verdicts],
                           ["claim", "compared", "verdict", "n", "median [min, max]", "budget", "why"])
    rule = __doc__.split("Rule (", 1)[1]
    return (f"# {title}\n\n{table}\n\n"
            "(a)-(c): Dice of the first model minus the second's, per fold, in Dice points (x 100). (d): Spearman's "
            "rank correlation, per fold, of a layer's original width and the share of its channels pruned at each "
            "level (75, 50 and 25% of the channels left).\n\n"
            f"Rule ({' '.join(rule.split()).replace('``', '`')}\n" + (f"\nNumbers: {source}.\n" if source else ""))
