"""Drive a program on a pseudo-terminal as a user at a keyboard would.

usage: ptydrive.py STEP... -- CMD...
A STEP is "w:TEXT" (type TEXT; backslash escapes such as \\n and \\x03 for ^C),
"s:SECONDS" (read what the program writes for that long) or "e:TEXT" (read
until the output has TEXT once more than before, at most 30 s: a prompt, an
echo). Prints all the program wrote, then "[status N]" with its exit status
("[status killed]" if it had not ended 20 s after the last step).
"""
import os, pty, signal, sys, time, select

i = sys.argv.index('--')
steps, cmd = sys.argv[1:i], sys.argv[i + 1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
out = b''


def read_for(t, until=None):
    """Read for t seconds, or until `until` returns true."""
    global out
    end = time.time() + t
    while until is None or not until():
        left = end - time.time()
        if left <= 0:
            return
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            return
        try:
            b = os.read(fd, 4096)
        except OSError:
            return
        if not b:
            return
        out += b


for s in steps:
    k, v = s.split(':', 1)
    if k == 'w':
        os.write(fd, v.encode().decode('unicode_escape').encode('latin1'))
    elif k == 'e':
        want = v.encode().decode('unicode_escape').encode('latin1')
        seen = out.count(want)
        read_for(30, lambda: out.count(want) > seen)
    else:
        read_for(float(v))
read_for(5)
status = 'killed'
for _ in range(100):
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = str(os.waitstatus_to_exitcode(st))
        break
    read_for(0.1)
    time.sleep(0.1)  # read_for returns at once after the program closed the terminal
else:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
sys.stdout.write(out.decode('latin1'))
print('\n[status %s]' % status)
