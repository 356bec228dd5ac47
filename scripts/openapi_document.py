"""Write /api/v1/openapi.json as the code documents it, for the frontend's typed client.

    python scripts/openapi_document.py OUT.json

The app is built from app/default_config.py alone, with throwaway secrets and no database:
the document is the same on every machine, whatever instance/ holds (`make frontend-client`
writes the client from it, `make frontend-check` fails when the committed one differs).
"""

import json
import os
import secrets
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(out: Path) -> int:
    with tempfile.TemporaryDirectory() as instance:
        os.environ["STOREFRONT_INSTANCE_PATH"] = instance  # no instance config read
        from app.api.spec import api
        from app.app_factory import create_app

        create_app(
            {
                "ENV": "development",
                "SQLALCHEMY_DATABASE_URI": "sqlite://",
                "SECRET_KEY": secrets.token_urlsafe(32),
                "SECURITY_PASSWORD_SALT": secrets.token_urlsafe(16),
                "SECURITY_TOTP_SECRETS": {"1": secrets.token_urlsafe(32)},
            }
        )
        document = api.spec.to_dict()
    out.write_text(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
