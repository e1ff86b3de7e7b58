"""The TPU paper's what-ifs beside accelsim's TPU model.

Source: Jouppi et al., "In-Datacenter Performance Analysis of a Tensor Processing Unit",
ISCA 2017 (arXiv:1704.04760), section 7 "Evaluation of Alternative TPU Designs": Figure 11
(weighted mean performance of the six production apps as memory bandwidth, clock rate
(with and without more accumulators) and the matrix unit's dimension (with and without more
accumulators) scale from 0.25x to 4x; host server time excluded) and the hypothetical TPU'
(GDDR5 weight memory, "more than a factor of five" the bandwidth, "shifting its roofline
ridge point from 1350 to 250", i.e. 34 GB/s × 1350 / 250 = 183.6 GB/s; a 1050 MHz clock).
The weighted mean weighs each app by its type's share of deployed TPUs (Table 1: MLPs 61%,
LSTMs 29%, CNNs 5%). accelsim has one app of each type (models/tpu-mlp0.toml, tpu-lstm0.toml,
tpu-cnn0.toml, at Table 1's batches 200, 64 and 8), so its means are over those three with the
weights 61 : 29 : 5; the paper's are over six apps (MLP1, LSTM1 and CNN1 are not modelled).

`paper_what_ifs()` runs each what-if and each app on `tpu-v1` with the what-if's spec
overrides and returns a `WhatIf` per claim the paper makes: its words, the ratio they state or
imply, the range of ratios they allow (our reading, given with each claim), the model's
ratio (device time, as Figure 11 leaves the host out; end to end for the paper's "adding
that same extra time" host-included figures), and why the two differ. What accelsim says:

- Memory bandwidth ×4 (paper: ~3× on average, MLPs and LSTMs 3×, CNNs little). accelsim:
  MLP0 3.97×, LSTM0 3.95×, CNN0 1.00×, weighted mean 3.81×: higher. accelsim's MLP0 and
  LSTM0 are bound by the DDR3 weight stream alone (a 64 KiB tile every 1,349 cycles; their
  weight shifts, multiplies and activations overlap the next fetch), so their device time
  scales with bandwidth up to the 256-cycle tile shift; the real TPU spends 17.5% and 17.9%
  of their cycles on non-matrix work (Table 3) that bandwidth does not shorten.
- Clock ×4 (paper: almost nothing for MLPs and LSTMs, ~2× for CNNs). accelsim: MLP0 and LSTM0
  1.00× (agrees); CNN0 1.15× (lower). At batch 8 CNN0 multiplies 2,888 rows per tile, more
  than one 2,048-row accumulator buffer, so the compiler runs two row chunks and reads every
  weight tile once per chunk (16.2 MB of DDR3 for 8.0 MB of weights): at 4× clock that stream
  is the limit. With 4× the accumulators (the paper's clock+) each tile is read once and CNN0
  gains 2.27×, the paper's ~2× (CNN0's 2,888 MACs per weight byte over the 1,350 ridge).
- Matrix unit 512×512 (paper: doesn't help any app; the mean slightly degrades). accelsim,
  accumulators kept at 4 MiB: MLP0 1.00×, LSTM0 1.00× (the same bytes stream at the same
  rate), CNN0 0.76× (three row chunks, each re-reading the tiles, and half the 512 columns
  idle for its 256 channels): agrees. With 4× the accumulators (matrix+) CNN0 gains 1.43×
  (one read of each tile, 5 K passes of 512 instead of 9 of 256) where the paper says no app
  gains; CNN0's widths are our approximation (the paper gives none).
- TPU' (paper, no host time: GDDR5 alone gives a weighted mean of 3.9, a geometric mean of
  2.6; 1050 MHz alone almost nothing; both raise the geometric mean to 2.9 but not the
  weighted one). accelsim: GDDR5 weighted 4.83×, geometric 2.94× (higher: MLP0 and LSTM0 gain
  nearly the full 5.4×); 1050 MHz 1.01× (agrees); both 5.16× and 3.51× (higher: at 700 MHz
  GDDR5 leaves MLP0 and LSTM0 bound by the 256-cycle tile shift, 64 KiB per 256 cycles =
  179 GB/s, which a faster clock shortens; CNN0, compute bound, gains 1.5×). With host time
  (paper: 3.2 and 1.9) accelsim's end-to-end ratios stay higher (3.82×, 2.59×): its end-to-end
  time adds the PCIe copies and a fixed driver call and transfer latency per run
  (machines/tpu/runtime.py), not the host server's share of each app (Table 5).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from accelsim.build import machine
from accelsim.nn.loader import load_network

PAPER = "Jouppi et al., ISCA 2017, section 7"
DDR3_BYTES_PER_S = 34e9  # TPU v1's weight memory (the tpu-v1 preset)
GDDR5_BYTES_PER_S = DDR3_BYTES_PER_S * 1350 / 250  # TPU': ridge point 1350 -> 250 MACs/B
WEIGHTED, GEOMETRIC = "weighted mean", "geometric mean"


@dataclass(frozen=True)
class App:
    """One of the paper's apps: accelsim's network, Table 1's batch and deployment share."""

    network: str
    batch: int
    share: float


