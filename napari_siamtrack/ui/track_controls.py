"""The track part of the Propagate widget: absent from here, and the "Tracks" section (set the track id
of the selected boxes, merge their tracks, split a track here, delete a track's tracked boxes from here
on, interpolate gaps). The edits themselves are pure functions in :mod:`..annotation.identity`,
:mod:`..annotation.absence` and :mod:`..annotation.interpolation`; a refused one changes nothing."""

from __future__ import annotations

from collections.abc import Callable

from magicgui.widgets import ComboBox, Container, Label, PushButton, SpinBox

from ..annotation.absence import mark_absent
from ..annotation.identity import (
    MAX_TRACK,
    IdentityError,
    delete_tracked_from,
    merge_tracks,
    new_track_id,
    set_track_id,
    split_track,
)
from ..annotation.interpolation import interpolate
from ..annotation.propagation import PropagationError
from ..annotation.track_table import TrackTable
from ..io.box_csv import BoxRow
from .boxes_layer import BoxesLayer


class TrackControls:
    """Mixed into :class:`~napari_siamtrack.ui.widget.PropagateWidget`, which provides ``worker``,
    ``runs``, ``binding()``, ``current_frame()``, ``_set_running()`` and the messages."""

    def _build_tracks(self) -> list:
        """Make the track controls; return them, in dock order."""
        self.absent_button = PushButton(
            text="Absent from here",
            tooltip="The selected box's track (or the only one on this frame) is not visible from this "
            "frame until its next keyframe: an outside keyframe, never tracked into. Again: visible.",
        )
        self.track_id = SpinBox(min=1, max=MAX_TRACK - 1, value=1, tooltip="the track id 'Set' gives")
        self.set_id_button = PushButton(
            text="Set", tooltip="Move the selected boxes to this track, as its keyframes"
        )
        id_row = Container(
            widgets=[self.track_id, self.set_id_button], layout="horizontal", labels=False, label="Track id"
        )
        id_row.margins = (0, 0, 0, 0)
        self.merge_button = PushButton(
            text="Merge selected tracks",
            tooltip="One track, with the lowest id, from the selected boxes' tracks",
        )
        self.split_button = PushButton(
            text="Split track here", tooltip="The selected track's boxes from this frame on get a new id"
        )
        self.delete_button = PushButton(
            text="Delete tracked boxes from here",
            tooltip="Remove the selected track's tracked boxes from this frame on (keyframes stay)",
        )
        self.interpolate_scope = ComboBox(
            label="Interpolate",
            choices=[("selected track", "selected"), ("every track", "all")],
            tooltip="Which tracks 'Interpolate gaps' fills",
        )
        self.interpolate_button = PushButton(
            text="Interpolate gaps",
            tooltip="Fill the frames between consecutive visible keyframes with linearly interpolated "
            "boxes (tracked boxes: a later propagation may replace them)",
        )
        self.absent_button.changed.connect(self.mark_absent)
        self.set_id_button.changed.connect(self.set_track_id)
        self.merge_button.changed.connect(self.merge_tracks)
        self.split_button.changed.connect(self.split_track)
        self.delete_button.changed.connect(self.delete_tracked)
        self.interpolate_button.changed.connect(self.interpolate_gaps)
        return [
            self.absent_button, Label(value="<b>Tracks</b>"), id_row, self.merge_button, self.split_button,
            self.delete_button, self.interpolate_scope, self.interpolate_button,
        ]  # fmt: skip

    # --- what the controls act on ----------------------------------------------------------------

    def _editable(self) -> BoxesLayer:
        """The chosen boxes layer, when no propagation is running (else a PropagationError)."""
        if self.worker is not None:
            raise PropagationError("a propagation is running: wait for it, or Cancel it")
        return self.binding()

    def _selected(self, binding: BoxesLayer) -> list[BoxRow]:
        """The boxes selected in the layer."""
        boxes, _ = binding.boxes()
        selected = binding.layer.selected_data
        return [row for row, i in zip(boxes.rows, boxes.indices) if i in selected]

    def _one_track(self, binding: BoxesLayer) -> int:
        """The selected boxes' track, or the only track with a box on the current frame."""
        tracks = sorted({r.track_id for r in self._selected(binding)})
        if len(tracks) > 1:
            raise IdentityError(f"the selected boxes are of tracks {', '.join(map(str, tracks))}: select one")
        if tracks:
            return tracks[0]
        frame = self.current_frame()
        here = binding.table().on_frame(frame)
        if len(here) == 1:
            return here[0].track_id
        what = "no box" if not here else f"{len(here)} boxes"
        raise IdentityError(f"frame {frame} has {what}: select the box of the track to change")

    def _edit(self, change: Callable[[BoxesLayer, TrackTable], str]) -> bool:
        """Run ``change`` on the chosen layer; it returns what it did, or raises with why not."""
        try:
            binding = self._editable()
            done = change(binding, binding.table())
        except ValueError as exc:  # IdentityError, PropagationError: one line, nothing changed
            self.error(str(exc))
            return False
        self.runs.forget(binding.layer)  # an undo would no longer fit the tracks
        self._set_running(False)
        self.inform(done)
        return True

    # --- the edits -------------------------------------------------------------------------------

    def mark_absent(self) -> bool:
        """Make the selected track absent from the current frame (or visible again on an outside keyframe)."""

        def change(binding, table):
            track, frame = self._one_track(binding), self.current_frame()
            rows = mark_absent(table, track, frame)
            binding.replace_boxes(rows)
            row = TrackTable(rows).get(track, frame)
            if row.outside:
                return f"track {track} is absent from frame {frame} until its next keyframe"
            return f"track {track} is visible on frame {frame} again"

        return self._edit(change)

    def set_track_id(self) -> bool:
        """Move the selected boxes to the track under 'Track id'."""

        def change(binding, table):
            selected = self._selected(binding)
            if not selected:
                raise IdentityError("select one or more boxes first")
            new_id = self.track_id.value
            binding.replace_boxes(set_track_id(table, [(r.track_id, r.frame) for r in selected], new_id))
            return f"{len(selected)} box{'es' if len(selected) > 1 else ''} moved to track {new_id}"

        return self._edit(change)

    def merge_tracks(self) -> bool:
        """Merge the selected boxes' tracks into the lowest of their ids."""

        def change(binding, table):
            tracks = sorted({r.track_id for r in self._selected(binding)})
            binding.replace_boxes(merge_tracks(table, tracks))
            return f"tracks {', '.join(map(str, tracks))} merged into track {tracks[0]}"

        return self._edit(change)

    def split_track(self) -> bool:
        """Give the selected track's boxes from the current frame on a new id."""

        def change(binding, table):
            track, frame, new_id = self._one_track(binding), self.current_frame(), new_track_id(table)
            binding.replace_boxes(split_track(table, track, frame, new_id))
            return f"track {track} split: from frame {frame} on it is track {new_id}"

        return self._edit(change)

    def delete_tracked(self) -> bool:
        """Remove the selected track's tracked boxes from the current frame on."""

        def change(binding, table):
            track, frame = self._one_track(binding), self.current_frame()
            rows = delete_tracked_from(table, track, frame)
            binding.replace_boxes(rows)
            return f"track {track}: {len(table) - len(rows)} tracked boxes from frame {frame} on deleted"

        return self._edit(change)

    def interpolate_gaps(self) -> bool:
        """Fill the gaps between visible keyframes of the selected track (or every track) linearly."""

        def change(binding, table):
            tracks = [self._one_track(binding)] if self.interpolate_scope.value == "selected" else None
            rows, gaps = interpolate(table, tracks)
            if not rows:
                raise IdentityError("no gap between two visible keyframes to fill")
            binding.merge(rows)
            binding.filled.record(gaps)
            return f"{len(rows)} boxes interpolated in {len(gaps)} gap{'s' if len(gaps) > 1 else ''}"

        return self._edit(change)
