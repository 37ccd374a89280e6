#!/usr/bin/env python3
"""Checks that the setup installs everything a build actually used.

A green build on a reused machine proves nothing about a fresh one: a package that got onto the
machine some other way (a Recommends, another project, a manual install) hides a missing line in
tools/packages.txt until a newcomer's first build fails. This check derives the needed packages
from what the build read, instead of trusting the list:

  system files   every absolute path build.ninja and CMakeFiles/rules.ninja name (CMake package
                 configs and Find modules it re-runs on, tools in custom commands, libraries on link
                 lines), every header in the compilers' depfiles (`ninja -t deps`), every file path in
                 CMakeCache.txt (find_library/find_program/find_path results: compilers, glslc,
                 hipcc, abidiff, libOpenCL.so ...), the libraries of `-l` flags, and the shared
                 libraries the built binaries load (ldd);
  owners         each file is mapped to its Debian package through dpkg's file lists
                 (/var/lib/dpkg/info/*.list, read once), after following symlinks one step at a
                 time (alternatives, merged /usr); files no package owns (the CUDA toolkit in
                 /usr/local, the build and source trees) are counted and skipped;
  closure        the package list plus its Depends/Pre-Depends closure (`apt-cache depends
                 --recurse`, virtual packages resolved to their providers), which is what
                 `apt-get install --no-install-recommends` brings onto a fresh machine;
  python         every module imported by the Python code in the tree (.py files, and python
                 heredocs and `python3 -c` strings in scripts) is the standard library, a module
                 of the tree, a Debian python3-* package in the closure, or a distribution pinned in
                 tools/python-requirements.txt (developer scripts only, see DEV_ONLY_DIRS) or in
                 tools/test-requirements.txt (the tests under TEST_PY_DIRS, and developer scripts);
                 when .venv-test/ exists, every pin of tools/test-requirements.txt is installed there
                 at its version (an edited pin needs `tools/bootstrap.sh testdeps`).

Any package outside the closure is an error that names the file, why the build read it, and the
package to add. Essential and priority-required packages are on every Debian system and are
allowed without a line (the summary says which ones were used that way).

Usage: tools/check_setup_deps.py [--build DIR]... [--packages FILE] [--python-requirements FILE]
                                 [--venv-python PY] [--test-requirements FILE] [--test-venv-python PY]
                                 [--source DIR] [--no-system] [--no-python] [-v]
  (defaults: build/, tools/packages.txt, tools/python-requirements.txt, .venv/bin/python3,
   tools/test-requirements.txt, .venv-test/bin/python3, the tree)
Exit status: 0 all covered, 1 something is missing, 2 the check itself could not run.
Standard library only; needs dpkg's database, apt-cache and ninja.
"""

