#!/usr/bin/env bash
# Installs everything, tracks the built-in sample video with the shipped weights and reports how close
# the boxes are to its ground truth; with a display, then opens the sample in napari.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/siamtrack demo --out siamtrack-demo
if [ -n "${DISPLAY:-}" ]; then
  .venv/bin/python -c "import napari; v = napari.Viewer(); v.open_sample('napari-siamtrack', 'sample'); napari.run()"
fi
