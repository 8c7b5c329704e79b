#!/usr/bin/python3
# A real SMTP server for the e-mail notification test (aiosmtpd, from Debian's python3-aiosmtpd):
# STARTTLS with the certificate given, required before AUTH, and AUTH PLAIN/LOGIN required before
# MAIL. Each message received is written as JSON to the mail folder, with who logged in and whether
# the session was encrypted. Started by scripts/components.sh start.
# usage: smtp-server.py HOST PORT CERT KEY USER PASSWORD MAIL_DIR
import asyncio
import email
import email.policy
import json
import os
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

host, port, cert, key, user, password, mail_dir = sys.argv[1:8]
os.makedirs(mail_dir, exist_ok=True)


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == user
        and auth_data.password.decode() == password
    )
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


class Keep:
    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        record = {
            # decoded by Python's e-mail parser: what a mail client shows
            "subject": str(message["subject"]),
            "body": body.get_content() if body else "",
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "data": envelope.content.decode("utf8", "replace"),
            "user": session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None,
            "tls": session.ssl is not None,
        }
        name = os.path.join(mail_dir, f"{time.time_ns()}.json")
        with open(name + ".part", "w") as f:
            json.dump(record, f)
        os.rename(name + ".part", name)
        return "250 OK"


class StartTLSController(Controller):
    def factory(self):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        return SMTP(
            self.handler,
            tls_context=context,
            require_starttls=True,
            auth_required=True,
            auth_require_tls=True,
            authenticator=authenticate,
        )


controller = StartTLSController(Keep(), hostname=host, port=int(port))
controller.start()
print(f"smtp: listening on {host}:{port}", flush=True)
try:
    asyncio.get_event_loop().run_forever()
except KeyboardInterrupt:
    pass
finally:
    controller.stop()
