"""The SiamFC+ network (CIResNet-22 backbone, cross-correlation head)."""

from .backbone import CIResNet22
from .head import XCorrHead
from .siamfc import CHANNEL_ORDERS, SiamFCPlus

__all__ = ["CHANNEL_ORDERS", "CIResNet22", "SiamFCPlus", "XCorrHead"]
