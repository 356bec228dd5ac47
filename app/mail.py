"""Development mail backend: each message becomes one .eml file in the outbox folder."""

import uuid
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from flask_mailman.backends.base import BaseEmailBackend


class EmailBackend(BaseEmailBackend):
    """Write every message to ``MAIL_FILE_PATH`` (default ``instance/outbox``) as ``.eml``."""

    def send_messages(self, email_messages):
        folder = Path(
            current_app.config.get("MAIL_FILE_PATH") or Path(current_app.instance_path) / "outbox"
        )
        folder.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
            path = folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
            path.write_bytes(message.message().as_bytes())
        return len(email_messages)
