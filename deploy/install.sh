#!/bin/sh
# Creates the virtual environment (.venv, or $VENV) and installs the bot into it.
# The Makefile runs it before every target and the Dockerfile runs it to build the image,
# so the image is built by the same step that CI runs on every change.
set -eu
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
"${PYTHON:-python3}" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e .
