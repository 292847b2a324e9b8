"""From per-sample results to the numbers of a run: metrics with CIs, a table and a plot.

Per problem, only samples whose verification succeeded count (a sample with `error` set was not
judged and is excluded, and counted). pass@k / pass^k / maj@k for a given k use the problems with
at least k judged samples; every metric is the mean over problems with a confidence interval from
`estimators.aggregate`. Problems of the benchmark without any sample (a completions file that
skips them) are in no metric: they are counted and named in a warning, since the metrics then
describe a subset of the benchmark. So are problems whose every sample is unverified
(`counts["problems_unjudged"]`). So are problems an engine run skipped because their prompt does
not fit the model's context (`skipped`): listed with the reason, counted apart (`counts["skipped"]`),
samples of theirs drawn before included (`counts["skipped_samples"]`).
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from typing import Any, Iterable, Mapping, Sequence

from rlvr.benchmarks.estimators import aggregate, maj_at_ks, pass_at_k, pass_hat_k


_FAMILY_RANK = {"pass@": 1, "maj@": 2, "pass^": 3}


def metric_order(name: str) -> tuple[int, int]:
    """Sort key of a metric name: the means first, then pass@k, maj@k, pass^k, each by k.

    >>> sorted(["pass^4", "maj@4", "pass@4", "pass@1", "mean_score", "mean_accuracy"], key=metric_order)
    ['mean_accuracy', 'mean_score', 'pass@1', 'pass@4', 'maj@4', 'pass^4']
    """
    if name == "mean_accuracy":
        return (0, 0)
    if name == "mean_score":
        return (0, 1)
    for family in ("pass@", "maj@", "pass^"):
        if name.startswith(family):
            return (_FAMILY_RANK[family], int(name[len(family):]))
    raise ValueError(f"unknown metric name {name!r}")


def compute_metrics(
    rows: Iterable[Mapping[str, Any]],
    ks: Sequence[int],
    *,
    majority: bool = False,
    task_order: Sequence[str] | None = None,
    confidence: float = 0.95,
    ci_method: str = "normal",
    progress: bool = False,
    skipped: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Metrics of scored samples (dicts with task_id, correct, score, error, completion).

    With `majority`, each problem's answers are grouped into classes and maj@k computed for every k
    at once (`_majority_votes`); `progress` shows that under a bar (a fraction of a second per
    problem at n = 1024 samples, nothing at small n).

    `task_order` is every task of the benchmark (as evaluated): those without any sample are
    counted in `counts["problems_without_samples"]` and warned about; those with samples, none of
    them judged (all unverified), in `counts["problems_unjudged"]`, with their own warning.
    `skipped` (task id -> reason) are problems not sampled on purpose (their prompt does not fit
    the model's context): counted in
    `counts["skipped"]` and warned about with their reason, not as problems without samples. A
    skipped problem is in no metric and no other count even when some of its samples were drawn
    before (a server whose context shrank since): those rows are left out, counted in
    `counts["skipped_samples"]`, so that "the metrics cover the other problems" stays true.

    Returns {"metrics": {name: aggregate-dict}, "counts": {...}, "warnings": [...]}; metric names
    are "pass@k", "pass^k", "maj@k" (when `majority`), "mean_accuracy", "mean_score". Among the
    counts of judged samples, "overlong" were over the length cap and "truncated" were cut off by
    the generation limit (rows with `truncated` set). Unverified samples are counted by error
    text ("excluded_reasons", the five commonest) and by the verdict's kind ("excluded_kinds":
    "sandbox_error" for an outage, "setup_error" or "dataset_error" when the dataset's tests could
    not run, "unknown" for rows without a kind), so a report can tell an outage from bad tests.
    """
    by_task: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    excluded: dict[str, int] = defaultdict(int)
    excluded_kinds: dict[str, int] = defaultdict(int)
    seen: set[str] = set()
    skipped = dict(skipped or {})
    left_out: dict[str, int] = defaultdict(int)  # samples of skipped problems, drawn before they were
    total = 0
    for row in rows:
        if str(row["task_id"]) in skipped:
            left_out[str(row["task_id"])] += 1
            continue
        total += 1
        seen.add(str(row["task_id"]))
        if row.get("error"):
            excluded[str(row.get("error"))[:120]] += 1
            excluded_kinds[str(row.get("kind") or "unknown")] += 1
            continue
        by_task[str(row["task_id"])].append(row)
    order = [t for t in (task_order or sorted(by_task)) if t in by_task]
    warnings: list[str] = []
    problems_total = len(task_order) if task_order is not None else len(seen) + len(skipped)
    unsampled = [t for t in task_order or () if t not in seen and t not in skipped]
    if unsampled:
        warnings.append(_unsampled_warning(unsampled, problems_total, len(order)))
    unjudged = [t for t in (task_order if task_order is not None else sorted(seen)) if t in seen and t not in by_task]
    if unjudged:
        warnings.append(_unjudged_warning(unjudged, problems_total, len(order)))
    if skipped:
        warnings.append(skipped_warning(skipped, problems_total, left_out, covered=len(order)))
    metrics: dict[str, Any] = {}
    alike: list[str] = []  # metrics over 2+ problems that all scored the same: a zero-width interval

    def put(name: str, values: list[float]) -> None:
        if values:
            metrics[name] = aggregate(values, confidence=confidence, method=ci_method)
            if len(values) >= 2 and len(set(values)) == 1:
                alike.append(name)

    put("mean_accuracy", [sum(bool(r["correct"]) for r in by_task[t]) / len(by_task[t]) for t in order])
    put("mean_score", [sum(float(r["score"]) for r in by_task[t]) / len(by_task[t]) for t in order])
    maj = _majority_votes(by_task, order, ks, progress) if majority else {}
    for k in ks:
        usable = [t for t in order if len(by_task[t]) >= k]
        if len(usable) < len(order):
            warnings.append(f"k={k}: {len(order) - len(usable)} of {len(order)} problems have fewer than {k} judged samples and are left out of pass@{k}")
        if not usable:
            continue
        counts = [(len(by_task[t]), sum(bool(r["correct"]) for r in by_task[t])) for t in usable]
        put(f"pass@{k}", [pass_at_k(n, c, k) for n, c in counts])
        if k > 1:  # pass^1 is pass@1
            put(f"pass^{k}", [pass_hat_k(n, c, k) for n, c in counts])
        if majority:
            put(f"maj@{k}", [maj[t][k] for t in usable])
    metrics = {name: metrics[name] for name in sorted(metrics, key=metric_order)}
    if any(m["ci_low"] is None for m in metrics.values()):
        warnings.append(_no_interval_warning(metrics))
    if alike:
        warnings.append(_zero_width_warning({name: metrics[name] for name in metrics if name in alike}))
    judged = sum(len(v) for v in by_task.values())
    counts_out = {
        "samples": total,
        "judged": judged,
        "excluded": total - judged,
        "excluded_reasons": dict(sorted(excluded.items(), key=lambda kv: -kv[1])[:5]),
        "excluded_kinds": dict(sorted(excluded_kinds.items(), key=lambda kv: -kv[1])),
        "overlong": sum(r.get("kind") == "overlong" for v in by_task.values() for r in v),
        "truncated": sum(bool(r.get("truncated")) for v in by_task.values() for r in v),
        "problems": len(order),
        "problems_total": problems_total,
        "problems_without_samples": len(unsampled),
        "problems_unjudged": len(unjudged),
        "skipped": len(skipped),
        "skipped_samples": sum(left_out.values()),
        "samples_per_problem": {"min": min((len(v) for v in by_task.values()), default=0),
                                "max": max((len(v) for v in by_task.values()), default=0)},
    }
    return {"metrics": metrics, "counts": counts_out, "warnings": warnings}


