"""The `twintrain` command: the desktop app, or a headless subcommand (docs/cli.md)."""

from __future__ import annotations

import argparse
import json
import sys

from engine.defaults import HANG_TIMEOUT_S
from engine.spec.errors import SpecError

SUBCOMMANDS = ("presets", "check", "train", "export")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and (argv[0] in SUBCOMMANDS or argv[0] in ("-h", "--help")):
        parser = _parser()
        args = parser.parse_args(argv)
        try:
            return args.func(args)
        except SpecError as exc:
            print(f"twintrain: {exc}", file=sys.stderr)
            return 1
        except BrokenPipeError:
            return 0
    return open_default(argv)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twintrain",
        description="Train one network in PyTorch and TensorFlow/Keras side by side.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("presets", help="list the bundled presets")
    p.set_defaults(func=_cmd_presets)
    p = sub.add_parser("check", help="validate a project and show shapes and parameter counts")
    p.add_argument("file", help="a project file or a preset name")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_cmd_check)
    p = sub.add_parser("train", help="train headless in both frameworks and write a run folder")
    p.add_argument("file", help="a project file or a preset name")
    p.add_argument(
        "--frameworks", default="torch,tensorflow", help="comma-separated: torch,tensorflow"
    )
    p.add_argument("--epochs", type=int, default=None, help="override the project's epochs")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument(
        "--schedule",
        choices=("parallel", "alternate", "sequential"),
        default=None,
        help="default: parallel on CPU, alternate on a GPU",
    )
    p.add_argument(
        "--init",
        choices=("matched", "native"),
        default="matched",
        help="matched: same initial weights and optimizer math in both (default)",
    )
    p.add_argument(
        "--optimizer",
        choices=("matched", "native"),
        default=None,
        help="optimizer math (default: follows --init)",
    )
    p.add_argument("--out", default=None, help="run folder (default: runs/<project>-<time>)")
    p.add_argument("--force", action="store_true", help="write into a non-empty run folder")
    p.add_argument(
        "--export",
        default=None,
        metavar="FORMATS",
        help="also write the trained models to DIR/models/ (comma-separated formats, or all)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument(
        "--json",
        action="store_true",
        help="print summary.json's content on stdout instead of the table",
    )
    p.add_argument(
        "--max-memory",
        type=float,
        default=None,
        metavar="MB",
        help="stop a framework whose worker's memory (RSS) exceeds MB; the other goes on",
    )
    p.add_argument(
        "--hang-timeout",
        type=float,
        default=HANG_TIMEOUT_S,
        metavar="S",
        help=(
            "stop a framework whose worker sends nothing for S seconds "
            f"(default {HANG_TIMEOUT_S:g})"
        ),
    )
    p.set_defaults(func=_cmd_train)
    p = sub.add_parser(
        "export",
        help="write the models in every format, verified: from the matched initial weights, or "
        "from a run's trained weights with --weights",
    )
    p.add_argument("file", help="a project file or a preset name")
    p.add_argument(
        "--out", required=True, help="output folder (must be new or empty unless --force)"
    )
    p.add_argument(
        "--formats",
        default="all",
        help="comma-separated: safetensors, pt2, torchscript, onnx, "
        "keras, savedmodel, tflite, code; or all (default)",
    )
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu")
    p.add_argument("--force", action="store_true", help="write into a non-empty folder")
    p.add_argument(
        "--base-dir",
        default=None,
        help="with FILE '-' (project JSON on stdin): the folder data-file paths are relative to",
    )
    p.add_argument(
        "--weights",
        default=None,
        metavar="RUN_DIR",
        help="export the trained weights a run kept (RUN_DIR/weights/<framework>.npz) "
        "instead of the initial ones",
    )
    p.set_defaults(func=_cmd_export)
    return parser


def _cmd_presets(args: argparse.Namespace) -> int:
    from engine.presets import list_presets

    presets = list_presets()
    width = max(len(p.key) for p in presets)
    for p in presets:
        print(f"{p.key:<{width}}  {p.description}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from engine.check import check_report, format_check_table
    from engine.presets import load_project_arg

    project = load_project_arg(args.file)
    report = check_report(project)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_check_table(project, report))
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from engine.train_cli import train_command

    return train_command(args)


def _cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from engine.export.formats import parse_formats
    from engine.exporting import export_untrained
    from engine.presets import load_project_arg
    from engine.spec import validate

    if args.file == "-":  # the desktop app hands over an unsaved project this way
        from engine.spec.project import from_dict, parse_text

        project = from_dict(parse_text(sys.stdin.read()))
        if args.base_dir:
            project.path = Path(args.base_dir).resolve() / "project.twintrain.json"
    else:
        project = load_project_arg(args.file)
    validate(project)
    formats = parse_formats(args.formats)
    weights = Path(args.weights) if args.weights else None
    if weights is not None:
        from engine.trained_weights import available

        if not available(weights):
            print(
                f"twintrain export: {weights}: no trained weights there (weights/torch.npz or "
                "weights/tensorflow.npz)",
                file=sys.stderr,
            )
            return 2
    try:
        result = export_untrained(
            project, Path(args.out), formats, force=args.force, device=args.device, weights=weights
        )
    except FileNotFoundError as exc:  # trained weights for none of the formats asked for
        print(f"twintrain export: {exc}", file=sys.stderr)
        return 2
    print(format_exports(result))
    return 0 if all(e["ok"] for e in result["entries"]) else 1


def format_exports(result: dict) -> str:
    lines = []
    for e in result["entries"]:
        size = f"{e['bytes']:,} B" if e.get("bytes") is not None else ""
        diff = f"max diff {e['max_abs_diff']:.2g}" if e.get("max_abs_diff") is not None else ""
        status = "ok" if e["ok"] else f"FAILED: {e.get('reason')}"
        lines.append(
            f"{e['framework']:<11} {e['format']:<12} {str(e.get('file') or ''):<30} "
            f"{size:>12}  {diff:<16} {status}"
        )
    cross = result.get("cross_check")
    if cross:
        diff = cross.get("max_abs_diff")
        verdict = {True: "agree", False: "DISAGREE"}.get(
            cross.get("ok"), cross.get("reason") or "reported"
        )
        shown = "–" if diff is None else f"{diff:.2g}"
        lines.append(
            f"cross-check torch.onnx vs tensorflow.onnx on {cross.get('batch')} samples: "
            f"max diff {shown} ({verdict})"
        )
    for fw, why in (result.get("skipped") or {}).items():
        lines.append(f"{fw:<11} skipped: {why}")
    lines.append(f"manifest: {result['path']}")
    return "\n".join(lines)


def open_default(argv: list[str]) -> int:
    """The headless default, used where the desktop app is not available: check the project."""
    from engine.presets import DEFAULT_PRESET

    target = argv[0] if argv else DEFAULT_PRESET
    print(f"(the desktop app is not available here; showing `twintrain check {target}`)")
    return main(["check", target])


if __name__ == "__main__":
    sys.exit(main())
