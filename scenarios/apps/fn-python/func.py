"""The function: what a user writes. Same signature as fdk-python's handler
(ctx, data: io.BytesIO); with the real FDK it would return
fdk.response.Response(ctx, response_data=...) instead of a string."""
import io
import json


def handler(ctx, data: io.BytesIO = None) -> str:
    name = "World"
    raw = data.getvalue() if data is not None else b""
    if raw:
        try:
            name = json.loads(raw).get("name", name)
        except (ValueError, AttributeError):
            name = raw.decode(errors="replace")[:64]
    return json.dumps({"message": f"Hello {name}", "called": "fn-python", "call_id": ctx.call_id,
                       "fn_memory": ctx.config.get("FN_MEMORY", ""), "fn_tmpsize": ctx.config.get("FN_TMPSIZE", "")}) + "\n"
