# SPDX-License-Identifier: GPL-3.0-or-later
"""A stand-in for the few parts of PyTorch that examples/pytorch_inference.py uses, so that its
test (tests/e2e/t1450-python-examples.sh) runs without torch. Each Linear layer's forward
pass takes STANDIN_TORCH_LINEAR_S seconds (default 0.005), the "GPU work" whose window the
test checks, and moving a model .to() a device STANDIN_TORCH_LOAD_S (default 0), the model
load it must leave out; nothing is computed."""

import contextlib
import os
import time

from . import cuda, nn  # noqa: F401


class Tensor:
    def __init__(self, shape, device="cpu"):
        self.shape = tuple(shape)
        self.device = device


def randn(*shape, device="cpu"):
    return Tensor(shape, device)


def inference_mode():
    return contextlib.nullcontext()


def _linear_s():
    return float(os.environ.get("STANDIN_TORCH_LINEAR_S", "0.005"))


def _busy(seconds):
    time.sleep(seconds)
