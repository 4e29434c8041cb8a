#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""PyTorch inference marked for freqpilot: only the inference loop is measured.

    freqpilot profile --runs 3 --out ds -- python3 examples/pytorch_inference.py --batches 200
    freqpilot run ds -o out

Loading the model and the warm-up batches stay outside ``freqpilot.window("inference")``, so
the time and energy freqpilot measures at each clock are those of the inference alone. The
dataset is named after this script (``pytorch_inference``); give ``--app`` to name it
otherwise. Outside ``freqpilot profile`` the script runs as usual (freqpilot says once that
windows are not recorded).
"""

import argparse
import time

import torch

import freqpilot


def load_model(device: str) -> "torch.nn.Module":
    # A real script loads its model here, e.g.
    #   model = transformers.AutoModelForCausalLM.from_pretrained(name, torch_dtype=torch.float16)
    model = torch.nn.Sequential(
        torch.nn.Linear(1024, 4096),
        torch.nn.ReLU(),
        torch.nn.Linear(4096, 1024),
    )
    return model.to(device).eval()


def synchronize(device: str) -> None:
    # CUDA kernels run asynchronously: wait for them before the window ends.
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, default=200, help="measured batches (200)")
    ap.add_argument("--batch-size", type=int, default=32, help="inputs per batch (32)")
    ap.add_argument("--warmup", type=int, default=5, help="batches before the window (5)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()

    model = load_model(args.device)
    x = torch.randn(args.batch_size, 1024, device=args.device)
    with torch.inference_mode():
        for _ in range(args.warmup):
            model(x)
        synchronize(args.device)

        t0 = time.perf_counter()
        with freqpilot.window("inference"):
            for _ in range(args.batches):
                model(x)
            synchronize(args.device)
        elapsed = time.perf_counter() - t0

    print(f"{args.batches} batches of {args.batch_size} in {elapsed:.3f} s "
          f"({args.batches * args.batch_size / elapsed:.1f} inputs/s)")


if __name__ == "__main__":
    main()
