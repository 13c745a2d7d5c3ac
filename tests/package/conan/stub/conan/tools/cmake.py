class CMake:
    def __init__(self, conanfile):
        self.conanfile = conanfile
        self.calls = []

    def configure(self, *args, **kwargs):
        self.calls.append("configure")

    def build(self, *args, **kwargs):
        self.calls.append("build")


def cmake_layout(conanfile, src_folder=".", build_folder="build"):
    conanfile.folders.source = src_folder
    conanfile.folders.build = build_folder
    conanfile.cpp.build.bindir = "."


class CMakeToolchain:
    pass


class CMakeDeps:
    pass
