"""int8 inference on CPUs with VNNI: the inference backbone quantised with calibrated activation ranges.

Weights are quantised per output channel when the network is built; activations need ranges, and
those come from calibration: :func:`calibrate` runs the backbone over real crops and records, for
every activation the int8 network quantises, the range a histogram observer chose for it (the range
that minimises the quantisation error). The ranges are stored with the weights (see
:mod:`napari_siamtrack.tracking.weights`) and :func:`quantized_backbone` rebuilds the same int8 network from
them in a fraction of a second, without any data. The kernels are oneDNN's
(``torch.backends.quantized.engine = "onednn"``), which use the full 8-bit activation range on VNNI
hardware. Without VNNI they sum pairs of 8-bit products in 16 bits, which saturates on a full-range
image: there the network's input is quantised to 7 bits (activations inside keep 8).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

import torch
from torch import nn
from torch.ao.quantization import QConfig, convert, prepare
from torch.ao.quantization.observer import (
    HistogramObserver,
    MinMaxObserver,
    ObserverBase,
    PerChannelMinMaxObserver,
)

from .model import CIResNet22
from .model.inference import InferenceBackbone

ENGINE = "onednn"


def int8_supported() -> bool:
    """Whether this CPU runs int8 convolutions natively (VNNI) with the oneDNN engine."""
    vnni = getattr(torch.cpu, "_is_vnni_supported", lambda: False)
    return ENGINE in torch.backends.quantized.supported_engines and bool(vnni())


def calibrate(backbone: CIResNet22, batches: Iterable[torch.Tensor]) -> dict[str, tuple[float, float]]:
    """Activation ranges ``{name: (low, high)}`` over ``batches`` of (N, 3, H, W) crops (0-255 floats)."""
    observed = _prepare(backbone, HistogramObserver)
    with torch.no_grad():
        for batch in batches:
            observed(batch.float())
    ranges = {}
    for name, observer in _observers(observed).items():
        scale, zero_point = (float(v) for v in observer.calculate_qparams())
        ranges[name] = ((observer.quant_min - zero_point) * scale, (observer.quant_max - zero_point) * scale)
    return ranges


def quantized_backbone(backbone: CIResNet22, ranges: Mapping[str, tuple[float, float]]) -> nn.Module:
    """The int8 inference backbone with activation ranges from :func:`calibrate`. It takes and returns
    float tensors (quantising its input and dequantising its output)."""
    observed = _prepare(backbone, MinMaxObserver, seven_bit_input=not int8_supported())
    observers = _observers(observed)
    if set(observers) != set(ranges):
        raise ValueError(
            f"the int8 calibration does not match this network ({len(ranges)} ranges for "
            f"{len(observers)} activations); calibrate again"
        )
    for name, observer in observers.items():
        low, high = ranges[name]
        observer.min_val = torch.tensor(float(low))
        observer.max_val = torch.tensor(float(high))
    with _quiet():
        return convert(observed).eval()


def _prepare(backbone: CIResNet22, observer: type[ObserverBase], seven_bit_input: bool = False) -> nn.Module:
    """The inference backbone with an activation observer after every quantised operation."""
    torch.backends.quantized.engine = ENGINE
    model = InferenceBackbone(copy.deepcopy(backbone).cpu().eval())
    model.qconfig = _qconfig(observer, reduce_range=False)
    if seven_bit_input:
        model.quant.qconfig = _qconfig(observer, reduce_range=True)
    with _quiet():
        return prepare(model)


def _qconfig(observer: type[ObserverBase], reduce_range: bool) -> QConfig:
    """Unsigned activations (7 bits with ``reduce_range``), weights symmetric per output channel."""
    return QConfig(
        activation=observer.with_args(dtype=torch.quint8, reduce_range=reduce_range),
        weight=PerChannelMinMaxObserver.with_args(dtype=torch.qint8, qscheme=torch.per_channel_symmetric),
    )


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence torch's notices that its eager int8 API and quantised tensors are deprecated."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield


def _observers(observed: nn.Module) -> dict[str, ObserverBase]:
    """The activation observers by the name of the operation they follow (``layer1.0.conv3`` …)."""
    return {
        name.removesuffix(".activation_post_process"): m
        for name, m in observed.named_modules()
        if isinstance(m, ObserverBase)
    }
