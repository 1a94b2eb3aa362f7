#!/usr/bin/env bash
# Installs the ghpkg binary for the action: the release matching the action's own ref, verified
# against the release's SHA256SUMS, or, when that ref has no release, a build from the action's
# own source.
#
#   install.sh download   find and verify the release binary; say `build=true` if there is none
#   install.sh build      build from the action's source (after the cargo cache is restored)
#
# Reads the runner's environment: RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_OUTPUT,
# GITHUB_ACTION_PATH, and the action's:
#   GHPKG_ACTION_REF         the ref the workflow used (github.action_ref): a tag vX.Y.Z, a
#                            commit SHA (a release is used when it was built from that commit) or
#                            a branch (always built)
#   GHPKG_ACTION_REPOSITORY  owner/name of the action (github.action_repository)
#   INPUT_INSTALL            auto (default), release (never build) or source (always build)
#   INPUT_RELEASE_URL        where releases are, instead of https://github.com/OWNER/NAME/releases/download
#   GHPKG_BUILD_PROFILE      the cargo profile of a source build (default release)
#   GHPKG_BUILD_TARGET_DIR   the target directory of a source build, which the cargo cache keeps
#                            (default RUNNER_TEMP/ghpkg-build)
# Writes the outputs `ghpkg` (the binary), `installed-from` (release or source), `build`,
# `build-cache-key` and `build-target-dir`.
set -euo pipefail

fail() {
  echo "::error title=ghpkg install::$*" >&2
  exit 1
}
notice() { echo "::notice title=ghpkg install::$*"; }
output() { echo "$1=$2" >> "${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set: run inside a GitHub Actions step}"; }

: "${RUNNER_TEMP:?RUNNER_TEMP is not set: run inside a GitHub Actions step}"
: "${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set: run inside a GitHub Actions step}"
action_path=$GITHUB_ACTION_PATH
install_dir="$RUNNER_TEMP/ghpkg/bin"
mode=${1:-download}
install=${INPUT_INSTALL:-auto}
case "$install" in auto | release | source) ;; *) fail "install is '$install'; use auto, release or source" ;; esac