APPS = (App("tpu-mlp0", 200, 0.61), App("tpu-lstm0", 64, 0.29), App("tpu-cnn0", 8, 0.05))


@dataclass(frozen=True)
class Design:
    """A what-if: tpu-v1 with these spec overrides; compared on device time (Figure 11 has
    no host time) or, with `end_to_end`, on end-to-end time."""

    name: str
    overrides: tuple[tuple[str, Any], ...]
    end_to_end: bool = False


MEMORY_X4 = Design("memory ×4", (("ddr_bytes_per_s", 4 * DDR3_BYTES_PER_S),))
CLOCK_X4 = Design("clock ×4", (("clock_hz", 4 * 700e6),))
CLOCK_X4_ACC = Design("clock+ ×4 (4× accumulators)",
                      (("clock_hz", 4 * 700e6), ("accumulator_rows", 4 * 4096)))
MATRIX_512 = Design("matrix 512×512 (accumulators kept at 4 MiB)",
                    (("array_rows", 512), ("array_cols", 512), ("accumulator_rows", 2048)))
MATRIX_512_ACC = Design("matrix+ 512×512 (4× accumulators, 16 MiB)",
                        (("array_rows", 512), ("array_cols", 512), ("accumulator_rows", 8192)))
GDDR5 = Design("TPU' GDDR5 weight memory", (("ddr_bytes_per_s", GDDR5_BYTES_PER_S),))
GDDR5_HOST = Design("TPU' GDDR5, host time included",
                    (("ddr_bytes_per_s", GDDR5_BYTES_PER_S),), end_to_end=True)
CLOCK_1050 = Design("TPU' clock 1050 MHz", (("clock_hz", 1050e6),))
GDDR5_1050 = Design("TPU' GDDR5 and 1050 MHz",
                    (("ddr_bytes_per_s", GDDR5_BYTES_PER_S), ("clock_hz", 1050e6)))


@dataclass(frozen=True)
class Claim:
    """What the paper says of one design and app (or mean): its words, where they are, the
    ratio they state or imply (None: a direction only) and the ratios they allow."""

    design: Design
    app: str  # a network, WEIGHTED or GEOMETRIC
    says: str
    where: str
    ratio: float | None
    low: float
    high: float
    note: str


FIG11 = f"{PAPER}, Figure 11 caption"
TEXT = f"{PAPER}, text on Figure 11"
TPU_PRIME = f"{PAPER}, TPU'"
MEMORY_BOUND = ("memory bound in accelsim: the DDR3 stream's bytes per second do not change "
                "with the clock or the array")
