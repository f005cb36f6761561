"""The `twintrain` command: the desktop app, or a headless subcommand (docs/cli.md)."""

from __future__ import annotations

import argparse
import json
import sys

from engine.defaults import HANG_TIMEOUT_S
from engine.export.formats import FORMATS
from engine.runtimes import DEFAULT_RUNTIMES, RUNTIMES
from engine.spec.errors import SpecError

SUBCOMMANDS = ("presets", "check", "train", "export", "diff", "bench-export")


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
        description="Train one network in several frameworks side by side ("
        + ", ".join(r.label for r in RUNTIMES.values())
        + ").",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("presets", help="list the bundled presets")
    p.set_defaults(func=_cmd_presets)
    p = sub.add_parser("check", help="validate a project and show shapes and parameter counts")
    p.add_argument("file", help="a project file or a preset name")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_cmd_check)
    p = sub.add_parser("train", help="train headless in each framework and write a run folder")
    p.add_argument("file", help="a project file or a preset name")
    _frameworks_flag(p)
    p.add_argument("--epochs", type=int, default=None, help="override the project's epochs")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument(
        "--schedule",
        choices=("parallel", "alternate", "sequential"),
        default=None,
        help="default: parallel on CPU (alternate when there are more frameworks than cores), "
        "alternate on a GPU; parallel above the core count runs in waves, one core each",
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
        help=f"comma-separated: {', '.join(FORMATS)}; or all (default)",
    )
    _frameworks_flag(p, default=None, also="and, with --weights, those the run trained")
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
    p = sub.add_parser(
        "diff",
        help="where two columns part: every layer's output, gradients and update compared on "
        "one batch",
    )
    p.add_argument("file", help="a project file, a preset name, or a run folder")
    p.add_argument(
        "--frameworks",
        default=None,
        help="the two columns to compare, RUNTIME[:MODE],RUNTIME[:MODE]; the first is the "
        "reference (default: a run's first two, else torch,tensorflow)",
    )
    p.add_argument(
        "--step",
        type=int,
        default=0,
        help="replay this many of the run's batches first, then compare the next (default 0)",
    )
    p.add_argument("--init", choices=("matched", "native"), default=None)
    p.add_argument("--optimizer", choices=("matched", "native"), default=None)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.set_defaults(func=_cmd_diff)
    p = sub.add_parser(
        "bench-export",
        help="load, time and check every exported model file in its runtime, side by side",
    )
    p.add_argument("run_or_export_dir", help="a run folder (its models/) or an export folder")
    p.add_argument(
        "--batch",
        default=None,
        metavar="SIZES",
        help="batch sizes to time, comma-separated (default: 1 and the project's batch size)",
    )
    p.add_argument(
        "--threads", default="1", metavar="N", help="threads for every runtime (default 1)"
    )
    p.add_argument(
        "--seconds",
        default="2",
        metavar="S",
        help="timed seconds per file and batch size, in interleaved rounds (default 2)",
    )
    p.add_argument(
        "--quantized",
        action="store_true",
        help="also write and time int8 variants: dynamic-range TFLite, dynamically quantized ONNX",
    )
    p.add_argument("--json", action="store_true", help="print deploy.json's content instead")
    p.set_defaults(func=_cmd_bench_export)
    return parser


def _frameworks_flag(
    p: argparse.ArgumentParser, default: str | None = ",".join(DEFAULT_RUNTIMES), also: str = ""
) -> None:
    """--frameworks, read from the runtime registry (engine.runtimes)."""
    p.add_argument(
        "--frameworks",
        default=default,
        help=f"comma-separated, the first is the parity reference: {', '.join(RUNTIMES)}, each "
        "optionally with an execution mode as RUNTIME:MODE ("
        + "; ".join(f"{r.id}: {r.modes_text()}" for r in RUNTIMES.values())
        + f"; the first is the default) (default {','.join(DEFAULT_RUNTIMES)}"
        f"{' ' + also if also else ''})",
    )


def frameworks_arg(text: str, command: str) -> tuple[str, ...] | None:
    """The runtimes of --frameworks, or None after printing why they cannot run (an unknown
    name with the closest one, or missing packages with the install command): exit code 2,
    before any worker starts."""
    from engine.run_options import CLI_FLAGS, RunOptionsError, _runtimes_problem
    from engine.runtimes import parse_runtimes
    from engine.spec.errors import SpecError

    problem = _runtimes_problem(text)
    if problem is None:
        try:
            return parse_runtimes(text)  # RUNTIME:fastest is for training only
        except SpecError as exc:
            problem = f"{exc.reason}: a probe picks the fastest mode only when training"
    err = RunOptionsError("frameworks", f"{CLI_FLAGS['frameworks']} {problem}")
    print(f"twintrain {command}: {err}", file=sys.stderr)
    return None


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
    text = args.frameworks
    if text is None:  # today's two, and every runtime the run kept trained weights for
        from engine.trained_weights import available

        kept = available(weights) if weights is not None else []
        text = ",".join([r for r in RUNTIMES if r in DEFAULT_RUNTIMES or r in kept])
    frameworks = frameworks_arg(text, "export")
    if frameworks is None:
        return 2
    if weights is not None:
        from engine.trained_weights import available

        if not available(weights):
            print(
                f"twintrain export: {weights}: no trained weights there (weights/<framework>.npz "
                f"for {', '.join(frameworks)})",
                file=sys.stderr,
            )
            return 2
    try:
        result = export_untrained(
            project,
            Path(args.out),
            formats,
            force=args.force,
            device=args.device,
            weights=weights,
            frameworks=frameworks,
        )
    except FileNotFoundError as exc:  # trained weights for none of the formats asked for
        print(f"twintrain export: {exc}", file=sys.stderr)
        return 2
    print(format_exports(result))
    return 0 if all(e["ok"] or e.get("supported") is False for e in result["entries"]) else 1


