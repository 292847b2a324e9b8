"""curves.png: a one-step run draws its points on whole-step ticks, and the filtered fraction of
groups has its own 0..1 axis next to the response length in tokens (real Agg rendering)."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from rlvr.trainers.metrics import plot_curves

BLUE = np.array([0x1F, 0x77, 0xB4]) / 255  # matplotlib's C0
ORANGE = np.array([0xFF, 0x7F, 0x0E]) / 255  # C1

ONE_ROW = [{"step": 1, "reward_mean": 0.5, "accuracy": 0.4, "response_length": 120, "filtered_fraction": 0.25}]
LONG_RUN = [{"step": s, "reward_mean": 0.3 + 0.002 * s, "accuracy": 0.3 + 0.002 * s,
             "response_length": 250 + 100 * math.sin(s / 20), "filtered_fraction": 0.8 - 0.6 * s / 200}
            for s in range(1, 201)]


def _render(tmp_path, rows):
    import matplotlib.image

    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    png = plot_curves(tmp_path / "metrics.jsonl", tmp_path / "curves.png", title="t")
    return matplotlib.image.imread(png)[..., :3]


def _near(image, color, tol=0.15):
    """Pixels of ``color``, drawn opaque or with the reward panel's alpha 0.8 on white."""
    faded = 0.8 * color + 0.2
    return (np.abs(image - color).max(axis=-1) < tol) | (np.abs(image - faded).max(axis=-1) < tol)


def _panels(image):
    """The insides of the two plot frames (no title, tick labels, axis labels or legends)."""
    h, w = image.shape[:2]
    inside = image[int(h * 0.17): int(h * 0.77)]
    return inside[:, int(w * 0.08): int(w * 0.45)], inside[:, int(w * 0.55): int(w * 0.92)]


def test_a_one_step_run_draws_its_points(tmp_path):
    image = _render(tmp_path, ONE_ROW)
    left, right = _panels(image)
    for panel in (left, right):  # reward / response length (C0), accuracy / filtered fraction (C1)
        assert _near(panel, BLUE).sum() > 20
        assert _near(panel, ORANGE).sum() > 20


def test_a_one_step_run_has_whole_step_ticks_and_markers():
    from rlvr.trainers.metrics import curves_figure

    fig = curves_figure(ONE_ROW)
    for ax in fig.axes:
        low, high = ax.get_xlim()
        ticks = [t for t in ax.get_xticks() if low <= t <= high]
        assert 1 in ticks and all(float(t).is_integer() for t in ticks), ticks
        for line in ax.get_lines():
            assert line.get_marker() not in (None, "None", "", " "), line.get_label()


def test_every_axis_is_labelled():
    from rlvr.trainers.metrics import curves_figure

    fig = curves_figure(LONG_RUN, evals={0: {"eval/pass@1": 0.2}, 200: {"eval/pass@1": 0.6}})
    reward, length, fraction = fig.axes
    assert reward.get_ylabel() == "reward / accuracy"
    assert length.get_ylabel() == "tokens"
    assert fraction.get_ylabel() == "fraction of groups"
    assert reward.get_xlabel() == length.get_xlabel() == "step"
    # the right panel's legend names both of its curves, though they sit on two axes
    assert [t.get_text() for t in length.get_legend().get_texts()] == ["response length", "groups filtered"]


def test_the_filtered_fraction_has_its_own_zero_one_axis():
    from rlvr.trainers.metrics import curves_figure

    fig = curves_figure(LONG_RUN)
    by_label = {line.get_label(): line for ax in fig.axes for line in ax.get_lines()}
    frac_ax, length_ax = by_label["groups filtered"].axes, by_label["response length"].axes
    assert frac_ax is not length_ax
    low, high = frac_ax.get_ylim()
    assert -0.05 <= low <= 0 and 1 <= high <= 1.05
    assert length_ax.get_ylim()[0] > 100  # the length axis fits the tokens, not a 0..1 fraction
    # long series stay plain lines (markers on 200 points would be clutter)
    assert by_label["response length"].get_marker() in (None, "None", "", " ")


def test_the_filtered_fraction_is_not_a_flat_line(tmp_path):
    # 80% -> 20% of groups filtered under lengths of 150..350 tokens: the orange curve must fall
    # across much of the panel's height, not lie flat at the bottom
    image = _render(tmp_path, LONG_RUN)
    _, right = _panels(image)
    rows = np.nonzero(_near(right, ORANGE).any(axis=1))[0]
    assert rows.size and (rows.max() - rows.min()) > 0.4 * right.shape[0], (rows.min(), rows.max())


@pytest.mark.parametrize("rows", [
    [{"step": 3, "reward_mean": 0.1}],  # no length, no filtering: an empty right panel, no warning
    [{"step": 3, "reward_mean": 0.1, "response_length": 9}],  # no fraction: no extra axis
])
def test_missing_series_draw_no_warning_nor_empty_axis(tmp_path, rows):
    from rlvr.trainers.metrics import curves_figure

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _render(tmp_path, rows).size
        assert len(curves_figure(rows).axes) == 2
    assert plot_curves(None, tmp_path / "none.png", rows=[]) is None and not (tmp_path / "none.png").exists()
