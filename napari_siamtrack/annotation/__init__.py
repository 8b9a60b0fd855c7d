"""Annotation: tracks of boxes per frame, which boxes are keyframes, and the rules of propagation
(which frames to track from which keyframes). No Qt and no napari; imports :mod:`..io` and is
handed a tracker (:mod:`..tracking`) to run."""
