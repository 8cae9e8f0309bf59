"""``python -m toolkit.locale``: compile the Chinese catalogue (.po -> .mo)."""

from . import build_mo

if __name__ == "__main__":
    print(build_mo())