def _no_interval_warning(metrics: Mapping[str, Mapping[str, Any]]) -> str:
    """The warning for metrics computed over a single problem: they have no confidence interval
    (the spread over problems needs two), shown as "n/a" and null in summary.json."""
    names = [name for name, m in metrics.items() if m["ci_low"] is None]
    which = "every metric is" if len(names) == len(metrics) else f"{', '.join(names)} {'is' if len(names) == 1 else 'are'}"
    return (f"{which} over a single problem: no confidence interval "
            f"(the spread over problems needs at least 2), shown as n/a and null in the summary's \"ci\"")


def _zero_width_warning(alike: Mapping[str, Mapping[str, Any]]) -> str:
    """The warning for metrics whose P >= 2 problems all scored the same: their interval has zero
    width (no spread over problems to measure), which would read as certainty, though it says
    nothing about how much the score would vary over other problems. The numbers are kept."""
    listed = ", ".join(f"{name} ({m['mean']:.4g} on each of {m['problems']} problems)" for name, m in alike.items())
    return (f"zero-width confidence interval for {listed}: every problem scored the same, so the interval "
            f"says nothing about the spread over problems (more, or more varied, problems would)")


#: What `judged_by` counts a sample under when its row records no sandbox (written by an older
#: `rlvr eval`, before rows named their sandbox).
UNRECORDED = "unrecorded"


