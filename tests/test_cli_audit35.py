"""CLI audit 35: output folders shared by eval and training, `~` in output folders, `rlvr sandbox run`'s
limits, stdin and encodings, `rlvr sandbox build-image`'s tags and SIGTERM, a run folder as --model, help.

- `rlvr eval --out` replaced a training run's summary.json; `rlvr train` into an eval folder offered
  log.overwrite, which replaced the eval's. Each now refuses the other's folder.
- `--out=~/x` and `--output-dir=~/x` made a literal ./~ folder.
- `rlvr sandbox run --backend docker --memory-mb 1024` was refused; the program's stdin could not be given.
- a non-UTF-8 config or program file was a UnicodeDecodeError traceback (exit 1).
- `build-image --tag localhost:5000/x:v1` was split at the first ':', docker errors escaped as
  tracebacks, and SIGTERM left the scratch root filesystem in the temp folder.
- `--model RUN_FOLDER` was transformers' tokenizer error.
- help epilogs: the exit statuses, last, and true.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rlvr.benchmarks.samples import write_sample
from rlvr.cli import build_parser, main
from rlvr.sandbox import SandboxUnavailable, make_sandbox
from rlvr.sandbox import image as image_module
from rlvr.sandbox.image import ImageBuildError, build_image
from rlvr.trainers.config import Config, config_to_dict
from rlvr.trainers.model_source import model_path_problem

REPO = Path(__file__).resolve().parent.parent
TINY = ["--set", "warmup.steps=2", "--set", "train.total_steps=1", "--set", "train.batch_groups=1",
        "--set", "train.group_size=2", "--set", "eval.num_tasks=2"]


def _training_run(folder: Path) -> Path:
    """A folder laid out as a finished training run: the run's config.json, a summary with steps,
    metrics and one complete checkpoint."""
    (folder / "checkpoints" / "step_000001" / "model").mkdir(parents=True)
    (folder / "checkpoints" / "step_000001" / "trainer_state.pt").write_bytes(b"")
    (folder / "config.json").write_text(json.dumps(config_to_dict(Config())))
    (folder / "summary.json").write_text(json.dumps({"steps": 1, "pass@1_after": 0.5}))
    (folder / "metrics.jsonl").write_text(json.dumps({"step": 1}) + "\n")
    return folder


def _eval_args(tmp_path: Path, out: str) -> list[str]:
    data = write_sample("gsm8k", str(tmp_path / "gsm8k.jsonl"))
    rows = [json.loads(line) for line in open(data)]
    comps = tmp_path / "comp.jsonl"
    comps.write_text("".join(json.dumps({"task_id": str(i), "completion": "The answer is 1"}) + "\n"
                             for i in range(len(rows))))
    return ["eval", "--benchmark", "gsm8k", "--data", data, "--completions", str(comps), "--out", out, "--no-progress"]


# ------------------------------------------------------------------ 1. eval and training folders


def test_eval_refuses_a_training_runs_folder(tmp_path, capsys):
    run = _training_run(tmp_path / "run")
    before = (run / "summary.json").read_text()
    assert main(_eval_args(tmp_path, str(run))) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rlvr eval: --out {str(run)!r} holds a training run (checkpoints, metrics.jsonl, "
                          f"summary.json, config.json)")
    assert "give another --out" in err
    assert (run / "summary.json").read_text() == before
    assert not (run / "samples.jsonl").exists()


def test_eval_still_takes_a_folder_with_a_models_config_json(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "config.json").write_text(json.dumps({"model_type": "llama"}))
    assert main(_eval_args(tmp_path, str(out))) == 0
    assert (out / "samples.jsonl").exists()


@pytest.mark.parametrize("overwrite", [False, True])
def test_train_refuses_an_eval_folder_even_with_log_overwrite(tmp_path, capsys, overwrite):
    evdir = tmp_path / "evdir"
    assert main(_eval_args(tmp_path, str(evdir))) == 0
    files = {p.name: p.read_bytes() for p in evdir.iterdir()}
    capsys.readouterr()
    args = ["train", "--config", str(REPO / "configs" / "demo.yaml"), *TINY, "--set", f"log.output_dir={evdir}"]
    assert main(args + (["--set", "log.overwrite=true"] if overwrite else [])) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rlvr train: {evdir} holds an rlvr eval run (run.json, samples.jsonl, pass_at_k.png, "
                          f"summary.json), not a training run")
    assert "choose another log.output_dir" in err and "set log.overwrite=true" not in err
    assert {p.name: p.read_bytes() for p in evdir.iterdir()} == files


# ------------------------------------------------------------------ 2. `~` in output folders


def test_tilde_in_eval_out_is_the_home_folder(tmp_path, capsys, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    args = _eval_args(tmp_path, "x")
    args[args.index("--out") + 1] = "~/evals/g"
    assert main(args) == 0
    assert (home / "evals" / "g" / "summary.json").is_file()
    assert not (tmp_path / "~").exists()


@pytest.mark.parametrize("how", ["--output-dir", "--set"])
def test_tilde_in_the_demos_output_folder_is_the_home_folder(tmp_path, monkeypatch, how):
    from rlvr.trainers.demo import demo_output_dir

    monkeypatch.setenv("HOME", str(tmp_path))
    if how == "--output-dir":
        assert demo_output_dir(output_dir="~/runs/d") == tmp_path / "runs" / "d"
    else:
        assert demo_output_dir(overrides=["log.output_dir=~/runs/d"]) == tmp_path / "runs" / "d"


# ------------------------------------------------------------------ 3, 4. rlvr sandbox run


def _docker_or_skip():
    pytest.importorskip("docker")
    try:
        make_sandbox("docker").close()
    except SandboxUnavailable as exc:
        pytest.skip(f"docker sandbox unavailable here: {exc}")


def test_sandbox_run_raises_dockers_memory_limit(tmp_path, capsys):
    _docker_or_skip()
    prog = tmp_path / "big.py"
    prog.write_text('x = bytearray(600 * 2**20)\nprint("allocated", len(x))\n')
    assert main(["sandbox", "run", str(prog), "--backend", "docker", "--memory-mb", "1024"]) == 0
    assert capsys.readouterr().out == f"allocated {600 * 2**20}\n"


def test_sandbox_run_limits_still_apply(tmp_path, capsys):
    prog = tmp_path / "big.py"
    prog.write_text('x = bytearray(600 * 2**20)\nprint("allocated", len(x))\n')
    assert main(["sandbox", "run", str(prog), "--backend", "subprocess", "--memory-mb", "300"]) == 1
    assert json.loads(capsys.readouterr().err.strip().splitlines()[-1])["status"] == "memory"


def test_sandbox_run_stdin_from_a_file(tmp_path, capsys):
    (tmp_path / "rev.py").write_text("print(input()[::-1])\n")
    (tmp_path / "in.txt").write_text("abc\n")
    assert main(["sandbox", "run", str(tmp_path / "rev.py"), "--backend", "subprocess",
                 "--stdin", str(tmp_path / "in.txt")]) == 0
    assert capsys.readouterr().out == "cba\n"


def test_sandbox_run_stdin_dash_is_the_commands_own(tmp_path):
    (tmp_path / "rev.py").write_text("print(input()[::-1])\n")
    proc = subprocess.run([sys.executable, "-m", "rlvr.cli", "sandbox", "run", str(tmp_path / "rev.py"),
                           "--backend", "subprocess", "--stdin", "-"], input="abc\n", capture_output=True, text=True,
                          timeout=120)
    assert (proc.returncode, proc.stdout) == (0, "cba\n"), proc.stderr


def test_sandbox_run_program_and_stdin_both_dash_is_refused(capsys):
    assert main(["sandbox", "run", "-", "--stdin", "-"]) == 2
    assert "cannot both be read" in capsys.readouterr().err


def test_sandbox_run_reads_a_python_file_in_its_declared_encoding(tmp_path, capsys):
    prog = tmp_path / "latin1.py"
    prog.write_bytes(b'# -*- coding: latin-1 -*-\nprint("caf\xe9")\n')
    assert main(["sandbox", "run", str(prog), "--backend", "subprocess"]) == 0
    assert capsys.readouterr().out == "caf\u00e9\n"


def test_sandbox_run_an_undecodable_program_is_exit_2_with_a_message(tmp_path, capsys):
    prog = tmp_path / "bad.py"
    prog.write_bytes(b'print("ok")\nprint("caf\xe9")\n')
    assert main(["sandbox", "run", str(prog), "--backend", "subprocess"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rlvr sandbox run: error: cannot decode program {str(prog)!r}: byte 22 is not utf-8; save it as UTF-8")
    assert "Traceback" not in err


@pytest.mark.parametrize("command", ["train", "demo"])
def test_a_config_that_is_not_utf8_is_one_line_and_exit_2(tmp_path, capsys, command):
    config = tmp_path / "latin1.yaml"
    config.write_bytes(b"# r\xe9glages\n" + (REPO / "configs" / "demo.yaml").read_bytes())
    assert main([command, "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rlvr {command}: {config} is not UTF-8 text") and "byte 3" in err
    assert len(err.strip().splitlines()) == 1


# ------------------------------------------------------------------ 5. build-image


def test_image_tags_split_at_the_last_colon_after_the_last_slash():
    assert image_module.split_tag("localhost:5000/rlvr-sb:v1") == ("localhost:5000/rlvr-sb", "v1")
    assert image_module.split_tag("localhost:5000/rlvr-sb") == ("localhost:5000/rlvr-sb", "latest")
    assert image_module.split_tag("rlvr-sandbox") == ("rlvr-sandbox", "latest")
    assert image_module.split_tag("rlvr-sandbox:latest") == ("rlvr-sandbox", "latest")
    for bad in ("Rlvr:v1", "rlvr:", "rlvr:a b", "rlvr:v1:v2", "", "x/:v1", "rlvr:" + "v" * 129):
        with pytest.raises(ImageBuildError, match="invalid image tag"):
            image_module.split_tag(bad)


@pytest.mark.parametrize("method", ["auto", "dockerfile", "debootstrap"])
def test_an_invalid_tag_is_refused_before_any_build(capsys, method):
    logged = []
    with pytest.raises(ImageBuildError, match="invalid image tag 'Bad:Tag!'"):
        build_image(method, "Bad:Tag!", log=logged.append)
    assert logged == []  # nothing built, no fallback
    assert main(["sandbox", "build-image", "--method", method, "--tag", "Bad:Tag!"]) == 1
    assert capsys.readouterr().err.startswith("rlvr sandbox build-image: error: invalid image tag 'Bad:Tag!'")


def _stand_in_debootstrap(folder: Path, body: str = "") -> dict[str, str]:
    """An environment whose PATH has a stand-in `debootstrap` (the real one downloads for minutes): a
    shell script given debootstrap's arguments (--variant --include SUITE TARGET MIRROR) that makes a
    small tree in TARGET, then runs `body`; TMPDIR is folder/tmp."""
    (folder / "bin").mkdir()
    (folder / "tmp").mkdir()
    script = folder / "bin" / "debootstrap"
    script.write_text('#!/bin/sh\nexport TARGET="$4"\nmkdir -p "$TARGET/bin" && echo x > "$TARGET/bin/x" || exit 1\n'
                      + body + "\n")
    script.chmod(0o755)
    return {**os.environ, "PATH": f"{folder / 'bin'}{os.pathsep}{os.environ['PATH']}", "TMPDIR": str(folder / "tmp")}


# `rlvr sandbox build-image --method debootstrap --tag TAG` with STOP_GRACE seconds for an interrupted
# debootstrap; with "nodocker" the Docker client is a stand-in (the build is stopped before any import).
_BUILD = r'''
import signal, sys
import rlvr.sandbox.image as image
signal.signal(signal.SIGINT, signal.default_int_handler)  # (as in a terminal, whatever the test runner ignores)
image.STOP_GRACE = float(sys.argv[2])
if sys.argv[3] == "nodocker":
    image.docker_client = lambda: None
from rlvr.cli import main
sys.exit(main(["sandbox", "build-image", "--method", "debootstrap", "--tag", sys.argv[1]]))
'''


def _docker_client_or_skip():
    docker = pytest.importorskip("docker")
    try:
        client = docker.from_env(timeout=60)
        client.ping()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no docker daemon: {exc}")
    if os.geteuid() != 0:
        pytest.skip("the debootstrap build needs root")
    return client


def test_a_registry_port_stays_in_the_imported_images_repository(tmp_path):
    client = _docker_client_or_skip()
    tag = f"localhost:5000/rlvr-audit35-{os.getpid()}:v1"
    env = _stand_in_debootstrap(tmp_path)
    try:
        proc = subprocess.run([sys.executable, "-c", _BUILD, tag, "60", "docker"], capture_output=True, text=True,
                              timeout=300, env=env)
        # (the stand-in's tree has no python3: the image is imported, then found unable to run it)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert f"error: image {tag} does not run python3" in proc.stderr
        assert client.images.get(tag).tags == [tag]
    finally:
        try:
            client.images.remove(tag, force=True)
        except Exception:  # noqa: BLE001 - not imported
            pass
    assert not glob.glob(str(tmp_path / "tmp" / "rlvr-rootfs-*"))


class _RefusingClient:
    class api:  # noqa: N801 - the attribute docker's client has
        @staticmethod
        def import_image(**kwargs):
            import docker

            raise docker.errors.APIError("refused", explanation="repository name must be canonical")


def _debootstrap_in_process(tmp_path, monkeypatch, body: str = "") -> None:
    """build-image --method debootstrap in this process, with a stand-in debootstrap and Docker client."""
    import rlvr.sandbox.image as image

    env = _stand_in_debootstrap(tmp_path, body)
    monkeypatch.setenv("PATH", env["PATH"])
    monkeypatch.setenv("TMPDIR", env["TMPDIR"])
    monkeypatch.setattr(image.tempfile, "tempdir", None)
    monkeypatch.setattr(image, "docker_client", lambda: _RefusingClient())
    monkeypatch.setattr(image.os, "geteuid", lambda: 0)


def test_a_refused_import_is_an_error_line_not_a_traceback(tmp_path, monkeypatch, capsys):
    pytest.importorskip("docker")
    _debootstrap_in_process(tmp_path, monkeypatch)
    assert main(["sandbox", "build-image", "--method", "debootstrap", "--tag", "rlvr-x:v1"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == ("rlvr sandbox build-image: error: docker import as rlvr-x:v1 failed: repository name "
                                                        "must be canonical")
    assert not glob.glob(str(tmp_path / "tmp" / "rlvr-rootfs-*"))


def test_a_failed_debootstrap_quotes_its_output_and_removes_its_tree(tmp_path, monkeypatch, capsys):
    _debootstrap_in_process(tmp_path, monkeypatch, 'echo "E: Failed getting release file" >&2; exit 1')
    assert main(["sandbox", "build-image", "--method", "debootstrap", "--tag", "rlvr-x:v1"]) == 1
    err = capsys.readouterr().err
    assert "error: debootstrap failed (exit status 1):\nE: Failed getting release file" in err
    assert not glob.glob(str(tmp_path / "tmp" / "rlvr-rootfs-*"))


def _wait_for(pattern: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not glob.glob(pattern):
        assert proc.poll() is None and time.monotonic() < deadline, "the build did not start"
        time.sleep(0.05)


def test_sigterm_during_debootstrap_removes_the_scratch_rootfs(tmp_path):
    env = _stand_in_debootstrap(tmp_path, "sleep 60")
    proc = subprocess.Popen([sys.executable, "-c", _BUILD, "rlvr-audit35-never:v1", "60", "nodocker"],
                            env=env, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(str(tmp_path / "tmp" / "rlvr-rootfs-*" / "rootfs" / "bin" / "x"), proc)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert not glob.glob(str(tmp_path / "tmp" / "rlvr-rootfs-*"))


# ---- an interrupted debootstrap and the host folders it mounted inside its tree (review of the above)
#
# The real debootstrap mounts the host's /proc and /sys inside the tree and unmounts them in its exit
# trap. SIGTERM (or Ctrl-C) used to SIGKILL it 0.25 s later (subprocess.run), before that trap ran, and
# the scratch folder's removal, as root, then deleted the host's files through the mount. The stand-in
# bind-mounts a scratch "victim" folder at TARGET/proc; each run is in a private mount namespace
# (`unshare -m`), so that nothing it mounts is seen outside it.

_MOUNTING = '''
mkdir -p "$TARGET/proc" && mount --bind "$VICTIM" "$TARGET/proc" || exit 1
'''


def _unshare_or_skip() -> None:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare (a private mount namespace)")
    if subprocess.run(["unshare", "-m", "--propagation", "private", "true"], capture_output=True).returncode != 0:
        pytest.skip("unshare -m is not allowed here")


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "victim"
    (victim / "sub").mkdir(parents=True)
    (victim / "host_file").write_text("precious")
    (victim / "sub" / "f").write_text("p")
    return victim


def _interrupted_build(tmp_path: Path, body: str, how: str, grace: float = 60) -> tuple[subprocess.Popen, str]:
    """Start the build in a private mount namespace with the stand-in running `body` after it has
    mounted the victim, interrupt it once TARGET/ready exists (SIGTERM to rlvr alone, or, as Ctrl-C in a
    terminal, SIGINT to its whole process group), and wait for it."""
    env = _stand_in_debootstrap(tmp_path, _MOUNTING + body)
    env.update(VICTIM=str(tmp_path / "victim"), TRAP_FILE=str(tmp_path / "trap.txt"), HOLDER=str(tmp_path / "holder"))
    proc = subprocess.Popen(["unshare", "-m", "--propagation", "private", sys.executable, "-c", _BUILD,
                             "rlvr-audit35-never:v1", str(grace), "nodocker"],
                            env=env, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _wait_for(str(tmp_path / "tmp" / "rlvr-rootfs-*" / "rootfs" / "ready"), proc)
        if how == "sigterm":
            proc.send_signal(signal.SIGTERM)
        else:
            os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    return proc, err


def _victim_is_whole(victim: Path) -> bool:
    return (victim / "host_file").read_text() == "precious" and (victim / "sub" / "f").read_text() == "p"


@pytest.mark.parametrize("how", ["sigterm", "ctrl-c"])
def test_an_interrupted_debootstrap_unmounts_before_its_tree_is_removed(tmp_path, how):
    _unshare_or_skip()
    victim = _victim(tmp_path)
    # (like debootstrap's: unmount in the exit trap, which takes a while: 0.5 s here)
    proc, err = _interrupted_build(tmp_path, """
