#!/usr/bin/env python3
"""Offline check of packaging/conan/conanfile.py (and its test_package).

Conan cannot be installed here, so the recipe is imported with the stand-in `conan` package
in tests/package/conan/stub and its methods are called for every option combination. What
is compared with what:

- metadata: name, version (= the project's), license (= LICENSE), package_type
  header-library, settings, no_copy_source, required_conan_version >= 2;
- options = the Conan options of ormkit's names table (cmake/ormkitComponents.cmake), each
  [True, False]; defaults on exactly for the vcpkg port's default features;
- requirements() per combination: boost, fmt, nlohmann_json always; sqlite3 / libpq /
  hiredis exactly when their option is on; each version range admits the versions ormkit
  supports (fmt 9 to 12, Boost >= 1.81, hiredis 0.14 and 1.x ...) and rejects older ones;
  transitive headers (and libraries for compiled dependencies);
- package_id() clears the info (one package for all options);
- validate(): C++20 required (cppstd 17 rejected), too old a compiler rejected;
- package_info(): cmake_file_name ormkit, root target ormkit::ormkit, components = core +
  the enabled backends, each named ormkit::<component> as in the CMake config, backend
  defines = the CMake config's (ORMKIT_HAS_...), no bin/lib dirs, and Conan's own rule that
  component requirements and package requirements match one to one;
- export_sources() and package(): headers and LICENSE only, every header of include/;
- layout(): root points at the repository;
- test_package: requires the tested reference, CMakeDeps + CMakeToolchain, and its
  CMakeLists.txt is the find_package consumer.

  check_recipe.py --source-root <checkout> [--mutate OLD NEW]

--mutate replaces OLD by NEW in the recipe text before loading it; the tests that must fail
use it (a wrong component name, a misspelt option). Exit status 0 = all checks passed.
"""
import argparse
import atexit
import importlib.util
import inspect
import itertools
import json
import os
import re
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "stub"))

from conan import ConanFile  # noqa: E402  (the stub)
from conan.errors import ConanException, ConanInvalidConfiguration  # noqa: E402

# Conan Center package names of each backend's dependency, and of the core's.
BACKEND_PACKAGE = {"sqlite": "sqlite3", "postgres": "libpq", "redis": "hiredis"}
CORE_PACKAGES = {"boost", "fmt", "nlohmann_json"}
COMPILED = {"fmt", "sqlite3", "libpq", "hiredis"}
# Versions each range must admit / reject.
ADMIT = {
    "boost": (["1.81.0", "1.84.0", "1.91.0"], ["1.80.0", "2.0.0"]),
    "fmt": (["9.1.0", "10.2.1", "11.1.4", "12.2.0"], ["8.1.1", "13.0.0"]),
    "nlohmann_json": (["3.10.5", "3.11.3", "3.12.0"], ["3.9.1", "4.0.0"]),
    "sqlite3": (["3.37.2", "3.45.3", "3.53.4"], ["3.36.0", "4.0.0"]),
    "libpq": (["15.5", "16.4", "17.7"], ["13.0", "19.0"]),
    "hiredis": (["0.14.1", "1.2.0", "1.3.0"], ["0.13.3", "2.0.0"]),
}

failures = []


def fail(message):
    failures.append(message)
    print(f"FAIL: {message}")


def ok(message):
    print(f"ok: {message}")


def version_tuple(text):
    return tuple(int(p) for p in re.findall(r"\d+", text))


def in_range(version, ref_range):
    """Conan version range of the form '>=A <B' (space-separated conditions, all must hold)."""
    v = version_tuple(version)
    for cond in ref_range.split():
        m = re.fullmatch(r"(>=|<=|>|<|=)?([0-9.]+)", cond)
        if not m:
            raise ValueError(f"unsupported range condition '{cond}'")
        op, bound = m.group(1) or "=", version_tuple(m.group(2))
        width = max(len(v), len(bound))
        a, b = v + (0,) * (width - len(v)), bound + (0,) * (width - len(bound))
        if not {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "=": a == b}[op]:
            return False
    return True


