"""The claim's helper: imports through an LRU cache."""
import functools
import importlib


@functools.lru_cache(maxsize=128)
def cached_import(name: str):
    return importlib.import_module(name)
