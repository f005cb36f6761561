"""The suite's order table (tests/conftest.py HEAVY_FIRST) names modules that exist, and the
heaviest come first in the collection pytest-xdist hands out."""

from tests.conftest import HEAVY_FIRST, ROOT, _heaviest_first


def test_every_module_the_order_table_names_exists():
    missing = [path for path in HEAVY_FIRST if not (ROOT / path).is_file()]
    assert not missing, f"tests/conftest.py HEAVY_FIRST names modules that are gone: {missing}"


def test_the_heaviest_modules_come_first_and_the_rest_keep_their_order():
    class Item:
        def __init__(self, nodeid: str) -> None:
            self.nodeid = nodeid

    first, second = list(HEAVY_FIRST)[:2]
    items = [Item(n) for n in ("tests/a.py::x", f"{second}::t", "tests/b.py::y", f"{first}::t")]
    items.append(Item("tests/a.py::z"))
    _heaviest_first(items)
    assert [i.nodeid for i in items] == [
        f"{first}::t",
        f"{second}::t",
        "tests/a.py::x",
        "tests/b.py::y",
        "tests/a.py::z",
    ]
