#!/usr/bin/env bash
# Installs napari-siamtrack and everything it needs into ./.venv (safe to run again).
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)

# torch first, so the package's "torch>=2.1" finds it installed. An existing torch is kept, so a
# CUDA build installed beforehand stays. SIAMTRACK_TORCH_INDEX picks another wheel index, e.g.
# PyTorch's CPU-only index on a machine without an NVIDIA GPU.
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  "${pip[@]}" install "torch==2.13.0" ${SIAMTRACK_TORCH_INDEX:+--index-url "$SIAMTRACK_TORCH_INDEX"}
fi
"${pip[@]}" install -e ".[all,batch,testing]"
