#!/usr/bin/env bash
# Prints the first Python >= 3.12 that really starts (pyenv shims on PATH may
# exist and still fail), or explains what to install and exits 1.
set -u
candidates=(python3.14 python3.13 python3.12)
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root 2>/dev/null)
  for p in "$root"/versions/3.1[2-9]*/bin/python3; do [ -x "$p" ] && candidates+=("$p"); done
fi
candidates+=(python3 python)
for c in "${candidates[@]}"; do
  if "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then
    command -v "$c" 2>/dev/null || echo "$c"
    exit 0
  fi
done
echo "Clientbase needs Python 3.12 or newer, and none was found." >&2
echo "Install it (Debian/Ubuntu: apt-get install python3.12 python3.12-venv; or pyenv install 3.12)" >&2
echo "and run the command again, or set PYTHON=/path/to/python3.12." >&2
exit 1