import argparse
import ast
import glob
import json
import os
import re
import shlex
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Python code under these folders is run by developers by hand (regenerating reference data,
# benchmarks beside other engines), never by `tools/bootstrap.sh run` or `test`: its third-party
# imports come from tools/python-requirements.txt (`tools/bootstrap.sh pydeps`). Everything else may
# import only the standard library, modules of the tree and Debian python3-* packages in the closure.
DEV_ONLY_DIRS = ("tests/reference/", "bench/")
# Python tests that CI runs with the interpreter of .venv-test/ (`tools/bootstrap.sh test` installs
# tools/test-requirements.txt there, PLINTH_TEST_PYTHON in cmake/PlinthTesting.cmake points at it):
# their third-party imports may come from that file. Developer scripts (DEV_ONLY_DIRS) may use it too:
# nothing that run/test executes depends on them, and one that needs only the test packages (a client
# of `plinth serve`, say) runs with .venv-test/bin/python3 instead of building .venv/. Everything else
# may use neither file.
TEST_PY_DIRS = ("tests/server/",)
PYTHON_SCAN_DIRS = ("tools", "tests", "bench", "fuzz", ".ci")

MERGED_DIRS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")


class CheckError(Exception):
    """The check could not run (as opposed to: it found something missing)."""


def log(msg):
    print(msg, flush=True)


def shown(path):
    """A path as messages show it: relative inside the source tree, absolute elsewhere."""
    path = os.path.abspath(path)
    return os.path.relpath(path, ROOT) if path.startswith(ROOT + os.sep) else path


# ---- Package lists --------------------------------------------------------------------------------
def read_list(path):
    """Names from a one-per-line file; '#' starts a comment."""
    names = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            names.extend(line.split("#", 1)[0].split())
    return names


def strip_arch(name):
    return name.split(":", 1)[0]


def apt_closure(packages):
    """The packages plus everything they pull in through Depends and Pre-Depends."""
    cmd = ["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
           "--no-breaks", "--no-replaces", "--no-enhances"] + list(packages)
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except FileNotFoundError as e:
        raise CheckError("apt-cache not found: this check needs a Debian system") from e
    if out.returncode != 0:
        raise CheckError(f"apt-cache depends failed: {out.stderr.strip()}")
    closure = set(packages)
    # Lines are "pkg", "<virtual>", "  Depends: pkg", " |Depends: <virtual>" (an alternative), or
    # "    provider" under a virtual one. Every name that appears is something apt may install, so
    # the closure is the union; alternatives make it a slight over-estimate, never an under-one.
    for line in out.stdout.splitlines():
        m = re.match(r"^\s*\|?(?:[A-Za-z-]+:\s*)?<?([a-z0-9][a-z0-9+.:-]*)>?\s*$", line)
        if m:
            closure.add(strip_arch(m.group(1)))
    return closure


def direct_depends(packages):
    """{package: the packages its Depends/Pre-Depends name directly} (virtual ones by provider)."""
    out = subprocess.run(["apt-cache", "depends", "--no-recommends", "--no-suggests", "--no-conflicts",
                          "--no-breaks", "--no-replaces", "--no-enhances"] + list(packages),
                         capture_output=True, text=True, check=False).stdout
    result, current = {}, None
    for line in out.splitlines():
        m = re.match(r"^\s*\|?(?:[A-Za-z-]+:\s*)?<?([a-z0-9][a-z0-9+.:-]*)>?\s*$", line)
        if not m:
            continue
        if not line[0].isspace():
            current = strip_arch(m.group(1))
            result.setdefault(current, set())
        elif current:
            result[current].add(strip_arch(m.group(1)))
    return result


def essential_packages():
    """Installed packages that every Debian system has: Essential: yes or Priority: required."""
    out = subprocess.run(["dpkg-query", "-W", "-f=${Package}\t${Essential}\t${Priority}\n"],
                         capture_output=True, text=True, check=True).stdout
    result = set()
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and (parts[1] == "yes" or parts[2] == "required"):
            result.add(strip_arch(parts[0]))
    return result


def installed_packages():
    out = subprocess.run(["dpkg-query", "-W", "-f=${Package}\t${db:Status-Status}\n"],
                         capture_output=True, text=True, check=True).stdout
    installed = set()
    for line in out.splitlines():
        name, _, status = line.partition("\t")
        if status == "installed":
            installed.add(strip_arch(name))
    return installed


# ---- File owners ----------------------------------------------------------------------------------
class Owners:
    """Maps a path to the Debian packages that ship it, from dpkg's file lists."""

    def __init__(self, info_dir="/var/lib/dpkg/info"):
        self.index = {}
        lists = glob.glob(os.path.join(info_dir, "*.list"))
        if not lists:
            raise CheckError(f"no dpkg file lists in {info_dir}: this check needs a Debian system")
        for path in lists:
            pkg = strip_arch(os.path.basename(path)[:-len(".list")])
            with open(path, encoding="utf-8", errors="surrogateescape") as f:
                for line in f:
                    self.index.setdefault(line.rstrip("\n"), set()).add(pkg)
        # Merged /usr: /bin, /lib, ... are links into /usr, and dpkg may know a file under either.
        self.merged = {d for d in MERGED_DIRS if os.path.realpath("/" + d) == "/usr/" + d}

    def _aliases(self, path):
        yield path
        parts = path.split("/", 3)  # ['', 'usr', 'lib', rest] or ['', 'lib', rest...]
        if len(parts) > 2 and parts[1] == "usr" and parts[2] in self.merged:
            yield path[len("/usr"):]
        elif len(parts) > 1 and parts[1] in self.merged:
            yield "/usr" + path

    def lookup(self, path):
        """(packages, the path dpkg knows) for the first owned step of the symlink chain."""
        p = canonical(path)
        for _ in range(40):
            for alias in self._aliases(p):
                if alias in self.index:
                    return self.index[alias], alias
            if not os.path.islink(p):
                return None, None
            p = canonical(os.path.join(os.path.dirname(p), os.readlink(p)))
        return None, None

    def owns_dir_entry(self, prefix):
        """Packages shipping a file at or below prefix (used for Python modules)."""
        found = set()
        for alias in self._aliases(prefix):
            if alias in self.index:
                found |= self.index[alias]
        return found


def canonical(path):
    """Resolves the directories of a path (.., symlinked folders) but not its last component."""
    path = os.path.normpath(path)
    return os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))


