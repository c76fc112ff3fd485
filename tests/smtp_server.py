"""An SMTP server of a test's own on 127.0.0.1, which can misbehave as real ones do.

Just enough SMTP to accept messages (EHLO, MAIL, RCPT, DATA, RSET, QUIT). It counts connections and
keeps every message it accepted (answered "250 queued" to), so that a test counts deliveries by
Message-ID as a recipient's mail system would. Faults, switched at any time:

- ``slow = seconds``: every reply goes out one byte every ``seconds`` (each read succeeds, the send drags);
- ``hang = True``: new connections are accepted and never answered;
- ``hold()`` / ``release()``: a message's final "." is not answered until released.
"""

import email
import socketserver
import threading
import time


class _Handler(socketserver.StreamRequestHandler):
    def reply(self, text):
        data = text.encode() + b"\r\n"
        if self.server.slow:
            for i in range(len(data)):
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()
                time.sleep(self.server.slow)
        else:
            self.wfile.write(data)

    def handle(self):
        server = self.server
        with server.lock:
            server.connections += 1
        if server.hang:
            while self.rfile.read(1):  # read until the client gives up; never answer
                pass
            return
        self.reply("220 test ESMTP")
        data_mode, lines = False, []
        for raw in self.rfile:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if data_mode:
                if line != ".":
                    lines.append(line[1:] if line.startswith("..") else line)
                    continue
                server.waiting.set()
                server.released.wait()
                server.waiting.clear()
                with server.lock:
                    server.received.append("\n".join(lines))
                data_mode, lines = False, []
                self.reply("250 queued")
                continue
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-test\r\n250 8BITMIME")
            elif verb == "DATA":
                data_mode = True
                self.reply("354 go on")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


class SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.received: list[str] = []
        self.connections = 0
        self.slow = 0.0
        self.hang = False
        self.released = threading.Event()
        self.released.set()
        self.waiting = threading.Event()  # a message's "." arrived and waits for release()

    def start(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.released.set()
        self.shutdown()
        self.server_close()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def hold(self):
        self.released.clear()

    def release(self):
        self.released.set()

    def message_ids(self) -> list[str]:
        """The Message-ID of each message accepted, in order (a duplicate appears twice)."""
        with self.lock:
            return [email.message_from_string(raw)["Message-ID"] for raw in self.received]
