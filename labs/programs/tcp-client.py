"""A TCP client for what node:net cannot do. node has no MSG_FASTOPEN (TCP Fast Open) and no
TCP_DEFER_ACCEPT on a connecting socket, so these two clients are Python. The lab-program protocol:
one JSON argument {"host", "port", "mode", "bytes"}; one JSON event per line on stdout with "t".
  mode "tfo":   sendto(data, MSG_FASTOPEN): the kernel puts the data in the SYN when it holds a
                cookie for the server, else asks for one (and sends the data after the handshake).
  mode "defer": TCP_DEFER_ACCEPT on the client socket makes its kernel hold back the third segment
                (up to 200 ms) so the data written right after connect() rides on it.
  mode "oob":   connect, send the data, then one byte with MSG_OOB (TCP urgent data: the segment
                carries URG and the urgent pointer), which node:net cannot send.
After sending it half-closes, reads until the server's FIN and exits."""
import socket
import sys

from protocol import args, emit


a = args()
family = socket.AF_INET6 if ":" in a["host"] else socket.AF_INET
data = b"d" * a.get("bytes", 100)
c = socket.socket(family, socket.SOCK_STREAM)
try:
    if a["mode"] == "tfo":
        c.sendto(data, socket.MSG_FASTOPEN, (a["host"], a["port"]))
    elif a["mode"] == "defer":
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 1)
        c.connect((a["host"], a["port"]))
        c.sendall(data)
    elif a["mode"] == "oob":
        c.connect((a["host"], a["port"]))
        c.sendall(data)
        c.send(b"!", socket.MSG_OOB)
    else:
        raise ValueError("mode must be tfo, defer or oob, got %r" % a["mode"])
    emit("sent", local=c.getsockname()[1], bytes=len(data))
    c.shutdown(socket.SHUT_WR)
    while c.recv(4096):
        pass
    emit("closed")
except OSError as e:
    emit("error", code=e.errno, message=str(e))
    sys.exit(1)
