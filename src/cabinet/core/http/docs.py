"""Self-contained HTML documentation rendered from an API's OpenAPI document (no scripts, no CDN)."""

from __future__ import annotations

import html
import json
from typing import Any

# FastAPI's ``responses`` argument: declared answers per status code
Responses = dict[int | str, dict[str, Any]]


def render_openapi_html(openapi: dict[str, Any], *, lang: str = "en") -> str:
    info = openapi.get("info", {})
    esc = html.escape
    parts = [
        "<!doctype html>",
        f'<html lang="{esc(lang)}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(info.get('title', 'API'))} {esc(info.get('version', ''))}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:auto;padding:1rem;line-height:1.4}"
        "code,pre{background:#f4f4f4;padding:.1rem .3rem;border-radius:3px}pre{overflow:auto;padding:.6rem}"
        "h3{margin-top:2rem}.m{font-weight:bold;text-transform:uppercase;margin-right:.5rem}"
        "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}</style>",
        "</head><body>",
        f"<h1>{esc(info.get('title', 'API'))} <small>{esc(info.get('version', ''))}</small></h1>",
        f"<p>{esc(info.get('description', ''))}</p>",
        "<h2>Operations</h2>",
    ]
    for path, methods in openapi.get("paths", {}).items():
        for method, op in methods.items():
            if not isinstance(op, dict):
                continue
            op_id = op.get("operationId", "")
            parts.append(f'<h3 id="{esc(op_id)}"><span class="m">{esc(method)}</span><code>{esc(path)}</code></h3>')
            parts.append(f"<p>{esc(op.get('summary', ''))} <small>({esc(op_id)})</small></p>")
            if op.get("description"):
                parts.append(f"<p>{esc(op['description'])}</p>")
            params = op.get("parameters", [])
            if params:
                parts.append("<table><tr><th>parameter</th><th>in</th><th>required</th><th>schema</th></tr>")
                for p in params:
                    parts.append(
                        f"<tr><td>{esc(p.get('name', ''))}</td><td>{esc(p.get('in', ''))}</td>"
                        f"<td>{'yes' if p.get('required') else 'no'}</td>"
                        f"<td><code>{esc(json.dumps(p.get('schema', {}), ensure_ascii=False))}</code></td></tr>"
                    )
                parts.append("</table>")
            body = op.get("requestBody", {}).get("content", {})
            for media, spec in body.items():
                parts.append(
                    f"<p>Request body ({esc(media)}): "
                    f"<code>{esc(json.dumps(spec.get('schema', {}), ensure_ascii=False))}</code></p>"
                )
            codes = ", ".join(esc(str(c)) for c in op.get("responses", {}))
            parts.append(f"<p>Responses: {codes}</p>")
    parts.append("<h2>Schemas</h2>")
    for name, schema in openapi.get("components", {}).get("schemas", {}).items():
        parts.append(f'<h3 id="schema-{esc(name)}">{esc(name)}</h3>')
        parts.append(f"<pre>{esc(json.dumps(schema, indent=2, ensure_ascii=False))}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _generic_422(responses: dict[str, Any]) -> bool:
    content = responses.get("422", {}).get("content", {})
    return any(
        str(media.get("schema", {}).get("$ref", "")).endswith("/HTTPValidationError") for media in content.values()
    ) or ("422" in responses and not content)


def without_fastapi_422(app: Any) -> None:
    """Our APIs answer validation errors with 400 in their own format; drop FastAPI's generic 422 from the docs
    (a 422 an operation documents itself, such as a refused upload, stays)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            for methods in schema.get("paths", {}).values():
                for operation in methods.values():
                    if isinstance(operation, dict) and _generic_422(operation.get("responses", {})):
                        operation["responses"].pop("422")
            schemas = schema.get("components", {}).get("schemas", {})
            for name in ("HTTPValidationError", "ValidationError"):
                schemas.pop(name, None)
            app.openapi_schema = schema
        return app.openapi_schema  # type: ignore[no-any-return]

    app.openapi = openapi