def _cmd_diff(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from engine.divergence import run_diff, table_text
    from engine.presets import load_project_arg
    from engine.spec import from_dict, validate

    run = Path(args.file)
    settings: dict = {}
    if run.is_dir() and (run / "summary.json").is_file():  # a run folder: its project, its choices
        summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
        project = from_dict(
            json.loads((run / "project.twintrain.json").read_text(encoding="utf-8"))
        )
        if summary.get("project_path"):
            project.path = Path(summary["project_path"])
        settings = summary
    else:
        project = load_project_arg(args.file)
    validate(project)
    default = ",".join(list(settings.get("frameworks") or DEFAULT_RUNTIMES)[:2])
    columns = frameworks_arg(args.frameworks or default, "diff")
    if columns is None:
        return 2
    if len(columns) != 2:
        print(
            f"twintrain diff: --frameworks takes exactly two columns to compare, got "
            f"{len(columns)} ({', '.join(columns)})",
            file=sys.stderr,
        )
        return 2
    if args.step < 0:
        print(f"twintrain diff: --step must be 0 or more, got {args.step}", file=sys.stderr)
        return 2
    init = args.init or settings.get("init") or "matched"
    try:
        res = run_diff(
            project,
            (columns[0], columns[1]),
            step=args.step,
            init=init,
            optimizer=args.optimizer or settings.get("optimizer") or init,
            device=args.device,
        )
    except RuntimeError as exc:  # a worker failed: its own message, one line
        print(f"twintrain diff: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(res, indent=1) if args.json else table_text(res))
    return 0


def bench_options(args: argparse.Namespace) -> tuple[tuple[int, ...] | None, int, float] | str:
    """(batch sizes, threads, seconds) from bench-export's flags, or the one-line message naming
    the flag that is wrong."""
    batches = None
    if args.batch is not None:
        try:
            batches = tuple(int(b) for b in str(args.batch).split(",") if b.strip())
        except ValueError:
            batches = None
        if not batches or any(b < 1 for b in batches):
            return (
                "--batch takes whole numbers of 1 or more, comma-separated (1,32), "
                f"got {args.batch!r}"
            )
    try:
        threads = int(args.threads)
    except ValueError:
        threads = 0
    if threads < 1:
        return f"--threads takes a whole number of 1 or more, got {args.threads!r}"
    try:
        seconds = float(args.seconds)
    except ValueError:
        seconds = float("nan")
    if not (seconds > 0 and seconds < float("inf")):
        return f"--seconds takes a number above 0, got {args.seconds!r}"
    return batches, threads, seconds


def _cmd_bench_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    options = bench_options(args)
    if isinstance(options, str):
        print(f"twintrain bench-export: {options}", file=sys.stderr)
        return 2
    batches, threads, seconds = options
    from engine.deploy import run_benchmark
    from engine.deploy.folder import resolve
    from engine.deploy.table import table_text

    try:
        resolve(
            Path(args.run_or_export_dir)
        )  # a folder it cannot use: exit 2 before any child starts
    except SpecError as exc:
        print(f"twintrain bench-export: {exc}", file=sys.stderr)
        return 2
    tty = sys.stderr.isatty()

    def progress(done: int, total: int, text: str) -> None:
        if tty:
            print(f"\r[{done}/{total}] {text[:70]:<70}", end="", file=sys.stderr, flush=True)

    result = run_benchmark(
        Path(args.run_or_export_dir),
        batches=batches,
        threads=threads,
        seconds=seconds,
        quantized=args.quantized,
        progress=progress,
    )
    if tty:
        print(file=sys.stderr)
    print(json.dumps(result, indent=1) if args.json else table_text(result))
    bad = [r for r in result["formats"] if r["status"] in ("failed", "mismatch")]
    return 1 if bad else 0


def format_exports(result: dict) -> str:
    lines = []
    entries = result["entries"]
    # as wide as the longest name, so columns in a mode ('keras-torch:compile') stay aligned
    fw_w = max([11, *(len(str(e["framework"])) for e in entries)])
    file_w = max([30, *(len(str(e.get("file") or "")) for e in entries)])
    for e in entries:
        size = f"{e['bytes']:,} B" if e.get("bytes") is not None else ""
        diff = f"max diff {e['max_abs_diff']:.2g}" if e.get("max_abs_diff") is not None else ""
        if e.get("supported") is False:
            status = f"not supported: {e.get('reason')}"
        else:
            status = "ok" if e["ok"] else f"FAILED: {e.get('reason')}"
        lines.append(
            f"{e['framework']:<{fw_w}} {e['format']:<12} {str(e.get('file') or ''):<{file_w}} "
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
            f"cross-check {' vs '.join(cross.get('files') or ())} on {cross.get('batch')} "
            f"samples: max diff {shown} ({verdict})"
        )
    for fw, why in (result.get("skipped") or {}).items():
        lines.append(f"{fw:<{fw_w}} skipped: {why}")
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
