# A busybox shell on a pty that this program makes (os.forkpty), run as the
# guest itself under elfrun: the shell's output, typed input and its echo, ^C
# to the pty's foreground group, a resize. Prints all the shell wrote and its status.
import os, sys, fcntl, struct, termios
bb = sys.argv[1]
script = 'read go; tty >/dev/null && echo istty; stty size; echo ready; read x; echo got $x; trap "echo INT" INT; echo ready2; sleep 3; echo after; stty size'
pid, fd = os.forkpty()
if pid == 0:
    os.execv(bb, [bb, 'sh', '-c', script])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 24, 80, 0, 0))
# the shell starts once the size is set
os.write(fd, b'go\n')
out = b''
def until(want):
    global out
    while want not in out:
        try:
            b = os.read(fd, 1024)
        except OSError:
            return False
        if not b:
            return False
        out += b
    return True
until(b'ready\r\n')
os.write(fd, b'abc\n')
until(b'ready2\r\n')
os.write(fd, b'\x03')
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 30, 100, 0, 0))
until(b'no such text')
_, st = os.waitpid(pid, 0)
print(repr(out), os.waitstatus_to_exitcode(st))
