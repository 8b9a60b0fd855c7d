"""MOT 1.1, CVAT for video 1.1 XML, YOLO and COCO: round trips, what each leaves out, CVAT's documented
forms, and hostile files."""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest

from napari_siamtrack.io.box_csv import BoxRow, read_csv, write_csv
from napari_siamtrack.io.formats import READERS, WRITERS, FormatError, Video
from napari_siamtrack.io.formats.common import number

FIXTURES = Path(__file__).parent / "fixtures"
N_FRAMES, HEIGHT, WIDTH = 30, 120, 160
VIDEO = Video("clip", N_FRAMES, HEIGHT, WIDTH)
OUT = {"mot": "gt.zip", "cvat": "clip.xml", "yolo": "yolo", "coco": "clip.json"}


def generated_tracks(decimals: int | None = None) -> list[BoxRow]:
    """Three labelled tracks and one unlabelled: keyframes, tracked boxes with scores, an outside span
    (track 2 absent on frames 10-17) and a track that ends with an outside keyframe. Coordinates are
    random (rounded to ``decimals`` when given); every track ends on the last frame or outside."""
    rng = np.random.default_rng(7)
    rows = []
    spans = {1: ("mouse", 0, N_FRAMES), 2: ("rat", 0, N_FRAMES), 3: ("mouse", 5, 20), 4: ("", 12, N_FRAMES)}
    for track, (label, first, stop) in spans.items():
        x, y = rng.uniform(0, WIDTH - 30), rng.uniform(0, HEIGHT - 30)
        for frame in range(first, stop):
            if track == 2 and 10 < frame < 18:
                continue
            w, h = rng.uniform(5, 25, size=2)
            x, y = np.clip([x + rng.normal(0, 2), y + rng.normal(0, 2)], 0, [WIDTH - w, HEIGHT - h])
            box = [float(v) for v in (x, y, w, h)]
            if decimals is not None:
                box = [round(v, decimals) for v in box]
            key = frame in (first, 18) or (track == 1 and frame % 7 == 0)
            outside = (track == 2 and frame == 10) or (track == 3 and frame == stop - 1)
            score = 1.0 if key else round(float(rng.uniform(0.2, 1.0)), 3)
            rows.append(
                BoxRow(
                    frame, track, *box, score, "manual" if key else "tracked", key or outside, outside, label
                )
            )
    return rows


def as_carried(rows: list[BoxRow], name: str) -> list[BoxRow]:
    """What ``rows`` read back as after a round trip through format ``name``."""
    out = []
    for r in rows:
        r = replace(r, label=r.label or "object")
        if name == "mot":
            r = replace(r, score=1.0, source="manual", keyframe=True)
        elif name == "cvat":
            protected = r.keyframe or r.source == "manual"
            r = replace(r, score=1.0, source="manual" if protected else "tracked", keyframe=protected)
        elif name == "coco" and r.outside:
            continue
        out.append(r)
    return sorted(out, key=lambda r: (r.track_id, r.frame))


def assert_same_boxes(back: list[BoxRow], expected: list[BoxRow], tolerance: float) -> None:
    assert [(r.track_id, r.frame) for r in back] == [(r.track_id, r.frame) for r in expected]
    coords = np.array([[r.x, r.y, r.w, r.h] for r in back]) - np.array(
        [[r.x, r.y, r.w, r.h] for r in expected]
    )
    assert np.abs(coords).max() <= tolerance
    rest = lambda r: (r.score, r.source, r.keyframe, r.outside, r.label)
    assert [rest(r) for r in back] == [rest(r) for r in expected]


@pytest.mark.parametrize("name", sorted(READERS))
def test_round_trip_keeps_what_the_format_carries_to_a_thousandth_of_a_pixel(tmp_path, name):
    rows = generated_tracks()
    written = WRITERS[name](tmp_path / OUT[name], rows, VIDEO)
    loaded = READERS[name](written.paths[0])
    assert_same_boxes(loaded.rows, as_carried(rows, name), tolerance=1e-3)


@pytest.mark.parametrize("name", sorted(READERS))
def test_boxes_kept_to_a_thousandth_come_back_identical(tmp_path, name):
    rows = generated_tracks(decimals=3)
    loaded = READERS[name](WRITERS[name](tmp_path / OUT[name], rows, VIDEO).paths[0])
    assert loaded.rows == as_carried(rows, name)
    # and the CSV written from them is the same file as the CSV of what the format carries
    a, b = write_csv(tmp_path / "a.csv", loaded.rows), write_csv(tmp_path / "b.csv", as_carried(rows, name))
    assert a.read_bytes() == b.read_bytes()


