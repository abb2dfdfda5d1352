"""Commands to a real QEMU's QMP socket, as a QMP client must read it: an asynchronous
event (VNC_DISCONNECTED when a VNC client has just gone, for one) may come before a
command's reply, so events are set aside until the reply itself arrives."""

import json
import socket

from simhost import STALL_SECONDS


def qmp_commands(path, commands):
    """Negotiates capabilities on the QMP socket at `path`, runs each of `commands` (dicts
    with "execute" and maybe "arguments") in turn and returns (greeting, [reply, ...]). An
    "error" reply fails at once, naming the command."""
    with socket.socket(socket.AF_UNIX) as q:
        q.settimeout(STALL_SECONDS)
        q.connect(str(path))
        f = q.makefile("rw")
        greeting = json.loads(f.readline())
        replies = []
        for command in ({"execute": "qmp_capabilities"}, *commands):
            f.write(json.dumps(command) + "\n")
            f.flush()
            reply = json.loads(f.readline())
            while "event" in reply:
                reply = json.loads(f.readline())
            assert "return" in reply, (command, reply)
            replies.append(reply["return"])
        return greeting, replies[1:]
