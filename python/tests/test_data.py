# SPDX-License-Identifier: GPL-3.0-or-later
"""read_runs / read_aggregated / read_recommendations: the tool's files, typed, as DataFrames
(pandas) or lists of dicts, against the files' own contents."""

import csv
import json
import math
from pathlib import Path

import pytest

import freqpilot
from conftest import has_pandas

SMALL_RUN = "[simulate]\ngpus = A100\nworkloads = vit\nruns = 2\nclock_step = 8\n"


@pytest.fixture(scope="module")
def run_out(tmp_path_factory, fp_binary):
    """`freqpilot run` on a small simulated sweep (A100 vit, every 8th clock, 2 runs)."""
    d = tmp_path_factory.mktemp("run")
    cfg = d / "small.ini"
    cfg.write_text(SMALL_RUN)
    res = freqpilot.run(out=d / "out", config=cfg, jobs=1)
    assert res.aggregated.exists() and res.recommendations.exists()
    return res


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, fp_binary):
    """`freqpilot profile` on the simulated GPU (simulated time): 3 clocks x 2 runs."""
    d = tmp_path_factory.mktemp("ds") / "ds"
    freqpilot.profile(backend="sim", workload="vit", gpu="A100", clocks=[1410, 1005, 705], runs=2,
                      warmup=0, out=d, extra_args=["--sim-noise", "off"])
    return d


def csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_aggregated_as_dicts(run_out):
    rows = freqpilot.read_aggregated(run_out.out, frame=False)
    want = csv_rows(run_out.aggregated)
    assert len(rows) == len(want) > 5
    for got, w in zip(rows, want):
        assert list(got) == list(w)  # every column, in the file's order
        assert got["gpu"] == "A100" and got["app"] == "vit"
        assert isinstance(got["runs"], int) and got["runs"] == int(w["runs"])
        assert got["freq_mhz"] == float(w["freq_mhz"])
        assert got["energy_j"] == pytest.approx(float(w["energy_j"]))
        assert isinstance(got["flags"], str)
        for col, kind in freqpilot.AGGREGATED_COLUMNS.items():
            if kind is float:
                assert isinstance(got[col], float)
                assert (w[col] == "") == math.isnan(got[col])


@pytest.mark.skipif(not has_pandas(), reason="pandas not installed")
def test_aggregated_as_dataframe(run_out):
    df = freqpilot.read_aggregated(run_out.aggregated)
    import pandas as pd

    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == list(csv_rows(run_out.aggregated)[0])
    assert str(df["runs"].dtype) == "Int64"
    assert str(df["freq_mhz"].dtype) == "float64"
    assert str(df["energy_j"].dtype) == "float64"
    assert df["flags"].dtype == object
    # A column that is empty everywhere stays a number column (NaN), not text.
    assert str(df["gpu_util_pct"].dtype) == "float64"
    assert (df["time_s"] > 0).all() and (df["energy_j"] > 0).all()
    assert set(df["gpu_name"]) == {"NVIDIA A100-PCIE-40GB (simulated)"}


def test_recommendations_match_the_json(run_out):
    doc = json.loads(run_out.recommendations.read_text())
    rows = freqpilot.read_recommendations(run_out.out, frame=False)
    assert len(rows) == len(doc["results"]) > 0
    for got, want in zip(rows, doc["results"]):
        assert got["baseline"] == doc["baseline"]
        assert got["objective"] == want["objective"]
        assert got["freq_mhz"] == want["freq_mhz"]
        assert got["energy_saving"] == pytest.approx(want["energy_saving"])
        assert got["feasible"] is want["feasible"]
        if want["max_slowdown"] is None:
            assert math.isnan(got["max_slowdown"])
        assert got["message"] == (want["message"] or "")


