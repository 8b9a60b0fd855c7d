"""Exporting a boxes layer: the file Export CSV… proposes, and whether a layer holds boxes that are in
no CSV yet."""

from __future__ import annotations

from pathlib import Path

from napari.layers import Image, Shapes

from ..io.box_csv import BoxRow

SUFFIX = ".boxes.csv"


def suggested_path(layer: Shapes, image: Image | None) -> str:
    """The CSV the boxes were opened from; else a ``.boxes.csv`` next to the video, named after it; else
    one named after the layer (without doubling the suffix)."""
    source = layer.source.path
    if source and str(source).lower().endswith(".csv"):
        return str(source)
    video = image.source.path if image is not None else None
    if video:
        video = Path(video)
        return str(video.with_name(video.stem + SUFFIX))
    name = layer.name.removesuffix(".boxes")
    return f"{name}.csv" if name.lower().endswith("boxes") else f"{name}{SUFFIX}"


class SavedState:
    """The rows of a boxes layer as last written to (or read from) a CSV file."""

    def __init__(self, layer: Shapes, rows: list[BoxRow]) -> None:
        source = layer.source.path
        opened = bool(source) and str(source).lower().endswith(".csv")
        self.path: str | None = str(source) if opened else None
        self._rows: list[BoxRow] | None = rows if opened else None

    def saved(self, path: str, rows: list[BoxRow]) -> None:
        self.path, self._rows = str(path), rows

    def unexported(self, rows: list[BoxRow]) -> bool:
        """Whether ``rows`` (the layer now) hold boxes that the last CSV does not."""
        return bool(rows) and rows != self._rows
