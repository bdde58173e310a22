#!/usr/bin/python3
"""Drives `llama4 chat` through a pseudo-terminal, as a person at a terminal would.

  chat_pty_driver.py LLAMA4_BIN MODEL_DIR

Sends two messages whose (long) answers are each interrupted with Ctrl-C, then /exit, and prints
one JSON object: the timing lines seen ([prompt tokens, cached tokens] per turn), how many answers
were reported as interrupted, and the exit status (0 shows the session survived both Ctrl-Cs).
"""

import json
import os
import pty
import re
import select
import signal
import sys
import time

TIMEOUT_S = 60
INTERRUPT_AFTER_S = 0.0  # at once: a short greedy answer could otherwise finish first
TIMING = re.compile(rb"prompt: (\d+) tokens \((\d+) cached\)")


def main():
    binary, model = sys.argv[1], sys.argv[2]
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(binary, [binary, "chat", "-m", model, "--temp", "0", "-n", "3000", "-c", "4096"])
    output = b""

    def read_while(waiting):
        """Reads while waiting() holds, until end of output or TIMEOUT_S: never blocks forever."""
        nonlocal output
        deadline = time.time() + TIMEOUT_S
        while waiting() and time.time() < deadline:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.time()))
            if not ready:
                break
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk

    def read_until(pattern, count):
        read_while(lambda: len(re.findall(pattern, output)) < count)

    def read_more_than(length):
        read_while(lambda: len(output) <= length)

    prompt = rb"\n> "  # the input prompt at the start of a line
    for turn, message in enumerate([b"Hello there\n", b"Tell me more\n"], start=1):
        read_until(prompt, turn)  # type only once chat waits for input, as a person would
        os.write(fd, message)
        # Ctrl-C once the answer is streaming: the terminal's echo of the message, then its text.
        echo = message.rstrip(b"\n")
        read_until(re.escape(echo) + rb"\r?\n", 1)
        read_more_than(output.rfind(echo) + len(echo) + 2)
        time.sleep(INTERRUPT_AFTER_S)
        os.write(fd, b"\x03")
        read_until(TIMING, turn)
    os.write(fd, b"/exit\n")
    read_while(lambda: True)  # read to the end of the output
    finished, status = os.waitpid(pid, os.WNOHANG)
    if finished == 0:  # still running after /exit: a failure, but never a hang
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    turns = [[int(a), int(b)] for a, b in TIMING.findall(output)]
    print(json.dumps({
        "turns": turns,
        "interrupted": output.count(b"by Ctrl-C"),
        "exit_status": os.waitstatus_to_exitcode(status),
    }))


if __name__ == "__main__":
    main()