# ---- What the build read --------------------------------------------------------------------------
PATH_RE = re.compile(r"(?<![\w.$-])(/[A-Za-z0-9._+\-/]+)")


class Collector:
    """The files a build read, each with the first reason seen; paths in the trees are only counted."""

    def __init__(self, skip_dirs):
        self.skip_dirs = [os.path.realpath(d) for d in skip_dirs]
        self.files = {}  # path -> why the build read it
        self.local = 0   # paths inside the build or source trees (or relative to the build tree)

    def add(self, path, why):
        if not path.startswith("/") or any(path == d or path.startswith(d + "/") for d in self.skip_dirs):
            self.local += 1
        elif path not in self.files and os.path.isfile(path):
            self.files[path] = why


def collect_ninja_files(build, col):
    for name in ("build.ninja", os.path.join("CMakeFiles", "rules.ninja")):
        path = os.path.join(build, name)
        if not os.path.exists(path):
            if name == "build.ninja":
                raise CheckError(f"{path} not found: configure {build} with the Ninja generator first")
            continue
        rel = shown(path)
        with open(path, encoding="utf-8", errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                if "/" not in line:
                    continue
                for m in PATH_RE.finditer(line):
                    col.add(m.group(1).rstrip("/:"), f"named in {rel}:{lineno}")


def collect_depfiles(build, col):
    try:
        out = subprocess.run(["ninja", "-C", build, "-t", "deps"], capture_output=True, text=True, check=False)
    except FileNotFoundError as e:
        raise CheckError("ninja not found") from e
    if out.returncode != 0:
        raise CheckError(f"ninja -t deps failed in {build}: {out.stderr.strip()}")
    target = "?"
    seen = set()
    for line in out.stdout.splitlines():
        if not line:
            continue
        if not line[0].isspace():
            target = line.split(":", 1)[0]
            continue
        dep = line.strip()
        if dep in seen:
            continue
        seen.add(dep)
        if dep.startswith("/"):
            col.add(dep, f"included by {target} (its depfile)")
        else:
            col.local += 1


def cache_entries(build):
    entries = {}
    path = os.path.join(build, "CMakeCache.txt")
    if not os.path.exists(path):
        raise CheckError(f"{path} not found: configure {build} first")
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r"^([^#/][^:=]*):([A-Z]+)=(.*)$", line.rstrip("\n"))
            if m:
                entries[m.group(1)] = (m.group(2), m.group(3))
    return entries


