"""The lab-program protocol for Python programs (as labs/programs/protocol.ts for node ones): the
arguments as one JSON string, one JSON event per line on stdout with "t" (epoch seconds)."""
import json
import sys
import time


def args():
    return json.loads(sys.argv[1])


def emit(event, **fields):
    fields.update(event=event, t=time.time())
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()