def test_yolo_labels_hold_every_visible_box_normalised(tmp_path):
    rows = generated_tracks()
    written = WRITERS["yolo"](tmp_path / "yolo", rows, VIDEO)
    folder = written.paths[0]
    classes = (folder / "classes.txt").read_text().splitlines()
    assert classes == ["mouse", "object", "rat"]
    files = sorted((folder / "labels").iterdir())
    assert [f.name for f in files] == [f"frame_{i:06d}.txt" for i in range(N_FRAMES)]
    found = {}
    for frame, file in enumerate(files):
        for line in file.read_text().splitlines():
            k, cx, cy, w, h = line.split()
            box = (float(cx) * WIDTH - float(w) * WIDTH / 2, float(cy) * HEIGHT - float(h) * HEIGHT / 2,
                   float(w) * WIDTH, float(h) * HEIGHT)  # fmt: skip
            found.setdefault((frame, classes[int(k)]), []).append(box)
    visible = [r for r in rows if not r.outside]
    assert sum(map(len, found.values())) == len(visible)
    for r in visible:
        candidates = np.array(found[(r.frame, r.label or "object")])
        assert np.abs(candidates - [r.x, r.y, r.w, r.h]).max(axis=1).min() <= 1e-3
    assert "2 outside boxes (not written)" in written.note and "track identities (4 tracks)" in written.note
    assert not (folder / "images").exists() and not (folder / "data.yaml").exists()


def test_yolo_and_coco_write_the_frames_with_images(tmp_path):
    t, y, x = np.meshgrid(np.arange(N_FRAMES), np.arange(HEIGHT), np.arange(WIDTH), indexing="ij")
    frames = np.stack([x + t, y + 2 * t, np.full_like(x, 128)], axis=-1).astype(np.uint8)  # smooth, per frame
    video = Video.of_frames("clip", frames)
    yolo = WRITERS["yolo"](tmp_path / "yolo", generated_tracks(), video, images=True).paths[0]
    assert len(list((yolo / "images").glob("frame_*.jpg"))) == N_FRAMES
    assert (yolo / "data.yaml").read_text() == (
        'train: images\nval: images\nnames:\n  0: "mouse"\n  1: "object"\n  2: "rat"\n'
    )
    from imageio.v3 import imread

    image = imread(yolo / "images" / "frame_000003.jpg")
    assert image.shape == (HEIGHT, WIDTH, 3) and np.abs(image.astype(int) - frames[3]).mean() < 2
    coco = WRITERS["coco"](tmp_path / "c" / "clip.json", generated_tracks(), video, images=True).paths
    assert coco[1] == tmp_path / "c" / "images" and len(list(coco[1].glob("*.jpg"))) == N_FRAMES


def test_sixteen_bit_frames_are_written_as_eight_bit_images(tmp_path):
    frames = (
        np.linspace(0, 4000, N_FRAMES * HEIGHT * WIDTH).reshape(N_FRAMES, HEIGHT, WIDTH).astype(np.uint16)
    )
    folder = WRITERS["yolo"](tmp_path / "y", [], Video.of_frames("stack", frames), images=True).paths[0]
    from imageio.v3 import imread

    image = imread(folder / "images" / "frame_000029.jpg")
    assert image.dtype == np.uint8 and image.max() > 200


def test_coco_document_follows_the_coco_video_convention(tmp_path):
    rows = generated_tracks(decimals=3)
    path = WRITERS["coco"](tmp_path / "clip.json", rows, VIDEO).paths[0]
    document = json.loads(path.read_text())
    assert [c["name"] for c in document["categories"]] == ["mouse", "object", "rat"]
    assert document["videos"] == [
        {"id": 1, "name": "clip", "width": WIDTH, "height": HEIGHT, "length": N_FRAMES}
    ]
    assert document["images"][3] == {
        "id": 4, "video_id": 1, "frame_id": 3, "file_name": "frame_000003.jpg", "width": WIDTH, "height": HEIGHT
    }  # fmt: skip
    ann = document["annotations"][0]
    first = rows[0]
    assert (
        ann["bbox"] == [first.x, first.y, first.w, first.h] and ann["track_id"] == 1 and ann["image_id"] == 1
    )
    assert ann["attributes"] == {"track_id": 0, "keyframe": True, "source": "manual"}
    assert len(document["annotations"]) == sum(not r.outside for r in rows)


