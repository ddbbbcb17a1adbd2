"""Flask app served by gunicorn (1 sync worker) on a Unix socket (see Dockerfile CMD).

GET / answers 200 {"status": "ok"}.

GET /work?n=N and POST /work with a JSON body {"n": N} are the first real
call through Flask: werkzeug's request parsing, routing, query or JSON body
decoding, jsonify; "work-done" in the body (400 on a bad n).
"""
import sys

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.get("/")
def health():
    return jsonify(status="ok")


@app.get("/info")
def info():
    return jsonify(status="ok", app="python-flask-gunicorn", python=sys.version.split()[0])


@app.route("/work", methods=["GET", "POST"])
def work():
    try:
        if request.method == "POST":
            n = int((request.get_json(silent=True) or {}).get("n", 100))
        else:
            n = int(request.args.get("n", "100"))
    except (ValueError, TypeError, AttributeError):
        return jsonify(error="n must be an integer"), 400
    if not 0 <= n <= 10000:
        return jsonify(error="n must be in 0..10000"), 400
    return jsonify(status="work-done", app="python-flask-gunicorn", n=n,
                   sum_squares=sum(i * i for i in range(n)), path=request.path)