trap 'sleep 0.5; umount "$TARGET/proc" && echo ran > "$TRAP_FILE"' EXIT
trap 'exit 143' TERM INT
touch "$TARGET/ready"
sleep 60 &
wait""", how)
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert _victim_is_whole(victim), sorted(os.listdir(victim))
    assert (tmp_path / "trap.txt").read_text().strip() == "ran"
    assert not glob.glob(str(tmp_path / "tmp" / "rlvr-rootfs-*"))


def test_a_debootstrap_that_ignores_sigterm_is_killed_and_its_mount_undone(tmp_path):
    _unshare_or_skip()
    victim = _victim(tmp_path)
    started = time.monotonic()
    proc, err = _interrupted_build(tmp_path, """
trap '' TERM INT
touch "$TARGET/ready"
sleep 60""", "sigterm", grace=1)
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert time.monotonic() - started < 30  # killed after the grace, not at the end of its sleep
    assert _victim_is_whole(victim), sorted(os.listdir(victim))
    assert not glob.glob(str(tmp_path / "tmp" / "rlvr-rootfs-*"))


def test_a_mount_that_cannot_be_undone_leaves_the_tree_and_says_so(tmp_path):
    _unshare_or_skip()
    victim = _victim(tmp_path)
    # a process of another session keeps the mount busy: its umount fails, and rlvr's too
    proc, err = _interrupted_build(tmp_path, """
