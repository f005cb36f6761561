"""image_folder: decoding, resizing, colour, the cache, `twintrain check`, and every refusal."""

import json
import os
import shutil
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.cli import main
from engine.data import images
from engine.data.catalog import describe, resolve
from engine.data.load import load_data
from engine.spec import read_project

SHAPES = Path(__file__).resolve().parent.parent / "data" / "shapes"


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TWINTRAIN_DATA_DIR", str(tmp_path / "app"))


def _project(folder: Path, shape, **dataset) -> Path:
    ds = {"name": "image_folder", "path": "images", **dataset}
    doc = {
        "format": "twintrain/1",
        "name": "shapes",
        "model": {
            "input": {"shape": shape},
            "layers": [
                {"id": "flat", "type": "Flatten"},
                {"id": "out", "type": "Dense", "units": 3},
            ],
        },
        "training": {"dataset": ds, "loss": "cross_entropy", "epochs": 1},
    }
    path = folder / "shapes.twintrain.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _copy_shapes(tmp_path: Path) -> Path:
    shutil.copytree(SHAPES, tmp_path / "images")
    return tmp_path / "images"


def test_the_fixture_is_what_its_script_writes():
    names = sorted(p.relative_to(SHAPES).as_posix() for p in SHAPES.rglob("*.png"))
    assert len(names) == 24 and names[0] == "circle/circle_0.png"
    assert sum(p.stat().st_size for p in SHAPES.rglob("*.png")) < 16_000
    modes = set()
    for p in SHAPES.rglob("*.png"):
        with Image.open(p) as im:
            modes.add(im.mode)
            assert im.size == (16, 16)
    assert modes == {"RGB", "L", "P"}


def test_check_prints_the_shape_and_the_class_names(tmp_path, capsys):
    _copy_shapes(tmp_path)
    path = _project(tmp_path, [16, 16, 3])
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "dataset image_folder (24 samples, 3 classes)" in out
    info = describe(read_project(path).training["dataset"], tmp_path)
    assert info.class_names == ("circle", "square", "triangle")
    assert info.x_shape == (16, 16, 3) and info.n_classes == 3


def test_pixels_in_0_1_channels_last_resized_and_grayscale(tmp_path):
    _copy_shapes(tmp_path)
    ds = resolve({"name": "image_folder", "path": "images", "size": [8, 12], "color": "grayscale"})
    x, y, classes = images.load(ds, tmp_path)
    assert x.shape == (24, 8, 12, 1) and x.dtype == np.float32
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0 and float(x.max()) > 0.5
    assert y.tolist() == [0] * 8 + [1] * 8 + [2] * 8 and classes == ["circle", "square", "triangle"]
    # the first image, decoded by hand: converted to L, resized bilinear to (W 12, H 8)
    with Image.open(SHAPES / "circle" / "circle_0.png") as im:
        want = np.asarray(im.convert("L").resize((12, 8), Image.Resampling.BILINEAR)) / 255.0
    assert np.allclose(x[0, :, :, 0], want, atol=1e-6)
    x3, _, _ = images.load(resolve({**ds, "color": "rgb", "size": 4}), tmp_path)
    assert x3.shape == (24, 4, 4, 3)


def test_max_per_class_and_load_data(tmp_path):
    _copy_shapes(tmp_path)
    path = _project(tmp_path, [16, 16, 3], max_per_class=5, validation_split=0.2)
    data = load_data(read_project(path))
    assert len(data.x_train) + len(data.x_val) == 15 and len(data.x_val) == 3
    assert data.n_classes == 3 and data.x_train.shape[1:] == (16, 16, 3)


def test_second_load_comes_from_the_cache_and_a_change_is_seen(tmp_path):
    folder = _copy_shapes(tmp_path)
    ds = resolve({"name": "image_folder", "path": "images"})
    x1, _, _ = images.load(ds, tmp_path)
    cached = list((tmp_path / "app" / "cache" / "datasets").glob("*.npz"))
    assert len(cached) == 1
    start = time.perf_counter()
    x2, _, _ = images.load(ds, tmp_path)
    assert time.perf_counter() - start < 0.5
    assert np.array_equal(x1, x2)
    # a changed image (new size and mtime) is decoded again, under a new key
    Image.new("RGB", (16, 16), (255, 255, 255)).save(folder / "circle" / "circle_0.png")
    os.utime(folder / "circle" / "circle_0.png", ns=(1, 1))
    x3, _, _ = images.load(ds, tmp_path)
    assert float(x3[0].min()) == 1.0 and not np.array_equal(x1, x3)
    assert len(list((tmp_path / "app" / "cache" / "datasets").glob("*.npz"))) == 2


