#!/usr/bin/env bash
# The action's steps around `ghpkg prune` (see action.yml):
#
#   run.sh prepare   where this run keeps its plan and journal (the artifact) and its manifest
#                    cache, and the names the cache and artifact steps use
#   run.sh prune     ghpkg prune with the inputs as flags (INPUT_* variables, never spliced into
#                    a script), the plan and journal in the run directory
#   run.sh summary   the artifact's link and the undo command, in the step summary
#
# Inputs reach this script as INPUT_<NAME> environment variables; GHPKG is the installed binary.
set -euo pipefail

fail() {
  echo "::error title=ghpkg::$*" >&2
  exit 1
}
output() { echo "$1=$2" >> "${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set: run inside a GitHub Actions step}"; }
# A name safe in a cache key or an artifact name: letters, digits, '.', '_' and '-'.
slug() { printf '%s' "$1" | tr -c 'A-Za-z0-9._-' '-'; }

: "${RUNNER_TEMP:?RUNNER_TEMP is not set: run inside a GitHub Actions step}"
run_dir="$RUNNER_TEMP/ghpkg-run"

uses_manifests() {
  [[ "${INPUT_NO_MANIFEST_CACHE:-false}" != true ]] || return 1
  case "${INPUT_PACKAGE_TYPE:-}" in
    container | docker) return 0 ;;
    "")
      # A policy without a type given: its rules say whether images are pruned.
      [[ -n "${INPUT_POLICY:-}" && -f "${INPUT_POLICY:-}" ]] &&
        grep -Eq '^[[:space:]]*type[[:space:]]*=[[:space:]]*"(container|docker)"' "$INPUT_POLICY"
      ;;
    *) return 1 ;;
  esac
}

default_manifest_cache="$RUNNER_TEMP/ghpkg-manifests"
manifest_cache_dir() { printf '%s' "${INPUT_MANIFEST_CACHE:-$default_manifest_cache}"; }