setsid sh -c 'cd "$TARGET/proc" && echo $$ > "$HOLDER" && exec sleep 60' &
while [ ! -s "$HOLDER" ]; do sleep 0.05; done
trap 'umount "$TARGET/proc"; echo ran > "$TRAP_FILE"' EXIT
trap 'exit 143' TERM INT
touch "$TARGET/ready"
sleep 60 &
wait""", "sigterm")
    try:
        assert proc.returncode == 130 and "Traceback" not in err, err
        assert _victim_is_whole(victim), sorted(os.listdir(victim))
        assert (tmp_path / "trap.txt").read_text().strip() == "ran"
        [left] = glob.glob(str(tmp_path / "tmp" / "rlvr-rootfs-*"))
        assert f"error: the scratch folder {left} was left in place: still mounted in it: {left}/rootfs/proc" in err
    finally:
        holder = (tmp_path / "holder").read_text().strip()
        if holder:
            os.kill(int(holder), signal.SIGKILL)  # (it ends the namespace and its mount with it)


_REMOVE_TREE = r'''
import os, subprocess, sys
from rlvr.sandbox.image import _remove_tree
tree, victim = sys.argv[1:]
os.makedirs(tree + "/a/proc")
open(tree + "/a/file", "w").close()
subprocess.run(["mount", "--bind", victim, tree + "/a/proc"], check=True)
print(_remove_tree(tree, frozenset()))
'''


def test_the_tree_removal_never_enters_a_mount_point(tmp_path):
    """(The removal's own guard, under the check that nothing is mounted: a bind mount of a folder of
    the same filesystem has the same st_dev, so the mount table is consulted too.)"""
    _unshare_or_skip()
    victim = _victim(tmp_path)
    proc = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable, "-c", _REMOVE_TREE,
                           str(tmp_path / "tree"), str(victim)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "a/proc: a mount point, not entered" in proc.stdout
    assert _victim_is_whole(victim)
    assert sorted(os.listdir(tmp_path / "tree" / "a")) == ["proc"]  # (its file removed, the mount point kept)


# ------------------------------------------------------------------ 6. a run folder as the model


def test_a_run_folder_as_the_model_names_its_latest_checkpoints_model(tmp_path, capsys):
    run = _training_run(tmp_path / "run")
    (run / "checkpoints" / "step_000003" / "model").mkdir(parents=True)
    (run / "checkpoints" / "step_000003" / "trainer_state.pt").write_bytes(b"")
    latest = run / "checkpoints" / "step_000003" / "model"
    assert model_path_problem(str(run)) == ("an rlvr training run's folder, whose models are in its checkpoints",
                                            str(latest))
    data = write_sample("gsm8k", str(tmp_path / "gsm8k.jsonl"))
    assert main(["eval", "--benchmark", "gsm8k", "--data", data, "--engine", "hf", "--model", str(run),
                 "--out", str(tmp_path / "e"), "--no-progress"]) == 2
    assert capsys.readouterr().err == (f"rlvr eval: --model {str(run)!r} is an rlvr training run's folder, whose "
                                       f"models are in its checkpoints: use --model {str(latest)!r}\n")


def test_a_model_folder_with_a_checkpoints_subfolder_is_left_alone(tmp_path):
    (tmp_path / "m" / "checkpoints").mkdir(parents=True)
    (tmp_path / "m" / "config.json").write_text(json.dumps({"model_type": "llama"}))
    assert model_path_problem(str(tmp_path / "m")) is None


# ------------------------------------------------------------------ 7. help and --concurrency


def _parsers():
    """{'rlvr train': its parser, ...} for every command and action."""
    root = build_parser()
    found = {"rlvr": root}
    todo = [("rlvr", root)]
    while todo:
        name, parser = todo.pop()
        for action in parser._actions:
            choices = getattr(action, "choices", None)
            for sub, p in (choices.items() if isinstance(choices, dict) else ()):
                if hasattr(p, "format_help"):
                    found[f"{name} {sub}"] = p
                    todo.append((f"{name} {sub}", p))
    return found


def test_every_help_ends_with_its_exit_statuses():
    parsers = _parsers()
    for name in ("rlvr", "rlvr sandbox", "rlvr verifiers", "rlvr benchmarks", "rlvr train", "rlvr demo",
                 "rlvr sandbox check", "rlvr sandbox run", "rlvr sandbox build-image"):
        text = parsers[name].format_help()
        last = text.strip().split("\n\n")[-1]
        assert last.startswith("Exit status"), name
        assert text.count("Exit status") == 1, name
    check = parsers["rlvr sandbox check"].format_help().split("Exit status")[1]
    assert "130 interrupted" in check and "141" in check
    assert "--stdin FILE" in parsers["rlvr sandbox run"].format_help()


def test_eval_names_concurrency_below_one(tmp_path, capsys):
    data = write_sample("gsm8k", str(tmp_path / "gsm8k.jsonl"))
    assert main(["eval", "--benchmark", "gsm8k", "--data", data, "--engine", "openai", "--concurrency", "0",
                 "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == "rlvr eval: --concurrency must be >= 1 (requests in flight), got 0\n"


def test_tilde_in_log_output_dir_is_the_home_folder(tmp_path, monkeypatch):
    from rlvr.trainers.config import load_config

    monkeypatch.setenv("HOME", str(tmp_path))
    assert load_config(None, ["log.output_dir=~/runs/t"]).log.output_dir == str(tmp_path / "runs" / "t")
    config = tmp_path / "c.yaml"
    config.write_text("log:\n  output_dir: ~/runs/y\n")
    assert load_config(config).log.output_dir == str(tmp_path / "runs" / "y")


def test_a_config_that_is_not_utf8_is_a_config_error_naming_the_byte(tmp_path):
    from rlvr.trainers.config import ConfigError, load_config

    config = tmp_path / "latin1.yaml"
    config.write_bytes(b"# ok\n# r\xe9glages\n")
    with pytest.raises(ConfigError, match=r"latin1.yaml is not UTF-8 text: byte 8 \(line 2\)"):
        load_config(config)


# ------------------------------------------------------------------ review of the above: tags, ~ in --config, encodings


def test_a_repository_name_over_255_characters_is_refused():
    # (Docker refuses it: the debootstrap build would have run its minute first)
    assert image_module.split_tag("x" * 255 + ":v1") == ("x" * 255, "v1")
    assert image_module.split_tag("localhost:5000/" + "x" * 240) == ("localhost:5000/" + "x" * 240, "latest")
    for bad in ("x" * 256, "x" * 300 + ":v1", "localhost:5000/" + "x" * 241 + ":v1"):
        with pytest.raises(ImageBuildError, match="invalid image tag"):
            image_module.split_tag(bad)


def test_tilde_in_config_is_the_home_folder(tmp_path, monkeypatch):
    from rlvr.trainers.config import find_config, load_config

    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "c.yaml").write_text("log:\n  output_dir: /tmp/x\n")
    assert find_config("~/c.yaml") == tmp_path / "c.yaml"
    assert load_config("~/c.yaml").log.output_dir == "/tmp/x"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-16-le", "cp037"])
def test_sandbox_run_refuses_an_encoding_that_is_not_ascii_compatible(tmp_path, capsys, encoding):
    # (Python refuses utf-16/utf-32 source, and runs utf-16-le or cp037 as garbled text; rlvr ran them
    # garbled and reported that the program failed, exit 1)
    program = tmp_path / "p.py"
    program.write_bytes(f"# coding: {encoding}\nprint(1)\n".encode("ascii"))
    assert main(["sandbox", "run", str(program), "--backend", "subprocess"]) == 2
    out, err = capsys.readouterr()
    assert not out
    assert err.startswith(f"rlvr sandbox run: error: cannot decode program {str(program)!r}: encoding problem: {encoding} does not "
                          "write ASCII as ASCII")


def test_sandbox_run_still_takes_ascii_compatible_coding_lines(tmp_path, capsys):
    program = tmp_path / "p.py"
    program.write_bytes("# -*- coding: shift_jis -*-\nprint('日本')\n".encode("shift_jis"))
    assert main(["sandbox", "run", str(program), "--backend", "subprocess"]) == 0
    assert capsys.readouterr().out == "日本\n"


# ---- review of the above: a byte-order mark, an interrupt whose log line cannot be written, SIGHUP and
# SIGQUIT, a signal the build was started with ignored, an unknown ~user in --config


@pytest.mark.parametrize("head", [b"", b"# -*- coding: utf-8 -*-\n"])
def test_sandbox_run_takes_a_utf8_program_with_a_byte_order_mark(tmp_path, capsys, head):
    # (tokenize names it utf-8-sig, whose encoder writes the mark first: it was refused as not ASCII)
    program = tmp_path / "p.py"
    program.write_bytes(b"\xef\xbb\xbf" + head + "print('caf\u00e9')\n".encode("utf-8"))
    assert main(["sandbox", "run", str(program), "--backend", "subprocess"]) == 0
    assert capsys.readouterr().out == "caf\u00e9\n"


def test_an_unknown_user_in_config_is_the_not_found_line(capsys):
    from rlvr.trainers.config import ConfigError, find_config

    name = "~rlvr-no-such-user-35/c.yaml"
    with pytest.raises(ConfigError, match=f"config file {name!r} not found"):
        find_config(name)
    assert main(["train", "--config", name]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rlvr train: config file {name!r} not found") and len(err.strip().splitlines()) == 1


# The stand-in writes its pid to $PIDFILE, so that a test can tell whether it outlived rlvr (and end it).
_STOPPABLE = """
echo $$ > "$PIDFILE"
trap 'sleep 0.3; umount "$TARGET/proc" && echo ran > "$TRAP_FILE"' EXIT
trap 'exit 143' TERM INT
touch "$TARGET/ready"
sleep 60 &
wait"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def _signalled_build(tmp_path: Path, send) -> tuple[int, bool]:
    """The build in a private mount namespace with the mounting stand-in running `_STOPPABLE`; `send(proc)`
    once it is ready; (rlvr's exit status, whether the stand-in was still running when rlvr had ended).
    The reader of rlvr's stderr may close it in `send`."""
    env = _stand_in_debootstrap(tmp_path, _MOUNTING + _STOPPABLE)
    env.update(VICTIM=str(tmp_path / "victim"), TRAP_FILE=str(tmp_path / "trap.txt"), PIDFILE=str(tmp_path / "pid"))
    proc = subprocess.Popen(["unshare", "-m", "--propagation", "private", sys.executable, "-c", _BUILD,
                             "rlvr-audit35-never:v1", "60", "nodocker"],
                            env=env, stderr=subprocess.PIPE, text=True, start_new_session=True)
    pid = 0
    try:
        _wait_for(str(tmp_path / "tmp" / "rlvr-rootfs-*" / "rootfs" / "ready"), proc)
        pid = int((tmp_path / "pid").read_text())
        send(proc)
        proc.wait(timeout=60)
        return proc.returncode, _alive(pid)
    finally:
        proc.kill()
        if pid and _alive(pid):
            os.killpg(pid, signal.SIGKILL)


