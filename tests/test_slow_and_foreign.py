"""Messages that mislead no more: a run slower than one inference a second shows its rate
(never '0 inferences/s') and a utilization above 0 never reads '0.0%'; a --dask address where
another service answers says so (not 'out of memory')."""

from __future__ import annotations

import re
import socket
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

import accelsim as ax
from accelsim.errors import AccelsimError
from accelsim.units import rate, share


@given(st.floats(min_value=1e-300, max_value=1e15))
def test_a_positive_rate_or_share_never_reads_as_zero(value):
    assert re.search(r"[1-9]", rate(value))
    assert re.search(r"[1-9]", share(min(value, 1.0)))


def test_rates_and_shares_read_as_numbers():
    assert [rate(v) for v in (540648.3, 91.84, 0.0846, 3.2e-5, float("inf"), None)] == \
        ["540,648", "91.8", "0.0846", "3.2e-05", "—", "—"]
    assert [share(v) for v in (0.5479, 0.006, 3.34e-6, 0.0)] == \
        ["54.8%", "0.6%", "0.00033%", "0.0%"]


def test_a_run_slower_than_one_a_second_shows_its_rate():
    slow = ax.machine("tpu-v1", ddr_bytes_per_s=1e6)  # 1 MB/s: 12 s per ResNet-18 image
    net = ax.network("resnet18", weights="none")
    r = slow.run(net, batch=1)
    assert r.throughput < 1
    text = r.summary()
    assert f"{rate(r.throughput)} inferences/s" in text and " 0 inferences/s" not in text
    assert "(0.0%)" not in text and "0.000 T" not in text
    cmp = ax.compare([net], [slow], batch=[1])
    assert rate(r.throughput) in cmp.table()


@pytest.fixture
def web_server():
    """A local server answering every connection as a web server would."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\n\r\n"
                                 b"Bad Request" * 4)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    server.close()


def test_dask_at_an_address_where_something_else_answers_says_so(web_server):
    pytest.importorskip("distributed")
    from accelsim.sweep.runner import dask_client

    with (pytest.raises(AccelsimError, match="answered, but not as a Dask scheduler") as err,
          dask_client(web_server, 1)):
        pass
    assert web_server in str(err.value) and "memory" not in str(err.value)
