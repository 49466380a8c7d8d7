#!/usr/bin/env bash
# Makes a fresh Debian 12 (or Ubuntu) machine with Node ≥ 20 ready for `npm test` and `node train.js`:
#   1. npm packages (npm ci when package-lock.json is there);
#   2. a WebGPU adapter for Dawn: if none is found, Mesa's software Vulkan driver (lavapipe) ≥ 24,
#      which Debian 12 has only in bookworm-backports (Dawn rejects bookworm's Mesa 22);
#   3. Debian's Chromium, for the browser tests (WebGPU there runs on Chromium's SwiftShader);
#   4. Fashion-MNIST (dataset-fashion-mnist), the images of the default benchmark;
#   5. PyTorch (python3-torch with OpenBLAS), the reference the PyTorch-bridge tests check against.
# Idempotent: every step checks first and says what it found. System packages need root (or sudo).
# Usage: npm run setup            (or: bash scripts/setup.sh [--no-npm])
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }
export DEBIAN_FRONTEND=noninteractive

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO="none"; fi
fi
APT_UPDATED=""
apt_install() { # apt_install WHY PACKAGE... [-t RELEASE]
  local why=$1; shift
  if ! command -v apt-get >/dev/null 2>&1; then
    say "cannot install $* ($why): this is not a Debian/Ubuntu system (no apt-get); install it by hand"
    return 1
  fi
  if [ "$SUDO" = "none" ]; then
    say "installing $* ($why) needs root: run this script as root or install sudo"
    return 1
  fi
  say "installing $* ($why)"
  if [ -z "$APT_UPDATED" ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  $SUDO apt-get install -y -qq "$@" >/dev/null
}
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# 1. npm packages
if [ "${1:-}" != "--no-npm" ]; then
  if [ -f package-lock.json ]; then say "npm ci (the locked dependencies; also builds dist/)"; npm ci --no-audit --no-fund
  else say "npm install"; npm install --no-audit --no-fund; fi
fi

# 2. a WebGPU adapter
if node scripts/check-adapter.mjs 2>/dev/null; then
  say "WebGPU adapter found (above); no driver needed"
else
  say "Dawn found no WebGPU adapter: installing Mesa's lavapipe (software Vulkan) from bookworm-backports"
  if [ "$SUDO" != "none" ] && ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
    APT_UPDATED=""
  fi
  apt_install "Mesa >= 24 for Dawn" -t bookworm-backports mesa-vulkan-drivers libvulkan1
  node scripts/check-adapter.mjs
fi

# 3. Chromium for the browser tests
if [ -x /usr/bin/chromium ] || [ -n "${WEBFAM_CHROMIUM:-}" ]; then say "Chromium found"
else apt_install "the browser tests drive it headless" chromium; fi

# 4. Fashion-MNIST
if [ -e /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz ] || have_pkg dataset-fashion-mnist; then say "Fashion-MNIST found in /usr/share/datasets/fashion-mnist"
else apt_install "the default benchmark's objects, 30 MB" dataset-fashion-mnist; fi

# 5. PyTorch
if /usr/bin/python3 -c "import torch" 2>/dev/null; then say "PyTorch found ($(/usr/bin/python3 -c 'import torch; print(torch.__version__)'))"
else apt_install "the PyTorch-bridge tests check webfam against it" python3-torch libopenblas0-pthread; fi
# Without OpenBLAS, Debian's torch falls back to the slow reference BLAS.
if have_pkg python3-torch && ! have_pkg libopenblas0-pthread; then apt_install "a fast BLAS for PyTorch" libopenblas0-pthread; fi

say "ready: npm test runs the whole suite; node train.js trains the default model"