def test_ctrl_c_with_the_log_to_a_closed_pipe_still_stops_debootstrap_first(tmp_path):
    # (`build-image 2>&1 | tee log`: Ctrl-C kills tee too; the log line about stopping debootstrap failed
    # with BrokenPipeError before the stop, and the tree was removed while debootstrap ran on)
    _unshare_or_skip()
    victim = _victim(tmp_path)

    def ctrl_c_with_the_reader_gone(proc):
        proc.stderr.close()
        os.killpg(proc.pid, signal.SIGINT)

    _, outlived = _signalled_build(tmp_path, ctrl_c_with_the_reader_gone)
    assert not outlived
    assert (tmp_path / "trap.txt").read_text().strip() == "ran"
    assert _victim_is_whole(victim), sorted(os.listdir(victim))
    assert not glob.glob(str(tmp_path / "tmp" / "rlvr-rootfs-*"))


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGQUIT])
def test_sighup_or_sigquit_during_debootstrap_stops_it_and_removes_the_tree(tmp_path, signum):
    # (SIGHUP: the terminal closed; it killed rlvr, and debootstrap ran on with its mounts and tree)
    _unshare_or_skip()
    victim = _victim(tmp_path)
    status, outlived = _signalled_build(tmp_path, lambda proc: proc.send_signal(signum))
    assert (status, outlived) == (130, False)
    assert (tmp_path / "trap.txt").read_text().strip() == "ran"
    assert _victim_is_whole(victim), sorted(os.listdir(victim))
    assert not glob.glob(str(tmp_path / "tmp" / "rlvr-rootfs-*"))


