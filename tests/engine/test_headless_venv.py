"""tests/headless_venv.py copies a venv with hard links and rewrites only the copy's scripts: the
original venv must come out unchanged (pip's uninstall and the shebang rewrite unlink, never
write through a shared link)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.headless_venv import link_tree, rewrite_shebangs


def test_the_copy_shares_files_and_its_scripts_name_the_copy(tmp_path: Path) -> None:
    src, dst = tmp_path / "venv", tmp_path / "venv-headless"
    (src / "bin").mkdir(parents=True)
    (src / "lib" / "site-packages" / "pkg").mkdir(parents=True)
    module = src / "lib" / "site-packages" / "pkg" / "__init__.py"
    module.write_text("x = 1\n")
    script = src / "bin" / "twintrain"
    script.write_text(f"#!{src}/bin/python\nimport sys\n")
    (src / "bin" / "python").symlink_to("/usr/bin/python3")

    link_tree(src, dst)
    assert os.path.samefile(module, dst / "lib" / "site-packages" / "pkg" / "__init__.py")
    assert os.readlink(dst / "bin" / "python") == "/usr/bin/python3"

    assert rewrite_shebangs(dst / "bin", str(src / "bin"), str(dst / "bin")) == 1
    assert (dst / "bin" / "twintrain").read_text() == f"#!{dst}/bin/python\nimport sys\n"
    assert script.read_text() == f"#!{src}/bin/python\nimport sys\n"  # the original is intact
    assert not os.path.samefile(script, dst / "bin" / "twintrain")
    assert os.access(dst / "bin" / "twintrain", os.X_OK)
