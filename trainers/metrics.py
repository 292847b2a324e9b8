"""Where training metrics go: a terminal progress bar, a JSONL file, TensorBoard and a PNG plot.

:class:`MetricsLogger` takes one flat dict of numbers per step. Each sink is optional and a missing
optional package (tensorboard) is reported once, never fatal. :func:`plot_curves` draws reward and
accuracy curves from the JSONL file with matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

import json
import math
import os
import sys
import warnings
from pathlib import Path
from typing import Any, Mapping

__all__ = ["MetricsLogger", "read_jsonl", "plot_curves", "curves_figure", "reward_axis_limits"]

#: Metrics shown next to the progress bar.
BAR_KEYS = ("reward_mean", "accuracy", "response_length", "kl", "entropy", "eval/pass@1")


def _clean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value if math.isfinite(value) else str(value)
    if hasattr(value, "item"):
        return _clean(value.item())
    return value


class MetricsLogger:
    """Writes each step's metrics to the sinks that are switched on.

    ``start_step`` > 0 resumes: JSONL lines of later steps (written after the last checkpoint) are
    dropped so a resumed run's log has exactly one line per step. The file is rewritten only when
    something must go (a later step, a torn line), into a temporary file renamed over it: a kill
    or Ctrl-C meanwhile leaves the old file whole. ``start_step`` 0 starts an empty file.
    """

    def __init__(
        self,
        output_dir: str | Path,
        total_steps: int,
        *,
        progress: bool = True,
        jsonl: bool = True,
        tensorboard: bool = True,
        start_step: int = 0,
    ) -> None:
        self.dir = Path(output_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.jsonl_path = self.dir / "metrics.jsonl" if jsonl else None
        #: the last step of the rows kept from an earlier session (None: none kept)
        self.last_kept_step: int | None = None
        if self.jsonl_path is not None:
            self.last_kept_step = _truncate_jsonl(self.jsonl_path, start_step)
        self.tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                # a resumed run hides the events logged after its checkpoint's step, a fresh one every
                # earlier event (those of a run stopped before its first step, whose folder a rerun
                # reuses without log.overwrite): TensorBoard purges them from the view
                self.tb = SummaryWriter(str(self.dir / "tensorboard"), purge_step=start_step + 1 if start_step else 0)
            except Exception as exc:  # tensorboard not installed: say so once, keep training
                warnings.warn(f"TensorBoard logging is off ({exc}); pip install tensorboard to enable it")
        self.bar = None
        if progress:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total_steps, initial=start_step, desc="train", unit="step", dynamic_ncols=True, file=sys.stderr)

    def log(self, step: int, metrics: Mapping[str, Any]) -> None:
        row = {"step": int(step), **{k: _clean(v) for k, v in metrics.items()}}
        if self.jsonl_path is not None:
            with open(self.jsonl_path, "a") as f:
                f.write(json.dumps(row) + "\n")
        if self.tb is not None:
            for k, v in row.items():
                if k != "step" and isinstance(v, (int, float)) and not isinstance(v, bool):
                    self.tb.add_scalar(k, v, step)
        if self.bar is not None:
            shown = {k.replace("eval/", ""): f"{row[k]:.3g}" for k in BAR_KEYS if isinstance(row.get(k), (int, float))}
            self.bar.set_postfix(shown, refresh=False)
            self.bar.update(max(0, step - self.bar.n))

    def write(self, message: str) -> None:
        """Print a line without breaking the progress bar."""
        if self.bar is not None:
            self.bar.write(message, file=sys.stderr)
        else:
            print(message, file=sys.stderr)

    def close(self) -> None:
        if self.tb is not None:
            self.tb.flush()
            self.tb.close()
            self.tb = None
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _truncate_jsonl(path: Path, start_step: int) -> int | None:
    """Keep the rows of ``path`` up to ``start_step`` (none when it is 0); returns the last kept step.

    Nothing is written when every line is a whole row up to ``start_step`` and the file ends with a
    newline (a resume of a long run costs one read); otherwise the kept rows go to a temporary file
    in the same directory, renamed over ``path`` (atomic: the history survives a kill meanwhile)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        text = ""
    kept: list[str] = []
    dropped = False
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:  # a torn line (the process was killed mid-write)
            dropped = True
            continue
        if start_step and isinstance(row, dict) and row.get("step", 0) <= start_step:
            kept.append(line)
        else:
            dropped = True
    if not dropped and text.endswith("\n") or not text and path.exists():
        return _last_step(kept)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w") as f:
            f.write("".join(line + "\n" for line in kept))
        os.replace(tmp, path)
    except BaseException:  # (Ctrl-C, a full disk): the old file stays whole
        tmp.unlink(missing_ok=True)
        raise
    return _last_step(kept)


