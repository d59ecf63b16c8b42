#!/usr/bin/env bash
# checkov pins its own dependency tree (boto3, networkx, pydantic, ...) that would fight the
# project's pins (pyproject.toml), so it lives in its own virtual environment. Idempotent: a venv
# that already reports the pinned version is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
CHECKOV_VERSION="3.3.30"
VENV=".venv-checkov"
# The dist-info answers in milliseconds; `checkov --version` costs seconds on every bin/setup.
if [ -x "$VENV/bin/checkov" ] && compgen -G "$VENV/lib/python*/site-packages/checkov-$CHECKOV_VERSION.dist-info" >/dev/null; then
  echo "[checkov] $VENV already has checkov $CHECKOV_VERSION"
  exit 0
fi
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "checkov==$CHECKOV_VERSION" 2>&1 \
  | grep -v -e "Running pip as the 'root' user" -e "is ignored: it is neither a file nor a directory" || true
installed="$("$VENV/bin/checkov" --version 2>/dev/null || true)"
if [ "$installed" != "$CHECKOV_VERSION" ]; then
  echo "[checkov] ERROR: $VENV/bin/checkov reports '${installed:-nothing}', expected $CHECKOV_VERSION;" \
       "see the pip output above, then re-run bash evidence/install_checkov.sh" >&2
  exit 1
fi
echo "[checkov] installed checkov $CHECKOV_VERSION in $VENV"
