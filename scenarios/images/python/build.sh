#!/usr/bin/env bash
# Build coldstart/python-base:<short recipe hash> without any registry:
# debootstrap a minimal Debian rootfs with Python and the app packages,
# trim it, and `docker import` it. Idempotent: when an image with the same
# recipe hash exists locally, print its name and exit at once.
#
# Environment (all optional):
#   SUITE   Debian suite            (default trixie; see README.md)
#   MIRROR  Debian mirror           (default: this machine's own, from its apt
#                                    sources; else debootstrap's default)
#   IMAGE   image repository        (default coldstart/python-base)
#   FORCE=1 rebuild even when the image exists
#   TMPDIR  where the temporary rootfs goes (default /var/tmp; must allow exec and mknod)
#
# Needs root (debootstrap). Prints progress on stderr and the image name as the
# last line on stdout.
set -euo pipefail

SUITE=${SUITE:-trixie}
IMAGE=${IMAGE:-coldstart/python-base}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { printf 'python-base: %s\n' "$*" >&2; }

# apt_mirror prints the URI of this machine's Debian archive: the first
# enabled "deb" source for the host's own codename (a site's mirror or proxy,
# never a host this repository names), from sources.list, *.list (one-line
# format) and *.sources (deb822). Sources of other vendors (other suites)
# and security or updates suites are skipped.
apt_mirror() {
	local codename f uri
	codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
	[[ -n "$codename" ]] || return 0
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[[ -f "$f" ]] || continue
		case "$f" in
		*.sources) uri=$(awk -v want="$codename" "$DEB822" "$f") ;;
		*) uri=$(awk -v want="$codename" "$ONELINE" "$f") ;;
		esac
		if [[ -n "$uri" ]]; then
			echo "${uri%/}"
			return 0
		fi
	done
}

# One-line format: deb [options] uri suite components...
ONELINE='$1 == "deb" {
	i = 2
	if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
	if ($(i + 1) == want) { print $i; exit }
}'
# deb822: blank-line separated paragraphs of Types, URIs, Suites, Enabled.
DEB822='function check() {
	if (enabled && types ~ /(^|[ \t])deb([ \t]|$)/ && uri != "" && index(suites, " " want " ")) { print uri; done = 1; exit }
	types = uri = suites = ""; enabled = 1
}
BEGIN { enabled = 1 }
/^[ \t]*$/ { check(); next }
tolower($1) == "types:" { types = $0 }
tolower($1) == "uris:" { uri = $2 }
tolower($1) == "suites:" { suites = " " $0 " " }
tolower($1) == "enabled:" && tolower($2) == "no" { enabled = 0 }
END { if (!done) check() }'

# debootstrap_mirror prints debootstrap's own default mirror, if installed.
debootstrap_mirror() {
	local d
	d=$(command -v debootstrap 2>/dev/null) || return 0
	sed -n 's/^DEF_MIRROR="\(.*\)"$/\1/p' "$d" | head -n 1
}

MIRROR_FROM=environment
if [[ -z "${MIRROR:-}" ]]; then
	MIRROR=$(apt_mirror) MIRROR_FROM="apt sources"
fi
if [[ -z "$MIRROR" ]]; then
	MIRROR=$(debootstrap_mirror) MIRROR_FROM="debootstrap's default"
fi
[[ -n "$MIRROR" ]] || { log "no Debian mirror: none in the apt sources and no debootstrap; set MIRROR"; exit 1; }

# Recipe hash: the recipe files plus the effective suite and mirror, so that
# an image built from another mirror is another recipe (it is rebuilt, not
# silently reused).
HASH=$( { cat "$HERE/build.sh" "$HERE/packages"; printf 'suite=%s\nmirror=%s\n' "$SUITE" "$MIRROR"; } | sha256sum | cut -c1-64)
SHORT=${HASH:0:12}
TAG="$IMAGE:$SHORT"