CLAIMS = (
    Claim(MEMORY_X4, "tpu-mlp0", "MLPs and LSTMs improve 3X with 4X memory bandwidth", FIG11,
          3.0, 2.5, 3.5, "higher: accelsim's MLP0 is bound by the weight stream alone (its "
          "shifts, multiplies and activations overlap the next fetch), so device time falls "
          "with bandwidth; the TPU's counters put 17.5% of MLP0's cycles in non-matrix work "
          "(Table 3). End to end (PCIe unchanged) accelsim gives 3.19×"),
    Claim(MEMORY_X4, "tpu-lstm0", "MLPs and LSTMs improve 3X with 4X memory bandwidth",
          FIG11, 3.0, 2.5, 3.5, "higher, as MLP0: 3,072 weight tiles (24 gate matrices read "
          "again at each of 4 steps) stream back to back"),
    Claim(MEMORY_X4, "tpu-cnn0", "[CNNs] get little benefit from faster memory", FIG11, 1.0,
          0.95, 1.25, "agrees: compute bound (the array active 92% of its cycles)"),
    Claim(MEMORY_X4, WEIGHTED, "performance improves 3X on average when memory increases 4X",
          TEXT, 3.0, 2.5, 3.5, "higher: MLP0 and LSTM0 carry 90% of the weight"),
    Claim(CLOCK_X4, "tpu-mlp0", "increasing the clock rate by 4X has almost no impact on MLPs "
          "and LSTMs", TEXT, 1.0, 0.95, 1.1, f"agrees: {MEMORY_BOUND}"),
    Claim(CLOCK_X4, "tpu-lstm0", "increasing the clock rate by 4X has almost no impact on "
          "MLPs and LSTMs", TEXT, 1.0, 0.95, 1.1, f"agrees: {MEMORY_BOUND}"),
    Claim(CLOCK_X4, "tpu-cnn0", "[it] improves performance of CNNs by about 2X", TEXT, 2.0,
          1.6, 2.4, "lower: 2,888 rows (8 × 19 × 19) exceed one 2,048-row accumulator "
          "buffer, so each weight tile is read once per row chunk, twice (16.2 MB of DDR3 "
          "for 8.0 MB of weights); at 4× clock that stream is the limit. clock+ fixes it"),
    Claim(CLOCK_X4, WEIGHTED, "clock rate has little benefit on average with or without more "
          "accumulators", TEXT, 1.0, 0.95, 1.25, "agrees"),
    Claim(CLOCK_X4_ACC, "tpu-mlp0", "MLPs and LSTMs ... get nothing from a higher clock",
          FIG11, 1.0, 0.95, 1.1, f"agrees: {MEMORY_BOUND}"),
    Claim(CLOCK_X4_ACC, "tpu-lstm0", "MLPs and LSTMs ... get nothing from a higher clock",
          FIG11, 1.0, 0.95, 1.1, f"agrees: {MEMORY_BOUND}"),
    Claim(CLOCK_X4_ACC, "tpu-cnn0", "For CNNs it's vice versa; 2X for 4X clock", FIG11, 2.0,
          1.6, 2.4, "agrees: with 8,192-row buffers each tile is read once (8.2 MB), and "
          "2,888 MACs per weight byte over the 1,350 ridge allow 2.1×"),
    Claim(CLOCK_X4_ACC, WEIGHTED, "clock rate has little benefit on average with or without "
          "more accumulators", TEXT, 1.0, 0.95, 1.25, "agrees"),
    *(Claim(MATRIX_512, app, "A bigger matrix multiply unit doesn't help any DNN", FIG11,
            None, 0.0, 1.02, note) for app, note in (
        ("tpu-mlp0", f"agrees: {MEMORY_BOUND}"), ("tpu-lstm0", f"agrees: {MEMORY_BOUND}"),
        ("tpu-cnn0", "agrees: 4 MiB of 512-wide accumulators hold 1,024 rows a buffer, so "
                     "2,888 rows take three chunks, each reading every tile (24.1 MB), and "
                     "the 256 channels fill half the 512 columns"))),
    Claim(MATRIX_512, WEIGHTED, "the average performance ... slightly degrades when the matrix "
          "unit expands from 256x256 to 512x512", TEXT, None, 0.8, 1.0, "agrees"),
    *(Claim(MATRIX_512_ACC, app, "A bigger matrix multiply unit doesn't help any DNN", FIG11,
            None, 0.0, 1.02, note) for app, note in (
        ("tpu-mlp0", f"agrees: {MEMORY_BOUND}"), ("tpu-lstm0", f"agrees: {MEMORY_BOUND}"),
        ("tpu-cnn0", "higher: with 4,096-row buffers each tile is read once and 5 K passes "
                     "of 512 replace 9 of 256, though the 256 channels fill half the "
                     "columns; CNN0's widths are our approximation (the paper gives none)"))),
    Claim(MATRIX_512_ACC, WEIGHTED, "[it] slightly degrades ... whether or not they get more "
          "accumulators", TEXT, None, 0.8, 1.0, "higher, by CNN0's gain alone (MLP0 and "
          "LSTM0 stay at 1.00×)"),
    Claim(GDDR5, WEIGHTED, "If we left the clock at 700 MHz but used GDDR5 for Weight Memory, "
          "the ... weighted mean [jumps] to 3.9", TPU_PRIME, 3.9, 3.5, 4.3,
          "higher: MLP0 and LSTM0 gain nearly the full 5.4× (as with memory ×4)"),
    Claim(GDDR5, GEOMETRIC, "the geometric mean increase jumps to an impressive 2.6",
          TPU_PRIME, 2.6, 2.3, 2.9, "higher, as the weighted mean; CNN0 (1.00×) is a third "
          "of our three apps, as CNN0 and CNN1 are of the paper's six"),
    Claim(GDDR5_HOST, WEIGHTED, "Adding that same extra time drops TPU' means from 2.6 to 1.9 "
          "and 3.9 to 3.2", TPU_PRIME, 3.2, 2.9, 3.5, "higher: accelsim's end-to-end time "
          "adds the PCIe copies and a fixed driver call and transfer latency per run, not the "
          "host server's share of each app (Table 5)"),
    Claim(GDDR5_HOST, GEOMETRIC, "Adding that same extra time drops TPU' means from 2.6 to "
          "1.9", TPU_PRIME, 1.9, 1.7, 2.1, "higher, as the weighted mean with host time"),
    Claim(CLOCK_1050, WEIGHTED, "increasing clock rate to 1050 MHz but not helping memory "
          "makes almost no change", TPU_PRIME, 1.0, 0.95, 1.1, "agrees"),
    Claim(GDDR5_1050, GEOMETRIC, "Doing both raises the geometric mean (2.9)", TPU_PRIME,
          2.9, 2.6, 3.2, "higher: GDDR5 at 700 MHz leaves MLP0 and LSTM0 bound by the "
          "256-cycle tile shift (64 KiB per 256 cycles = 179 GB/s), which 1050 MHz shortens; "
          "CNN0, compute bound, gains 1.5×"),
    Claim(GDDR5_1050, WEIGHTED, "[doing both raises the geometric mean] but not the weighted "
          "mean", TPU_PRIME, 3.9, 3.5, 4.3, "higher: GDDR5 alone is already 4.83× here, and "
          "the shorter tile shift adds 7%"),
)


