"""Runs SCALE-Sim 3.0.0 on GEMM layers; executed by the SCALE-Sim virtual environment
(.venv-scalesim, made by `make bench-scalesim`), not by accelsim's.

Reads a JSON list of {"dataflow", "rows", "cols", "m", "k", "n"} on stdin and prints one JSON
line per layer: SCALE-Sim's Total Cycles and the seconds its run took in this process.
"""

import contextlib
import csv
import io
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from scalesim.scale_sim import scalesim

CONFIG = """[general]
run_name = bench

[architecture_presets]
ArrayHeight: {rows}
ArrayWidth: {cols}
IfmapSramSzkB: 6144
FilterSramSzkB: 6144
OfmapSramSzkB: 2048
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Bandwidth: 10
Dataflow: {dataflow}
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport: false
SparseRep: ellpack_block
OptimizedMapping: false
BlockSize: 8
RandomNumberGeneratorSeed: 40

[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""
LAYOUT = ("Layer, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
          "Num Filter, Stride Height, Stride Width,\n")


def run_layer(layer: dict) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="scalesim-"))
    try:
        (folder / "c.cfg").write_text(CONFIG.format(**layer))
        # SCALE-Sim's GEMM topology rows are "name, M, N, K," with a trailing comma.
        (folder / "t.csv").write_text(
            f"Layer, M, N, K,\nL, {layer['m']}, {layer['n']}, {layer['k']},\n")
        (folder / "l.csv").write_text(LAYOUT)
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            sim = scalesim(save_disk_space=True, verbose=False, config=str(folder / "c.cfg"),
                           topology=str(folder / "t.csv"), layout=str(folder / "l.csv"),
                           input_type_gemm=True)
            sim.run_scale(top_path=str(folder))
        seconds = time.perf_counter() - started
        report = next(folder.rglob("COMPUTE_REPORT.csv"))
        rows = list(csv.reader(report.open()))
        record = dict(zip([h.strip() for h in rows[0]], [v.strip() for v in rows[1]], strict=False))
        return {**layer, "total_cycles": int(float(record["Total Cycles"])),
                "seconds": seconds}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    for layer in json.load(sys.stdin):
        print(json.dumps(run_layer(layer)), flush=True)