def _refused(capsys, path, *parts):
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    for part in parts:
        assert part in err, f"{part!r} not in {err!r}"


def test_empty_class_folder(tmp_path, capsys):
    folder = _copy_shapes(tmp_path)
    (folder / "star").mkdir()
    (folder / "star" / "notes.txt").write_text("no images here")
    _refused(capsys, _project(tmp_path, [16, 16, 3]), "class folder 'images/star' holds no images")


def test_class_with_one_image(tmp_path, capsys):
    folder = _copy_shapes(tmp_path)
    for p in sorted((folder / "square").iterdir())[1:]:
        p.unlink()
    _refused(
        capsys,
        _project(tmp_path, [16, 16, 3]),
        "class folder 'images/square' holds one image; each class needs at least two",
    )


def test_truncated_image(tmp_path, capsys):
    folder = _copy_shapes(tmp_path)
    target = folder / "triangle" / "triangle_3.png"
    target.write_bytes(target.read_bytes()[:60])
    _refused(
        capsys,
        _project(tmp_path, [16, 16, 3]),
        "image 'images/triangle/triangle_3.png' cannot be read",
    )


def test_not_an_image(tmp_path, capsys):
    folder = _copy_shapes(tmp_path)
    (folder / "circle" / "zz.jpg").write_text("this is text")
    _refused(capsys, _project(tmp_path, [16, 16, 3]), "image 'images/circle/zz.jpg' cannot be read")


def test_mixed_sizes_without_size(tmp_path, capsys):
    folder = _copy_shapes(tmp_path)
    Image.new("RGB", (20, 10)).save(folder / "square" / "square_9.png")
    _refused(
        capsys,
        _project(tmp_path, [16, 16, 3]),
        "image 'images/square/square_9.png' is 20x10 (width x height) but "
        "'images/circle/circle_0.png' is 16x16; set size [H, W] to resize them",
    )
    # with a size, the same folder loads
    assert main(["check", str(_project(tmp_path, [16, 16, 3], size=16))]) == 0


def _png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height (its one data chunk is tiny)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_before_decoding(tmp_path, capsys):
    folder = _copy_shapes(tmp_path)
    (folder / "circle" / "bomb.png").write_bytes(_png_declaring(50_000, 50_000))
    start = time.perf_counter()
    _refused(
        capsys,
        _project(tmp_path, [16, 16, 3], size=16),
        "image 'images/circle/bomb.png' declares 2,500,000,000 pixels, more than 40,000,000",
        "refused before decoding",
    )
    assert time.perf_counter() - start < 5


def test_folder_outside_the_project(tmp_path, capsys):
    inner = tmp_path / "p"
    inner.mkdir()
    _copy_shapes(tmp_path)
    _refused(
        capsys,
        _project(inner, [16, 16, 3], path="../images"),
        "'../images' leaves the project file's folder",
    )


def test_missing_folder(tmp_path, capsys):
    _refused(capsys, _project(tmp_path, [16, 16, 3]), "data folder 'images' not found")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_symlinks_leading_out(tmp_path, capsys):
    inner = tmp_path / "p"
    inner.mkdir()
    outside = _copy_shapes(tmp_path)
    (inner / "images").symlink_to(outside, target_is_directory=True)
    _refused(
        capsys,
        _project(inner, [16, 16, 3]),
        "'images' resolves outside the project file's folder",
    )
    (inner / "images").unlink()
    shutil.copytree(outside, inner / "images")
    (inner / "images" / "circle" / "link.png").symlink_to(outside / "circle" / "circle_1.png")
    _refused(
        capsys,
        _project(inner, [16, 16, 3]),
        "image 'images/circle/link.png' resolves outside the project file's folder",
    )
