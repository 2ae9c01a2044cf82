#!/usr/bin/env bash
# make release VERSION=vX.Y.Z: the release artefacts of the committed HEAD, in dist/VERSION/:
#
#   appnet-agent_VERSION_linux_{amd64,arm64}            the entry point: the lean build (-tags
#                                                       appnet_lean), which renders the built-in
#                                                       templates and execs the other two
#   appnet-agent-full_VERSION_linux_{amd64,arm64}       the full agent: every subcommand, user
#                                                       input (files, fragments, templates)
#   appnet-agent-supervisor_VERSION_linux_{amd64,arm64} the long-lived half of run
#   appnet-agent_VERSION_linux_{amd64,arm64}.oci.tar    the agent image (scripts/build-image.sh)
#                                                       as an OCI archive, tagged VERSION
#   SHA256SUMS                                          sha256sum -c SHA256SUMS
#
# The binaries are static (-trimpath, CGO_ENABLED=0, no build ID; the agent's two stamped with
# the version and commit). The entry point finds the other two in its own directory: install
# the three side by side, as appnet-agent, appnet-agent-full and appnet-agent-supervisor (or
# under their released names).
#
# Reproducibility is checked, not assumed: every binary is built a second time from a clean
# export of the commit (git archive) at another path with an empty build cache, and the release
# stops unless both are byte for byte equal. That second build compiles everything again, so a
# release takes minutes (REPRO_CHECK=0 skips it, for trying the script out only). DIST_DIR
# (default dist, relative to the repository) is where VERSION/ goes.
set -euo pipefail
cd "$(dirname "$0")/.."

version=${1:-}
[[ "$version" =~ ^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$ ]] ||
  { echo "release: VERSION=$version: want vMAJOR.MINOR.PATCH[-PRERELEASE], e.g. VERSION=v0.1.0" >&2; exit 2; }
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "release: the work tree has uncommitted changes; a release is built from a commit" >&2
  exit 1
fi
semver=${version#v}
if [[ "$version" != *-* ]] && ! grep -q "^## \[${semver//./\\.}\] - [0-9]\{4\}-[0-9][0-9]-[0-9][0-9]\$" CHANGELOG.md; then
  echo "release: CHANGELOG.md has no section \"## [$semver] - YYYY-MM-DD\" (rename [Unreleased] and commit)" >&2
  exit 1
fi
commit=$(git rev-parse HEAD)
if tagged=$(git rev-parse -q --verify "refs/tags/$version^{commit}"); then
  [ "$tagged" = "$commit" ] || { echo "release: tag $version is $tagged, not HEAD ($commit)" >&2; exit 1; }
fi
epoch=$(git log -1 --format=%ct "$commit")
out=${DIST_DIR:-dist}/$version
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd) # absolute: the builds run in other directories
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

pkg=github.com/appnet/appnet-agent/internal/cli
ldflags="-s -w -buildid= -X $pkg.version=$version -X $pkg.commit=$commit"
build() { # build SRC_DIR GOARCH OUTPUT PACKAGE TAGS [env...]
  local src=$1 arch=$2 output=$3 package=$4 tags=$5
  shift 5
  (cd "$src" && env "$@" CGO_ENABLED=0 GOOS=linux GOARCH="$arch" GOFLAGS=-buildvcs=false \
    go build -tags "$tags" -trimpath -ldflags "$ldflags" -o "$output" "$package")
}

if [ "${REPRO_CHECK:-1}" != 0 ]; then
  mkdir -p "$scratch/src" "$scratch/cache"
  git archive "$commit" | tar -x -C "$scratch/src"
fi
for arch in amd64 arm64; do
  bin=$out/appnet-agent_${version}_linux_$arch
  full=$out/appnet-agent-full_${version}_linux_$arch
  sup=$out/appnet-agent-supervisor_${version}_linux_$arch
  for target in "$bin:.:appnet_lean" "$full:.:" "$sup:./cmd/appnet-agent-supervisor:"; do
    IFS=: read -r file package tags <<<"$target"
    start=$SECONDS
    build . "$arch" "$file" "$package" "$tags"
    echo "release: $file built in $((SECONDS - start)) s"
    if [ "${REPRO_CHECK:-1}" != 0 ]; then
      start=$SECONDS
      build "$scratch/src" "$arch" "$scratch/$arch-$(basename "$file")" "$package" "$tags" GOCACHE="$scratch/cache"
      cmp "$file" "$scratch/$arch-$(basename "$file")" ||
        { echo "release: $file is not reproducible: a clean rebuild differs" >&2; exit 1; }
      echo "release: $file reproduced byte for byte from a clean export and cache in $((SECONDS - start)) s"
    fi
  done
  grep -q '^[[:space:]]*build[[:space:]]*-tags=appnet_lean$' <<<"$(go version -m "$bin")" ||
    { echo "release: $bin is not the lean build" >&2; exit 1; }
  if [ "$(go env GOARCH)" = "$arch" ]; then
    # Both agent builds are stamped; installed side by side as documented, the entry point
    # reaches appnet-agent-full (`validate` is one of the subcommands it hands over).
    for b in "$bin" "$full"; do
      said=$("$b" version) || { echo "release: $b version failed" >&2; exit 1; }
      grep -qx "appnet-agent $version" <<<"$said" || { echo "release: $b does not say $version" >&2; exit 1; }
      grep -q "$commit" <<<"$said" || { echo "release: $b does not name commit $commit" >&2; exit 1; }
    done
    inst=$scratch/install-$arch
    mkdir "$inst"
    cp "$bin" "$inst/appnet-agent" && cp "$full" "$inst/appnet-agent-full" && cp "$sup" "$inst/appnet-agent-supervisor"
    env -i "$inst/appnet-agent" validate --help >/dev/null ||
      { echo "release: $inst/appnet-agent validate --help failed: the entry point does not reach appnet-agent-full" >&2; exit 1; }
  fi
  ./scripts/build-image.sh --out "$scratch/image-$arch" --tag "$version" --agent "$bin" --full "$full" --supervisor "$sup" \
    --version "$version" --commit "$commit" --epoch "$epoch" --archive "$bin.oci.tar"
done
(cd "$out" && sha256sum -- appnet-agent_* appnet-agent-full_* appnet-agent-supervisor_* | LC_ALL=C sort -k2 >SHA256SUMS)
echo "release: $out"
(cd "$out" && ls -l && cat SHA256SUMS)
