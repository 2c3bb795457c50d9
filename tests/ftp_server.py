#!/usr/bin/python3
"""A real FTP server for the localize tests (Debian's python3-pyftpdlib).

Usage: ftp_server.py PORT_FILE ROOT
Serves ROOT read-only on a free loopback port: anonymous logins, and user
USER with password PASSWORD. Writes the port to PORT_FILE once it listens
(atomically); serves until killed. Logins are logged to PORT_FILE.log.
"""
import logging
import os
import sys

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer

USER = "ftpuser"
PASSWORD = "ftp-pass-9x"


def main():
    port_file, root = sys.argv[1], sys.argv[2]
    logging.basicConfig(filename=port_file + ".log", level=logging.INFO)
    authorizer = DummyAuthorizer()
    authorizer.add_user(USER, PASSWORD, root, perm="elr")
    authorizer.add_anonymous(root, perm="elr")
    handler = FTPHandler
    handler.authorizer = authorizer
    handler.passive_ports = None
    handler.banner = "verdi test ftp"
    handler.auth_failed_timeout = 0.1  # not pyftpdlib's 3 s: the tests time failures
    server = FTPServer(("127.0.0.1", 0), handler)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.address[1]))
    os.rename(tmp, port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
