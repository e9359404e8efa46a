#!/usr/bin/env bash
# Installs a C compiler and the Python headers when either is missing: pip compiles the scanner's first stage (herdsec.scan._prefilter) while
# installing HerdSec. The Python headers come with the Python that builds the venv (Debian: python3-dev).
set -euo pipefail
PYTHON="${PYTHON:-python3}"
HEADERS="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')/Python.h"
if { command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1; } && [ -f "$HEADERS" ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "Installing Debian's gcc and Python headers for the scanner's compiled first stage..." >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq gcc libc6-dev python3-dev >/dev/null
