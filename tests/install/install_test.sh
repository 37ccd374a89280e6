#!/usr/bin/env bash
# Install the build tree into a temporary prefix and use it from outside the source tree:
#  1. `cmake --install` into WORK/prefix; the package files and headers must be there;
#  2. a small consumer project (consumer/) finds the package and builds against every target;
#     an application built against it finds the installed plugins, also after the prefix is moved;
#  3. a copy of the installed template (plugins/template), configured with only CMAKE_PREFIX_PATH, builds
#     libplinth-backend-template.so, which must export plinth_plugin_init and nothing else;
#  4. if the CLI was installed, `plinth cts --plugin <that .so> --level core` must pass.
set -euo pipefail

cmake_bin=cmake build_dir="" source_dir="" work="" generator="Ninja" make_program="" cc="" cxx=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --cmake) cmake_bin=$2 ;;
    --build-dir) build_dir=$2 ;;
    --source-dir) source_dir=$2 ;;
    --work-dir) work=$2 ;;
    --generator) generator=$2 ;;
    --make-program) make_program=$2 ;;
    --c-compiler) cc=$2 ;;
    --cxx-compiler) cxx=$2 ;;
    *) echo "install_test: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift 2
done
[[ -d "$build_dir" && -d "$source_dir" && -n "$work" ]] ||
  { echo "install_test: need --build-dir, --source-dir and --work-dir" >&2; exit 2; }

