import functools
import re


@functools.total_ordering
class Version:
    def __init__(self, value):
        self._parts = tuple(int(p) for p in re.findall(r"\d+", str(value)))

    def _other(self, other):
        return other._parts if isinstance(other, Version) else Version(other)._parts

    def __eq__(self, other):
        return self._parts == self._other(other)

    def __lt__(self, other):
        return self._parts < self._other(other)

    def __str__(self):
        return ".".join(map(str, self._parts))
