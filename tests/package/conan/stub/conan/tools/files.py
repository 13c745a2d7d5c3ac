import fnmatch
import os
import shutil


def load(conanfile, path, encoding="utf-8"):
    with open(path, encoding=encoding) as f:
        return f.read()


def copy(conanfile, pattern, src, dst, keep_path=True, excludes=None, ignore_case=True):
    """Like Conan's copy(): `pattern` is matched (fnmatch, '*' crosses '/') against paths
    relative to `src`; the files land under `dst`, keeping their relative path."""
    copied = []
    for root, _, files in os.walk(src):
        for name in files:
            rel = os.path.relpath(os.path.join(root, name), src).replace(os.sep, "/")
            if not fnmatch.fnmatch(rel, pattern):
                continue
            if excludes and any(fnmatch.fnmatch(rel, e) for e in excludes):
                continue
            target = os.path.join(dst, rel if keep_path else name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(os.path.join(root, name), target)
            copied.append(target)
    return copied


def rmdir(conanfile, path):
    shutil.rmtree(path, ignore_errors=True)