def collect_cache(build, entries, col):
    for key, (_type, value) in entries.items():
        if not value.startswith("/"):
            continue
        for item in value.split(";"):
            if item.startswith("/") and os.path.isfile(item):
                col.add(item, f"CMakeCache.txt {key} (found at configure time)")


def collect_link_flags(build, entries, col):
    """-lfoo on link lines: resolved the way the compiler driver resolves them."""
    compiler = entries.get("CMAKE_CXX_COMPILER", ("", ""))[1] or "c++"
    names = set()
    with open(os.path.join(build, "build.ninja"), encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("  LINK_LIBRARIES = "):
                names.update(re.findall(r"(?:^|\s)-l([A-Za-z0-9_+.-]+)", line[len("  LINK_LIBRARIES = "):]))
    for name in sorted(names):
        for candidate in (f"lib{name}.so", f"lib{name}.a"):
            out = subprocess.run([compiler, f"-print-file-name={candidate}"], capture_output=True, text=True)
            found = out.stdout.strip()
            if out.returncode == 0 and found.startswith("/") and os.path.exists(found):
                col.add(found, f"-l{name} on a link line of {shown(build)}/build.ninja")
                break


def elf_outputs(build):
    for sub in ("bin", "lib"):
        for dirpath, _dirs, files in os.walk(os.path.join(build, sub)):
            for name in files:
                path = os.path.join(dirpath, name)
                if os.path.islink(path) or not os.access(path, os.R_OK):
                    continue
                if not (name.endswith(".so") or ".so." in name or os.access(path, os.X_OK)):
                    continue
                try:
                    with open(path, "rb") as f:
                        if f.read(4) == b"\x7fELF":
                            yield path
                except OSError:
                    pass


def collect_ldd(build, col):
    outputs = list(elf_outputs(build))
    # One ldd per file (ldd stops at the first file it cannot handle); in parallel, it is the slow part.
    procs = [(p, subprocess.Popen(["ldd", p], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True))
             for p in outputs]
    for path, proc in procs:
        out, _ = proc.communicate()
        for m in re.finditer(r"=>\s*(/\S+)", out):
            col.add(m.group(1), f"loaded by {shown(path)} (ldd)")


# ---- Python imports -------------------------------------------------------------------------------
def python_sources(source):
    """(relative path, python text) for every .py file and embedded python in scripts."""
    for top in PYTHON_SCAN_DIRS:
        base = os.path.join(source, top)
        for dirpath, dirs, files in os.walk(base):
            dirs[:] = [d for d in dirs if not d.startswith(("build", ".")) and d != "__pycache__"]
            for name in files:
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, source)
                if name.endswith(".py"):
                    with open(path, encoding="utf-8", errors="replace") as f:
                        yield rel, f.read()
                elif name.endswith((".sh", ".cmake", ".bash")) or name in ("CMakeLists.txt", "run"):
                    with open(path, encoding="utf-8", errors="replace") as f:
                        text = f.read()
                    for snippet in embedded_python(text):
                        yield rel, snippet


