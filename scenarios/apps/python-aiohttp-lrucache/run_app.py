"""python-aiohttp's app.py, after importing one of the generated module trees.

IMPORT_STYLE=plain|lru|importlib picks mods_<style> (see gen.py); the app
then starts as python-aiohttp does, answering GET / and GET /work.
"""
import importlib
import os

import app  # python-aiohttp's app.py: aiohttp and the rest load here, once

# The part under test: MODULES modules x IMPORTS repeated imports each.
importlib.import_module("mods_" + os.environ.get("IMPORT_STYLE", "plain"))

if __name__ == "__main__":
    app.main()
