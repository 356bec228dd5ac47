"""The Storefront shell (not a command line: that is dbmanager.py): IPython in the app context,
with app, db, the models and the user datastore loaded. ``flask shell`` is the plain-Python one.

python cli.py                                   # interactive shell
python cli.py -c "print(User.query.count())"    # run one command and exit
"""

import sys

from IPython import start_ipython

from app.app_factory import create_app, shell_namespace


def main(argv: list[str]) -> int:
    app = create_app()
    with app.app_context():
        namespace = {"app": app, **shell_namespace()}
        start_ipython(argv=["--no-banner", "--no-confirm-exit", *argv], user_ns=namespace)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