def embedded_python(text):
    """Python heredocs (<<'PY', or any heredoc on a line that runs python) and `-c` strings that import."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.search(r"<<-?\s*['\"]?([A-Za-z_]+)['\"]?", line)
        if m and ("python" in line or "PY" in m.group(1).upper()):
            end = m.group(1)
            body = []
            i += 1
            while i < len(lines) and lines[i].strip() != end:
                body.append(lines[i])
                i += 1
            yield "\n".join(body)
        # `python3 -c "..."`, or any interpreter in a variable ("$PY" -c '...'): a -c string that imports.
        for c in re.finditer(r"\s-c\s+(\"(?:[^\"\\]|\\.)*\"|'[^']*')", line):
            try:
                code = shlex.split(c.group(1))[0]
            except ValueError:
                continue
            if re.search(r"\bimport\b", code):
                yield code
        i += 1


def imported_modules(text):
    """Top-level names of absolute imports; falls back to a line scan when the text does not parse."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        found = set()
        for m in re.finditer(r"^\s*(?:from\s+([A-Za-z_]\w*)[\w.]*\s+import|import\s+([A-Za-z_][\w., ]*))", text, re.M):
            if m.group(1):
                found.add(m.group(1))
            else:
                found.update(n.strip().split(".")[0].split(" ")[0] for n in m.group(2).split(","))
        return {n for n in found if n}
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def normalize_dist(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def read_requirements(path):
    """{normalized name: (line, import names declared with '# imports: a, b')} of a pinned file."""
    reqs, errors = {}, []
    if not os.path.exists(path):
        return reqs, errors
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            spec, _, comment = raw.partition("#")
            spec = spec.strip()
            if not spec:
                continue
            m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!-]+)$", spec)
            if not m:
                errors.append(f"{shown(path)}:{lineno}: '{spec}' is not pinned as name==version")
                continue
            imports = set()
            im = re.search(r"imports:\s*([\w, ]+)", comment)
            if im:
                imports = {n.strip() for n in im.group(1).split(",") if n.strip()}
            reqs[normalize_dist(m.group(1))] = (spec, imports)
    return reqs, errors


def interpreter_distributions(python):
    """(packages_distributions(), {normalized distribution: version}) of another interpreter (a
    virtual environment), or None when it does not run."""
    code = ("import importlib.metadata as m, json; "
            "print(json.dumps([{k: list(v) for k, v in m.packages_distributions().items()}, "
            "{d.metadata['Name']: d.version for d in m.distributions() if d.metadata['Name']}]))")
    try:
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout
        modules, versions = json.loads(out)
    except (OSError, subprocess.CalledProcessError, ValueError):
        return None
    return modules, {normalize_dist(name): version for name, version in versions.items()}


def normalize_version(version):
    """Enough of PEP 440 to compare a pin with what pip installed for it: '3.60' == '3.60.0'."""
    m = re.match(r"^v?([0-9]+(?:\.[0-9]+)*)(.*)$", version.strip().lower())
    if not m:
        return version.strip().lower()
    release = m.group(1).split(".")
    while len(release) > 1 and int(release[-1]) == 0:
        release.pop()
    return ".".join(str(int(n)) for n in release) + m.group(2)


def check_test_venv(test_reqs, test_requirements_path, test_venv_python, installed):
    """Errors for pins of the test requirements that the test environment does not have at their
    version: bootstrap skips pip while its stamp matches the file, and ctest alone never installs, so
    an edited pin would otherwise run the tests against the old package."""
    venv = shown(os.path.dirname(os.path.dirname(test_venv_python)))
    if installed is None:
        return [f"{shown(test_venv_python)} does not run: remove {venv} and run tools/bootstrap.sh testdeps"]
    errors = []
    for name, (spec, _imports) in sorted(test_reqs.items()):
        want = spec.split("==", 1)[1]
        have = installed.get(name)
        if have is None or normalize_version(have) != normalize_version(want):
            found = f"{name} {have}" if have else f"no {name}"
            errors.append(f"{shown(test_requirements_path)} pins {spec}, but {venv} has {found}: "
                          f"run tools/bootstrap.sh testdeps")
    return errors


