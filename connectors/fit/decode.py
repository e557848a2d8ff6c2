"""Which FIT decoder the importer uses.

The decoders share one interface (connectors/fit/contract.py: ``FitDecoder`` -> ``DecodedFit``):
the columnar decoder (connectors/fit/columnar.py) is the production one; the reference decoder
(connectors/fit/reference.py, python-fitparse) decodes the files the columnar one leaves to it
and is what the columnar one is tested against.
"""

from __future__ import annotations

from runlift.connectors.fit.contract import FitDecoder


def default_decoder() -> FitDecoder:
    """The production decoder: the columnar one (falls back to python-fitparse per file)."""
    from runlift.connectors.fit.columnar import ColumnarDecoder  # numpy: imported when a decoder is made

    return ColumnarDecoder()
