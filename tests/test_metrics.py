import numpy as np
import pytest

from napari_siamtrack.metrics import iou


def test_iou_of_single_boxes():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (10, 0, 10, 10)) == 0.0
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)


def test_iou_row_by_row():
    a = np.array([[0, 0, 10, 10], [0, 0, 4, 4]])
    b = np.array([[0, 0, 10, 10], [2, 2, 4, 4]])
    np.testing.assert_allclose(iou(a, b), [1.0, 4 / 28])
