# The master of a pty this program made (os.forkpty) closes under a busybox
# shell: the session leader gets SIGHUP, its reads end, its writes fail with EIO.
import os, sys, time
bb = sys.argv[1]
r, w = os.pipe()
pid, fd = os.forkpty()
if pid == 0:
    os.close(r)
    os.dup2(w, 3)
    os.execv(bb, [bb, 'sh', '-c', 'trap "echo HUP >&3" HUP; echo ready; sleep 1; echo after >&3; read x; echo "read status $?" >&3; echo x 2>&3 || echo "write failed" >&3'])
os.close(w)
while b'ready' not in os.read(fd, 100): pass
os.close(fd)
_, st = os.waitpid(pid, 0)
print(os.read(r, 1000).decode(), os.waitstatus_to_exitcode(st))
