"""The OCPP protocol layer: everything that knows OCPP's message names, versions and keys.

consumer.py   the WebSocket (transport only): admits, hands frames on, runs commands as tasks
handshake.py  who may open a socket, and the door that opens its tenant's scope
rpc.py        OCPP-J RPC: frames to handlers and back, our CALLs and their replies
frames.py, errors.py, schemas.py   parsing, each version's CALLERROR codes, payload validation
library.py    the one module that reads the `ocpp` library (action names, schema files)
base.py, v16.py, v201.py   the central system per version: translate, call a service, reply
samples.py, variables.py, readers.py   wire forms read into domain objects (and written back)
builders.py   operator actions as each version's requests; redact.py   secrets out of logs
"""

from typing import Any

# A JSON object as it goes over the wire (a CALL's payload, a reply): the schemas, not the types,
# say what it holds.
JsonDict = dict[str, Any]
