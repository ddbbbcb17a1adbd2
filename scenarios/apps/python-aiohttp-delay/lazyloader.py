"""python-aiohttp's app.py, unchanged, with every later import made lazy by
importlib.util.LazyLoader (the study's "delay them" through importlib).

A meta-path finder wraps the loader of every pure-Python module found on
sys.path (source or bytecode; extension modules cannot be lazy) in a
LazyLoader: `import x` then binds a module object whose code runs at the
first attribute access instead of at the import. This is the documented
recipe applied to the whole process, the most it can defer without editing
aiohttp. What it can not defer: a module that is used while importing
(`from x import y`, `x.y` at module level, a submodule's parent, a second
`import x`, which reads x.__spec__) loads at once, as before.

LAZY_REPORT=1 writes to stderr how many modules were still not loaded once
app.py's module code ran (for checking the mechanism by hand; off in the suites).
"""
import importlib.machinery
import importlib.util
import os
import sys
import threading  # noqa: F401  LazyLoader itself imports it to make its lock: it cannot be lazy


class LazyFinder:
    """Finds modules as the path finder does and hands back lazy loaders."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is not None and isinstance(
            spec.loader, (importlib.machinery.SourceFileLoader, importlib.machinery.SourcelessFileLoader)
        ):
            spec.loader = importlib.util.LazyLoader(spec.loader)
        return spec


# Before the path finder: builtin and frozen modules are found as usual.
sys.meta_path.insert(sys.meta_path.index(importlib.machinery.PathFinder), LazyFinder)

import app  # noqa: E402  the unchanged python-aiohttp app, imported lazily from here on

main = app.main  # the first attribute access runs app.py's imports: what must load, loads here

if os.environ.get("LAZY_REPORT") == "1":
    lazy = sorted(n for n, m in list(sys.modules.items()) if type(m) is importlib.util._LazyModule)
    print(f"lazyloader: {len(lazy)} of {len(sys.modules)} modules not loaded once app.py ran: {' '.join(lazy)}",
          file=sys.stderr)

if __name__ == "__main__":
    main()
