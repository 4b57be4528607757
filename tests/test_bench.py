import os
import subprocess
import sys

from conftest import ROOT


def test_the_accuracy_bench_refuses_a_misspelt_variant_before_it_trains_anything():
    p = subprocess.run([sys.executable, "bench/accuracy.py", "--only-variants", "--variant", "x=distil=0.5"],
                       capture_output=True, text=True, cwd=ROOT, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode == 2 and "Unknown setting(s): distil" in p.stderr
    assert "Traceback" not in p.stderr


def test_the_pretraining_bench_refuses_an_unknown_variant_before_it_pretrains():
    p = subprocess.run([sys.executable, "bench/lm_pretrain.py", "--variants", "all:3,everything:1"],
                       capture_output=True, text=True, cwd=ROOT, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode == 2 and "'everything:1' is not NAME:SEEDS" in p.stderr
    assert "Traceback" not in p.stderr