@dataclass(frozen=True)
class WhatIf:
    """A claim of the paper beside the model: the ratios are performance over tpu-v1's
    (base time / what-if time), per app or as a mean over the apps."""

    what_if: str
    app: str
    paper_ratio: float | None  # stated or implied; None when the paper gives a direction
    model_ratio: float
    note: str
    paper_says: str
    source: str
    paper_range: tuple[float, float]  # the ratios the paper's words allow (our reading)

    @property
    def verdict(self) -> str:
        """'agrees' when the model's ratio is in the paper's range, else 'model higher' or
        'model lower'."""
        low, high = self.paper_range
        if self.model_ratio < low:
            return "model lower"
        return "agrees" if self.model_ratio <= high else "model higher"


def weighted_mean(ratios: Mapping[str, float]) -> float:
    """Table 1's deployment shares as weights, normalized over the apps given."""
    shares = {a.network: a.share for a in APPS}
    return sum(shares[n] * r for n, r in ratios.items()) / sum(shares[n] for n in ratios)


def geometric_mean(ratios: Mapping[str, float]) -> float:
    return math.exp(sum(math.log(r) for r in ratios.values()) / len(ratios))


Times = dict[tuple[str, tuple[tuple[str, Any], ...]], tuple[float, float]]


def _times(app: App, design: Design, memo: Times) -> tuple[float, float]:
    """(device seconds, end-to-end seconds) of one batch of `app` on tpu-v1 under `design`,
    run once per app and overrides."""
    key = (app.network, design.overrides)
    if key not in memo:
        run = machine("tpu-v1", **dict(design.overrides)).run(
            load_network(app.network, weights="none"), batch=app.batch)
        memo[key] = (run.device_seconds, run.seconds)
    return memo[key]


def speedups(design: Design, memo: Times | None = None) -> dict[str, float]:
    """Per app and mean: tpu-v1's time over the design's (device time, or end to end);
    `memo` keeps runs for the next design."""
    memo = {} if memo is None else memo
    which = 1 if design.end_to_end else 0
    base = Design("tpu-v1", ())
    per_app = {a.network: _times(a, base, memo)[which] / _times(a, design, memo)[which]
               for a in APPS}
    return {**per_app, WEIGHTED: weighted_mean(per_app), GEOMETRIC: geometric_mean(per_app)}


def paper_what_ifs() -> list[WhatIf]:
    """Each of the paper's claims (`CLAIMS`) beside the model's ratio (see the module)."""
    memo: Times = {}
    ratios = {d: speedups(d, memo) for d in dict.fromkeys(c.design for c in CLAIMS)}
    return [WhatIf(c.design.name, c.app, c.ratio, ratios[c.design][c.app], c.note, c.says,
                   c.where, (c.low, c.high)) for c in CLAIMS]