def test_each_export_says_once_what_it_leaves_out(tmp_path):
    rows = generated_tracks()
    notes = {name: WRITERS[name](tmp_path / OUT[name], rows, VIDEO).note for name in WRITERS}
    for note in notes.values():
        assert "\n" not in note and note.count("leaves out") == 1
        assert "the labels of 1 unlabelled track (written as class 'object')" in note
    assert "which boxes are keyframes; tracker scores" in notes["mot"]
    assert "tracker scores" in notes["cvat"] and "keyframes" not in notes["cvat"].split(";")[0]
    assert "CVAT imports only keyframes" in notes["cvat"]
    assert "outside" in notes["coco"] and "scores" not in notes["coco"]
    labelled = [replace(r, label=r.label or "cell", score=1.0, source="manual", keyframe=True) for r in rows]
    assert WRITERS["mot"](tmp_path / "m2.zip", labelled, VIDEO).note == ""


def test_class_ids_follow_a_given_class_list(tmp_path):
    rows = generated_tracks(decimals=3)
    folder = WRITERS["mot"](tmp_path / "mot", rows, VIDEO, classes=["rat", "mouse", "object", "cat"]).paths[0]
    assert (folder / "gt" / "labels.txt").read_text() == "rat\nmouse\nobject\ncat\n"
    assert READERS["mot"](folder).rows == as_carried(rows, "mot")
    with pytest.raises(FormatError, match="labels 'object', 'rat' are not in the class list"):
        WRITERS["yolo"](tmp_path / "y", rows, VIDEO, classes=["mouse"])
    assert not (tmp_path / "y").exists()


def test_mot_lines_are_cvats(tmp_path):
    rows = [
        BoxRow(0, 1, 10.5, 5.0, 8.0, 6.25, 1.0, "manual", True, label="cat"),
        BoxRow(1, 1, 11.5, 5.0, 8.0, 6.25, 0.5, "tracked", False, label="cat"),
        BoxRow(2, 1, 11.5, 5.0, 8.0, 6.25, 1.0, "manual", True, outside=True, label="cat"),
        BoxRow(0, 2, 40.0, 30.0, 12.0, 9.0, 1.0, "manual", True, label="dog"),
    ]
    folder = WRITERS["mot"](tmp_path / "seq", rows, VIDEO).paths[0]
    assert (folder / "gt" / "gt.txt").read_text() == (
        "1,1,10.5,5,8,6.25,1,1,1\n1,2,40,30,12,9,1,2,1\n2,1,11.5,5,8,6.25,1,1,1\n3,1,11.5,5,8,6.25,0,1,0\n"
    )
    with zipfile.ZipFile(WRITERS["mot"](tmp_path / "seq.zip", rows, VIDEO).paths[0]) as archive:
        assert sorted(archive.namelist()) == ["gt/gt.txt", "gt/labels.txt"]


def test_a_mot_file_of_cvats_documented_form_reads_in():
    loaded = READERS["mot"](FIXTURES / "mot_cvat")
    assert [(r.frame, r.track_id, r.label, r.outside, r.keyframe) for r in loaded.rows] == [
        (0, 1, "cat", False, True),
        (1, 1, "cat", False, True),
        (0, 2, "person", False, True),
        (2, 2, "person", True, True),
    ]
    assert (loaded.rows[0].x, loaded.rows[0].y, loaded.rows[0].w, loaded.rows[0].h) == (1363, 569, 103, 241)
    assert "every box was read as a keyframe" in loaded.note
    assert READERS["mot"](FIXTURES / "mot_cvat" / "gt" / "gt.txt").rows == loaded.rows


def test_mot_without_labels_txt_uses_the_mot_challenge_classes(tmp_path):
    (tmp_path / "gt").mkdir()
    (tmp_path / "gt" / "gt.txt").write_text("1,4,1,2,3,4,1,3,1\n2,4,1,2,3,4\n")
    rows = READERS["mot"](tmp_path).rows
    assert [(r.label, r.outside) for r in rows] == [("car", False), ("", False)]


