# Read by the flask command (python-dotenv): `flask run`, `flask shell`, `flask routes`,
# `flask db upgrade`, `flask users ...` from the project root, no --app needed. Shipped with the
# code and read everywhere: never put a secret or FLASK_DEBUG here (instance/ or the environment).
FLASK_APP=app
