"""`rlvr sandbox check | build-image | run`: see which sandbox backends work, build the image, try one."""

from __future__ import annotations

import argparse
import codecs
import io
import json
import sys
import tokenize

from rlvr.commands import positive_seconds


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sandbox", help="check, build and try the code sandbox",
                                   epilog="Exit status: the ACTION's (rlvr sandbox ACTION --help); 2 without an ACTION "
                                          "or after a usage error; 130 interrupted.")
    commands = parser.add_subparsers(dest="sandbox_command", metavar="ACTION", required=True)

    check = commands.add_parser("check", help="which backends work here, and how to fix the others",
                                epilog="Exit status: 0 an isolating backend (bwrap or docker) works; 1 none does "
                                       "(make_sandbox('auto') would fall back to the unisolated subprocess "
                                       "backend); 2 a usage error; 130 interrupted; 141 stdout closed by its reader.")
    check.set_defaults(func=check_backends)

    build = commands.add_parser("build-image", help="build the Docker sandbox image",
                                epilog="Exit status: 0 built; 1 the build failed (the message says why: no Docker "
                                       "daemon, a tag Docker refuses, a failed build or import); 2 a usage error "
                                       "(--mirror with --method dockerfile, which does not use it); 130 interrupted.")
    build.add_argument("--method", choices=("auto", "dockerfile", "debootstrap"), default="auto",
                       help="auto: the Dockerfile if a registry is reachable, else debootstrap")
    build.add_argument("--tag", default=None, help="image tag (default rlvr-sandbox:latest)")
    build.add_argument("--mirror", default=None,
                       help="Debian mirror for debootstrap (--method debootstrap, or auto when it picks it)")
    build.set_defaults(func=build_image)

    from rlvr.sandbox.limits import LANGUAGES, Limits

    run = commands.add_parser(
        "run", help="run a program file (or - for stdin) in a sandbox",
        description="Run one program in a sandbox: its stdout and stderr are passed through, then a JSON line "
                    "with the status and figures goes to stderr. The program's stdin is empty unless --stdin "
                    "names a file for it. A Python program file is read in the encoding its coding line "
                    "declares (PEP 263; UTF-8 without one), any other as UTF-8.",
        epilog="Exit status: 0 ok; 1 the program did not end ok (error, timeout, memory, output limit, "
               "sandbox_error); 2 the program, its --stdin or an option is unusable (a file that cannot be read "
               "or decoded, a limit out of range), or the backend cannot start; 130 interrupted; 141 stdout "
               "closed by its reader.")
    run.add_argument("file", help="program file, or - to read it from stdin")
    run.add_argument("--backend", default="auto", choices=("auto", "bwrap", "docker", "subprocess"),
                     help="auto (default): bwrap, else docker, else subprocess (not isolated; with a warning)")
    run.add_argument("--language", default="python", choices=sorted(LANGUAGES), help="default: python")
    run.add_argument("--timeout", type=positive_seconds, default=None, help=f"wall-clock seconds (default {Limits().timeout:g})")
    run.add_argument("--memory-mb", type=int, default=None, help=f"memory limit in MiB (default {Limits().memory_mb})")
    run.add_argument("--stdin", default=None, metavar="FILE",
                     help="a UTF-8 file whose text the program reads as its stdin, or - for this command's own "
                          "stdin (e.g. `echo abc | rlvr sandbox run prog.py --stdin -`); default: an empty stdin")
    run.set_defaults(func=run_program)


def check_backends(args: argparse.Namespace) -> int:
    from rlvr.sandbox import available_backends

    results = available_backends()
    width = max(len(name) for name in results)
    for name, (works, why) in results.items():
        mark = "ok " if works else "NO "
        print(f"{mark} {name:<{width}}  {why}")
    strongest = next((name for name in ("bwrap", "docker") if results[name][0]), None)
    if strongest:
        print(f"\nmake_sandbox('auto') uses: {strongest}")
        return 0
    print("\nno isolating backend works here: make_sandbox('auto') falls back to 'subprocess' "
          "(NOT a security boundary) with a warning")
    return 1


