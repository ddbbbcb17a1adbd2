#!/bin/sh
# Build coldstart/claims-python-sanic:latest with sanic installed from the
# Python package index named by PIP_INDEX_URL, or fail at once, with a clear
# message, when none is configured. The suite's setup step runs this (not a
# `build:` section) because the index is the user's, read from the
# environment, and must not be written into the suite file.
#
# Environment: PIP_INDEX_URL (required), PIP_TRUSTED_HOST (plain-http index),
# BASE (default coldstart/python-base:latest), IMAGE (default below).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
IMAGE=${IMAGE:-coldstart/claims-python-sanic:latest}
BASE=${BASE:-coldstart/python-base:latest}

if [ -z "${PIP_INDEX_URL:-}" ]; then
	cat >&2 <<-MSG
	python-sanic: sanic needs a Python package index: it is not packaged in Debian,
	  and no index is configured (PIP_INDEX_URL is not set), so this scenario cannot
	  be built here. Set PIP_INDEX_URL to your index's URL (its simple/ API; add
	  PIP_TRUSTED_HOST=<host> for a plain-http index) and run the suite again, e.g.
	    PIP_INDEX_URL=https://<your index>/simple go run ./harness/cmd/coldstart run scenarios/claims/sanic.yaml
	MSG
	exit 2
fi

# A dead or wrong index should fail here, in seconds, not after pip's retries in a build.
if command -v curl >/dev/null 2>&1; then
	url="${PIP_INDEX_URL%/}/sanic/"
	if ! err=$(curl -fsS --max-time 15 -o /dev/null "$url" 2>&1); then
		echo "python-sanic: the package index does not answer for sanic at $url: $err" >&2
		exit 2
	fi
fi

old=$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
docker build -q \
	--label io.coldstart.harness=1 --label io.coldstart.scenario=python-sanic \
	--build-arg BASE="$BASE" \
	--build-arg PIP_INDEX_URL="$PIP_INDEX_URL" \
	--build-arg PIP_TRUSTED_HOST="${PIP_TRUSTED_HOST:-}" \
	-t "$IMAGE" "$HERE" >/dev/null
new=$(docker image inspect -f '{{.Id}}' "$IMAGE")
# The image this build replaced is ours (labelled, now untagged): remove it unless in use.
if [ -n "$old" ] && [ "$old" != "$new" ]; then
	docker image rm "$old" >/dev/null 2>&1 || true
fi
echo "$IMAGE"
