"""Stand-ins for the outside world, not connectors: a synthetic athlete and season, a FIT file
writer, a local Strava API emulator, a fake clock, a settings-file writer and byte-level FIT
rewriters.

Used by ``runlift demo`` (and ``runlift strava emulator``), by the tests and by the benches, so that
each exists once. Nothing here reads the real outside world. It may import ``runlift.connectors``
(e.g. the FIT profile) but never ``runlift.flows`` or ``runlift.warehouse``; ``connectors/`` and
``warehouse/`` never import it, and in ``flows/`` only the demo and the ``strava emulator`` command
do, inside the function, so the other commands do not pay for it.
"""