# build-image with a stand-in Docker client whose import refuses ("refuse") or, with "slow", first
# creates the file argv[3] and sleeps; run as root is not needed (the stand-in debootstrap mounts nothing).
_STUB_BUILD = r'''
import sys, time
import rlvr.sandbox.image as image
class Client:
    class api:
        @staticmethod
        def import_image(**kwargs):
            if sys.argv[2] == "slow":
                open(sys.argv[3], "w").close()
                time.sleep(30)
            raise RuntimeError("refused")
image.docker_client = lambda: Client()
image.os.geteuid = lambda: 0
from rlvr.cli import main
sys.exit(main(["sandbox", "build-image", "--method", "debootstrap", "--tag", "rlvr-audit35-never:v1"]))
'''


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT])
def test_a_stop_signal_during_the_import_removes_the_tree(tmp_path, signum):
    env = _stand_in_debootstrap(tmp_path)
    importing = tmp_path / "importing"
    proc = subprocess.Popen([sys.executable, "-c", _STUB_BUILD, "x", "slow", str(importing)], env=env,
                            stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(str(importing), proc)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130 and err.endswith("interrupted\n"), err
    assert not glob.glob(str(tmp_path / "tmp" / "rlvr-rootfs-*"))


def test_a_build_started_with_sigint_ignored_is_not_stopped_by_it(tmp_path):
    # (a script's background job: `rlvr sandbox build-image &` starts with SIGINT ignored)
    env = _stand_in_debootstrap(tmp_path, 'touch "$TARGET/ready"; sleep 1')
    proc = subprocess.Popen([sys.executable, "-c", _STUB_BUILD, "x", "refuse"], env=env, stderr=subprocess.PIPE,
                            text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        _wait_for(str(tmp_path / "tmp" / "rlvr-rootfs-*" / "rootfs" / "ready"), proc)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    # (it ran to the import, which the stand-in client refuses)
    assert proc.returncode == 1, err
    assert err.splitlines()[-1] == "rlvr sandbox build-image: error: docker import as rlvr-audit35-never:v1 failed: refused"
    assert not glob.glob(str(tmp_path / "tmp" / "rlvr-rootfs-*"))
