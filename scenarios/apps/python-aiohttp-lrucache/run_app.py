"""python-aiohttp's app.py, after importing one of the generated module trees.

IMPORT_STYLE=plain|lru|importlib picks mods_<style> (see gen.py); the app
then starts as python-aiohttp does, answering GET / and GET /work.
"""
import os

import app  # python-aiohttp's app.py: aiohttp and the rest load here, once

# The part under test: MODULES modules x IMPORTS repeated imports each.
# __import__, not importlib.import_module: CPython's -X importtime
# (PYTHONPROFILEIMPORTTIME) times only imports that take the import
# statement's C path, so a package imported through import_module gets no
# line of its own in the profile (seen by hand), and the suite's
# attribution needs the mods_* package's cumulative time.
__import__("mods_" + os.environ.get("IMPORT_STYLE", "plain"))

if __name__ == "__main__":
    app.main()
