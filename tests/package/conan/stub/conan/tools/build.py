from conan.errors import ConanInvalidConfiguration

# Each compiler's default standard when the profile sets no compiler.cppstd (as Conan assumes).
_DEFAULT_CPPSTD = {"gcc": "17", "clang": "17", "apple-clang": "17", "msvc": "14"}


def _as_number(std):
    std = str(std).replace("gnu", "")
    return int(std) + (1900 if std in ("98",) else 2000 if len(std) == 2 else 0)


def check_min_cppstd(conanfile, cppstd, gnu_extensions=False):
    current = conanfile.settings.compiler.cppstd
    if current is None:
        current = _DEFAULT_CPPSTD.get(str(conanfile.settings.compiler), "17")
    if _as_number(current) < _as_number(cppstd):
        raise ConanInvalidConfiguration(
            f"Current cppstd ({current}) is lower than the required C++ standard ({cppstd}).")


def can_run(conanfile):
    return True
