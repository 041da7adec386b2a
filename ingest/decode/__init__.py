"""Pure decoders from every supported device format to normalised records.

No I/O and no clock: the caller passes the receive time. A decoder never raises; what it
cannot turn into a `Reading` or `Position` comes back as a `Rejection` with a reason.
"""

from ingest.decode.osmand import decode_osmand_query
from ingest.decode.result import Decoded, DecodeLimits, Rejection
from ingest.decode.router import decode_mqtt
from ingest.decode.traccar import decode_traccar_json

__all__ = [
    "DecodeLimits",
    "Decoded",
    "Rejection",
    "decode_mqtt",
    "decode_osmand_query",
    "decode_traccar_json",
]
