"""Input and output: frame sources (videos, folders of frames, TIFF stacks), the lazy video array,
the boxes CSV and the interchange formats (``formats/``: MOT, CVAT XML, YOLO, COCO), benchmark sequence
folders, the sample video and atomic file writes. Imports nothing else from the package."""
