#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Plot the energy saving freqpilot recommends for each GPU and application.

    freqpilot run DATASET -o out                      # or: freqpilot run -o out (simulated)
    python3 examples/plot_savings.py out --max-slowdown 0.05 -o savings.png

Reads optimize's choices with ``freqpilot.read_recommendations`` (a pandas DataFrame), keeps
one objective and slowdown budget, prints one line per (GPU, application) and draws the
savings with their 95 % intervals as a bar chart (matplotlib). Needs pandas and matplotlib
(Debian: python3-pandas python3-matplotlib).
"""

import argparse
import math

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402

import freqpilot  # noqa: E402


def budget(text: str) -> float:
    return math.nan if text == "none" else float(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", help="optimal.json, its CSV, or the folder of `freqpilot run`")
    ap.add_argument("--objective", default="energy", help="energy, edp, ed2p, time (energy)")
    ap.add_argument("--max-slowdown", type=budget, default=0.05,
                    help="the budget the choice was made under, or none (0.05)")
    ap.add_argument("-o", "--output", default="savings.png", help="figure file (savings.png)")
    args = ap.parse_args()

    recs = freqpilot.read_recommendations(args.results, frame=True)
    if math.isnan(args.max_slowdown):
        in_budget = recs["max_slowdown"].isna()
    else:
        in_budget = (recs["max_slowdown"] - args.max_slowdown).abs() < 1e-9
    sel = recs[(recs["objective"] == args.objective) & in_budget & recs["feasible"]]
    if sel.empty:
        raise SystemExit(f"no feasible {args.objective} choice under that budget in {args.results}")
    sel = sel.assign(label=sel["gpu"] + " " + sel["app"],
                     saving_pct=100 * sel["energy_saving"],
                     err_lo=(100 * (sel["energy_saving"] - sel["energy_saving_lo"])).fillna(0),
                     err_hi=(100 * (sel["energy_saving_hi"] - sel["energy_saving"])).fillna(0),
                     slowdown_pct=100 * sel["slowdown"]).sort_values("label", ascending=False)

    for r in sel.itertuples():
        print(f"{r.label}: {r.freq_mhz:.0f} MHz (baseline {r.baseline_mhz:.0f}): "
              f"{r.saving_pct:.1f} % energy saved, {r.slowdown_pct:.1f} % slower")

    fig, ax = plt.subplots(figsize=(7, 0.45 * len(sel) + 1.2))
    ax.barh(sel["label"], sel["saving_pct"], xerr=[sel["err_lo"], sel["err_hi"]],
            color="#2a7ab0", capsize=3)
    for y, r in enumerate(sel.itertuples()):
        ax.annotate(f" {r.freq_mhz:.0f} MHz", (r.saving_pct + r.err_hi, y), va="center", fontsize=8)
    limit = "no slowdown limit" if math.isnan(args.max_slowdown) else \
        f"slowdown <= {100 * args.max_slowdown:g} %"
    ax.set_xlabel("energy saved against the baseline clock (%), 95 % interval")
    ax.set_title(f"freqpilot: {args.objective}, {limit}")
    ax.set_xlim(0, max(5.0, float((sel["saving_pct"] + sel["err_hi"]).max()) * 1.25))
    fig.tight_layout()
    fig.savefig(args.output, dpi=120)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
