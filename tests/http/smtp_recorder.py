"""A real SMTP server for the tests (Debian's python3-aiosmtpd) that records
every accepted message as a JSON file in a folder.

Usage: /usr/bin/python3 smtp_recorder.py HOST PORT FOLDER
PORT 0 picks a free port. Prints "listening on PORT" once it accepts
connections, then serves until killed. Recipients whose local part starts
with "bounce" are refused with a permanent error (550).
"""

import asyncio
import itertools
import json
import os
import socket
import sys
import time

from aiosmtpd.smtp import SMTP


class Recorder:
    def __init__(self, folder):
        self.folder = folder
        self.counter = itertools.count()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.split("@")[0].startswith("bounce"):
            return "550 5.1.1 <%s>: Recipient address rejected" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": envelope.original_content.decode("utf-8", errors="replace"),
        }
        name = "%d-%d-%06d" % (time.time_ns(), os.getpid(), next(self.counter))
        temporary = os.path.join(self.folder, name + ".tmp")
        with open(temporary, "w", encoding="utf-8") as f:
            json.dump(record, f)
        # Atomic: a reader never sees half a message.
        os.replace(temporary, os.path.join(self.folder, name + ".json"))
        return "250 Message accepted for delivery"


async def main():
    host, port, folder = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.makedirs(folder, exist_ok=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    recorder = Recorder(folder)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(recorder, hostname="smtp.test", enable_SMTPUTF8=True), sock=sock
    )
    print("listening on %d" % sock.getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
