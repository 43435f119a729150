"""Drive a program on a pseudo-terminal as a user at a keyboard would.

usage: ptydrive.py STEP... -- CMD...
A STEP is "w:TEXT" (type TEXT; backslash escapes such as \\n and \\x03 for ^C)
or "s:SECONDS" (read what the program writes for that long). Prints all the
program wrote, then "[status N]" with its exit status.
"""
import os, pty, sys, time, select
i = sys.argv.index('--')
steps, cmd = sys.argv[1:i], sys.argv[i+1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
out = b''
def drain(t):
    global out
    end = time.time() + t
    while True:
        left = end - time.time()
        if left <= 0: return
        r, _, _ = select.select([fd], [], [], left)
        if not r: return
        try: b = os.read(fd, 4096)
        except OSError: return
        if not b: return
        out += b
for s in steps:
    k, v = s.split(':', 1)
    if k == 'w': os.write(fd, v.encode().decode('unicode_escape').encode('latin1'))
    else: drain(float(v))
drain(5)
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode('latin1'))
print('\n[status %d]' % (os.waitstatus_to_exitcode(st)))