def check_python(source, owners, closure, allowed, requirements_path, venv_python, verbose,
                 test_requirements_path=None, test_venv_python=None):
    import importlib.metadata as metadata

    errors = []
    reqs, req_errors = read_requirements(requirements_path)
    errors.extend(req_errors)
    test_reqs, test_req_errors = read_requirements(test_requirements_path) if test_requirements_path else ({}, [])
    errors.extend(test_req_errors)
    req_rel = shown(requirements_path)
    test_req_rel = shown(test_requirements_path) if test_requirements_path else "tools/test-requirements.txt"
    by_import = {}
    for name, (_spec, imports) in reqs.items():
        for imp in imports | {name.replace("-", "_")}:
            by_import.setdefault(imp.lower(), name)
    test_by_import = {}
    for name, (_spec, imports) in test_reqs.items():
        for imp in imports | {name.replace("-", "_")}:
            test_by_import.setdefault(imp.lower(), name)
    here = metadata.packages_distributions()
    venv = {}
    if venv_python and os.path.exists(venv_python):
        venv = (interpreter_distributions(venv_python) or ({}, {}))[0]
    test_venv = {}
    if test_venv_python and os.path.exists(test_venv_python):
        found = interpreter_distributions(test_venv_python)
        errors.extend(check_test_venv(test_reqs, test_requirements_path, test_venv_python,
                                      found[1] if found else None))
        test_venv = found[0] if found else {}
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    dev_dirs = " and ".join(DEV_ONLY_DIRS)
    test_dirs = " and ".join(TEST_PY_DIRS)
    only_debian = ("code that run/test execute may use the standard library and Debian python3-* packages "
                   "listed in tools/packages.txt only")

    modules = {}  # module -> [files]
    for rel, text in python_sources(source):
        for mod in imported_modules(text):
            modules.setdefault(mod, []).append(rel)
    # Modules of the tree, wherever they live: a script may put another folder on sys.path.
    tree_modules = {os.path.splitext(rel)[0].split(os.sep)[-1] for rel, _ in python_sources(source)
                    if rel.endswith(".py")}
    third_party = 0
    for mod, files in sorted(modules.items()):
        if mod in stdlib:
            continue
        # A module of the tree: a .py file or package next to one of the importing scripts.
        local = [f for f in files if os.path.exists(os.path.join(source, os.path.dirname(f), mod + ".py"))
                 or os.path.isdir(os.path.join(source, os.path.dirname(f), mod)) or mod in tree_modules]
        files = sorted(set(files) - set(local))
        if not files:
            continue
        third_party += 1
        where = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        # A Debian package: the module lives in /usr/lib/python3/dist-packages. First, so a module that
        # Debian provides stays usable everywhere even if a requirements file also pins it.
        debs = set()
        for cand in (f"/usr/lib/python3/dist-packages/{mod}", f"/usr/lib/python3/dist-packages/{mod}.py"):
            debs |= owners.owns_dir_entry(cand)
        debs |= {p for so in glob.glob(f"/usr/lib/python3/dist-packages/{mod}.*.so") for p in (owners.lookup(so)[0] or ())}
        if debs & (closure | allowed):
            if verbose:
                log(f"  python {mod}: Debian {', '.join(sorted(debs & (closure | allowed)))}")
            continue
        # A pinned PyPI distribution, mapped through the installed metadata when there is one: the
        # developer scripts' (python-requirements.txt, .venv) and the tests' (test-requirements.txt,
        # .venv-test).
        dists = {normalize_dist(d) for d in here.get(mod, []) + venv.get(mod, [])}
        mapped = [d for d in dists if d in reqs] or ([by_import[mod.lower()]] if mod.lower() in by_import else [])
        test_dists = {normalize_dist(d) for d in here.get(mod, []) + test_venv.get(mod, [])}
        test_mapped = [d for d in test_dists if d in test_reqs] or (
            [test_by_import[mod.lower()]] if mod.lower() in test_by_import else [])
        if mapped or test_mapped:
            may = (DEV_ONLY_DIRS if mapped else ()) + ((TEST_PY_DIRS + DEV_ONLY_DIRS) if test_mapped else ())
            outside = [f for f in files if not f.startswith(may)]
            pins = ([f"{reqs[mapped[0]][0]} in {req_rel}"] if mapped else []) + (
                [f"{test_reqs[test_mapped[0]][0]} in {test_req_rel}"] if test_mapped else [])
            if not outside:
                if verbose:
                    log(f"  python {mod}: {'; '.join(pins)}")
                continue
            shown_outside = ", ".join(outside[:3]) + (f" and {len(outside) - 3} more" if len(outside) > 3 else "")
            if test_mapped:
                who = (f"which only the tests under {test_dirs} (they run in .venv-test: `tools/bootstrap.sh "
                       f"test` or `testdeps` installs it) and developer scripts under {dev_dirs} may use")
            else:
                who = f"which only `tools/bootstrap.sh pydeps` installs, for scripts under {dev_dirs}"
            hint = only_debian
            if not test_mapped and any(f.startswith(TEST_PY_DIRS) for f in outside):
                hint = (f"a test under {test_dirs} may use it once it is pinned in {test_req_rel} too "
                        f"(the tests run in .venv-test, not .venv); other {hint}")
            errors.append(f"python module '{mod}' (imported by {shown_outside}) comes from PyPI "
                          f"({'; '.join(pins)}), {who}: {hint}")
            continue
        if debs:
            errors.append(f"python module '{mod}' (imported by {where}) comes from Debian package "
                          f"{', '.join(sorted(debs))}, which tools/packages.txt does not install: "
                          f"add it to tools/packages.txt")
            continue
        found = f" (installed here as {', '.join(sorted(dists | test_dists))})" if dists | test_dists else ""
        errors.append(f"python module '{mod}' (imported by {where}) is installed by nothing the setup "
                      f"knows{found}: add its Debian package (python3-...) to tools/packages.txt, or pin "
                      f"its PyPI distribution as name==version: for the tests under {test_dirs}, in "
                      f"{test_req_rel}; for developer scripts under {dev_dirs}, in {req_rel}")
    return errors, len(modules), third_party


