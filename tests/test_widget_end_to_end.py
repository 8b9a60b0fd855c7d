"""The whole labelling loop in napari with the real tracker and the shipped weights: sample video, one box,
Propagate, correct a frame, propagate again, export, import."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from test_widget import rows_of, run

from napari_siamtrack.io.box_csv import read_csv
from napari_siamtrack.io.sample import make_sample
from napari_siamtrack.metrics import iou
from napari_siamtrack.ui.layer_boxes import rectangle
from napari_siamtrack.ui.widget import PropagateWidget


def test_draw_propagate_correct_repropagate_export_import(make_napari_viewer_proxy, qtbot, tmp_path):
    sample = make_sample()
    n = len(sample.frames)
    viewer = make_napari_viewer_proxy()
    viewer.add_image(sample.frames, name="sample", rgb=True)
    widget = PropagateWidget(viewer)  # the shipped tracker
    layer = widget.add_boxes_layer()
    assert layer.mode == "add_rectangle"
    viewer.dims.set_current_step(0, 0)
    x, y, w, h = sample.boxes[0]
    layer.add_rectangles(np.array([[0, y, x], [0, y, x + w], [0, y + h, x + w], [0, y + h, x]], float))

    run(widget, qtbot, timeout=300_000)
    rows = rows_of(widget)
    assert sorted(f for _, f in rows) == list(range(n))
    ious = np.array([iou((r.x, r.y, r.w, r.h), sample.boxes[f]) for (_, f), r in sorted(rows.items())])
    assert (ious[1:] >= 0.5).mean() >= 0.9, f"IoU >= 0.5 on {(ious[1:] >= 0.5).mean():.0%} of frames"

    # Correct frame 30: put its box on the ground truth, the way a drag ends (a CHANGED event).
    (index,) = widget.binding().indices_on(30)
    truth = rows[(1, 30)].__class__(30, 1, *map(float, sample.boxes[30]), 1.0, "manual", True)
    with layer.events.data.blocker():
        layer.data = [rectangle(truth) if i == index else d for i, d in enumerate(layer.data)]
    layer.events.data(value=layer.data, action="changed", data_indices=(index,), vertex_indices=((),))
    corrected = rows_of(widget)[(1, 30)]
    assert corrected.keyframe and corrected.source == "manual"
    before = rows_of(widget)

    widget.start_from.value = "all"
    run(widget, qtbot, timeout=300_000)
    after = rows_of(widget)
    assert after[(1, 30)] == corrected and after[(1, 0)] == before[(1, 0)]
    assert sorted(f for _, f in after) == list(range(n))
    assert np.mean([iou((r.x, r.y, r.w, r.h), sample.boxes[f]) >= 0.5 for (_, f), r in after.items()]) >= 0.9

    path = widget.export(tmp_path / "sample.boxes.csv")
    exported = read_csv(path)
    assert exported == list(widget.binding().table())
    (imported,) = viewer.open(path, plugin="napari-siamtrack")
    widget.boxes.value = imported
    assert list(widget.binding().table()) == exported
    again = widget.export(tmp_path / "again.boxes.csv")
    assert Path(again).read_bytes() == Path(path).read_bytes()
