"""FastAPI app served by uvicorn on a Unix socket (see Dockerfile CMD).

GET / answers 200 {"status": "ok"}. uvicorn chmods its --uds socket 0666 itself.

GET /work?n=N and POST /work with a JSON body {"n": N} are the first real
call through FastAPI: query or body validation by pydantic (0 <= n <= 10000,
else 422), a response_model serialised to JSON with "work-done" in it.
"""
import sys

from fastapi import FastAPI, Query
from pydantic import BaseModel, Field

app = FastAPI()


class Info(BaseModel):
    status: str
    app: str
    python: str


class WorkIn(BaseModel):
    n: int = Field(100, ge=0, le=10000)


class WorkOut(BaseModel):
    status: str
    app: str
    n: int
    sum_squares: int
    path: str


def work(n: int) -> WorkOut:
    return WorkOut(status="work-done", app="python-fastapi-uvicorn", n=n,
                   sum_squares=sum(i * i for i in range(n)), path="/work")


@app.get("/")
async def health() -> dict:
    return {"status": "ok"}


@app.get("/info", response_model=Info)
async def info() -> Info:
    return Info(status="ok", app="python-fastapi-uvicorn", python=sys.version.split()[0])


@app.get("/work", response_model=WorkOut)
async def work_get(n: int = Query(100, ge=0, le=10000)) -> WorkOut:
    return work(n)


@app.post("/work", response_model=WorkOut)
async def work_post(body: WorkIn) -> WorkOut:
    return work(body.n)
