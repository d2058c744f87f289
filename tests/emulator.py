"""Runs moto's AWS emulator on 127.0.0.1 for logdesk's tests and demo.

Prints "ready <port>" once the server answers. It stops by itself when its standard input
closes (the Rust process that started it is gone, however it died) or after
LOGDESK_EMULATOR_MAX_SECONDS (default 3600), so a crashed test never leaves it running.
"""
import os
import socket
import sys
import threading
import urllib.request

from moto.server import ThreadedMotoServer


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] != "0" else free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    # Wait until it answers HTTP, not just until the thread started.
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1).read()
            break
        except Exception:
            threading.Event().wait(0.05)
    print(f"ready {port}", flush=True)

    max_seconds = float(os.environ.get("LOGDESK_EMULATOR_MAX_SECONDS", "3600"))
    threading.Timer(max_seconds, lambda: os._exit(0)).start()
    if os.environ.get("LOGDESK_EMULATOR_FOREGROUND") != "1":
        sys.stdin.read()  # returns at EOF: our parent has gone
        os._exit(0)
    threading.Event().wait()


if __name__ == "__main__":
    main()