def names_table(root):
    """cmake/ormkitComponents.cmake: {component: (cmake option, vcpkg feature, conan option, define)}."""
    text = open(os.path.join(root, "cmake", "ormkitComponents.cmake")).read()
    table = {}
    for m in re.finditer(r"^set\(_ormkit_(\w+)_names\s+(\S+)\s+(\S+)\s+(\S+)\)", text, re.M):
        component = m.group(1)
        block = re.search(r"macro\(_ormkit_dependency_%s\)(.*?)endmacro\(\)" % component, text, re.S)
        define = re.search(r"set\(_ormkit_dep_define (\S+)\)", block.group(1)).group(1) if block else None
        table[component] = (m.group(2), m.group(3), m.group(4), define)
    if not table:
        raise SystemExit("FAIL: no names table in cmake/ormkitComponents.cmake")
    return table


class Setting(str):
    def __new__(cls, value, **attributes):
        obj = super().__new__(cls, value)
        obj.__dict__.update(attributes)
        return obj


def settings(compiler="gcc", version="12", cppstd="20"):
    s = type("settings", (), {})()
    s.os, s.arch, s.build_type = Setting("Linux"), Setting("x86_64"), Setting("Release")
    s.compiler = Setting(compiler, version=Setting(version), cppstd=cppstd)
    return s


