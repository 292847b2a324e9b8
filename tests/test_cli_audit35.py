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
    assert err.startswith(f"error: cannot decode program {str(prog)!r}: byte 22 is not utf-8; save it as UTF-8")
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
    assert capsys.readouterr().err.startswith("error: invalid image tag 'Bad:Tag!'")


_STUBBED_DEBOOTSTRAP = r'''
import subprocess, sys
from pathlib import Path
import rlvr.sandbox.image as image
real_run = subprocess.run
def fake_run(cmd, *a, **k):  # debootstrap stands for minutes of downloads: a small tree (and a wait)
    if cmd and cmd[0] == "debootstrap":
        root = Path(cmd[-2]); (root / "bin").mkdir(parents=True); (root / "bin" / "x").write_text("x")
        return real_run(["sleep", sys.argv[2]]) if sys.argv[2] != "0" else subprocess.CompletedProcess(cmd, 0, "", "")
    return real_run(cmd, *a, **k)
image.subprocess.run = fake_run
image.shutil.which = lambda name: "/usr/sbin/debootstrap"
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
    try:
        proc = subprocess.run([sys.executable, "-c", _STUBBED_DEBOOTSTRAP, tag, "0"], capture_output=True, text=True,
                              timeout=300, env={**os.environ, "TMPDIR": str(tmp_path)})
        # (the stub tree has no python3: the image is imported, then found unable to run it)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert f"error: image {tag} does not run python3" in proc.stderr
        assert client.images.get(tag).tags == [tag]
    finally:
        try:
            client.images.remove(tag, force=True)
        except Exception:  # noqa: BLE001 - not imported
            pass
    assert not glob.glob(str(tmp_path / "rlvr-rootfs-*"))


def test_a_refused_import_is_an_error_line_not_a_traceback(tmp_path, monkeypatch, capsys):
    docker = pytest.importorskip("docker")
    import rlvr.sandbox.image as image

    class Api:
        def import_image(self, **kwargs):
            raise docker.errors.APIError("refused", explanation="repository name must be canonical")

    class Client:
        api = Api()

    def fake_run(cmd, *args, **kwargs):
        Path(cmd[-2], "bin").mkdir(parents=True)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(image, "docker_client", lambda: Client())
    monkeypatch.setattr(image.shutil, "which", lambda name: "/usr/sbin/debootstrap")
    monkeypatch.setattr(image.subprocess, "run", fake_run)
    monkeypatch.setattr(image.os, "geteuid", lambda: 0)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(image.tempfile, "tempdir", None)
    assert main(["sandbox", "build-image", "--method", "debootstrap", "--tag", "rlvr-x:v1"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == ("error: docker import as rlvr-x:v1 failed: repository name "
                                                        "must be canonical")
    assert not glob.glob(str(tmp_path / "rlvr-rootfs-*"))


def test_sigterm_during_debootstrap_removes_the_scratch_rootfs(tmp_path):
    _docker_client_or_skip()
    proc = subprocess.Popen([sys.executable, "-c", _STUBBED_DEBOOTSTRAP, "rlvr-audit35-never:v1", "60"],
                            env={**os.environ, "TMPDIR": str(tmp_path)}, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not glob.glob(str(tmp_path / "rlvr-rootfs-*" / "rootfs" / "bin" / "x")):
            assert proc.poll() is None and time.monotonic() < deadline, "the build did not start"
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert not glob.glob(str(tmp_path / "rlvr-rootfs-*"))


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