prepare() {
  mkdir -p "$run_dir"
  output run-dir "$run_dir"
  local name=${INPUT_ARTIFACT_NAME:-}
  if [[ -z "$name" ]]; then
    # One artifact per use of the action and attempt: the job, what it prunes, the attempt.
    local what hash
    what="${INPUT_PACKAGE_TYPE:-} ${INPUT_PACKAGES:-} ${INPUT_POLICY:-} ${INPUT_ORG:-} ${INPUT_USER:-} ${INPUT_HOST:-} ${INPUT_API_URL:-}"
    hash=$(printf '%s' "$what" | { sha256sum 2> /dev/null || shasum -a 256; } | cut -c 1-8)
    name="ghpkg-$(slug "${GITHUB_JOB:-job}")-$hash-attempt-${GITHUB_RUN_ATTEMPT:-1}"
  fi
  output artifact-name "$name"
  if uses_manifests; then
    # Manifests by digest never change, so one cache per owner and registry, saved anew by
    # every run (a cache entry cannot be updated) and restored from the newest.
    local owner=${INPUT_ORG:-${INPUT_USER:-${GITHUB_REPOSITORY_OWNER:-}}} registry
    registry=${INPUT_REGISTRY_URL:-${INPUT_HOST:+containers.$INPUT_HOST}}
    registry=${registry:-ghcr.io}
    registry=${registry#https://}
    local prefix
    prefix="ghpkg-manifests-$(slug "$owner")-$(slug "${registry%/}")-"
    output manifest-cache "$(manifest_cache_dir)"
    output manifest-cache-key "$prefix${GITHUB_RUN_ID:-0}-${GITHUB_RUN_ATTEMPT:-1}"
    output manifest-cache-restore-key "$prefix"
  else
    output manifest-cache ""
  fi
}

prune() {
  : "${GHPKG:?GHPKG is not set: the install step names the binary}"
  mkdir -p "$run_dir"
  local args=()
  value() { # --flag VALUE, when the input is not empty
    if [[ -n "$2" ]]; then args+=("$1" "$2"); fi
  }
  switch() { # --flag, when the input is true
    if [[ "$2" == "true" ]]; then args+=("$1"); fi
  }
  each() { # --flag VALUE for each non-empty line
    local line
    while IFS= read -r line; do
      line="${line#"${line%%[![:space:]]*}"}"
      line="${line%"${line##*[![:space:]]}"}"
      if [[ -n "$line" ]]; then args+=("$1" "$line"); fi
    done <<< "$2"
  }
  local packages=()
  read -r -d '' -a packages <<< "${INPUT_PACKAGES:-}" || true
  local what=()
  if [[ -n "${INPUT_PACKAGE_TYPE:-}" ]]; then what+=("$INPUT_PACKAGE_TYPE"); fi
  what+=("${packages[@]}")
  value --policy "${INPUT_POLICY:-}"
  value --org "${INPUT_ORG:-}"
  value --user "${INPUT_USER:-}"
  value --host "${INPUT_HOST:-}"
  value --api-url "${INPUT_API_URL:-}"
  value --keep "${INPUT_KEEP:-}"
  value --order-by "${INPUT_ORDER_BY:-}"
  value --older-than "${INPUT_OLDER_THAN:-}"
  each --include "${INPUT_INCLUDE:-}"
  each --exclude "${INPUT_EXCLUDE:-}"
  switch --tagged "${INPUT_TAGGED:-}"
  switch --untagged "${INPUT_UNTAGGED:-}"
  switch --both "${INPUT_BOTH:-}"
  each --protect-tag "${INPUT_PROTECT_TAG:-}"
  switch --no-default-protect "${INPUT_NO_DEFAULT_PROTECT:-}"
  each --protect-version "${INPUT_PROTECT_VERSION:-}"
  switch --orphans "${INPUT_ORPHANS:-}"
  each --version-match "${INPUT_VERSION_MATCH:-}"
  each --exclude-version "${INPUT_EXCLUDE_VERSION:-}"
  switch --prerelease-only "${INPUT_PRERELEASE_ONLY:-}"
  value --keep-per-major "${INPUT_KEEP_PER_MAJOR:-}"
  value --keep-per-minor "${INPUT_KEEP_PER_MINOR:-}"
  value --max-deletions "${INPUT_MAX_DELETIONS:-}"
  value --max-percent "${INPUT_MAX_PERCENT:-}"
  switch --apply "${INPUT_APPLY:-}"
  switch --yes "${INPUT_YES:-}"
  # The plan and the journal go where the artifact step takes them, unless given.
  value --plan-out "${INPUT_PLAN_OUT:-$run_dir/plan.json}"
  value --journal "${INPUT_JOURNAL:-}"
  value --registry-url "${INPUT_REGISTRY_URL:-}"
  if uses_manifests; then
    value --manifest-cache "${INPUT_MANIFEST_CACHE:-$default_manifest_cache}"
  fi
  switch --no-manifest-cache "${INPUT_NO_MANIFEST_CACHE:-}"
  switch --verbose "${INPUT_VERBOSE:-}"
  # ghpkg appends its outputs to $GITHUB_OUTPUT and a summary to $GITHUB_STEP_SUMMARY.
  local status=0
  "$GHPKG" prune "${what[@]}" "${args[@]}" || status=$?
  keep_for_artifact "${INPUT_PLAN_OUT:-}" "${INPUT_JOURNAL:-}"
  return "$status"
}

# A plan or journal the user put elsewhere is copied into the run directory, so the artifact
# always holds what undo needs.
keep_for_artifact() {
  local file journal
  for file in "$@"; do
    if [[ -n "$file" && -f "$file" ]]; then cp "$file" "$run_dir/"; fi
  done
  # The default journal sits beside the plan given by plan-out.
  if [[ -n "${1:-}" ]]; then
    journal="${1%.json}.journal.jsonl"
    if [[ -f "$journal" ]]; then cp "$journal" "$run_dir/"; fi
  fi
}

summary() {
  local summary=${GITHUB_STEP_SUMMARY:-}
  [[ -n "$summary" ]] || return 0
  local url=${ARTIFACT_URL:-} name=${ARTIFACT_NAME:-ghpkg}
  {
    echo
    if [[ -n "$url" ]]; then
      echo "The plan and journal of this run are the artifact [\`$name\`]($url)."
    else
      echo "The plan and journal of this run were not uploaded (nothing was written, or the upload failed)."
    fi
    local journals=("$run_dir"/*.journal.jsonl) journal
    if [[ -f "${journals[0]}" ]]; then
      echo "To undo its deletions, download it and restore from its journal:"
      echo
      echo '```sh'
      echo "gh run download ${GITHUB_RUN_ID:-RUN_ID} --repo ${GITHUB_REPOSITORY:-OWNER/REPO} --name $name --dir $name"
      for journal in "${journals[@]}"; do
        echo "ghpkg restore --from-log $name/${journal##*/}"
      done
      echo '```'
    fi
  } >> "$summary"
}

case "${1:-}" in
  prepare) prepare ;;
  prune) prune ;;
  summary) summary ;;
  *) fail "unknown step '${1:-}': use prepare, prune or summary" ;;
esac
