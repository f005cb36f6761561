#!/bin/sh
# Screenshot the app under Xvfb: gui/screenshot.sh OUT.png [PROJECT] [--select ID] [--train]
#   [--epochs N] [--frameworks torch,tensorflow,keras-jax,keras-torch]
# Needs: apt-get install -y xvfb xauth libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1
# SIZE=2560x1600 QT_SCALE_FACTOR=2 gui/screenshot.sh shot2x.png  checks 200% scaling.
cd "$(dirname "$0")/.." || exit 1
SIZE="${SIZE:-1280x800}"
exec env -u QT_QPA_PLATFORM TWINTRAIN_DATA_DIR="${TWINTRAIN_DATA_DIR:-$(mktemp -d)}" \
  xvfb-run -a -s "-screen 0 ${SIZE}x24" .venv/bin/python -m gui.screenshot --maximized "$@"
