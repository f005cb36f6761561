"""A folder of images, one sub-folder per class, read with Pillow and cached once decoded.

Layout: ``path/<class>/<image>``; the sorted sub-folder names are the classes (class 0 first),
and each takes its PNG, JPEG, BMP and GIF files (by extension, sorted by name; other files and
hidden entries are skipped). Each image is converted to 8-bit grayscale or RGB (transparency is
dropped, a GIF gives its first frame), resized with bilinear filtering when ``size`` is set, and
scaled to [0, 1], channels-last [H, W, C].

Every problem is a SpecError naming the image, raised by ``check`` before any worker starts:
a path or file leaving the project's folder (symlinks included), an empty class folder, a class
with one image, an unreadable or truncated image, images of different sizes without ``size``,
and an image whose header declares more than MAX_PIXELS pixels (checked before decoding).

Decoded arrays are cached (uint8, an .npz read without pickle) in the user cache folder
(``cache_dir``), keyed by the file list with sizes and modification times
and by the parameters, so a second load reads one file instead of decoding every image.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from engine.data.files import _fail, resolve_path

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
MAX_PIXELS = 40_000_000  # per image, from its header (a decompression bomb is refused)
MAX_IMAGES = 200_000
CACHE_VERSION = 1

Listing = list[tuple[str, list[Path]]]  # (class name, its image files)


def cache_dir() -> Path:
    """Where decoded image sets are kept: the user cache folder, or, where TWINTRAIN_DATA_DIR
    sets the app's own folder (tests, portable installs), a 'cache' folder inside it."""
    override = os.environ.get("TWINTRAIN_DATA_DIR")
    if override:
        return Path(override) / "cache" / "datasets"
    import platformdirs

    return Path(platformdirs.user_cache_dir("TwinTrain", appauthor=False)) / "datasets"


def _listing(dataset: dict, base_dir: Path | None) -> tuple[Path, Listing]:
    shown = dataset["path"]
    root = resolve_path(shown, base_dir, folder=True)
    project_root = Path(base_dir).resolve() if base_dir is not None else root
    classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise _fail(
            f"image folder '{shown}' needs one sub-folder per class, at least two "
            f"(it has {len(classes)})"
        )
    out: Listing = []
    total = 0
    limit = dataset.get("max_per_class")
    for folder in classes:
        files = sorted(
            p
            for p in folder.iterdir()
            if p.suffix.lower() in EXTENSIONS and not p.name.startswith(".")
        )
        for f in files:
            real = f.resolve()
            if project_root not in real.parents:
                raise _fail(
                    f"image '{shown}/{folder.name}/{f.name}' resolves outside the "
                    "project file's folder"
                )
        if limit is not None:
            files = files[:limit]
        if not files:
            raise _fail(
                f"class folder '{shown}/{folder.name}' holds no images ({', '.join(EXTENSIONS)})"
            )
        if len(files) == 1:
            raise _fail(
                f"class folder '{shown}/{folder.name}' holds one image; "
                "each class needs at least two"
            )
        total += len(files)
        if total > MAX_IMAGES:
            raise _fail(f"image folder '{shown}' holds more than {MAX_IMAGES} images")
        out.append((folder.name, files))
    return root, out


def _key(dataset: dict, root: Path, listing: Listing) -> str:
    h = hashlib.sha256()
    params = {
        "v": CACHE_VERSION,
        "root": str(root),
        "size": dataset.get("size"),
        "color": dataset["color"],
        "max_per_class": dataset.get("max_per_class"),
    }
    h.update(json.dumps(params, sort_keys=True).encode())
    for name, files in listing:
        for f in files:
            st = f.stat()
            h.update(f"{name}/{f.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:32]


def _decode(dataset: dict, listing: Listing) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image

    # Pillow refuses on opening what declares over twice its limit, and warns above it; both
    # are TwinTrain's limit here, and the check below refuses anything above it.
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    shown = dataset["path"]
    size = dataset.get("size")
    hw = None if size is None else (size, size) if isinstance(size, int) else tuple(size)
    mode = "L" if dataset["color"] == "grayscale" else "RGB"
    arrays: list[np.ndarray] = []
    labels: list[int] = []
    first: tuple[str, tuple[int, int]] | None = None
    for k, (name, files) in enumerate(listing):
        for f in files:
            where = f"'{shown}/{name}/{f.name}'"
            try:
                with Image.open(f) as im:
                    w, h = im.size
                    if w * h > MAX_PIXELS:
                        raise _fail(
                            f"image {where} declares {w}x{h} = {w * h:,} pixels, more than "
                            f"{MAX_PIXELS:,} "
                            "(a decompression bomb?); refused before decoding"
                        )
                    im.load()
                    img = im.convert(mode)
            except Image.DecompressionBombError as exc:  # Pillow's own check, on opening
                found = re.search(r"\((\d+) pixels\)", str(exc))
                many = f"{int(found.group(1)):,} pixels" if found else "too many pixels"
                raise _fail(
                    f"image {where} declares {many}, more than {MAX_PIXELS:,} "
                    "(a decompression bomb?); refused before decoding"
                ) from None
            except (OSError, SyntaxError, ValueError, EOFError) as exc:
                raise _fail(
                    f"image {where} cannot be read ({str(exc)[:80] or type(exc).__name__})"
                ) from None
            if hw is not None:
                if img.size != (hw[1], hw[0]):
                    img = img.resize((hw[1], hw[0]), Image.Resampling.BILINEAR)
            elif first is None:
                first = (where, img.size)
            elif img.size != first[1]:
                raise _fail(
                    f"image {where} is {img.size[0]}x{img.size[1]} (width x height) but "
                    f"{first[0]} is {first[1][0]}x{first[1][1]}; set size [H, W] to resize them",
                    "size",
                )
            a = np.asarray(img, dtype=np.uint8)
            arrays.append(a[:, :, None] if a.ndim == 2 else a)
            labels.append(k)
    return np.stack(arrays), np.asarray(labels, dtype=np.int64)


def _read_cache(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            return data["x"], data["y"]
    except Exception:  # missing, partial or corrupt: decode again
        return None


def _write_cache(path: Path, x: np.ndarray, y: np.ndarray) -> None:
    tmp = ""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, x=x, y=y)
        os.replace(tmp, path)
    except OSError:  # a read-only cache folder only costs the next load its decoding
        if tmp:
            Path(tmp).unlink(missing_ok=True)


def load_uint8(dataset: dict, base_dir: Path | None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(x [n, H, W, C] uint8, y [n] int64, class names) for a resolved image_folder section."""
    root, listing = _listing(dataset, base_dir)
    classes = [name for name, _ in listing]
    path = cache_dir() / f"{_key(dataset, root, listing)}.npz"
    found = _read_cache(path)
    if found is not None:
        return found[0], found[1], classes
    x, y = _decode(dataset, listing)
    _write_cache(path, x, y)
    return x, y, classes


def load(dataset: dict, base_dir: Path | None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(x [n, H, W, C] float32 in [0, 1], y [n] int64, class names)."""
    x, y, classes = load_uint8(dataset, base_dir)
    return x.astype(np.float32) / np.float32(255.0), y, classes


def class_names(dataset: dict, base_dir: Path | None) -> list[str]:
    """The class names in class-id order (the sorted sub-folder names)."""
    return [name for name, _ in _listing(dataset, base_dir)[1]]
