"""The Storefront command line (a Flask CLI group): the database, users, roles, demo data, jobs.

The same group is installed as ``storefront`` (app/manage.py); ``flask <command>`` has them too.
python dbmanager.py db upgrade|migrate|downgrade|current|history   (Flask-Migrate)
python dbmanager.py users create-admin EMAIL                       (the first admin)
python dbmanager.py users create|activate|...  roles create|add|... (Flask-Security)
python dbmanager.py seed                                           (demo data)
python dbmanager.py jobs                                           (what waits on the queue)
"""

from app.manage import cli

if __name__ == "__main__":
    cli()