def _last_step(lines: list[str]) -> int | None:
    return int(json.loads(lines[-1]).get("step", 0)) if lines else None


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a JSONL metrics file (a missing file is empty; a torn last line is skipped)."""
    p = Path(path)
    if not p.exists():
        return []
    rows = []
    for line in p.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def reward_axis_limits(values: list[float]) -> tuple[float, float]:
    """The y-range of the reward panel: [0, 1] and every finite value in ``values``, with a 5% margin.

    Rewards may leave [0, 1] (an overlong punishment down to -1, outcome plus process rewards above
    1): a fixed range would not draw them."""
    finite = [float(v) for v in values if math.isfinite(v)]
    low, high = min([0.0, *finite]), max([1.0, *finite])
    margin = 0.05 * (high - low)
    return low - margin, high + margin


#: A series with at most this many points is drawn with markers: a line through one point draws
#: nothing (a one-step run, the plot at the first checkpoint), and a few markers show the steps.
MARKER_POINTS = 30


def plot_curves(jsonl_path: str | Path | None, png_path: str | Path, *, title: str = "rlvr training",
                evals: dict[int, dict[str, float]] | None = None,
                rows: list[dict[str, Any]] | None = None) -> Path | None:
    """Plot reward and accuracy per step, and held-out pass@1, to ``png_path``.

    The per-step rows come from ``rows`` (dicts with a ``"step"`` key) when given, else from the
    JSONL file (so a run with ``log.jsonl`` off can still be plotted from memory). Held-out pass@1
    comes from ``evals`` ({step: {"eval/pass@1": ...}}, which includes the evaluation before
    training, step 0) when given, else from the logged rows. Returns None (and writes nothing)
    when there are no rows; see :func:`curves_figure` for what is drawn.
    """
    if rows is None:
        rows = read_jsonl(jsonl_path) if jsonl_path is not None else []
    if not rows:
        return None
    fig = curves_figure(rows, title=title, evals=evals)
    out = Path(png_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    return out


def curves_figure(rows: list[dict[str, Any]], *, title: str = "rlvr training",
                  evals: dict[int, dict[str, float]] | None = None):
    """The matplotlib Figure of :func:`plot_curves` (built without pyplot: no global state to close).

    Left panel: reward, train accuracy and held-out pass@1 on a "reward / accuracy" axis. Right
    panel: response length on a "tokens" axis and the filtered fraction of groups on its own axis
    (0 to 1, on the right): on the tokens axis a fraction is a flat line at 0. Steps are integer
    ticks, and short series get markers.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    def series(key: str) -> tuple[list[int], list[float]]:
        pts = [(r["step"], r[key]) for r in rows if isinstance(r.get(key), (int, float)) and not isinstance(r.get(key), bool)]
        return [p[0] for p in pts], [p[1] for p in pts]

    def draw(ax, xs, ys, **kwargs) -> None:
        if len(xs) <= MARKER_POINTS:
            kwargs.setdefault("marker", "o")
            kwargs.setdefault("markersize", 4)
        ax.plot(xs, ys, **kwargs)
        steps.extend(xs)

    fig = Figure(figsize=(11, 4.5))
    axes = fig.subplots(1, 2)
    steps: list[int] = []  # every step drawn, which the x-ranges must cover
    shown: list[float] = []  # the values of the reward panel, which its y-range must cover
    for key, label, color in (("reward_mean", "reward (mean)", "C0"), ("accuracy", "train accuracy", "C1")):
        xs, ys = series(key)
        if xs:
            draw(axes[0], xs, ys, label=label, color=color, alpha=0.8)
            shown += ys
    if evals:
        points = sorted((int(k), v["eval/pass@1"]) for k, v in evals.items() if "eval/pass@1" in v)
        xs, ys = [p[0] for p in points], [p[1] for p in points]
    else:
        xs, ys = series("eval/pass@1")
    if xs:
        draw(axes[0], xs, ys, label="held-out pass@1", color="black", marker="o")
        shown += ys
    axes[0].set_title("reward / accuracy")
    axes[0].set_ylabel("reward / accuracy")
    axes[0].set_ylim(*reward_axis_limits(shown))
    xs, ys = series("response_length")
    if xs:
        draw(axes[1], xs, ys, label="response length", color="C0")
    axes[1].set_title("length / filtering")
    axes[1].set_ylabel("tokens")
    twins = []
    xs, ys = series("filtered_fraction")
    if xs:
        frac = axes[1].twinx()
        draw(frac, xs, ys, label="groups filtered", color="C1")
        # a small margin: a fraction of 0 or 1 (often 0) would otherwise lie on the frame
        frac.set_ylim(-0.03, 1.03)
        frac.set_ylabel("fraction of groups", color="C1")
        frac.tick_params(axis="y", colors="C1")
        twins.append(frac)
    if steps:  # one step (or two neighbours) gets a range of whole steps around it, not 0.96..1.04
        low, high = min(steps), max(steps)
        pad = 1 if high - low < 2 else 0.03 * (high - low)
        for ax in axes:
            ax.set_xlim(low - pad, high + pad)
    for ax in axes:
        ax.set_xlabel("step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    _legend_below(axes[0])
    _legend_below(axes[1], *twins)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def _legend_below(ax, *twins) -> None:
    """The panel's legend (with the curves of its twin axes) under its x-axis, where it hides no
    curve (inside, the reward curve or the response length ran under it wherever it was put)."""
    handles, labels = [], []
    for a in (ax, *twins):
        h, l = a.get_legend_handles_labels()
        handles += h
        labels += l
    if handles:
        ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, frameon=False)
