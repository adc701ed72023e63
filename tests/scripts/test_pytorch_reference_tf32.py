#!/usr/bin/env python3
"""bench/pytorch_reference.py's set_tf32 against stand-ins for both PyTorch APIs: 2.9+'s
fp32_precision settings (the GPU host's torch 2.11, which warns about the old flags and refuses a
mix of the two) and the allow_tf32 flags of older versions (Debian's 1.13 here). No torch needed."""
import importlib.util
import os
import sys
from types import SimpleNamespace as NS

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "pytorch_reference", os.path.join(HERE, "..", "..", "bench", "pytorch_reference.py"))
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)


class OldMatmul:  # torch 1.13: unknown names raise AssertionError, not AttributeError
    allow_tf32 = False

    def __getattr__(self, name):
        raise AssertionError("Unknown attribute " + name)


class Refusing:  # the new API's objects: the legacy flag must not be touched
    def __init__(self):
        self.fp32_precision = "none"

    def __setattr__(self, name, value):
        if name == "allow_tf32":
            raise RuntimeError("mix of legacy and new TF32 APIs")
        object.__setattr__(self, name, value)


problems = []
new = NS(backends=NS(cuda=NS(matmul=Refusing()), cudnn=NS(conv=Refusing())))
for on, want in [(True, "tf32"), (False, "ieee")]:
    ref.set_tf32(new, on)
    got = (new.backends.cuda.matmul.fp32_precision, new.backends.cudnn.conv.fp32_precision)
    if got != (want, want):
        problems.append(f"new API, on={on}: got {got}")
    if hasattr(new.backends.cudnn, "allow_tf32"):
        problems.append("new API: the legacy cudnn.allow_tf32 flag was set as well")

old = NS(backends=NS(cuda=NS(matmul=OldMatmul()), cudnn=NS(allow_tf32=False)))
for on in (True, False):
    ref.set_tf32(old, on)
    if (old.backends.cuda.matmul.allow_tf32, old.backends.cudnn.allow_tf32) != (on, on):
        problems.append(f"old API, on={on}: flags not set")

if problems:
    print("\n".join(problems))
    sys.exit(1)
print("set_tf32: PyTorch 2.9+ fp32_precision and the older allow_tf32 flags both set and read back")