step() { echo "== install_test: $*"; }
fail() { echo "install_test: FAIL: $*" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work"
prefix="$work/prefix"
configure_args=(-G "$generator" -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_PREFIX_PATH=$prefix")
[[ -n "$make_program" ]] && configure_args+=("-DCMAKE_MAKE_PROGRAM=$make_program")
[[ -n "$cc" ]] && configure_args+=("-DCMAKE_C_COMPILER=$cc")
[[ -n "$cxx" ]] && configure_args+=("-DCMAKE_CXX_COMPILER=$cxx")

step "installing $build_dir into a temporary prefix"
"$cmake_bin" --install "$build_dir" --prefix "$prefix" > "$work/install.log" ||
  { cat "$work/install.log"; fail "cmake --install failed"; }
for f in include/plinth/abi.h include/plinth/ops.h \
         lib/cmake/Plinth/PlinthConfig.cmake lib/cmake/Plinth/PlinthConfigVersion.cmake \
         lib/cmake/Plinth/PlinthTargets.cmake lib/cmake/Plinth/PlinthPlugin.cmake \
         include/plinth/abi_lists.h include/plinth/sdk/status.hpp \
         share/doc/Plinth/plugin-guide.md share/doc/Plinth/abi.md share/doc/Plinth/cts.md \
         share/doc/Plinth/examples/c_plugin/c_plugin.c share/doc/Plinth/examples/template/CMakeLists.txt; do
  [[ -f "$prefix/$f" ]] || fail "$f is not installed"
done
# The package must be relocatable: nothing in it may point back into the build or source tree.
if grep -rlF -e "$build_dir" -e "$source_dir" "$prefix/lib/cmake/Plinth"; then
  fail "the installed package files above name the build or source tree"
fi

step "building a consumer of the installed package"
"$cmake_bin" -S "$source_dir/tests/install/consumer" -B "$work/consumer" "${configure_args[@]}" \
  > "$work/consumer-configure.log" 2>&1 || { cat "$work/consumer-configure.log"; fail "consumer configure failed"; }
"$cmake_bin" --build "$work/consumer" -j 2 > "$work/consumer-build.log" 2>&1 ||
  { cat "$work/consumer-build.log"; fail "consumer build failed"; }
abi_version=$("$work/consumer/abi_c11")
echo "   installed ABI headers say: $abi_version"

step "finding the installed plugins from an application, in place and after moving the install"
# Only the default search: the plugin directory must be found from where libplinth was loaded, not
# from the prefix the build was configured with (which is not this one).
check_found_plugins() {  # LABEL LIBDIR
  local expected found
  expected=$(find "$2/plinth/plugins" -name 'libplinth-backend-*.so' 2>/dev/null | wc -l)
  env -u PLINTH_PLUGIN_PATH LD_LIBRARY_PATH="$2" "$work/consumer/find_plugins" > "$work/find-plugins.log" 2>&1 ||
    { cat "$work/find-plugins.log"; fail "$1: the application found no plugin"; }
  found=$(grep -c '^plugin ' "$work/find-plugins.log" || true)
  sed 's/^/   /' "$work/find-plugins.log"
  [[ "$found" -eq "$expected" && "$expected" -gt 0 ]] ||
    fail "$1: the application loaded $found plugin(s); $expected are installed in $2/plinth/plugins"
  if grep -v "^plugin .* $2/plinth/plugins/" "$work/find-plugins.log" | grep -q '^plugin '; then
    fail "$1: a plugin was loaded from outside the install"
  fi
}
libdir=$(cd "$prefix" && find . -name 'libplinth.so' -printf '%h\n' -quit)
[[ -n "$libdir" ]] || fail "libplinth.so is not installed"
check_found_plugins "installed in $prefix" "$prefix/${libdir#./}"
mv "$prefix" "$work/moved"
check_found_plugins "moved to $work/moved" "$work/moved/${libdir#./}"
mv "$work/moved" "$prefix"

step "building the installed template (share/doc/Plinth/examples/template) out of tree"
# From the installed copy, as a vendor starts: the prefix alone must be enough.
cp -r "$prefix/share/doc/Plinth/examples/template" "$work/template-src"
rm -rf "$work/template-src/build"
"$cmake_bin" -S "$work/template-src" -B "$work/template-build" "${configure_args[@]}" \
  > "$work/template-configure.log" 2>&1 || { cat "$work/template-configure.log"; fail "template configure failed"; }
"$cmake_bin" --build "$work/template-build" -j 2 > "$work/template-build.log" 2>&1 ||
  { cat "$work/template-build.log"; fail "template build failed"; }
plugin=$(find "$work/template-build" -name 'libplinth-backend-template.so' -print -quit)
[[ -n "$plugin" ]] || fail "no libplinth-backend-template.so in $work/template-build"
echo "   built $plugin"

step "checking the plugin's dynamic symbols"
# Exactly one symbol of the plugin's own: plinth_plugin_init. libstdc++ declares its namespaces with
# default visibility, so weak instantiations of its templates (std::, __gnu_cxx::) escape
# -fvisibility=hidden unless the link uses a version script; they are listed, not failed.
nm -D --defined-only "$plugin" | awk 'NF == 3 { print $2, $3 }' | sort -k2 > "$work/plugin-symbols.txt"
own=$(awk '!($1 ~ /^[WVu]$/ && $2 ~ /^_ZN?K?(St|Z?NK?St|9__gnu_cxx|ZN9__gnu_cxx|NSt)/) { print $2 }' "$work/plugin-symbols.txt")
if [[ "$own" != "plinth_plugin_init" ]]; then
  echo "exported symbols:"; sed 's/^/   /' "$work/plugin-symbols.txt"
  fail "the plugin must export exactly plinth_plugin_init"
fi
leaked=$(grep -vc ' plinth_plugin_init$' "$work/plugin-symbols.txt" || true)
if [[ "$leaked" -gt 0 ]]; then
  echo "   warning: $leaked weak libstdc++ template symbol(s) also exported (a version script in"
  echo "   plinth_add_plugin keeps them local):"
  grep -v ' plinth_plugin_init$' "$work/plugin-symbols.txt" | sed 's/^/     /'
fi
# A plugin sees only the ABI: it must not need libplinth (the core) to load.
if readelf -d "$plugin" | grep -q 'NEEDED.*libplinth\.so'; then
  fail "the plugin links libplinth.so"
fi
echo "   exports plinth_plugin_init and no other symbol of its own"

if [[ -x "$prefix/bin/plinth" ]]; then
  step "certifying it with the installed CLI: plinth cts --level core"
  # Only the plugin given on the command line: keep the installed plugins out of the search.
  env -u PLINTH_PLUGIN_PATH "$prefix/bin/plinth" cts --plugin "$plugin" --level core > "$work/cts.log" 2>&1 ||
    { cat "$work/cts.log"; fail "plinth cts --level core failed on the template plugin"; }
  tail -n 5 "$work/cts.log"
else
  step "no installed plinth CLI in this build; CTS step skipped"
fi
step "PASS"
