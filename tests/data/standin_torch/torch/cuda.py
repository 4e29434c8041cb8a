# SPDX-License-Identifier: GPL-3.0-or-later
"""torch.cuda stand-in: no CUDA device (the example then runs on "cpu")."""


def is_available():
    return False


def synchronize():
    pass