# The release asset for this runner, by Rust target triple.
target=
exe=
case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
  Linux/X64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64) target=aarch64-unknown-linux-musl ;;
  macOS/X64) target=x86_64-apple-darwin ;;
  macOS/ARM64) target=aarch64-apple-darwin ;;
  Windows/X64) target=x86_64-pc-windows-msvc exe=.exe ;;
  Windows/*) exe=.exe ;;
esac
binary="$install_dir/ghpkg$exe"

sha256_of() {
  if command -v sha256sum > /dev/null; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum > /dev/null; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  else
    fail "neither sha256sum nor shasum is installed, so the download cannot be verified"
  fi
}

# The workspace's version, from the action's own Cargo.toml.
source_version() {
  sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' "$action_path/Cargo.toml" | head -n 1
}

build_instead() { # why
  if [[ "$install" == release ]]; then
    fail "$1, and install is 'release': use a released ref (vX.Y.Z) or install: auto"
  fi
  notice "$1: building ghpkg from the action's source instead (cached between runs)"
  local lock_hash
  lock_hash=$(sha256_of "$action_path/Cargo.lock")
  output build true
  output build-cache-key "ghpkg-build-${RUNNER_OS:-unknown}-${RUNNER_ARCH:-unknown}-${lock_hash:0:16}"
  output build-target-dir "${GHPKG_BUILD_TARGET_DIR:-$RUNNER_TEMP/ghpkg-build}"
  exit 0
}

download() {
  if [[ "$install" == source ]]; then
    build_instead "install is 'source'"
  fi
  [[ -n "$target" ]] || build_instead "no release binary is built for ${RUNNER_OS:-this OS} on ${RUNNER_ARCH:-this architecture}"

  local ref=${GHPKG_ACTION_REF:-} tag expected_commit=
  if [[ "$ref" =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]]; then
    tag=$ref
  elif [[ "$ref" =~ ^[0-9a-f]{40}$ ]]; then
    # A pinned commit: the release of the source's version, if it was built from this commit.
    tag="v$(source_version)"
    expected_commit=$ref
  else
    build_instead "the action's ref '${ref}' is not a release (a tag vX.Y.Z or a released commit)"
  fi

  local base=${INPUT_RELEASE_URL:-}
  if [[ -z "$base" ]]; then
    base="https://github.com/${GHPKG_ACTION_REPOSITORY:-ghpkg/ghpkg}/releases/download"
  fi
  base=${base%/}
  # Only HTTPS, except to this machine (a rehearsal or a local mirror).
  if [[ ! "$base" =~ ^https:// && ! "$base" =~ ^http://(127\.0\.0\.1|localhost|\[::1\])(:[0-9]+)?(/|$) ]]; then
    fail "release-url '$base' is not https:// (plain http is allowed only to this machine)"
  fi

  local work
  work=$(mktemp -d "$RUNNER_TEMP/ghpkg-download.XXXXXX")
  # shellcheck disable=SC2064 # expand now: the directory is this call's
  trap "rm -rf '$work'" EXIT
  fetch() { # URL FILE -> the HTTP status (000: no answer)
    curl --silent --show-error --location --proto '=https,http' --retry 3 --retry-delay 1 \
      --connect-timeout 10 --max-time 300 --output "$2" --write-out '%{http_code}' "$1" || true
  }

  local status
  status=$(fetch "$base/$tag/SHA256SUMS" "$work/SHA256SUMS")
  case "$status" in
    200) ;;
    404) build_instead "release $tag has no SHA256SUMS at $base/$tag (no such release)" ;;
    *) build_instead "release $tag could not be read from $base/$tag (HTTP $status)" ;;
  esac
  if [[ -n "$expected_commit" ]]; then
    status=$(fetch "$base/$tag/SOURCE_COMMIT" "$work/SOURCE_COMMIT")
    [[ "$status" == 200 ]] || build_instead "release $tag says nothing of its commit (SOURCE_COMMIT: HTTP $status)"
    local built_from
    built_from=$(tr -d '[:space:]' < "$work/SOURCE_COMMIT")
    [[ "$built_from" == "$expected_commit" ]] || build_instead "release $tag was built from $built_from, not the action's commit $expected_commit"
  fi

  local asset="ghpkg-$target$exe" expected actual
  expected=$(awk -v name="$asset" '$2 == name || $2 == "*" name { print $1; exit }' "$work/SHA256SUMS")
  [[ "$expected" =~ ^[0-9a-f]{64}$ ]] || fail "release $tag's SHA256SUMS has no checksum for $asset: refusing to install it"
  status=$(fetch "$base/$tag/$asset" "$work/$asset")
  [[ "$status" == 200 ]] || fail "release $tag lists $asset, but downloading it failed (HTTP $status)"
  actual=$(sha256_of "$work/$asset")
  if [[ "$actual" != "$expected" ]]; then
    fail "$asset from release $tag does not match SHA256SUMS (expected $expected, got $actual): refusing to run it. The download was altered or the release is broken; nothing was installed"
  fi

  mkdir -p "$install_dir"
  chmod +x "$work/$asset"
  mv "$work/$asset" "$binary"
  local version
  version=$("$binary" --version 2> /dev/null || true)
  if [[ "$version" != "ghpkg ${tag#v}" ]]; then
    rm -f "$binary"
    fail "the binary of release $tag says '${version}', not 'ghpkg ${tag#v}': refusing to run it"
  fi
  echo "ghpkg ${tag#v} for $target from $base/$tag, SHA-256 $actual (matches SHA256SUMS)"
  output ghpkg "$binary"
  output installed-from release
  output build false
}

build() {
  command -v cargo > /dev/null || fail "no Rust toolchain on this runner to build ghpkg from source: install one before this step (for example with rustup), or use a released ref (vX.Y.Z)"
  local profile=${GHPKG_BUILD_PROFILE:-release} directory
  directory=$profile
  [[ "$profile" != dev ]] || directory=debug
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$RUNNER_TEMP/ghpkg-build}
  echo "Building ghpkg from $action_path (cargo profile $profile, target directory $CARGO_TARGET_DIR)"
  cargo build --locked --quiet --profile "$profile" --no-default-features -p ghpkg-cli \
    --manifest-path "$action_path/Cargo.toml"
  mkdir -p "$install_dir"
  cp "$CARGO_TARGET_DIR/$directory/ghpkg$exe" "$binary"
  echo "Built $("$binary" --version)"
  output ghpkg "$binary"
  output installed-from source
}

case "$mode" in
  download) download ;;
  build) build ;;
  *) fail "unknown mode '$mode': use download or build" ;;
esac
