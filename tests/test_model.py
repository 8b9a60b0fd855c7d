"""The SiamFC+ network: CIResNet-22 size, output sizes, alignment, equivariance, the xcorr head, and
the backbone's inference form."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from napari_siamtrack.tracking.model import CIResNet22, SiamFCPlus, XCorrHead
from napari_siamtrack.tracking.model.backbone import FIRST_CELL_CENTRE, STRIDE
from napari_siamtrack.tracking.model.inference import InferenceBackbone

#: Receptive field of one output cell of CIResNet-22, in input pixels.
RECEPTIVE_FIELD = 93


@pytest.fixture(scope="module")
def backbone() -> CIResNet22:
    torch.manual_seed(0)
    return CIResNet22().eval()


def test_parameter_and_layer_counts() -> None:
    model = CIResNet22()
    learnable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert learnable == 1_444_928
    assert sum(isinstance(m, nn.Conv2d) for m in model.modules()) == 24
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 24


def test_reset_parameters_initialises_batchnorm() -> None:
    model = CIResNet22()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            assert torch.equal(m.weight, torch.ones_like(m.weight))
            assert torch.equal(m.bias, torch.zeros_like(m.bias))


@pytest.mark.parametrize(("side", "cells"), [(127, 5), (255, 21), (135, 6), (263, 22)])
def test_backbone_output_size(backbone: CIResNet22, side: int, cells: int) -> None:
    with torch.no_grad():
        out = backbone(torch.rand(1, 3, side, side) * 255)
    assert out.shape == (1, 512, cells, cells)


def test_siamfc_score_map_size() -> None:
    torch.manual_seed(0)
    model = SiamFCPlus().eval()
    with torch.no_grad():
        scores = model(torch.rand(2, 3, 127, 127) * 255, torch.rand(2, 3, 255, 255) * 255)
    assert scores.shape == (2, 1, 17, 17)
    assert torch.isfinite(scores).all()


def test_siamfc_rejects_unknown_channel_order() -> None:
    with pytest.raises(ValueError, match="channel_order"):
        SiamFCPlus(channel_order="GRB")


def test_receptive_field_is_centred_on_documented_pixel(backbone: CIResNet22) -> None:
    """Backprop from single output cells: the input gradient covers exactly the 93-px receptive field
    centred on pixel 47 + 8 i, so no cell ever saw the zero padding at the crop border."""
    assert FIRST_CELL_CENTRE == 47 and STRIDE == 8
    cells = [(0, 0), (0, 4), (4, 1), (2, 2)]
    torch.manual_seed(1)
    images = (torch.rand(len(cells), 3, 127, 127) * 255).requires_grad_(True)
    features = backbone(images)
    # In eval mode the samples of a batch are independent, so one backward pass serves every cell.
    sum(features[b, :, i, j].sum() for b, (i, j) in enumerate(cells)).backward()
    half = RECEPTIVE_FIELD // 2
    for b, (i, j) in enumerate(cells):
        grad = images.grad[b].abs().sum(dim=0)
        rows = torch.nonzero(grad.sum(dim=1)).flatten()
        cols = torch.nonzero(grad.sum(dim=0)).flatten()
        for centre, idx in ((FIRST_CELL_CENTRE + STRIDE * i, rows), (FIRST_CELL_CENTRE + STRIDE * j, cols)):
            first, last = int(idx.min()), int(idx.max())
            assert centre - half <= first and last <= centre + half, (i, j, first, last)
            assert centre - first == last - centre, (i, j, first, last)
            assert last - first + 1 == RECEPTIVE_FIELD, (i, j, first, last)


def test_translation_by_one_stride_shifts_features_by_one_cell(backbone: CIResNet22) -> None:
    torch.manual_seed(2)
    big = torch.rand(1, 3, 271, 271) * 255
    a = big[:, :, 0:255, 0:255]
    b = big[:, :, 8:263, 16:271]  # content moved up 1 cell and left 2 cells
    with torch.no_grad():
        fa, fb = backbone(torch.cat((a, b)))
    assert fa.shape == (512, 21, 21)
    tol = 1e-5 * float(fa.abs().max())
    torch.testing.assert_close(fb[:, :-1, :-2], fa[:, 1:, 2:], rtol=1e-5, atol=tol)
    # The features are not trivially constant: shifting does change the map.
    assert not torch.allclose(fb, fa, rtol=1e-3, atol=tol)


def _loop_xcorr(z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    k = z.shape[0]
    s = x.shape[0] // k
    return torch.cat([F.conv2d(x[i : i + 1], z[i // s : i // s + 1]) for i in range(k * s)])


def test_xcorr_head_matches_per_target_loop() -> None:
    torch.manual_seed(3)
    k, s, c = 3, 2, 4
    z = torch.randn(k, c, 3, 3, dtype=torch.float64)
    x = torch.randn(k * s, c, 9, 9, dtype=torch.float64)
    out = XCorrHead()(z, x)
    assert out.shape == (k * s, 1, 7, 7)
    torch.testing.assert_close(out, _loop_xcorr(z, x) * 0.1)


def test_xcorr_head_takes_several_templates_per_target_and_passes_gradients() -> None:
    torch.manual_seed(6)
    k, s, t, c = 2, 3, 2, 4
    z = torch.randn(k, t, c, 3, 2, dtype=torch.float64, requires_grad=True)
    x = torch.randn(k * s, c, 8, 7, dtype=torch.float64, requires_grad=True)
    out = XCorrHead().correlate(z, x)
    assert out.shape == (k * s, t, 6, 6)
    for j in range(t):
        torch.testing.assert_close(out[:, j : j + 1], _loop_xcorr(z[:, j], x))
    weights = torch.randn(out.shape, dtype=torch.float64)
    (out * weights).sum().backward()
    z_ref, x_ref = z.detach().clone().requires_grad_(), x.detach().clone().requires_grad_()
    sum((_loop_xcorr(z_ref[:, j], x_ref) * weights[:, j : j + 1]).sum() for j in range(t)).backward()
    torch.testing.assert_close(z.grad, z_ref.grad)
    torch.testing.assert_close(x.grad, x_ref.grad)


def test_xcorr_head_single_target_and_custom_scale() -> None:
    torch.manual_seed(4)
    z = torch.randn(1, 5, 2, 2, dtype=torch.float64)
    x = torch.randn(3, 5, 6, 6, dtype=torch.float64)
    torch.testing.assert_close(XCorrHead(out_scale=0.25)(z, x), _loop_xcorr(z, x) * 0.25)


def test_learned_head_is_affine_of_xcorr() -> None:
    torch.manual_seed(5)
    z = torch.randn(2, 4, 3, 3)
    x = torch.randn(6, 4, 8, 8)
    head = XCorrHead(learned=True)
    assert head.adjust is not None
    # Initialised to the fixed head's behaviour.
    torch.testing.assert_close(head(z, x), XCorrHead()(z, x))
    with torch.no_grad():
        head.adjust.weight.fill_(0.7)
        head.adjust.bias.fill_(-0.3)
        out = head(z, x)
    torch.testing.assert_close(out, 0.7 * _loop_xcorr(z, x) - 0.3, rtol=1e-5, atol=1e-5)


def test_unlearned_head_has_no_parameters() -> None:
    assert list(XCorrHead().parameters()) == []
    assert sum(p.numel() for p in XCorrHead(learned=True).parameters()) == 2


# --- the inference form -------------------------------------------------------------------------------


def _with_random_statistics(model: CIResNet22) -> CIResNet22:
    """Non-trivial BatchNorm parameters and running statistics, so folding them is really tested."""
    generator = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.weight.data = 0.5 + torch.rand(n, generator=generator)
            m.bias.data = torch.randn(n, generator=generator) * 0.1
            m.running_mean = torch.randn(n, generator=generator) * 0.1
            m.running_var = 0.5 + torch.rand(n, generator=generator)
    return model.eval()


@pytest.mark.parametrize("side", [127, 255])
def test_inference_backbone_computes_the_same_features(side: int) -> None:
    torch.manual_seed(0)
    model = _with_random_statistics(CIResNet22())
    images = torch.rand(2, 3, side, side) * 255
    with torch.no_grad():
        expected = model(images)
        folded = InferenceBackbone(model)(images)
    assert folded.shape == expected.shape
    torch.testing.assert_close(folded, expected, rtol=1e-4, atol=1e-4 * expected.abs().max().item())


def test_inference_backbone_skips_the_cropped_borders() -> None:
    """Same output, fewer multiply-adds: the padded borders every unit crops are never computed."""
    model = CIResNet22().eval()
    images = torch.zeros(1, 3, 255, 255)
    flops = []
    for net in (model, InferenceBackbone(model)):
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            net(images)
        flops.append(counter.get_total_flops())
    assert flops[1] < 0.95 * flops[0]