def build_image(args: argparse.Namespace) -> int:
    from rlvr.sandbox.image import DEFAULT_IMAGE, DEFAULT_MIRROR, ImageBuildError, build_image as build

    if args.method == "dockerfile" and args.mirror is not None:  # it was silently ignored
        print("rlvr sandbox build-image: error: --mirror is a Debian mirror for debootstrap; the Dockerfile build "
              "(--method dockerfile) does not use it: drop --mirror, or use --method debootstrap", file=sys.stderr)
        return 2
    try:
        tag = build(args.method, args.tag or DEFAULT_IMAGE, log=lambda line: print(line, file=sys.stderr, flush=True),
                    **({"mirror": args.mirror or DEFAULT_MIRROR} if args.method != "dockerfile" else {}))
    except ImageBuildError as exc:
        print(f"rlvr sandbox build-image: error: {exc}", file=sys.stderr)
        return 1
    print(f"built {tag}")
    return 0


def _read(name: str) -> bytes:
    """The bytes of the file `name`, or of this command's stdin for "-"; OSError as is."""
    if name == "-":
        return sys.stdin.buffer.read()
    with open(name, "rb") as f:
        return f.read()


def _program_text(data: bytes, language: str) -> str:
    """The program's text: a Python program decoded as Python would (PEP 263: a coding line, else
    UTF-8, a byte-order mark allowed), any other as UTF-8. UnicodeDecodeError, or SyntaxError for
    a coding line naming an unknown encoding or one that does not write ASCII as ASCII (utf-16,
    cp037...: tokenize.detect_encoding accepts those; Python refuses some and runs the others as
    garbled text), when it cannot be."""
    if language != "python":
        return data.decode("utf-8")
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    try:  # (utf-8-sig is UTF-8 after a byte-order mark: its encoder writes that mark first, the text as ASCII)
        ascii_compatible = (codecs.lookup(encoding).name == "utf-8-sig"
                            or "# coding:\n".encode(encoding) == b"# coding:\n")
    except (UnicodeError, LookupError):
        ascii_compatible = False
    if not ascii_compatible:
        raise SyntaxError(f"encoding problem: {encoding} does not write ASCII as ASCII, so a coding line "
                          "cannot declare it (the text read would be garbled)")
    return data.decode(encoding)


def run_program(args: argparse.Namespace) -> int:
    from rlvr.sandbox import SandboxUnavailable, make_sandbox

    if args.file == "-" and args.stdin == "-":
        print("rlvr sandbox run: error: the program (-) and --stdin - cannot both be read from this command's stdin: save one to "
              "a file", file=sys.stderr)
        return 2
    try:
        code = _program_text(_read(args.file), args.language)
    except OSError as exc:
        print(f"rlvr sandbox run: error: cannot read program {args.file!r}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except (UnicodeDecodeError, SyntaxError) as exc:
        why = (f"byte {exc.start} is not {exc.encoding}" if isinstance(exc, UnicodeDecodeError) else exc.msg)
        print(f"rlvr sandbox run: error: cannot decode program {args.file!r}: {why}; save it as UTF-8"
              + (" or declare its encoding in a coding line (# -*- coding: latin-1 -*-)" if args.language == "python" else ""),
              file=sys.stderr)
        return 2
    stdin = ""
    if args.stdin is not None:
        try:
            stdin = _read(args.stdin).decode("utf-8")
        except OSError as exc:
            print(f"rlvr sandbox run: error: cannot read --stdin {args.stdin!r}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        except UnicodeDecodeError as exc:
            print(f"rlvr sandbox run: error: --stdin {args.stdin!r} is not UTF-8 text (byte {exc.start})", file=sys.stderr)
            return 2
    # the limits given are the sandbox's own: a docker sandbox fixes its containers' memory when it
    # starts them, so --memory-mb can only be raised there, not per run
    limits = {name: value for name, value in (("timeout", args.timeout), ("memory_mb", args.memory_mb))
              if value is not None}
    try:
        with make_sandbox(args.backend, **limits) as sandbox:
            result = sandbox.run(code, stdin=stdin, language=args.language)
    except SandboxUnavailable as exc:  # e.g. docker without a daemon: say why, no traceback
        print(f"rlvr sandbox run: error: the {args.backend} sandbox cannot start: {exc}", file=sys.stderr)
        return 2
    except (ValueError, TypeError) as exc:  # a limit out of range (e.g. --memory-mb 0)
        print(f"rlvr sandbox run: error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    print(json.dumps({k: v for k, v in result.to_dict().items() if k not in ("stdout", "stderr")}),
          file=sys.stderr)
    return 0 if result.ok else 1
