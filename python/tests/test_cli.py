# SPDX-License-Identifier: GPL-3.0-or-later
"""freqpilot.profile / freqpilot.run / freqpilot.call: the CLI as a subprocess; failures as
FreqpilotError carrying the tool's message and exit code."""

import json
import sys

import pytest

import freqpilot


def test_usage_error_carries_message_and_code(fp_binary, tmp_path):
    with pytest.raises(freqpilot.FreqpilotError) as e:
        freqpilot.profile(backend="sim", workload="vit", runs=0, out=tmp_path / "ds")
    assert e.value.returncode == 2
    assert "--runs: expected a whole number in 1..1000, got '0'" in e.value.message
    assert e.value.command[0] == fp_binary and "--runs" in e.value.command
    assert "exit status 2" in str(e.value)


def test_failure_carries_message_and_code(fp_binary, tmp_path):
    with pytest.raises(freqpilot.FreqpilotError) as e:
        freqpilot.run([tmp_path / "nothing-here"], out=tmp_path / "out")
    assert e.value.returncode == 1
    assert "nothing-here" in e.value.message


def test_binary_not_found(monkeypatch, tmp_path):
    monkeypatch.delenv("FREQPILOT", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(freqpilot.FreqpilotError) as e:
        freqpilot.call(["version"])
    assert e.value.returncode == 127
    assert "not found" in e.value.message


def test_version_matches(fp_binary):
    out = freqpilot.call(["version"]).stdout
    assert out.strip() == f"freqpilot {freqpilot.__version__}"


def test_profile_a_python_script_named_after_it(fp_binary, tmp_path):
    """`python3 infer.py` is app "infer"; the window from freqpilot.window() is in run.json."""
    script = tmp_path / "infer.py"
    script.write_text(
        "import sys, time\n"
        f"sys.path.insert(0, {str(freqpilot.__path__[0] + '/..')!r})\n"
        "import freqpilot\n"
        "with freqpilot.window('infer'):\n"
        "    time.sleep(0.3)\n"
    )
    res = freqpilot.profile([sys.executable, script], backend="sim", gpu="A100", clocks=[1410],
                            runs=1, warmup=0, out=tmp_path / "ds",
                            env={"FREQPILOT_STATE_DIR": str(tmp_path / "state")})
    assert res.dataset == tmp_path / "ds"
    run_json = json.loads((tmp_path / "ds/A100/infer/1410/1/run.json").read_text())
    assert run_json["app"] == "infer"
    assert run_json["window_source"] == "pipe" and run_json["window_name"] == "infer"
    width = run_json["window_end_s"] - run_json["window_start_s"]
    assert 0.3 <= width < 0.4
    runs = res.runs(frame=False)
    assert len(runs) == 1 and runs[0]["time_s"] == pytest.approx(width)


def test_run_on_a_dataset(fp_binary, tmp_path):
    ds = tmp_path / "ds"
    freqpilot.profile(backend="sim", workload="whisper", gpu="V100", clocks="all", runs=1,
                      warmup=0, out=ds)
    res = freqpilot.run([ds], out=tmp_path / "out", jobs=1)
    recs = freqpilot.read_recommendations(res.out, frame=False)
    energy = [r for r in recs if r["objective"] == "energy" and r["max_slowdown"] != r["max_slowdown"]]
    assert len(energy) == 1 and energy[0]["app"] == "whisper"
    assert res.report_html.exists()
