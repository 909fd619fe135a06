# A serial peer that writes and never reads, on a kernel pseudo-terminal with no relay in between
# (socat would stop forwarding our lines once its other direction is full, hiding the problem).
# Prints the slave's path; on "go FILE TOTAL STALL_MS" on stdin, writes FILE's bytes (repeated) into
# the master until TOTAL bytes went in or the master took nothing for STALL_MS; prints the count.
# Never reads the master. Exits when stdin closes.
import os, pty, sys, time, fcntl

master, slave = pty.openpty()
import tty
tty.setraw(slave)
print(os.ttyname(slave), flush=True)
fcntl.fcntl(master, fcntl.F_SETFL, fcntl.fcntl(master, fcntl.F_GETFL) | os.O_NONBLOCK)
for line in sys.stdin:
    _, path, total, stall_ms = line.split()
    data = open(path, 'rb').read()
    total, stall = int(total), int(stall_ms) / 1000
    written, stalled_since = 0, None
    while written < total:
        at = written % len(data)
        try:
            n = os.write(master, data[at:at + min(len(data) - at, total - written)])
        except BlockingIOError:
            n = 0
        written += n
        if n > 0:
            stalled_since = None
            continue
        stalled_since = stalled_since or time.monotonic()
        if time.monotonic() - stalled_since >= stall:
            break
        time.sleep(0.02)
    print(written, flush=True)