# ---- Main -----------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", action="append", default=[], help="a configured and built tree (repeatable)")
    ap.add_argument("--packages", default=os.path.join(ROOT, "tools", "packages.txt"))
    ap.add_argument("--python-requirements", default=os.path.join(ROOT, "tools", "python-requirements.txt"))
    ap.add_argument("--venv-python", default=os.path.join(ROOT, ".venv", "bin", "python3"),
                    help="interpreter of the pydeps environment, used to map imports when it exists")
    ap.add_argument("--test-requirements", default=os.path.join(ROOT, "tools", "test-requirements.txt"),
                    help="pinned PyPI packages of the tests under " + " and ".join(TEST_PY_DIRS))
    ap.add_argument("--test-venv-python", default=os.path.join(ROOT, ".venv-test", "bin", "python3"),
                    help="interpreter of the test environment: when it exists, it maps imports and must "
                         "have every pin of --test-requirements installed")
    ap.add_argument("--source", default=ROOT)
    ap.add_argument("--no-python", action="store_true", help="skip the Python imports")
    ap.add_argument("--no-system", action="store_true", help="skip the build trees' system files")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every package and why it is needed")
    args = ap.parse_args()
    start = time.monotonic()
    builds = [os.path.abspath(b) for b in (args.build or [os.path.join(ROOT, "build")])]
    source = os.path.abspath(args.source)

    listed = read_list(args.packages)
    if not listed:
        raise CheckError(f"{args.packages} lists no packages")
    installed = installed_packages()
    not_installed = [p for p in listed if p not in installed]
    closure = apt_closure(listed)
    allowed = essential_packages()
    owners = Owners()
    t_setup = time.monotonic() - start

    col = Collector([source] + builds)
    for build in ([] if args.no_system else builds):
        entries = cache_entries(build)
        collect_ninja_files(build, col)
        collect_cache(build, entries, col)
        collect_link_flags(build, entries, col)
        collect_depfiles(build, col)
        collect_ldd(build, col)

    packages = {}  # package -> [(file, why)]
    unowned = []
    for path, why in sorted(col.files.items()):
        pkgs, _known = owners.lookup(path)
        if not pkgs:
            unowned.append(path)
            continue
        for pkg in pkgs:
            packages.setdefault(pkg, []).append((path, why))

    errors = []
    pkg_file = shown(args.packages)
    for name in not_installed:
        errors.append(f"{pkg_file} lists {name}, which is not installed: run tools/bootstrap.sh deps")
    essential_used = []
    uncovered = {}  # package -> the files of it the build read that nothing listed covers
    for pkg, uses in sorted(packages.items()):
        # A file shipped by several packages (Multi-Arch copies, diversions) is covered by any of them.
        if pkg in closure:
            if args.verbose:
                log(f"  {pkg}: {uses[0][0]} ({uses[0][1]}){f' and {len(uses) - 1} more' if len(uses) > 1 else ''}")
            continue
        files = [(f, w) for f, w in uses if not (set(owners.lookup(f)[0]) & closure)]
        if not files:
            continue
        if pkg in allowed:
            essential_used.append(pkg)
            continue
        uncovered[pkg] = files
    # One missing -dev package usually shows as two (its headers, and the runtime library it
    # Depends on): name the one to add and fold the other into its message.
    brought = direct_depends(sorted(uncovered)) if uncovered else {}
    folded = {dep: pkg for pkg, deps in brought.items() for dep in deps if dep in uncovered and dep != pkg}
    for pkg, files in uncovered.items():
        if pkg in folded and folded[pkg] not in folded:
            continue
        also = sorted(d for d, by in folded.items() if by == pkg)
        extra = []
        for dep in also:
            extra += uncovered[dep][:1]
        listing = files[:3] + extra
        text = "\n".join(f"    {f}  ({w})" for f, w in listing)
        more = len(files) - 3 if len(files) > 3 else 0
        more_text = f"\n    ... and {more} more files" if more else ""
        also_text = f" (it brings {', '.join(also)}, whose files the build read too)" if also else ""
        errors.append(f"the build read files of Debian package {pkg}, which {pkg_file} neither lists nor "
                      f"pulls in through Depends/Pre-Depends:\n{text}{more_text}\n  add {pkg} to {pkg_file}"
                      f"{also_text}; tools/bootstrap.sh installs that list")

    py_modules = py_third = 0
    if not args.no_python:
        py_errors, py_modules, py_third = check_python(source, owners, closure, allowed,
                                                       args.python_requirements, args.venv_python, args.verbose,
                                                       args.test_requirements, args.test_venv_python)
        errors.extend(py_errors)

    elapsed = time.monotonic() - start
    unowned_examples = sorted({os.path.dirname(p) for p in unowned})[:3]
    if args.no_system:
        log(f"build trees not checked (--no-system); {len(listed)} packages listed in {pkg_file}, "
            f"{len(closure)} with their Depends closure")
    else:
        log(f"checked {len(col.files)} system files read by {len(builds)} build tree(s) "
            f"({', '.join(shown(b) for b in builds)}): "
            f"{len(packages)} Debian packages; {len(listed)} listed in {pkg_file}, {len(closure)} with their "
            f"Depends closure")
        log(f"  skipped {len(unowned)} files no package owns"
            f"{' (e.g. ' + ', '.join(unowned_examples) + ')' if unowned_examples else ''} and "
            f"{col.local} paths inside the source and build trees")
    if essential_used:
        log(f"  allowed without a line, being essential or priority required: {', '.join(essential_used)}")
    if not args.no_python:
        log(f"  python: {py_modules} imported modules, {py_third} from outside the standard library and the tree")
    log(f"  took {elapsed:.1f}s (package lists {t_setup:.1f}s)")
    if errors:
        for e in errors:
            print(f"error: {e}", file=sys.stderr)
        print(f"setup check FAILED: {len(errors)} problem(s); a fresh machine set up by tools/bootstrap.sh "
              f"would not build or test as this one did", file=sys.stderr)
        return 1
    log("setup check passed: everything the build used is installed by tools/bootstrap.sh")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CheckError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
