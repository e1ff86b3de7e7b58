"""Predicted against measured: each machine model held against real measurements of that
machine (`accelsim validate MACHINE [--networks]`): recorded GPUs and CPU hosts replayed from
`accelsim/measure/data/`, this host timed live (`accelsim.measure`). It sits above the engine
and the machines it checks; nothing in the simulator imports it."""
