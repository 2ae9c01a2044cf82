#!/usr/bin/env bash
# Builds the appnet-agent OCI image from scratch, without a daemon (Debian's umoci, GNU tar):
# the three static binaries of the product side by side in /usr/bin — appnet-agent, the
# entrypoint (the lean build); appnet-agent-full, which it execs for user input, validate and
# golden; appnet-agent-supervisor, the long-lived process a run execs into (issue 19) —,
# optionally an Envoy binary as /usr/bin/envoy, the build host's CA bundle, and the user,
# environment and directories of the Dockerfile's image.
#
#   scripts/build-image.sh --out DIR --tag TAG --agent BIN [--full BIN] [--supervisor BIN]
#                          [--envoy BIN] [--version V] [--commit C] [--epoch SECONDS]
#                          [--ca-bundle FILE] [--archive FILE]
#
# --full and --supervisor default to appnet-agent-full and appnet-agent-supervisor in --agent's
# directory; whatever their file names, they are installed under those names.
#
# DIR must not exist; it becomes an OCI image layout holding TAG. --archive also writes the
# layout as one tar (an "OCI archive": skopeo copy oci-archive:FILE:TAG ...). Every timestamp is
# --epoch (default SOURCE_DATE_EPOCH, else the last commit's time), owners and modes are fixed
# and the layer is sorted, so the same binaries and CA bundle give the same image digest.
# The architecture is the binaries' own (all must be static Go binaries of one GOARCH).
set -euo pipefail

die() { echo "build-image: $*" >&2; exit 1; }

out='' tag='' agent='' full='' supervisor='' envoy='' version=dev commit=unknown archive=''
epoch=${SOURCE_DATE_EPOCH:-}
ca_bundle=/etc/ssl/certs/ca-certificates.crt
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || die "$1 needs a value"
  case "$1" in
    --out) out=$2 ;;
    --tag) tag=$2 ;;
    --agent) agent=$2 ;;
    --full) full=$2 ;;
    --supervisor) supervisor=$2 ;;
    --envoy) envoy=$2 ;;
    --version) version=$2 ;;
    --commit) commit=$2 ;;
    --epoch) epoch=$2 ;;
    --ca-bundle) ca_bundle=$2 ;;
    --archive) archive=$2 ;;
    *) die "unknown argument $1 (see the usage at the top of $0)" ;;
  esac
  shift 2
done
if [ -z "$out" ] || [ -z "$tag" ] || [ -z "$agent" ]; then die "--out, --tag and --agent are required"; fi
[ ! -e "$out" ] || die "--out $out already exists"
full=${full:-$(dirname "$agent")/appnet-agent-full}
[ -f "$full" ] || die "--full $full: no such file (go build -o DIR/appnet-agent-full .)"
supervisor=${supervisor:-$(dirname "$agent")/appnet-agent-supervisor}
[ -f "$supervisor" ] || die "--supervisor $supervisor: no such file (go build -o DIR/appnet-agent-supervisor ./cmd/appnet-agent-supervisor)"
command -v umoci >/dev/null || die "umoci is not installed (Debian: apt-get install umoci)"
[ -f "$ca_bundle" ] || die "--ca-bundle $ca_bundle: no such file (Debian: apt-get install ca-certificates)"
if [ -z "$epoch" ]; then
  epoch=$(git -C "$(dirname "$0")" log -1 --format=%ct 2>/dev/null || echo 0)
fi
case "$epoch" in ''|*[!0-9]*) die "--epoch $epoch: want whole seconds since 1970" ;; esac

