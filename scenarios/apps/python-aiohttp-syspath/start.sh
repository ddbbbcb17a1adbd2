#!/bin/sh
# Start python-aiohttp's app with sys.path padded by $SYSPATH_PAD (default 0)
# existing, empty directories placed BEFORE the standard library through
# PYTHONPATH, after anything PYTHONPATH already holds (e.g. the deps zip).
# Every scenario of the claim starts through this script, pad 0 included,
# so its own small cost is the same for all.
set -eu
n=${SYSPATH_PAD:-0}
p=${PYTHONPATH:-}
i=0
while [ "$i" -lt "$n" ]; do
	p="$p${p:+:}/opt/syspath/pad/$(printf %03d "$i")"
	i=$((i + 1))
done
if [ -n "$p" ]; then
	export PYTHONPATH="$p"
fi
exec python3 /app/app.py
