"""FastAPI app served by uvicorn on a Unix socket (see Dockerfile CMD).

GET / answers 200 {"status": "ok"}. uvicorn chmods its --uds socket 0666 itself.
"""
import sys

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Info(BaseModel):
    status: str
    app: str
    python: str


@app.get("/")
async def health() -> dict:
    return {"status": "ok"}


@app.get("/info", response_model=Info)
async def info() -> Info:
    return Info(status="ok", app="python-fastapi-uvicorn", python=sys.version.split()[0])