def load_recipe(path, text):
    module_dir = tempfile.mkdtemp(prefix="ormkit_recipe_")
    atexit.register(shutil.rmtree, module_dir, True)
    module_path = os.path.join(module_dir, "conanfile.py")
    with open(module_path, "w") as f:
        f.write(text)
    spec = importlib.util.spec_from_file_location("ormkit_conanfile_%d" % len(failures), module_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    classes = [c for _, c in inspect.getmembers(module, inspect.isclass)
               if issubclass(c, ConanFile) and c is not ConanFile]
    if len(classes) != 1:
        raise SystemExit(f"FAIL: {path}: expected one ConanFile class, found {len(classes)}")
    return module, classes[0]


def tree(folder):
    found = set()
    for root, _, files in os.walk(folder):
        for name in files:
            found.add(os.path.relpath(os.path.join(root, name), folder).replace(os.sep, "/"))
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source-root", required=True)
    parser.add_argument("--mutate", nargs=2, metavar=("OLD", "NEW"))
    args = parser.parse_args()
    root = os.path.abspath(args.source_root)
    recipe_dir = os.path.join(root, "packaging", "conan")
    recipe_path = os.path.join(recipe_dir, "conanfile.py")

    text = open(recipe_path).read()
    if args.mutate:
        old, new = args.mutate
        if old not in text:
            raise SystemExit(f"check_recipe.py: '{old}' is not in the recipe; the mutation tests nothing")
        text = text.replace(old, new)
        print(f"mutated the recipe: '{old}' -> '{new}'")
    module, Recipe = load_recipe(recipe_path, text)
    table = names_table(root)
    print(f"names table: {table}")

    # --- metadata ---
    project = re.search(r"project\(ormkit VERSION ([0-9.]+)", open(os.path.join(root, "CMakeLists.txt")).read()).group(1)
    conan = Recipe(recipe_folder=recipe_dir)
    conan.set_version()
    checks = {
        "required_conan_version >= 2": str(getattr(module, "required_conan_version", "")).startswith(">=2"),
        "name is ormkit": Recipe.name == "ormkit",
        f"set_version() gives the project version {project}": conan.version == project,
        "license MIT, as LICENSE": Recipe.license == "MIT" and open(os.path.join(root, "LICENSE")).read().startswith("MIT License"),
        "package_type header-library": Recipe.package_type == "header-library",
        "settings os, arch, compiler, build_type": set(Recipe.settings) == {"os", "arch", "compiler", "build_type"},
        "no_copy_source": getattr(Recipe, "no_copy_source", False) is True,
        "description and topics": bool(getattr(Recipe, "description", "")) and "header-only" in getattr(Recipe, "topics", ()),
    }
    for what, good in checks.items():
        (ok if good else fail)(what)

    # --- options ---
    expected_options = {conan_option for _, _, conan_option, _ in table.values()}
    if set(Recipe.options) != expected_options:
        fail(f"options {sorted(Recipe.options)} differ from the components' Conan options {sorted(expected_options)}")
    else:
        ok(f"options {sorted(expected_options)}")
    mentioned = set(re.findall(r"""["'](with_[a-z0-9_]+)["']|options\.(with_[a-z0-9_]+)""", text))
    for name in {a or b for a, b in mentioned} - set(Recipe.options):
        fail(f"the recipe names an option {name!r} that it does not declare (declared: {sorted(Recipe.options)})")
    for option, values in Recipe.options.items():
        if sorted(values) != [False, True]:
            fail(f"option {option} has values {values}, expected [True, False]")
    manifest = json.load(open(os.path.join(root, "packaging", "vcpkg", "ormkit", "vcpkg.json")))
    vcpkg_defaults = set(manifest.get("default-features", []))
    expected_defaults = {c_opt: feature in vcpkg_defaults for _, feature, c_opt, _ in table.values()}
    if dict(Recipe.default_options) != expected_defaults:
        fail(f"default_options {dict(Recipe.default_options)} differ from the vcpkg port's defaults {expected_defaults}")
    else:
        ok(f"default_options {expected_defaults} (the vcpkg port's default features)")

    # --- every option combination ---
    components = sorted(table)
    for combination in itertools.product([False, True], repeat=len(components)):
        enabled = {c for c, on in zip(components, combination) if on}
        values = {table[c][2]: (c in enabled) for c in components}
        label = "+".join(sorted(enabled)) or "core only"
        try:
            conan = Recipe(option_values=values, settings=settings(), recipe_folder=recipe_dir)
            conan.requirements()
            conan.package_id()
            conan.package_info()
        except ConanException as e:
            fail(f"[{label}] {type(e).__name__}: {e}")
            continue
        errors_before = len(failures)

        refs = {}
        for ref, traits in conan.requires.recorded:
            m = re.fullmatch(r"([a-z0-9_.+-]+)/\[([^\]]+)\]", ref)
            if not m:
                fail(f"[{label}] requirement '{ref}' is not <name>/[<range>]")
                continue
            refs[m.group(1)] = (m.group(2), traits)
        expected_packages = CORE_PACKAGES | {BACKEND_PACKAGE[c] for c in enabled}
        if set(refs) != expected_packages:
            fail(f"[{label}] requires {sorted(refs)}, expected {sorted(expected_packages)}")
        for package, (ref_range, traits) in refs.items():
            admit, reject = ADMIT.get(package, ([], []))
            for v in admit:
                if not in_range(v, ref_range):
                    fail(f"[{label}] {package}/[{ref_range}] rejects {v}, which ormkit supports")
            for v in reject:
                if in_range(v, ref_range):
                    fail(f"[{label}] {package}/[{ref_range}] admits {v}")
            if not traits.get("transitive_headers"):
                fail(f"[{label}] {package}: a header-library's requirement needs transitive_headers=True")
            if package in COMPILED and not traits.get("transitive_libs"):
                fail(f"[{label}] {package} is compiled: consumers link it, transitive_libs=True")

        if not conan.info.cleared:
            fail(f"[{label}] package_id() does not clear the info")

        info = conan.cpp_info
        if info.get_property("cmake_file_name") != "ormkit":
            fail(f"[{label}] cmake_file_name is {info.get_property('cmake_file_name')!r}, expected 'ormkit'")
        if info.get_property("cmake_target_name") != "ormkit::ormkit":
            fail(f"[{label}] cmake_target_name is {info.get_property('cmake_target_name')!r}, expected 'ormkit::ormkit'")
        if info.bindirs or info.libdirs:
            fail(f"[{label}] the package has bindirs/libdirs: {info.bindirs} {info.libdirs}")
        expected_components = {"core"} | enabled
        if set(info.components) != expected_components:
            fail(f"[{label}] components {sorted(info.components)}, expected {sorted(expected_components)}")
        used_packages = set()
        for name, component in info.components.items():
            target = component.get_property("cmake_target_name")
            if target != f"ormkit::{name}":
                fail(f"[{label}] component {name!r} has target {target!r}; the CMake config names it 'ormkit::{name}'")
            if component.bindirs or component.libdirs:
                fail(f"[{label}] component {name} has bindirs/libdirs")
            for req in component.requires:
                if "::" in req:
                    package = req.split("::")[0]
                    used_packages.add(package)
                    if package not in refs:
                        fail(f"[{label}] component {name} requires {req}, but {package} is not a requirement")
                elif req not in info.components:
                    fail(f"[{label}] component {name} requires {req!r}, which is not a component")
            if name == "core":
                want = {"boost::headers", "fmt::fmt", "nlohmann_json::nlohmann_json"}
                if set(component.requires) != want:
                    fail(f"[{label}] core requires {component.requires}, expected {sorted(want)}")
            elif name in table:
                package = BACKEND_PACKAGE[name]
                want = ["core", f"{package}::{package}"]
                if sorted(component.requires) != sorted(want):
                    fail(f"[{label}] component {name} requires {component.requires}, expected {want}")
                if component.defines != [table[name][3]]:
                    fail(f"[{label}] component {name} defines {component.defines}; the CMake config defines [{table[name][3]}]")
        unused = set(refs) - used_packages
        if unused:
            fail(f"[{label}] required but in no component's requires (Conan rejects this): {sorted(unused)}")
        if len(failures) == errors_before:
            ok(f"[{label}] requirements {sorted(refs)}, components {sorted(info.components)}")

    # --- validate() ---
    cases = [("gcc", "12", "20", True), ("gcc", "12", "gnu20", True), ("clang", "14", "20", True),
             ("gcc", "12", "17", False), ("gcc", "12", None, False), ("gcc", "10", "20", False),
             ("clang", "13", "20", False)]
    for compiler, version, cppstd, accepted in cases:
        conan = Recipe(settings=settings(compiler, version, cppstd), recipe_folder=recipe_dir)
        try:
            conan.validate()
            got = True
        except ConanInvalidConfiguration:
            got = False
        what = f"validate() {'accepts' if accepted else 'rejects'} {compiler} {version} cppstd={cppstd}"
        (ok if got == accepted else fail)(what)

    # --- layout, export_sources, package ---
    conan = Recipe(recipe_folder=recipe_dir)
    conan.layout()
    project_root = os.path.normpath(os.path.join(recipe_dir, conan.folders.root or "", conan.folders.source or ""))
    if project_root != root:
        fail(f"layout(): local flows look for sources in {project_root}, not the repository root {root}")
    else:
        ok("layout(): root is the repository root")

    headers = {"include/" + p for p in tree(os.path.join(root, "include")) if p.endswith(".hpp")}
    with tempfile.TemporaryDirectory() as exported, tempfile.TemporaryDirectory() as packaged:
        conan = Recipe(recipe_folder=recipe_dir)
        conan.export_sources_folder = exported
        conan.export_sources()
        got = tree(exported)
        if got != headers | {"LICENSE"}:
            fail(f"export_sources(): extra {sorted(got - headers - {'LICENSE'})}, missing {sorted((headers | {'LICENSE'}) - got)}")
        else:
            ok(f"export_sources(): LICENSE and {len(headers)} headers")
        conan.source_folder = exported
        conan.package_folder = packaged
        conan.package()
        got = tree(packaged)
        want = headers | {"licenses/LICENSE"}
        if got != want:
            fail(f"package(): extra {sorted(got - want)}, missing {sorted(want - got)}")
        else:
            ok(f"package(): licenses/LICENSE and {len(headers)} headers, nothing else")

    # --- test_package ---
    tp_dir = os.path.join(recipe_dir, "test_package")
    _, TestRecipe = load_recipe(os.path.join(tp_dir, "conanfile.py"), open(os.path.join(tp_dir, "conanfile.py")).read())
    tp = TestRecipe(settings=settings(), recipe_folder=tp_dir)
    tp.requirements()
    tp.layout()
    tp.build()
    tp.test()
    cmakelists = open(os.path.join(tp_dir, "CMakeLists.txt")).read()
    checks = {
        "test_package requires the tested reference": [r for r, _ in tp.requires.recorded] == [tp.tested_reference_str],
        "test_package uses CMakeDeps and CMakeToolchain": {"CMakeDeps", "CMakeToolchain"} <= set(TestRecipe.generators),
        "test_package runs test_package": any("test_package" in c for c, _ in tp.ran),
        "test_package/CMakeLists.txt finds ormkit and links ormkit::core":
            "find_package(ormkit 0.1 CONFIG REQUIRED" in cmakelists and "ormkit::core" in cmakelists,
        "test_package.cpp exists": os.path.exists(os.path.join(tp_dir, "test_package.cpp")),
    }
    for what, good in checks.items():
        (ok if good else fail)(what)

    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all recipe checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
