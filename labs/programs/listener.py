"""A listening TCP socket that accepts only when told: what node:net cannot be (libuv accepts every
connection at once), so the accept queue can fill. The lab-program protocol: one JSON argument
{"host", "port", "backlog"}; one JSON event per line on stdout with "t" (epoch seconds); commands as
JSON lines on stdin: {"do": "accept"} accepts one connection, {"do": "close-all"} closes what was
accepted; stdin closing ends the program."""
import json
import socket
import sys

from protocol import args, emit


args = args()
family = socket.AF_INET6 if ":" in args["host"] else socket.AF_INET
srv = socket.socket(family, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((args["host"], args.get("port", 0)))
srv.listen(args.get("backlog", 1))
emit("listening", port=srv.getsockname()[1], backlog=args.get("backlog", 1))
accepted = []
for line in sys.stdin:
    if not line.strip():
        continue
    cmd = json.loads(line)
    if cmd.get("do") == "accept":
        conn, addr = srv.accept()
        accepted.append(conn)
        emit("accepted", remote=addr[0], port=addr[1])
    elif cmd.get("do") == "close-all":
        for c in accepted:
            c.close()
        accepted = []
        emit("closed-all")
    else:
        emit("error", code="BAD_COMMAND", message="unknown command %r" % cmd.get("do"))
