"""Lay out the sys.path variants of the syspath claim (run at image build).

  python3 variants.py pad        200 existing, empty directories /opt/syspath/pad/000..199
                                 (start.sh puts SYSPATH_PAD of them on PYTHONPATH)
  python3 variants.py pad-site   the same 200, listed in a .pth file in
                                 /usr/local/lib/python3.13/dist-packages: site
                                 appends them after the standard library and
                                 before Debian's dist-packages (where aiohttp is)
  python3 variants.py zip        the app's third-party packages (aiohttp and its
                                 dependencies) moved out of Debian's dist-packages
                                 into /opt/syspath/deps-dir (as they were: .py,
                                 __pycache__, C extensions) and into
                                 /opt/syspath/deps.zip (bytecode only: zipimport
                                 reads X.pyc beside X.py, never __pycache__, and
                                 cannot load C extensions)
"""
import os
import shutil
import site
import sys
import zipfile

PAD = "/opt/syspath/pad"
PADS = 200
DIST = "/usr/lib/python3/dist-packages"
# What `import aiohttp.web` loads from dist-packages on Debian trixie (checked below).
DEPS = ["aiohappyeyeballs", "aiohttp", "aiosignal", "attr", "frozenlist", "idna", "multidict", "propcache", "yarl"]


def pads() -> list[str]:
    out = [os.path.join(PAD, f"{i:03d}") for i in range(PADS)]
    for d in out:
        os.makedirs(d)
    return out


def check_deps() -> None:
    import aiohttp.web  # noqa: F401

    loaded = sorted({n.split(".")[0] for n, m in sys.modules.items()
                     if (getattr(m, "__file__", None) or "").startswith(DIST + "/")})
    if loaded != DEPS:
        sys.exit(f"variants.py: aiohttp.web loads {loaded} from {DIST}, expected {DEPS}: update DEPS")


def zipped() -> None:
    check_deps()
    os.makedirs("/opt/syspath/deps-dir")
    with zipfile.PyZipFile("/opt/syspath/deps.zip", "w", optimize=-1) as z:
        for name in DEPS:
            src = os.path.join(DIST, name)
            shutil.copytree(src, os.path.join("/opt/syspath/deps-dir", name), symlinks=True)
            # writepy stores compiled modules only (X.pyc, legacy layout), packages recursively.
            z.writepy(src)
            shutil.rmtree(src)
    # The .dist-info directories stay: metadata, not imported.


def main() -> None:
    what = sys.argv[1]
    if what == "pad":
        pads()
    elif what == "pad-site":
        sitedir = "/usr/local/lib/python{}.{}/dist-packages".format(*sys.version_info[:2])
        if sitedir not in site.getsitepackages():
            sys.exit(f"variants.py: {sitedir} is not a site directory here: {site.getsitepackages()}")
        os.makedirs(sitedir, exist_ok=True)
        with open(os.path.join(sitedir, "coldstart-pad.pth"), "w") as f:
            f.write("".join(p + "\n" for p in pads()))
    elif what == "zip":
        zipped()
    else:
        sys.exit(f"variants.py: unknown variant {what!r}")


if __name__ == "__main__":
    main()
