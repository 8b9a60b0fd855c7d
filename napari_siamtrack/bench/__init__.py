"""Benchmarks on sequence folders: one-pass accuracy and speed (OTB protocol), OpenCV baselines,
and the labelling effort of a simulated annotator."""
