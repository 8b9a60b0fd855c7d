"""The sample video's tracks saved in every format through napari's own save path (the writers the Save
dialog offers, chosen as the dialog chooses them), and opened again through napari."""

from __future__ import annotations

import numpy as np
import pytest
from test_formats import as_carried, assert_same_boxes

from napari_siamtrack.io.box_csv import BoxRow, read_csv
from napari_siamtrack.io.sample import make_sample
from napari_siamtrack.ui.layer_boxes import layer_kwargs, read_boxes

#: The Save dialog's filter for each format: "<plugin display name> <writer display name> (*.ext)".
FILTERS = {
    "mot": "SiamTrack MOT 1.1 ground truth (*.zip)",
    "cvat": "SiamTrack CVAT for video 1.1 XML (*.xml)",
    "coco": "SiamTrack COCO JSON and frames (select the video too) (*.json)",
    "yolo": "SiamTrack YOLO dataset folder (select the video too) (*.*)",
}


def sample_tracks() -> list[BoxRow]:
    """The sample's cat as a propagated track (a keyframe on frame 0, tracked boxes with scores, a
    corrected keyframe on frame 30), and a second, unlabelled target that is outside on frames 20-39."""
    sample = make_sample()
    rows = []
    for f, box in enumerate(sample.boxes):
        key = f in (0, 30)
        rows.append(
            BoxRow(
                f, 1, *map(float, box), 1.0 if key else 0.8, "manual" if key else "tracked", key, label="cat"
            )
        )
        if not 20 < f < 40:
            rows.append(BoxRow(f, 2, 10.5 + f, 20.25, 30.0, 24.0, 1.0, "manual", True, outside=f == 20))
    return sorted(rows, key=lambda r: (r.track_id, r.frame))


@pytest.fixture
def window(make_napari_viewer_proxy):
    viewer = make_napari_viewer_proxy()
    viewer.open_sample("napari-siamtrack", "sample")
    video, sample_boxes = viewer.layers
    viewer.layers.remove(sample_boxes)
    kwargs = layer_kwargs(sample_tracks(), name="cat boxes")
    boxes = viewer.add_shapes(kwargs.pop("data"), **kwargs)
    return viewer, video, boxes


def test_the_save_dialog_offers_every_format(window):
    from napari.plugins._npe2 import file_extensions_string_for_layers

    _, video, boxes = window
    filters, _ = file_extensions_string_for_layers([video, boxes])
    assert set(FILTERS.values()) <= set(filters.split(";;"))
    filters, _ = file_extensions_string_for_layers([boxes])
    assert "SiamTrack tracked boxes CSV (*.boxes.csv *.csv)" in filters.split(";;")
    assert FILTERS["mot"] in filters.split(";;")


def test_sample_tracks_saved_in_every_format_and_opened_again(window, tmp_path):
    from napari.plugins._npe2 import file_extensions_string_for_layers

    viewer, video, boxes = window
    rows = sample_tracks()
    viewer.layers.selection = {boxes}
    csv = tmp_path / "cat.boxes.csv"
    assert viewer.layers.save(str(csv), selected=True, plugin="napari-siamtrack") == [str(csv)]
    assert read_csv(csv) == rows

    viewer.layers.selection = {video, boxes}
    filters, writers = file_extensions_string_for_layers([video, boxes])
    writer_of = dict(zip(filters.split(";;"), writers))
    targets = {"mot": "cat.zip", "cvat": "cat.xml", "coco": "coco/cat.json", "yolo": "cat_yolo"}
    (tmp_path / "coco").mkdir()
    for name, target in targets.items():
        path = str(tmp_path / target)
        saved = viewer.layers.save(
            path, selected=True, _writer=writer_of[FILTERS[name]]
        )  # as the dialog does
        assert saved[0] == path
    # napari's choice by extension picks the same writers
    assert viewer.layers.save(str(tmp_path / "again.xml"), selected=True, plugin="napari-siamtrack")
    assert (tmp_path / "again.xml").read_bytes() == (tmp_path / "cat.xml").read_bytes()

    for name in ("mot", "cvat", "coco"):
        (layer,) = viewer.open(str(tmp_path / targets[name]), plugin="napari-siamtrack")
        back = read_boxes(layer.data, layer.shape_type, layer.features)
        assert not back.problems and layer.name.startswith("cat")
        assert_same_boxes(
            sorted(back.rows, key=lambda r: (r.track_id, r.frame)), as_carried(rows, name), 1e-3
        )

    yolo = tmp_path / "cat_yolo"
    assert len(list((yolo / "labels").iterdir())) == 60 and len(list((yolo / "images").iterdir())) == 60
    assert (yolo / "classes.txt").read_text() == "cat\nobject\n"
    first = (yolo / "labels" / "frame_000000.txt").read_text().splitlines()
    x, y, w, h = make_sample().boxes[0]
    assert first[0].split()[0] == "0" and np.allclose(
        [float(v) for v in first[0].split()[1:]], [(x + w / 2) / 320, (y + h / 2) / 240, w / 320, h / 240]
    )
    assert len(list((tmp_path / "coco" / "images").iterdir())) == 60


def test_yolo_and_coco_without_the_video_say_what_to_select(window, tmp_path):
    from napari.plugins._npe2 import file_extensions_string_for_layers

    viewer, _, boxes = window
    viewer.layers.selection = {boxes}
    filters, writers = file_extensions_string_for_layers([boxes])
    writer_of = dict(zip(filters.split(";;"), writers))
    for name, target in (("yolo", "cat_yolo"), ("coco", "cat.json")):
        with pytest.raises(ValueError, match="save the video layer with the boxes"):  # shown by the dialog
            viewer.layers.save(str(tmp_path / target), selected=True, _writer=writer_of[FILTERS[name]])
        assert not (tmp_path / target).exists()