if [[ "${FORCE:-0}" != 1 ]]; then
	have=$(docker image inspect --format '{{index .Config.Labels "io.coldstart.recipe"}}' "$TAG" 2>/dev/null || true)
	if [[ "$have" == "$HASH" ]]; then
		docker tag "$TAG" "$IMAGE:latest"
		log "up to date ($HASH)"
		echo "$TAG"
		exit 0
	fi
fi

[[ $(id -u) == 0 ]] || { log "needs root for debootstrap"; exit 1; }

if ! command -v debootstrap >/dev/null 2>&1; then
	log "installing debootstrap"
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2
fi

PKGS=$(grep -v '^[[:space:]]*#' "$HERE/packages" | tr -s ' \t\n' '\n' | sed '/^$/d' | paste -sd, -)
[[ -n "$PKGS" ]] || { log "empty package list"; exit 1; }

ROOT=$(mktemp -d "${TMPDIR:-/var/tmp}/coldstart-python-base.XXXXXX")
cleanup() {
	# debootstrap mounts proc/sys inside the target; never rm -rf across a mount.
	local m
	for m in $(awk -v r="$ROOT" 'index($2, r"/") == 1 {print $2}' /proc/mounts | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
	rm -rf --one-file-system "$ROOT"
}
trap cleanup EXIT

log "debootstrap $SUITE from $MIRROR ($MIRROR_FROM): $PKGS"
t0=$SECONDS
if ! debootstrap --variant=minbase --include="$PKGS" "$SUITE" "$ROOT" "$MIRROR" >"$ROOT.log" 2>&1; then
	tail -n 30 "$ROOT.log" >&2
	cat "$ROOT/debootstrap/debootstrap.log" 2>/dev/null | tail -n 30 >&2 || true
	rm -f "$ROOT.log"
	exit 1
fi
rm -f "$ROOT.log"
log "debootstrap took $((SECONDS - t0)) s"

# Record what went in before the apt lists go.
chroot "$ROOT" dpkg-query -W -f '${Package} ${Version}\n' > "$ROOT/etc/coldstart-packages.txt"

# Trim: nothing here is needed to run Python apps. Keep the .pyc files that
# Debian's postinst compiled: they are what makes imports fast.
rm -rf "$ROOT"/var/lib/apt/lists/* \
	"$ROOT"/var/cache/apt/* \
	"$ROOT"/var/cache/debconf/*-old \
	"$ROOT"/var/log/* \
	"$ROOT"/usr/share/doc/* \
	"$ROOT"/usr/share/man \
	"$ROOT"/usr/share/info \
	"$ROOT"/usr/share/lintian \
	"$ROOT"/usr/share/linda \
	"$ROOT"/usr/share/bug \
	"$ROOT"/usr/share/common-licenses \
	"$ROOT"/tmp/* "$ROOT"/var/tmp/* \
	"$ROOT"/root/.cache
find "$ROOT/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} + 2>/dev/null || true
rm -f "$ROOT"/etc/machine-id "$ROOT"/var/lib/dbus/machine-id
: > "$ROOT/etc/hostname"
# Keep apt usable for someone who wants to add packages in a Dockerfile.
printf 'deb %s %s main\n' "$MIRROR" "$SUITE" > "$ROOT/etc/apt/sources.list"

log "importing $TAG"
tar --numeric-owner -C "$ROOT" -c . | docker import \
	--change 'LABEL io.coldstart.harness=1' \
	--change "LABEL io.coldstart.recipe=$HASH" \
	--change "LABEL io.coldstart.suite=$SUITE" \
	--change 'ENV LANG=C.UTF-8' \
	--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
	--change 'CMD ["python3"]' \
	- "$TAG" >/dev/null
docker tag "$TAG" "$IMAGE:latest"
log "built $TAG ($(docker image inspect --format '{{.Size}}' "$TAG") bytes)"
echo "$TAG"
