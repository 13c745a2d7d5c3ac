# Conan 2 recipe for ormkit, a header-only library.
#
#   conan create packaging/conan --build=missing -o "ormkit/*:with_redis=True"
#
# The recipe lives two levels below the sources: export_sources() copies the headers and the
# license from the repository root, and layout() points local flows (conan install/build on
# this folder) at that root.
#
# Consumers get the CMake package that Conan's CMakeDeps generates from package_info(), not
# the repository's own ormkitConfig.cmake: the components below therefore carry the same
# target names as that config (ormkit::core, ormkit::sqlite, ormkit::postgres, ormkit::redis,
# and ormkit::ormkit for the whole package). Options decide which backend components exist;
# the package itself is the same for every option value (package_id() clears it), as only
# the headers are packaged. tests/package/conan/check_recipe.py checks all of this offline.

import os
import re

from conan import ConanFile
from conan.errors import ConanInvalidConfiguration
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy, load
from conan.tools.layout import basic_layout
from conan.tools.scm import Version

required_conan_version = ">=2.0"


class OrmkitConan(ConanFile):
    name = "ormkit"
    description = (
        "Header-only C++20 persistence toolkit: typed repositories, validation, cache keys, "
        "JSON and migrations from one compile-time entity descriptor, over in-process and "
        "SQLite backends with an optional Redis cache."
    )
    license = "MIT"
    topics = ("orm", "repository", "persistence", "sqlite", "postgresql", "redis", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    options = {
        "with_sqlite3": [True, False],
        "with_postgresql": [True, False],
        "with_redis": [True, False],
    }
    default_options = {
        "with_sqlite3": True,
        "with_postgresql": False,
        "with_redis": False,
    }
    no_copy_source = True

    # Backend component -> (option, requirement, the dependency's whole-package target).
    _backends = {
        "sqlite": ("with_sqlite3", "sqlite3/[>=3.37 <4]", "sqlite3::sqlite3"),
        "postgres": ("with_postgresql", "libpq/[>=14 <19]", "libpq::libpq"),
        "redis": ("with_redis", "hiredis/[>=0.14 <2]", "hiredis::hiredis"),
    }

    # The oldest compilers ormkit is built with (C++20 concepts, designated initializers,
    # class-type template arguments).
    _min_compilers = {"gcc": "12", "clang": "14", "apple-clang": "15", "msvc": "193"}

    @property
    def _root(self):
        return os.path.join(self.recipe_folder, "..", "..")

    def set_version(self):
        if not self.version:
            text = load(self, os.path.join(self._root, "CMakeLists.txt"))
            self.version = re.search(r"project\(ormkit VERSION ([0-9.]+)", text).group(1)

    def export_sources(self):
        copy(self, "LICENSE", self._root, self.export_sources_folder)
        copy(self, "*.hpp", os.path.join(self._root, "include"), os.path.join(self.export_sources_folder, "include"))

    def layout(self):
        basic_layout(self, src_folder=".")
        self.folders.root = os.path.join("..", "..")  # local flows; the cache has the exported sources

    def requirements(self):
        # A header-library's requirements are used from its public headers: consumers need
        # their headers and, for the compiled ones, their libraries.
        self.requires("boost/[>=1.81 <2]", transitive_headers=True)
        self.requires("fmt/[>=9 <13]", transitive_headers=True, transitive_libs=True)
        self.requires("nlohmann_json/[>=3.10 <4]", transitive_headers=True)
        for option, requirement, _ in self._backends.values():
            if self.options.get_safe(option):
                self.requires(requirement, transitive_headers=True, transitive_libs=True)

    def package_id(self):
        self.info.clear()

    def validate(self):
        check_min_cppstd(self, 20)
        compiler = str(self.settings.compiler)
        minimum = self._min_compilers.get(compiler)
        if minimum and Version(self.settings.compiler.version) < minimum:
            raise ConanInvalidConfiguration(
                f"{self.ref} needs C++20 as {compiler} {minimum} or newer implements it "
                f"(this is {compiler} {self.settings.compiler.version})"
            )

    def build(self):
        pass  # header-only

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        copy(self, "*.hpp", os.path.join(self.source_folder, "include"), os.path.join(self.package_folder, "include"))

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "ormkit")
        self.cpp_info.set_property("cmake_target_name", "ormkit::ormkit")
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []

        core = self.cpp_info.components["core"]
        core.set_property("cmake_target_name", "ormkit::core")
        core.requires = ["boost::headers", "fmt::fmt", "nlohmann_json::nlohmann_json"]
        core.bindirs = []
        core.libdirs = []

        for component, (option, _, target) in self._backends.items():
            if not self.options.get_safe(option):
                continue
            backend = self.cpp_info.components[component]
            backend.set_property("cmake_target_name", f"ormkit::{component}")
            backend.requires = ["core", target]
            backend.defines = [f"ORMKIT_HAS_{component.upper()}=1"]
            backend.bindirs = []
            backend.libdirs = []
