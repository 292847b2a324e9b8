"""`rlvr verify` and `rlvr verifiers audit` through rlvr.cli.main."""

from __future__ import annotations

import json

from rlvr.cli import main


def test_verify_prints_verdict_and_reason(capsys):
    assert main(["verify", "\\frac{1}{2}", "so the answer is \\boxed{0.5}"]) == 0
    assert capsys.readouterr().out.strip() == "correct (equal): equal as rationals"
    assert main(["verify", "2", "\\boxed{2} or \\boxed{3}"]) == 0
    assert capsys.readouterr().out.startswith("wrong (hedged): hedged")
    assert main(["verify", "2", "\\boxed{10^{10^{10}}}", "--timeout", "0.3"]) == 0
    assert "timed out after 0.3s" in capsys.readouterr().out


def test_verify_json_and_bad_gold(capsys):
    assert main(["verify", "7", "7.0", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["correct"] and data["details"]["kind"] == "equal"
    assert main(["verify", "\\frac{1", "1"]) == 2
    assert "unparsable gold" in capsys.readouterr().out


def test_audit_reports_agreement_kinds_and_rows(tmp_path, capsys):
    rows = [
        {"gold": "1/2", "prediction": "\\boxed{0.5}", "expected": True},
        {"gold": "2", "prediction": "2 or 3", "expected": False},
        {"gold": "3", "prediction": "\\boxed{3}", "expected": False},       # a wrong human label
        {"gold": "2", "prediction": "\\boxed{10^{10^{10}}}"},
        {"gold": "5", "completion": "I have no idea"},
    ]
    f = tmp_path / "rows.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert main(["verifiers", "audit", str(f), "--timeout", "0.3", "--json"]) == 0
    out = capsys.readouterr().out
    assert "5 rows:" in out and "agreement with expected: 2/3" in out
    assert "line 3: expected False, got True" in out
    assert "timeout rows: 4" in out and "unparsable rows: 5" in out
    figures = json.loads(out.strip().splitlines()[-1])
    assert figures["kinds"] == {"equal": 2, "hedged": 1, "timeout": 1, "unparsable": 1}
    assert figures["disagree_expected"] == 1


def test_audit_bad_file_names_the_problem(tmp_path, capsys):
    assert main(["verifiers", "audit", str(tmp_path / "missing.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
    f = tmp_path / "bad.jsonl"
    f.write_text('{"gold": "1"}\n')
    assert main(["verifiers", "audit", str(f)]) == 2
    assert "no prediction column" in capsys.readouterr().err