def judged_by(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """How many samples each sandbox scored (an unverified sample: failed to score), by the label
    its row records (`rlvr.benchmarks.identity.sandbox_label`), commonest first; rows without one
    count as `UNRECORDED`. A resumed run's samples may come from several runs, each with its own
    sandbox: this, not the current run's sandbox, says what judged them."""
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[str(row.get("sandbox") or UNRECORDED)] += 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def with_judging_backend(fingerprint: Any, judges: Mapping[str, int]) -> Any:
    """`fingerprint` with every `sandbox_backend` replaced by the backend of the samples' sandboxes
    (`judges`, from `judged_by`): that backend when one judged them all, "mixed (...; see
    judged_by)" when several did, None when there is no sample. The env's own value is the backend
    of the run that wrote the summary, which may have scored none of them; for the same reason its
    `sandbox` details (the limits and interpreter or image of that run's sandbox) are left out: each
    row's `sandbox` says what judged it. `env_digest` is made again from the rewritten env record, so
    that it is the digest of the record it stands beside."""
    names = sorted({label.split(" (", 1)[0] for label in judges})
    backend = None if not names else names[0] if len(names) == 1 else f"mixed ({', '.join(names)}; see judged_by)"

    def replace(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: backend if k == "sandbox_backend" else replace(v) for k, v in value.items() if k != "sandbox"}
        if isinstance(value, list):
            return [replace(v) for v in value]
        return value

    rewritten = replace(fingerprint)
    if isinstance(rewritten, dict) and isinstance(rewritten.get("env"), dict) and "env_digest" in rewritten:
        from rlvr.envs.fingerprint import Fingerprint

        rewritten["env_digest"] = Fingerprint(rewritten["env"]).digest  # the digest of the env record beside it
    return rewritten


def _majority_votes(by_task: Mapping[str, Sequence[Mapping[str, Any]]], order: Sequence[str], ks: Sequence[int],
                    progress: bool) -> dict[str, dict[int, float]]:
    """{task: {k: maj@k}} for the k each problem has samples for, under a progress bar (tqdm on
    stderr, counting problems) when `progress`."""
    from tqdm.auto import tqdm

    from rlvr.benchmarks.majority import answer_classes

    votes: dict[str, dict[int, float]] = {}
    with tqdm(order, desc="maj@k", unit="problem", disable=not progress or not order, file=sys.stderr,
              dynamic_ncols=True) as bar:
        for t in bar:
            samples = by_task[t]
            correct = [bool(r["correct"]) for r in samples]
            classes = answer_classes([str(r.get("completion", "")) for r in samples], correct,
                                     kinds=[r.get("kind") for r in samples])
            usable = [k for k in ks if k <= len(samples)]
            votes[t] = dict(zip(usable, maj_at_ks(classes, correct, usable)))
    return votes


def covered_problems(covered: int, total: int, left_out: int) -> str:
    """How a message about `left_out` of `total` problems names the `covered` ones the metrics are
    over (`counts["problems"]`, the table title's X of Y): "the other N problems" when these are all
    that is missing, else "N of the M problems". Problems can be left out for several reasons at
    once (no sample, none verified, skipped), so "the total less mine" may not be the covered count,
    and every message about one reason must give the same count."""
    if covered == total - left_out:
        return f"the other {covered} problem{'s' if covered != 1 else ''}"
    return f"{covered} of the {total} problems"


def _unsampled_warning(unsampled: Sequence[str], total: int, covered: int) -> str:
    """The warning for problems that have no sample at all, naming the first few; `covered`: the
    problems the metrics are over (`covered_problems`)."""
    shown = ", ".join(repr(t) for t in unsampled[:5]) + (", ..." if len(unsampled) > 5 else "")
    return (f"{len(unsampled)} of {total} problems have no sample ({shown}) and are left out of every metric: "
            f"the numbers describe {covered_problems(covered, total, len(unsampled))} only (give completions for "
            f"every problem; --limit N evaluates the first N problems only)")


def _unjudged_warning(unjudged: Sequence[str], total: int, covered: int) -> str:
    """The warning for problems that have samples but not one judged (all unverified), naming the
    first few; `covered`: the problems the metrics are over (`covered_problems`)."""
    shown = ", ".join(repr(t) for t in unjudged[:5]) + (", ..." if len(unjudged) > 5 else "")
    return (f"{len(unjudged)} of {total} problems have no verified sample ({shown}: every sample of theirs is "
            f"UNVERIFIED) and are left out of every metric: the numbers describe "
            f"{covered_problems(covered, total, len(unjudged))} only (see the unverified samples' reasons: once "
            f"they can be verified, a rerun in the same folder scores them)")


def skipped_warning(skipped: Mapping[str, str], total: int, left_out: Mapping[str, int] | None = None, *,
                    covered: int | None = None) -> str:
    """The warning for problems skipped because their prompt does not fit the model's context,
    naming the first few with their reason; `left_out` (task id -> number): their samples drawn
    before, which no metric counts; `covered`: the problems the metrics are over (None: all the
    others; `covered_problems`)."""
    ids = list(skipped)
    shown = "; ".join(f"{t!r}: {skipped[t]}" for t in ids[:3]) + ("; ..." if len(ids) > 3 else "")
    earlier = sum((left_out or {}).values())
    dropped = (f"; the {earlier} sample{'s' if earlier != 1 else ''} drawn for {sum(1 for t in ids if (left_out or {}).get(t))} of them before "
               "(when their prompt still fitted) are left out too") if earlier else ""
    return (f"{len(ids)} of {total} problems were SKIPPED, their prompt being longer than the model's context allows "
            f"({shown}){dropped}; the metrics are over "
            f"{covered_problems(total - len(ids) if covered is None else covered, total, len(ids))} only "
            f"(summary.json lists them under \"skipped\"; a rerun in this folder skips them again: use a model with a longer context, in "
            f"another --out, to evaluate them)")


def format_table(metrics: Mapping[str, Mapping[str, Any]], title: str = "") -> str:
    """A plain-text table: metric, value, CI, number of problems."""
    lines = []
    if title:
        lines.append(title)
    header = f"{'metric':<14} {'value':>8}   {'95% CI':<19} {'problems':>8}"
    lines += [header, "-" * len(header)]
    for name, m in metrics.items():
        conf = int(round(float(m.get("confidence", 0.95)) * 100))
        ci = "n/a" if m["ci_low"] is None else f"[{m['ci_low']:.4f}, {m['ci_high']:.4f}]"
        lines.append(f"{name:<14} {m['mean']:>8.4f}   {ci:<19} {m['problems']:>8}" + ("" if conf == 95 else f"  ({conf}% CI)"))
    return "\n".join(lines)


def plot_pass_at_k(metrics: Mapping[str, Mapping[str, Any]], path: str, title: str = "") -> str:
    """PNG of pass@k (and pass^k, maj@k when present) against k, with CI bars, written atomically;
    returns the path."""
    _save_atomically(pass_at_k_figure(metrics, title), path)
    return path


def pass_at_k_figure(metrics: Mapping[str, Mapping[str, Any]], title: str = "") -> Any:
    """The matplotlib Figure of :func:`plot_pass_at_k` (built without pyplot: no global state to
    close). At most `MAX_K_LABELS` k are labelled, and each line of a long title is shortened in its
    middle. A point computed over fewer problems than the plot's largest count (each metric's
    "problems") is hollow, its pass@k labelled "n of N", and a title line names the smallest subset:
    pass@k at larger k can leave out the problems with fewer samples, often the hard ones."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), dpi=100)
    ax = fig.add_subplot()
    all_ks: set[int] = set()
    most = max((int(m["problems"]) for m in metrics.values() if "problems" in m), default=0)
    fewer: dict[int, int] = {}  # k -> its problems, for the k computed over fewer than `most`
    for prefix, style in (("pass@", "o-"), ("maj@", "s--"), ("pass^", "^:")):
        points = sorted((int(name[len(prefix):]), m) for name, m in metrics.items() if name.startswith(prefix))
        if not points:
            continue
        ks = [k for k, _ in points]
        all_ks.update(ks)
        means = [m["mean"] for _, m in points]
        line = ax.errorbar(ks, means, yerr=_error_bars(points), fmt=style, capsize=3, label=prefix + "k").lines[0]
        subset = [(k, m) for k, m in points if int(m.get("problems", most)) < most]
        if subset:
            _mark_subset(ax, line, subset, most, annotate=prefix == "pass@")
            fewer.update((k, int(m["problems"])) for k, m in subset)
    if fewer:  # the curve may climb only because the hard problems (the fewest samples) dropped out
        k = max(fewer)
        note = f"hollow points: fewer problems (pass@{k} over {fewer[k]} of {most})"
        title = f"{title}\n{note}" if title else note
    ticks = sorted(all_ks)
    if len(ticks) > 1 and max(ticks) / min(ticks) >= 4:
        ax.set_xscale("log", base=2)
    labelled = _tick_labels(ticks)
    ax.set_xticks(labelled)
    ax.set_xticklabels([str(k) for k in labelled])
    ax.minorticks_off()
    ax.set_xlabel("k")
    ax.set_ylabel("score")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(True, alpha=0.3)
    ax.legend()
    if title:
        ax.set_title("\n".join(_fitting_title(part) for part in title.split("\n")), fontsize=10)
    fig.tight_layout()
    return fig


def _error_bars(points: Sequence[tuple[int, Mapping[str, Any]]]) -> list[list[float]] | None:
    """The [below, above] error bar lengths of the points; NaN (no bar) for a point without a
    confidence interval (a metric over one problem), None when no point has one."""
    if all(m["ci_low"] is None for _, m in points):
        return None
    nan = float("nan")
    return [[nan if m["ci_low"] is None else m["mean"] - m["ci_low"] for _, m in points],
            [nan if m["ci_high"] is None else m["ci_high"] - m["mean"] for _, m in points]]


#: The gid of the hollow markers and "n of N" labels `_mark_subset` adds (for tests and tools).
SUBSET_GID = "fewer-problems"


def _mark_subset(ax: Any, line: Any, points: Sequence[tuple[int, Mapping[str, Any]]], most: int, *,
                 annotate: bool) -> None:
    """Draw `points` (k, metric) of `line` hollow and, when `annotate`, label each "n of N": they are
    computed over fewer problems than the plot's others (those with fewer than k judged samples are
    left out of pass@k), so a point's rise may come from the problems it lost, not from k."""
    ks = [k for k, _ in points]
    means = [m["mean"] for _, m in points]
    ax.plot(ks, means, linestyle="none", marker=line.get_marker(), markersize=line.get_markersize(),
            markerfacecolor="white", markeredgecolor=line.get_color(), zorder=line.get_zorder() + 1, gid=SUBSET_GID)
    if annotate:
        for k, m in points:
            ax.annotate(f"{int(m['problems'])} of {most}", (k, m["mean"]), textcoords="offset points",
                        xytext=(-5, -11), ha="right", fontsize=7, gid=SUBSET_GID)


