"""bind() and connect() the way C programs do by default, which node cannot: node (libuv) always
sets SO_REUSEADDR before bind(), so it never shows the classic EADDRINUSE for a port held by a
TIME_WAIT socket. One JSON argument {"host", "port", "localPort", "reuseaddr"}; events: "bound",
"connected" {"port"} or "error" {"code": errno name, "syscall"}; then it exits (a connection it
made is closed at once)."""
import errno
import socket

from protocol import args, emit


a = args()
family = socket.AF_INET6 if ":" in a["host"] else socket.AF_INET
s = socket.socket(family, socket.SOCK_STREAM)
step = "setsockopt"
try:
    if a.get("reuseaddr"):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    step = "bind"
    s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", a["localPort"]))
    emit("bound", port=s.getsockname()[1], reuseaddr=bool(a.get("reuseaddr")))
    step = "connect"
    s.connect((a["host"], a["port"]))
    emit("connected", port=s.getsockname()[1])
except OSError as e:
    emit("error", code=errno.errorcode.get(e.errno, str(e.errno)), syscall=step, message=str(e))
finally:
    s.close()