@pytest.mark.skipif(not has_pandas(), reason="pandas not installed")
def test_recommendations_dataframe_and_csv_agree(run_out, tmp_path):
    df = freqpilot.read_recommendations(run_out.recommendations)
    assert str(df["feasible"].dtype) == "bool"
    assert str(df["energy_saving"].dtype) == "float64"
    # The same choices through optimize --format csv.
    out = tmp_path / "optimal.csv"
    freqpilot.call(["optimize", str(run_out.aggregated), "--objective", "energy,edp,ed2p,time",
                    "--max-slowdown", "none,0.05,0.10", "--format", "csv", "-o", str(out)])
    df_csv = freqpilot.read_recommendations(out)
    key = ["objective", "max_slowdown"]
    a = df.sort_values(key).reset_index(drop=True)
    b = df_csv.sort_values(key).reset_index(drop=True)
    assert list(a["freq_mhz"]) == list(b["freq_mhz"])
    assert a["energy_saving"].round(6).tolist() == b["energy_saving"].round(6).tolist()
    assert list(a["feasible"]) == list(b["feasible"])


def test_runs_of_a_dataset(dataset):
    rows = freqpilot.read_runs(dataset, frame=False)
    assert len(rows) == 6
    assert {r["freq_mhz"] for r in rows} == {1410.0, 1005.0, 705.0}
    assert all(r["reason"] == "" and r["time_s"] > 0 and r["energy_j"] > 0 for r in rows)
    assert sorted(r["run_index"] for r in rows) == list(range(1, 7))
    assert all(r["source"].endswith("telemetry.csv") for r in rows)
    # Noise-free simulated GPU: time rises as the clock falls (vit is compute-bound).
    t = {r["freq_mhz"]: r["time_s"] for r in rows}
    assert t[1410.0] < t[1005.0] < t[705.0]


@pytest.mark.skipif(not has_pandas(), reason="pandas not installed")
def test_runs_dataframe_and_runs_file(dataset, tmp_path):
    df = freqpilot.read_runs(dataset)
    assert list(df.columns) == list(freqpilot.RUNS_COLUMNS)
    assert str(df["run_index"].dtype) == "Int64"
    # A file written by `aggregate --runs` is read as it is.
    f = tmp_path / "runs.csv"
    freqpilot.call(["aggregate", str(dataset), "--runs", str(f), "-o", "/dev/null"])
    df2 = freqpilot.read_runs(f)
    assert df2["energy_j"].tolist() == df["energy_j"].tolist()


def test_runs_of_a_per_run_table(run_out):
    # runs.csv of `freqpilot run` (simulated) is a per-run table: normalised by the tool.
    rows = freqpilot.read_runs(run_out.out / "runs.csv", frame=False)
    with open(run_out.out / "runs.csv", newline="") as f:
        n = sum(1 for _ in f) - 1
    assert len(rows) == n
    assert {r["app"] for r in rows} == {"vit"}


def test_bad_files(tmp_path):
    p = tmp_path / "aggregated.csv"
    p.write_text("gpu,freq_mhz\nA100,1410\n")
    with pytest.raises(ValueError, match=r"aggregated.csv:1: missing column\(s\) app"):
        freqpilot.read_aggregated(p)
    p.write_text("gpu,app,freq_mhz,runs\nA100,x,1410,two\n")
    with pytest.raises(ValueError, match="row 1, column runs"):
        freqpilot.read_aggregated(p)
    j = tmp_path / "optimal.json"
    j.write_text("{\"results\": ")
    with pytest.raises(ValueError, match="invalid JSON"):
        freqpilot.read_recommendations(j)
    j.write_text("[]")
    with pytest.raises(ValueError, match="expected optimize's JSON"):
        freqpilot.read_recommendations(j)


def test_frame_true_without_pandas(monkeypatch, tmp_path):
    from freqpilot import _data

    monkeypatch.setattr(_data, "_pandas", lambda: None)
    p = tmp_path / "a.csv"
    p.write_text("gpu,app,freq_mhz\nA100,x,1410\n")
    assert freqpilot.read_aggregated(p) == [{"gpu": "A100", "app": "x", "freq_mhz": 1410.0}]
    with pytest.raises(ImportError, match="needs pandas"):
        freqpilot.read_aggregated(p, frame=True)


def test_unknown_columns_are_kept(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("gpu,app,freq_mhz,new_number,new_text\nA100,x,1410,1.5,hello\nA100,x,705,,\n")
    rows = freqpilot.read_aggregated(p, frame=False)
    assert rows[0]["new_number"] == 1.5 and math.isnan(rows[1]["new_number"])
    assert rows[0]["new_text"] == "hello" and rows[1]["new_text"] == ""