#: Most k labelled on the x axis: past this, labels run into each other (`--k 1,2,...,16`).
MAX_K_LABELS = 8
#: Most characters of a plot title at the figure's width; a longer one is shortened in its middle.
MAX_TITLE_CHARS = 60


def _tick_labels(ks: list[int]) -> list[int]:
    """The k to label: all of them when few; else the powers of 2 among them (the log axis's
    natural marks) with the smallest and largest k, thinned evenly if still too many."""
    if len(ks) <= MAX_K_LABELS:
        return ks
    chosen = sorted({ks[0], ks[-1], *(k for k in ks if k & (k - 1) == 0)})
    if len(chosen) > MAX_K_LABELS:
        step = -(-len(chosen) // MAX_K_LABELS)
        chosen = sorted({*chosen[::step], chosen[-1]})
    return chosen


def _fitting_title(title: str) -> str:
    """`title` shortened in the middle to fit the plot's width (a long model path otherwise ran
    off both sides, hiding the benchmark's name and the checkpoint's step)."""
    if len(title) <= MAX_TITLE_CHARS:
        return title
    keep = MAX_TITLE_CHARS - 1
    return title[: keep // 2] + "…" + title[len(title) - (keep - keep // 2):]


def _save_atomically(fig: Any, path: str) -> None:
    """Save `fig` to a temporary file next to `path`, then rename it over `path`: an interrupted run
    never leaves a half-written image."""
    fmt = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        fig.savefig(tmp, format=fmt)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
