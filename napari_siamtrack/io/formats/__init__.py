"""The interchange formats labelling pipelines use, beside the project's own boxes CSV (``io/box_csv.py``):
MOT 1.1 (``mot``), CVAT for video 1.1 XML (``cvat``), YOLO (``yolo``, write only) and COCO (``coco``),
one module each. Writers take box rows and the :class:`~.common.Video` they belong to, write atomically
and return the paths and one message about what the format left out; readers return the rows and one
message about what they could not keep."""

from __future__ import annotations

from . import coco, cvat_xml, mot, yolo
from .common import FormatError, Loaded, Video, Written

#: By format name: how to write it, read it (not YOLO), name it, and tell its files from others.
WRITERS = {
    "mot": mot.write_mot,
    "cvat": cvat_xml.write_cvat,
    "yolo": yolo.write_yolo,
    "coco": coco.write_coco,
}
READERS = {"mot": mot.read_mot, "cvat": cvat_xml.read_cvat, "coco": coco.read_coco}
TITLES = {"mot": mot.TITLE, "cvat": cvat_xml.TITLE, "yolo": yolo.TITLE, "coco": coco.TITLE}
SNIFFERS = {"mot": mot.looks_like, "cvat": cvat_xml.looks_like, "coco": coco.looks_like}

__all__ = ["READERS", "SNIFFERS", "TITLES", "WRITERS", "FormatError", "Loaded", "Video", "Written"]
