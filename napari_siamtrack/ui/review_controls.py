"""The review part of the Propagate widget: the review threshold, the jumps from one run of uncertain
boxes to the next, keyframes on and off, and the track timeline docked under the canvas."""

from __future__ import annotations

import numpy as np
from magicgui.widgets import FloatSpinBox, PushButton
from qtpy.QtCore import QTimer

from ..annotation.propagation import PropagationError
from ..annotation.review import DEFAULT_THRESHOLD, BoxReview, next_run_start
from ..annotation.track_table import TrackTable
from .layer_boxes import protected
from .timeline import TimelineView
from .timeline_model import build_timeline


class ReviewControls:
    """Mixed into :class:`~napari_siamtrack.ui.widget.PropagateWidget`, which provides ``viewer``,
    ``boxes``, ``image``, ``status``, ``binding()``, ``current_frame()`` and the messages."""

    def _build_review(self) -> list:
        """Make the review controls and the timeline dock; return the controls, in dock order."""
        self.threshold = FloatSpinBox(
            label="Review below",
            min=0.0,
            max=1.0,
            step=0.05,
            value=DEFAULT_THRESHOLD,
            tooltip="Tracked boxes whose confidence (the chance that the box is right) is below this are "
            "uncertain: drawn red, and found by Previous / Next uncertain",
        )
        self.previous_uncertain = PushButton(text="◀ Previous uncertain")
        self.next_uncertain = PushButton(text="Next uncertain ▶")
        self.keyframe_button = PushButton(text="Keyframe on/off (selected boxes)")
        self.threshold.changed.connect(self._restyle)
        self.previous_uncertain.changed.connect(lambda: self.go_to_uncertain(-1))
        self.next_uncertain.changed.connect(lambda: self.go_to_uncertain(+1))
        self.keyframe_button.changed.connect(self.toggle_keyframe)
        self.timeline = TimelineView()
        # redrawn once the event that changed the boxes is over (a merge, an edit): the viewer stays free
        # between the two, and changes in one turn of the event loop redraw it once
        self._timeline_due = QTimer()
        self._timeline_due.setSingleShot(True)
        self._timeline_due.setInterval(0)
        self._timeline_due.timeout.connect(self.refresh_timeline)
        self.viewer.window.add_dock_widget(self.timeline, name="Track timeline", area="bottom")
        self.timeline.frame_chosen.connect(self.go_to)
        self.viewer.dims.events.current_step.connect(self._on_step)
        return [self.threshold, self.previous_uncertain, self.next_uncertain, self.keyframe_button]

    def _restyle(self, threshold: float) -> None:
        for binding in self._bindings.values():
            binding.restyle(threshold)
        self.refresh_timeline()

    def refresh_timeline(self, *_) -> None:
        """Redraw the timeline from the chosen boxes layer."""
        layer, image = self.boxes.value, self.image.value
        binding = self._bindings.get(id(layer)) if layer is not None else None
        if binding is None:
            self.timeline.set_timeline(
                build_timeline(BoxReview.of(TrackTable()), self.threshold.value, 1), self.threshold.value
            )
            return
        n_frames = image.data.shape[0] if image is not None and image.ndim >= 3 else 1
        timeline = build_timeline(binding.review, self.threshold.value, n_frames)
        self.timeline.set_timeline(timeline, self.threshold.value)
        self.timeline.set_current(self.current_frame())

    def _on_step(self, event=None) -> None:
        self.timeline.set_current(self.current_frame())

    def go_to(self, frame: int, track_id: int = 0) -> None:
        """Show ``frame``; select the box of ``track_id`` there, if it has one."""
        self.viewer.dims.set_current_step(0, frame)
        layer = self.boxes.value
        if track_id and layer is not None and id(layer) in self._bindings:
            features = layer.features
            on = (features["frame"].to_numpy() == frame) & (features["track_id"].to_numpy() == track_id)
            layer.selected_data = set(np.flatnonzero(on).tolist())

    def go_to_uncertain(self, step: int = 1) -> int | None:
        """Jump to the first frame of the next (``step=-1``: previous) run of frames with an uncertain box,
        and select the uncertain boxes there. Returns the frame, or None when there is none."""
        try:
            binding = self.binding()
        except PropagationError as exc:
            self.error(str(exc))
            return None
        threshold = self.threshold.value
        run_lists = binding.review.uncertain_runs(threshold)
        frame = next_run_start(run_lists, self.current_frame(), step)
        if frame is None:
            self.inform(f"no tracked box has a confidence below {threshold:.2f}")
            return None
        self.viewer.dims.set_current_step(0, frame)
        binding.layer.selected_data = binding.indices_on(frame, below=threshold)
        n = sum(len(r) for r in run_lists.values())
        self.status.value = f"Frame {frame}: {n} uncertain run{'s' if n != 1 else ''} in all."
        return frame

    def toggle_keyframe(self) -> None:
        """Selected boxes become keyframes; if all already are, they go back to the tracker."""
        try:
            binding = self.binding()
        except PropagationError as exc:
            self.error(str(exc))
            return
        selected = sorted(binding.layer.selected_data)
        if not selected:
            self.inform("select one or more boxes first")
            return
        already = protected(binding.layer.features)[selected].all()
        binding.set_keyframe(selected, not already)
