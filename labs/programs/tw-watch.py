"""Watches one TIME_WAIT socket's timer in /proc/net/tcp{,6} of the namespace it runs in, reading
every 5 ms and stamping each reading right after it (a lab's own sampler shares the runner's event
loop and can lag on a busy machine). The timer only counts down unless the kernel restarts it, so a
remaining time that went UP between two readings is a restart: no clock is needed to see one.
The lab-program protocol: one JSON argument {"port": the socket's local port}; events
"tw" {remainingMs} when the socket is first seen in TIME_WAIT, "restart" {remainingMs, prevMs} each
time its timer went up; stdin closing or {"do": "exit"} ends the program after one last reading
("done" {remainingMs})."""
import select
import sys
import time

from protocol import args, emit

a = args()
port = "%04X" % a["port"]


def read():
    """The remaining time (ms) of the TIME_WAIT socket with our local port, or None."""
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as f:
            next(f)
            for line in f:
                p = line.split()
                if p[1].endswith(":" + port) and p[3] == "06":
                    return int(p[5].split(":")[1], 16) * 10  # tm->when, USER_HZ (1/100 s)
    return None


prev = None
emit("ready")
done = False
while not done:
    r, _, _ = select.select([sys.stdin], [], [], 0.005)
    if r:
        line = sys.stdin.readline()
        done = not line or '"exit"' in line  # one last reading, then "done"
    now = read()
    if now is not None:
        if prev is None:
            emit("tw", remainingMs=now)
        elif now > prev + 50:  # a countdown never goes up: the kernel restarted the timer
            emit("restart", remainingMs=now, prevMs=prev)
        prev = now
emit("done", remainingMs=prev)