def test_the_cvat_fixture_written_from_the_documentation_reads_in():
    loaded = READERS["cvat"](FIXTURES / "cvat_video_1.1.xml")
    got = [(r.track_id, r.frame, r.label, r.keyframe, r.source, r.outside) for r in loaded.rows]
    assert got == [
        (1, 0, "car", True, "manual", False),
        (1, 1, "car", False, "tracked", False),
        (1, 2, "car", True, "manual", True),
        (1, 6, "car", True, "manual", False),
        (1, 7, "car", True, "manual", True),
        (2, 13, "person", True, "manual", False),
        (2, 14, "person", True, "manual", True),
    ]
    first = loaded.rows[0]
    assert (first.x, first.y, first.w, first.h) == (324.79, 213.16, 46.32, 24.21)
    assert loaded.note == "CVAT for video 1.1: left out the occluded flag (1); box attributes (2)"


def _schema(root: ElementTree.Element, path: str = "") -> dict[str, set[str]]:
    """Element path -> attribute names used, over the whole tree."""
    here = f"{path}/{root.tag}"
    found = {here: set(root.attrib)}
    for child in root:
        for key, names in _schema(child, here).items():
            found.setdefault(key, set()).update(names)
    return found


def test_our_cvat_xml_uses_only_the_documented_elements_and_attributes(tmp_path):
    documented = _schema(ElementTree.parse(FIXTURES / "cvat_video_1.1.xml").getroot())
    ours = _schema(
        ElementTree.parse(WRITERS["cvat"](tmp_path / "c.xml", generated_tracks(), VIDEO).paths[0]).getroot()
    )
    assert set(ours) <= set(documented)
    assert all(names <= documented[path] for path, names in ours.items())
    track, box = "/annotations/track", "/annotations/track/box"
    assert ours[track] == {"id", "label", "source"}
    assert ours[box] == {"frame", "xtl", "ytl", "xbr", "ybr", "outside", "occluded", "keyframe"}


def test_cvat_tracks_are_closed_where_they_have_no_box(tmp_path):
    rows = [
        BoxRow(0, 1, 10.0, 5.0, 8.0, 6.0, 1.0, "manual", True, label="cat"),
        BoxRow(1, 1, 11.0, 5.0, 8.0, 6.0, 0.8, "tracked", False, label="cat"),
        BoxRow(5, 1, 15.0, 5.0, 8.0, 6.0, 1.0, "manual", True, label="cat"),
    ]
    written = WRITERS["cvat"](tmp_path / "c.xml", rows, VIDEO)
    back = READERS["cvat"](written.paths[0]).rows
    closers = [(r.frame, r.outside, r.keyframe, r.x) for r in back if r.outside]
    assert closers == [(2, True, True, 11.0), (6, True, True, 15.0)]
    assert "frames without a box inside a track (1 gap, written as outside" in written.note
    ends_on_last_frame = [replace(r, frame=r.frame + 24) for r in rows]
    assert not [
        r
        for r in READERS["cvat"](WRITERS["cvat"](tmp_path / "d.xml", ends_on_last_frame, VIDEO).paths[0]).rows
        if r.frame == 30
    ]
    unknown = WRITERS["cvat"](tmp_path / "e.xml", rows)
    assert "without the video's length" in unknown.note


def test_cvat_all_keyframes_keeps_every_box_for_cvat(tmp_path):
    rows = generated_tracks(decimals=3)
    written = WRITERS["cvat"](tmp_path / "c.xml", rows, VIDEO, all_keyframes=True)
    assert "CVAT imports only keyframes" not in written.note
    assert all(r.keyframe for r in READERS["cvat"](written.paths[0]).rows)


def test_cvat_refuses_a_track_with_two_labels_and_writes_nothing(tmp_path):
    rows = [BoxRow(0, 3, 1.0, 1.0, 2.0, 2.0, 1.0, "manual", True, label="car"),
            BoxRow(1, 3, 1.0, 1.0, 2.0, 2.0, 1.0, "manual", True, label="truck")]  # fmt: skip
    with pytest.raises(FormatError, match="track 3 has several labels \\('car', 'truck'\\)"):
        WRITERS["cvat"](tmp_path / "c.xml", rows, VIDEO)
    assert os.listdir(tmp_path) == []


