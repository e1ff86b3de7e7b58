"""ONNX RNN, LSTM and GRU → accelsim's rnn, lstm and gru layers.

ONNX stacks gate weights by rows, W (directions, gates·H, F) and R (directions, gates·H, H),
biases B (directions, 2·gates·H) as [Wb, Rb]; accelsim multiplies x @ W. Gate orders differ:
ONNX's LSTM is i, o, f, c and accelsim's [i, f, o, g]; ONNX's GRU is z, r, h and accelsim's
[r, z, n]. The output Y (time, directions, batch, H) (layout 0) is a view of the layer's
(batch, time, directions·H) output; Y_h (directions, batch, H) of a layer keeping only the
final states (return_sequences = false). Refused: direction "reverse", peepholes, clip,
input_forget, other activations, sequence_lens, non-zero initial states, and a node whose Y
and Y_h (or LSTM's Y_c) are both read.
"""

from __future__ import annotations

import numpy as np

from accelsim.nn.layers import Params
from accelsim.nn.onnx_builder import Builder, Node
from accelsim.nn.onnx_values import Const, Fill, Groups, View
from accelsim.nn.recurrent import GRU, LSTM, REVERSE, RNN, Recurrent

GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}
ORDER = {"RNN": [0], "LSTM": [0, 2, 1, 3], "GRU": [1, 0, 2]}  # accelsim gate ← ONNX block
ACTIVATIONS = {"RNN": ["tanh"], "LSTM": ["sigmoid", "tanh", "tanh"], "GRU": ["sigmoid", "tanh"]}
LAYERS: dict[str, type[Recurrent]] = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU}


def _reorder(a: np.ndarray, op: str, hidden: int) -> np.ndarray:
    """Gate blocks along the last axis from ONNX's order to accelsim's."""
    blocks = [a[..., g * hidden : (g + 1) * hidden] for g in ORDER[op]]
    return np.ascontiguousarray(np.concatenate(blocks, axis=-1))


def _check_attributes(b: Builder, op: str, dirs: int) -> None:
    if b.attr("clip", None) is not None:
        raise b.fail("clip is set; accelsim's recurrent cells do not clip")
    if int(b.attr("input_forget", 0)):
        raise b.fail("input_forget = 1 (coupled gates) is not supported")
    if b.attr("activation_alpha", None) or b.attr("activation_beta", None):
        raise b.fail("activation_alpha/beta are set; accelsim uses the default activations")
    activations = [str(a).lower() for a in b.attr("activations", [])]
    if activations and activations != ACTIVATIONS[op] * dirs:
        raise b.fail(f"activations = {b.attr('activations', [])}; accelsim runs only the "
                     f"defaults {ACTIVATIONS[op]} per direction")


def _zero_or_absent(b: Builder, node: Node, index: int, what: str) -> None:
    name = node.input(index)
    if not name:
        return
    value = b.value(name)
    zero = (isinstance(value, Fill) and value.value == 0.0) or (
        isinstance(value, Const) and not np.any(value.array))
    if not zero:
        raise b.fail(f"{what} ({name!r}) is given and not all zero; accelsim's recurrent "
                     "layers start from zero states with no peepholes")


def _params(b: Builder, node: Node, op: str, dirs: int, hidden: int,
            features: int) -> Params:
    width = GATES[op] * hidden
    w = b.weight(node.input(1), "W", (dirs, width, features))
    r = b.weight(node.input(2), "R", (dirs, width, hidden))
    bias = b.weight(node.input(3), "B", (dirs, 2 * width)) if node.input(3) else \
        np.zeros((dirs, 2 * width), np.float32)
    params: Params = {}
    for d, suffix in enumerate(("", REVERSE)[:dirs]):
        wb, rb = bias[d, :width], bias[d, width:]
        if op == "GRU":
            params.update({f"weight_ih{suffix}": _reorder(w[d].T, op, hidden),
                           f"weight_hh{suffix}": _reorder(r[d].T, op, hidden),
                           f"bias_ih{suffix}": _reorder(wb, op, hidden),
                           f"bias_hh{suffix}": _reorder(rb, op, hidden)})
        else:
            stacked = np.concatenate([w[d].T, r[d].T], axis=0)
            params.update({f"weight{suffix}": _reorder(stacked, op, hidden),
                           f"bias{suffix}": _reorder(wb + rb, op, hidden)})
    return params


def convert_recurrent(b: Builder, node: Node) -> None:
    """RNN, LSTM or GRU → one accelsim recurrent layer (see the module)."""
    op = node.op
    hidden = int(b.attr("hidden_size", 0))
    direction = b.attr("direction", "forward")
    if direction not in ("forward", "bidirectional"):
        raise b.fail(f"direction = {direction!r}; accelsim runs 'forward' and 'bidirectional' "
                     "(a reverse-only layer is not supported)")
    dirs, layout = 2 if direction == "bidirectional" else 1, int(b.attr("layout", 0))
    if hidden < 1 or layout not in (0, 1):
        raise b.fail(f"hidden_size = {hidden} must be positive and layout = {layout} 0 or 1")
    _check_attributes(b, op, dirs)
    if node.input(4):
        raise b.fail("sequence_lens is given; accelsim runs every sequence to its full length")
    for index, what in ((5, "initial_h"), (6, "initial_c"), (7, "P (peepholes)")):
        _zero_or_absent(b, node, index, what)
    view = b.view(node.input(0), "X")
    source = b.read(view, (1, 0, 2) if layout == 0 else (0, 1, 2),
                    need=f" as a {'time-major ' if layout == 0 else ''}sequence")
    if not b.tensors[source].has_time or len(b.shapes[source]) != 2:
        raise b.fail(f"reads {source!r} of shape {b.shapes[source]}, not a (time, features) "
                     "sequence")
    outputs = [b.used(name) for name in node.outputs]
    if len(outputs) > 2 and outputs[2]:
        raise b.fail("its cell state Y_c is used; accelsim's lstm layer gives hidden states")
    sequences, finals = outputs[0], len(outputs) > 1 and outputs[1]
    if sequences and finals:
        raise b.fail("both Y and Y_h are used; accelsim gives either every step's output or "
                     "the final states from one layer")
    params = _params(b, node, op, dirs, hidden, b.shapes[source][-1])
    fields: dict = {"hidden_size": hidden, "return_sequences": sequences,
                    "bidirectional": dirs == 2}
    if op == "GRU":
        fields["linear_before_reset"] = bool(int(b.attr("linear_before_reset", 0)))
    name = b.add(LAYERS[op], node.name or node.outputs[0], fields, (source,), params,
                 keep_time=sequences, split_last=(dirs, hidden))
    groups: Groups
    if sequences:
        groups = ((1,), (2,), (0,), (3,)) if layout == 0 else ((0,), (1,), (2,), (3,))
        b.set(node.outputs[0], View(name, groups))
    else:
        groups = ((1,), (0,), (2,)) if layout == 0 else ((0,), (1,), (2,))
        b.set(node.outputs[1], View(name, groups))
