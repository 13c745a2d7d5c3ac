# A stand-in for the parts of Conan 2's Python API that packaging/conan uses, so that
# tests/package/conan/check_recipe.py can load the recipe and call its methods without Conan
# (which this machine cannot install). It mirrors Conan where a recipe mistake would show:
# unknown options raise, option values must be declared, requires() and cpp_info are recorded.
from conan.errors import ConanException


class _Options:
    def __init__(self, declared, defaults, values=None):
        declared = dict(declared or {})
        defaults = dict(defaults or {})
        for name in defaults:
            if name not in declared:
                raise ConanException(f"default_options: option '{name}' doesn't exist")
        chosen = dict(defaults)
        chosen.update(values or {})
        for name, value in chosen.items():
            if name not in declared:
                raise ConanException(f"option '{name}' doesn't exist\nPossible options are {sorted(declared)}")
            if value not in declared[name]:
                raise ConanException(f"'{value}' is not a valid 'options.{name}' value. Possible values are {declared[name]}")
        object.__setattr__(self, "_declared", declared)
        object.__setattr__(self, "_values", chosen)

    def __getattr__(self, name):
        values = object.__getattribute__(self, "_values")
        if name not in object.__getattribute__(self, "_declared"):
            raise ConanException(f"option '{name}' doesn't exist")
        return values.get(name)

    def __setattr__(self, name, value):
        if name not in self._declared:
            raise ConanException(f"option '{name}' doesn't exist")
        self._values[name] = value

    def get_safe(self, name, default=None):
        return self._values.get(name, default) if name in self._declared else default

    def items(self):
        return self._values.items()


class _Requirements:
    def __init__(self):
        self.recorded = []

    def __call__(self, ref, **traits):
        self.recorded.append((ref, traits))


class _Component:
    def __init__(self):
        self.properties = {}
        self.requires = []
        self.defines = []
        self.bindirs = ["bin"]
        self.libdirs = ["lib"]
        self.includedirs = ["include"]
        self.libs = []

    def set_property(self, name, value):
        self.properties[name] = value

    def get_property(self, name):
        return self.properties.get(name)


class _CppInfo(_Component):
    def __init__(self):
        super().__init__()
        self.components = _Components()


class _Components(dict):
    def __missing__(self, name):
        self[name] = _Component()
        return self[name]


class _Info:
    def __init__(self):
        self.cleared = False

    def clear(self):
        self.cleared = True


class _Folders:
    def __init__(self):
        self.root = None
        self.source = ""
        self.build = ""
        self.generators = ""


class _CppLayout:
    def __init__(self):
        self.build = type("build", (), {"bindir": "."})()


class ConanFile:
    name = None
    version = None
    options = {}
    default_options = {}
    settings = ()

    def __init__(self, option_values=None, settings=None, recipe_folder=None):
        self.options = _Options(type(self).options, type(self).default_options, option_values)
        self.settings = settings
        self.requires = _Requirements()
        self.cpp_info = _CppInfo()
        self.info = _Info()
        self.folders = _Folders()
        self.cpp = _CppLayout()
        self.recipe_folder = recipe_folder
        self.export_sources_folder = None
        self.source_folder = None
        self.package_folder = None
        self.tested_reference_str = "ormkit/0.0.0"
        self.ref = f"{type(self).name}/{type(self).version}"
        self.ran = []

    def run(self, command, env=None):
        self.ran.append((command, env))