def test_cvat_zip_export_reads_in(tmp_path):
    xml = (FIXTURES / "cvat_video_1.1.xml").read_bytes()
    with zipfile.ZipFile(tmp_path / "task.zip", "w") as archive:
        archive.writestr("annotations.xml", xml)
    assert (
        READERS["cvat"](tmp_path / "task.zip").rows == READERS["cvat"](FIXTURES / "cvat_video_1.1.xml").rows
    )


def test_coco_from_cvat_reads_its_zero_based_track_ids_and_frame_names(tmp_path):
    document = {
        "categories": [{"id": 1, "name": "car"}],
        "images": [{"id": 1, "file_name": "frame_000010.PNG", "width": 64, "height": 48}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "iscrowd": 0,
                         "attributes": {"occluded": False, "track_id": 0, "keyframe": False}}],
    }  # fmt: skip
    (tmp_path / "c.json").write_text(json.dumps(document))
    (row,) = READERS["coco"](tmp_path / "c.json").rows
    assert row == BoxRow(10, 1, 1.0, 2.0, 3.0, 4.0, 1.0, "tracked", False, False, "car")


def test_writers_leave_an_existing_export_alone_when_they_fail(tmp_path):
    good = generated_tracks()
    for name in WRITERS:
        target = tmp_path / OUT[name]
        WRITERS[name](target, good, VIDEO)
        before = {p: p.read_bytes() for p in [target, *target.rglob("*")] if p.is_file()}
        bad = [*good, replace(good[0], frame=N_FRAMES + 5, track_id=99, label="x\ty")]
        with pytest.raises(ValueError):
            WRITERS[name](target, bad, VIDEO)
        assert {p: p.read_bytes() for p in [target, *target.rglob("*")] if p.is_file()} == before
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_yolo_and_coco_need_the_frame_size(tmp_path):
    for name in ("yolo", "coco"):
        with pytest.raises(FormatError, match="needs the video's frame size and length"):
            WRITERS[name](tmp_path / OUT[name], generated_tracks(), Video("clip"))