# goarch prints a binary's GOARCH, refusing one that is not a static Go binary: a scratch
# image has no C library, so a cgo build would fail to start with a bare "no such file".
goarch() {
  local info
  info=$(go version -m "$1" 2>/dev/null) || die "$1: not a Go binary (go version -m failed)"
  grep -q '^[[:space:]]*build[[:space:]]*CGO_ENABLED=0$' <<<"$info" ||
    die "$1: not a static build (build it with CGO_ENABLED=0)"
  sed -n 's/^[[:space:]]*build[[:space:]]*GOARCH=//p' <<<"$info"
}
arch=$(goarch "$agent")
[ "$(goarch "$full")" = "$arch" ] || die "--full $full is not built for $arch like --agent"
[ "$(goarch "$supervisor")" = "$arch" ] || die "--supervisor $supervisor is not built for $arch like --agent"
if [ -n "$envoy" ]; then
  [ "$(goarch "$envoy")" = "$arch" ] || die "--envoy $envoy is not built for $arch like --agent"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
install -d -m 0755 "$root/usr/bin" "$root/etc/ssl/certs" "$root/etc/pki/tls" "$root/var/run/ecs"
install -d -m 1777 "$root/tmp"
install -m 0755 "$agent" "$root/usr/bin/appnet-agent"
install -m 0755 "$full" "$root/usr/bin/appnet-agent-full"
install -m 0755 "$supervisor" "$root/usr/bin/appnet-agent-supervisor"
[ -z "$envoy" ] || install -m 0755 "$envoy" "$root/usr/bin/envoy"
install -m 0644 "$ca_bundle" "$root/etc/ssl/certs/ca-certificates.crt"
# The generated bootstraps trust /etc/pki/tls/cert.pem (Amazon Linux's path).
ln -s ../../ssl/certs/ca-certificates.crt "$root/etc/pki/tls/cert.pem"
printf 'root:x:0:0:root:/root:/sbin/nologin\nappnet:x:1337:1337:appnet-agent:/nonexistent:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nappnet:x:1337:\n' >"$root/etc/group"
chmod 0644 "$root/etc/passwd" "$root/etc/group"

# One layer, owned by root except the management socket's directory (the agent runs as 1337).
# shellcheck disable=SC2054 # the comma is pax-option's own separator
tarflags=(--sort=name --mtime="@$epoch" --numeric-owner --format=pax --pax-option=delete=atime,delete=ctime)
tar "${tarflags[@]}" --owner=0 --group=0 --exclude=var/run/ecs -C "$root" -cf "$work/layer.tar" etc tmp usr var
tar "${tarflags[@]}" --owner=1337 --group=1337 --no-recursion -C "$root" -rf "$work/layer.tar" var/run/ecs

created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
image="$out:$tag"
umoci init --layout "$out"
umoci new --image "$image"
umoci raw add-layer --image "$image" --history.created "$created" \
  --history.created_by "scripts/build-image.sh (appnet-agent${envoy:+, envoy})" "$work/layer.tar"
umoci config --image "$image" --no-history --created "$created" --os linux --architecture "$arch" \
  --config.entrypoint /usr/bin/appnet-agent --config.user 1337:1337 --config.workingdir / \
  --config.stopsignal SIGTERM \
  --config.env PATH=/usr/bin \
  --config.env APPNET_ENVOY_PATH=/usr/bin/envoy \
  --config.env APPNET_AGENT_ADMIN_MODE=uds \
  --config.env APPNET_AGENT_POLL_ENVOY_READINESS_TIMEOUT_S=0 \
  --config.label org.opencontainers.image.title=appnet-agent \
  --config.label org.opencontainers.image.version="$version" \
  --config.label org.opencontainers.image.revision="$commit" \
  --config.label org.opencontainers.image.licenses=Apache-2.0
umoci gc --layout "$out"

if [ -n "$archive" ]; then
  tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner --mode=u=rwX,go=rX \
    --format=pax --pax-option=delete=atime,delete=ctime -C "$out" -cf "$archive" .
fi
manifest=$(sed -n 's/.*"digest":"\(sha256:[0-9a-f]*\)".*/\1/p' "$out/index.json")
echo "build-image: $image ($arch, manifest $manifest, $(du -sh "$out" | cut -f1))"
