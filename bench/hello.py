"""The bare Flask app that bench/run.py measures the project against, under the same uwsgi.

uwsgi --ini uwsgi.ini --env ENV=development --module bench.hello:app
"""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello() -> str:
    return "Hello, World!"