def test_numbers_are_short_and_exact_to_a_millionth():
    assert [number(v) for v in (12.5, 3.0, 0.000125, -0.0000001, 1 / 3, 1e-7, 1234567.0)] == [
        "12.5", "3", "0.000125", "0", "0.333333", "0", "1234567"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "1,1,1,2,3,4,1,1,1\n1,1,5,5,3,4,1,1,1\n",
            "line 2: a second box for track 1 on frame 1 .first on line 1.",
        ),
        ("1,1,1,2,3\n", "line 1: expected 6 to 10 comma-separated fields, got 5"),
        ("\n0,1,1,2,3,4\n", "line 2: frame must be >= 1"),
        ("1,-1,1,2,3,4\n", "line 1: track id must be >= 1, got -1"),
        ("1,x,1,2,3,4\n", "line 1: track id must be an integer, got 'x'"),
        ("1,1,1,2,nan,4\n", "line 1: w must be a finite number"),
        ("1,1,1,2,3,-4\n", "line 1: w and h must be > 0"),
        ("1,1,1,2,3,4,1,7,1\n", "line 1: class id 7 is not a line of labels.txt .1…2."),
        ("1,1,1,2,3,4,1,one,1\n", "line 1: class id must be an integer, got 'one'"),
    ],
)
def test_hostile_mot_files_name_file_and_line(tmp_path, text, problem):
    (tmp_path / "gt").mkdir()
    (tmp_path / "gt" / "gt.txt").write_text(text)
    (tmp_path / "gt" / "labels.txt").write_text("cat\ndog\n")
    with pytest.raises(FormatError, match=f"gt.txt, {problem}") as info:
        READERS["mot"](tmp_path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            '<?xml version="1.0"?>\n<!DOCTYPE a [<!ENTITY x "y">]>\n<annotations/>',
            "line 2: DTDs and entities are not allowed",
        ),
        ("<annotations>\n<track id='0' label='a'>\n<box frame='0'", "line 3: not well-formed XML"),
        ("<tracks/>", "line 1: the root element is <tracks>, not <annotations>"),
        ("<annotations>\n<track label='a'/>\n</annotations>", "line 2: the element lacks the 'id' attribute"),
        (
            (
                "<annotations><track id='0' label='a'>\n<box frame='1' xtl='1' ytl='1' xbr='0' ybr='3' "
                "outside='0' occluded='0' keyframe='1'/></track></annotations>"
            ),
            "line 2: w and h must be > 0",
        ),
        (
            (
                "<annotations><track id='0' label='a'>\n<box frame='1' xtl='1' ytl='1' xbr='2' ybr='3' "
                "outside='yes' occluded='0' keyframe='1'/></track></annotations>"
            ),
            "line 2: outside must be 0 or 1, got 'yes'",
        ),
        (
            "<annotations><track id='0' label='a'>\n<box frame='x' xtl='1' ytl='1' xbr='2' ybr='3'/></track></annotations>",
            "line 2: frame must be an integer, got 'x'",
        ),
        (
            (
                "<annotations><track id='0' label='a'><box frame='1' xtl='1' ytl='1' xbr='2' ybr='3' "
                "keyframe='1'/>\n"
                "<box frame='1' xtl='1' ytl='1' xbr='2' ybr='3' keyframe='1'/></track></annotations>"
            ),
            "line 2: a second box for track 0 on frame 1",
        ),
    ],
)
def test_hostile_cvat_files_name_file_and_line(tmp_path, text, problem):
    path = tmp_path / "bad.xml"
    path.write_text(text)
    with pytest.raises(FormatError, match=f"bad.xml, {problem}") as info:
        READERS["cvat"](path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"images": [\n{"id": 1,}]}', "line 2: not valid JSON"),
        ("[]", "the document: a COCO file is a JSON object"),
        (
            '{"images": [{"id": 1, "file_name": "a.jpg"}]}',
            "images.0.: file_name 'a.jpg' holds no frame number",
        ),
        (
            (
                '{"categories": [{"id": 1, "name": "a"}], "images": [{"id": 1, "frame_id": 0}], '
                '"annotations": [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}]}'
            ),
            "annotations.0.: the annotation has no track_id",
        ),
        (
            (
                '{"categories": [{"id": 1, "name": "a"}], "images": [{"id": 1, "frame_id": 0}], '
                '"annotations": [{"image_id": 2, "category_id": 1, "bbox": [0, 0, 1, 1], "track_id": 1}]}'
            ),
            "annotations.0.: image_id 2 is not an image",
        ),
        (
            (
                '{"categories": [{"id": 1, "name": "a"}], "images": [{"id": 1, "frame_id": 0}], '
                '"annotations": [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "track_id": 1}]}'
            ),
            "annotations.0.: bbox must be four numbers",
        ),
        (
            (
                '{"categories": [{"id": 1, "name": "a"}], "images": [{"id": 1, "frame_id": 0}], '
                '"annotations": [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "track_id": "1"}]}'
            ),
            "annotations.0.: 'track_id' must be int",
        ),
        (
            (
                '{"categories": [{"id": 1, "name": "a"}], "images": [{"id": 1, "frame_id": 0}], '
                '"annotations": [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "track_id": 1, '
                '"score": 2}]}'
            ),
            r"annotations.0.: score must be in \[0, 1\]",
        ),
    ],
)
def test_hostile_coco_files_name_file_and_place(tmp_path, text, problem):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(FormatError, match=f"bad.json, {problem}") as info:
        READERS["coco"](path)
    assert "\n" not in str(info.value)


def test_sniffers_tell_format_files_from_others(tmp_path):
    from napari_siamtrack.io.formats import SNIFFERS

    WRITERS["mot"](tmp_path / "m.zip", generated_tracks(), VIDEO)
    WRITERS["cvat"](tmp_path / "c.xml", generated_tracks(), VIDEO)
    WRITERS["coco"](tmp_path / "c.json", generated_tracks(), VIDEO)
    (tmp_path / "other.json").write_text('{"name": "settings"}')
    (tmp_path / "other.xml").write_text("<svg/>")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert SNIFFERS["mot"](tmp_path / "m.zip") and not SNIFFERS["mot"](tmp_path / "other.zip")
    assert SNIFFERS["cvat"](tmp_path / "c.xml") and not SNIFFERS["cvat"](tmp_path / "other.xml")
    assert not SNIFFERS["cvat"](tmp_path / "m.zip")
    assert SNIFFERS["coco"](tmp_path / "c.json") and not SNIFFERS["coco"](tmp_path / "other.json")


def test_csv_round_trip_of_the_generated_tracks_is_exact(tmp_path):
    rows = generated_tracks()
    assert read_csv(write_csv(tmp_path / "b.csv", rows)) == sorted(rows, key=lambda r: (r.track_id, r.frame))
