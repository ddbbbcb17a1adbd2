"""Flask app served by gunicorn (1 sync worker) on a Unix socket (see Dockerfile CMD).

GET / answers 200 {"status": "ok"}.
"""
import sys

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def health():
    return jsonify(status="ok")


@app.get("/info")
def info():
    return jsonify(status="ok", app="python-flask-gunicorn", python=sys.version.split()[0])
