# pty.spawn of a busybox shell (the shell on a new pty, this program copying
# its stdin to the master and the master to its stdout until the slave
# closes), with the terminal's name made index-free; prints the exit status.
import os, pty, sys
bb = sys.argv[1]
st = pty.spawn([bb, 'sh', '-c', 'tty | sed "s/[0-9]*$/N/"; stty -a | head -n 1; echo done; exit 3'])
sys.stdout.flush()
print(os.waitstatus_to_exitcode(st))
