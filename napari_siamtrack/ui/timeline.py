"""The track timeline: a thin Qt view of :class:`~napari_siamtrack.ui.timeline_model.Timeline`.

One lane per track: its confidence over time (a line, high at the top; the dashed line is the review
threshold), its runs of uncertain frames (red bands), its keyframes (yellow ticks), and the current
frame (a white line); a ruler of frame numbers below. Clicking or dragging in a lane emits
:attr:`TimelineView.frame_chosen` with the frame and the track under the pointer.
"""

from __future__ import annotations

from qtpy.QtCore import QPointF, QRectF, QSize, Qt, Signal
from qtpy.QtGui import QBrush, QColor, QPainter, QPen, QPolygonF
from qtpy.QtWidgets import QSizePolicy, QWidget

from .layer_boxes import COLOURS
from .timeline_model import LABEL_WIDTH, Timeline

LANE_HEIGHT = 34
RULER_HEIGHT = 16
BACKGROUND = QColor("#262930")
LANE = QColor("#363a45")
TEXT = QColor("#d0d4dc")


class TimelineView(QWidget):
    frame_chosen = Signal(int, int)  #: frame, track id (0 when the pointer is on no lane)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._timeline = Timeline(1, ())
        self._threshold = 0.5
        self._current = 0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumHeight(LANE_HEIGHT + RULER_HEIGHT)
        self.setToolTip(
            "Each track's confidence over time. Red: uncertain runs; yellow: keyframes; grey hatching: "
            "absent. Click to go there."
        )

    @property
    def timeline(self) -> Timeline:
        return self._timeline

    def set_timeline(self, timeline: Timeline, threshold: float) -> None:
        self._timeline, self._threshold = timeline, threshold
        self.updateGeometry()
        self.update()

    def set_current(self, frame: int) -> None:
        self._current = frame
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(600, LANE_HEIGHT * max(len(self._timeline.lanes), 1) + RULER_HEIGHT)

    # --- drawing ---------------------------------------------------------------------------------

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), BACKGROUND)
        timeline, width = self._timeline, self.width()
        lanes = timeline.lanes
        lanes_height = self.height() - RULER_HEIGHT
        height = lanes_height / max(len(lanes), 1)
        half = (timeline.x_of(1, width) - timeline.x_of(0, width)) / 2
        for i, lane in enumerate(lanes):
            top = i * height
            inner = QRectF(LABEL_WIDTH, top + 2, width - LABEL_WIDTH, height - 4)
            painter.fillRect(inner, LANE)
            painter.setPen(TEXT)
            painter.drawText(
                QRectF(0, top, LABEL_WIDTH - 4, height),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                str(lane.track_id),
            )
            uncertain = QColor(COLOURS["uncertain"])
            uncertain.setAlpha(110)
            for first, last in lane.uncertain:
                x0, x1 = timeline.x_of(first, width) - half, timeline.x_of(last, width) + half
                painter.fillRect(QRectF(x0, inner.top(), max(x1 - x0, 1.0), inner.height()), uncertain)
            absent = QBrush(QColor(COLOURS["absent"]), Qt.BrushStyle.BDiagPattern)
            for first, last in lane.absent:
                x0, x1 = timeline.x_of(first, width) - half, timeline.x_of(last, width) + half
                painter.fillRect(QRectF(x0, inner.top(), max(x1 - x0, 1.0), inner.height()), absent)

            def y_of(value: float, inner: QRectF = inner) -> float:
                return inner.bottom() - value * inner.height()

            painter.setPen(QPen(QColor(255, 255, 255, 60), 1, Qt.PenStyle.DashLine))
            painter.drawLine(
                QPointF(inner.left(), y_of(self._threshold)), QPointF(inner.right(), y_of(self._threshold))
            )
            painter.setPen(QPen(QColor(COLOURS["tracked"]), 1.2))
            for points in timeline.line(lane, width):
                ys = inner.bottom() - points[:, 1] * inner.height()
                painter.drawPolyline(QPolygonF([QPointF(x, y) for x, y in zip(points[:, 0].tolist(), ys.tolist())]))
            painter.setPen(QPen(QColor(COLOURS["keyframe"]), 2))
            for frame in lane.keyframes:
                x = timeline.x_of(frame, width)
                painter.drawLine(QPointF(x, inner.top()), QPointF(x, inner.bottom()))
        painter.setPen(TEXT)
        for frame in timeline.ticks(width):
            x = timeline.x_of(frame, width)
            painter.drawLine(QPointF(x, lanes_height), QPointF(x, lanes_height + 4))
            painter.drawText(QPointF(x + 2, self.height() - 3), str(frame))
        x = timeline.x_of(self._current, width)
        painter.setPen(QPen(QColor("white"), 1))
        painter.drawLine(QPointF(x, 0), QPointF(x, lanes_height))
        painter.end()

    # --- pointer ---------------------------------------------------------------------------------

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._choose(event.position() if hasattr(event, "position") else event.pos())

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._choose(event.position() if hasattr(event, "position") else event.pos())

    def _choose(self, position) -> None:
        lane = self._timeline.lane_at(position.y(), self.height() - RULER_HEIGHT)
        self.frame_chosen.emit(
            self._timeline.frame_at(position.x(), self.width()), lane.track_id if lane is not None else 0
        )
