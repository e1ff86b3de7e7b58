"""Networks: layers, the TOML loader, fp32 reference numerics, training and data sets."""

from accelsim.nn import datasets
from accelsim.nn.loader import available_networks, load_network
from accelsim.nn.network import Network

__all__ = ["Network", "available_networks", "datasets", "load_network"]
