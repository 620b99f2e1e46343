"""The Data API's documentation page, generated from the method registry (GET /v2.0/docs)."""

from __future__ import annotations

from html import escape

from cabinet.apis.data.errors import WIRE
from cabinet.apis.data.params import (
    FILTER_CONDITIONS_MAX,
    FILTER_DEPTH_MAX,
    FILTER_VALUES_MAX,
    LIMIT_DEFAULT,
    LIMIT_MAX,
    OFFSET_MAX,
)
from cabinet.apis.data.protocol import Version
from cabinet.apis.data.registry import REGISTRY, Method
from cabinet.core.clock import DAY_RANGE, MOMENT_RANGE
from cabinet.core.query import allowed_operators
from cabinet.core.query.model import MAX_LIST_VALUES


def _method(method: Method) -> str:
    rows = "".join(
        f"<tr><td><code>{escape(n)}</code></td><td>{p.kind.value}</td><td>{'yes' if p.required else 'no'}</td>"
        f"<td>{escape(p.description)}</td></tr>"
        for n, p in method.params.items()
    )
    parts = [
        f'<section id="{escape(method.name)}"><h2><code>{escape(method.name)}</code></h2>',
        f"<p>{escape(method.summary)}</p>",
        f"<p><b>Rights:</b> {escape(method.rights.text if method.rights else 'anyone (no token yet)')} "
        f"<b>Who:</b> {escape(method.who)}. <b>Points:</b> {method.points}. "
        f"<b>Audit:</b> {method.process_type.value}.</p>",
        "<h3>Parameters</h3><table><tr><th>name</th><th>type</th><th>required</th><th>meaning</th></tr>",
        rows,
        "</table>",
    ]
    if method.fields:
        parts.append(
            "<h3>Fields</h3><table><tr><th>name</th><th>type</th><th>filter</th><th>sort</th><th>default</th>"
            "<th>operators</th><th>meaning</th></tr>"
        )
        for f in method.fields:
            ops = ", ".join(allowed_operators(f.type)) if f.filterable else ""
            parts.append(
                f"<tr><td><code>{escape(f.name)}</code></td><td>{f.type.value}</td>"
                f"<td>{'yes' if f.filterable else 'no'}</td><td>{'yes' if f.sortable else 'no'}</td>"
                f"<td>{'yes' if f.default else 'no'}</td><td>{escape(ops)}</td><td>{escape(f.description)}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</section>")
    return "".join(parts)


def render_docs(version: Version) -> str:
    methods = sorted(REGISTRY.values(), key=lambda m: (m.name.split(".", 1)[1], m.name))
    index = "".join(f'<li><a href="#{escape(m.name)}"><code>{escape(m.name)}</code></a></li>' for m in methods)
    errors = "".join(
        f"<tr><td><code>{escape(k)}</code></td><td>{code}</td><td>{escape(msg)}</td></tr>"
        for k, (code, msg) in WIRE.items()
    )
    deprecated = (
        f"<p><b>This version is deprecated</b>; the latest is v{version.latest}.</p>" if version.deprecated else ""
    )
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>cabinet Data API v{version.number}</title>
<style>body{{font-family:sans-serif;max-width:70em;margin:auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 6px;vertical-align:top}}</style></head><body>
<h1>cabinet Data API v{version.number} (JSON-RPC 2.0)</h1>{deprecated}
<p><code>POST /v{version.number}</code> with <code>{{"jsonrpc": "2.0", "id": ..., "method": "verb.object",
"params": {{"access_token": ..., ...}}}}</code>. Every answer is HTTP 200 JSON with exactly one of
<code>result</code> (<code>{{"data": ..., "metadata": {{...}}}}</code>) or <code>error</code>
(<code>{{"code", "message", "data": {{"mnemonic", "field", "value", "params", "metadata"}}}}</code>).
Batches and notifications are not supported.</p>
<p><b>Machine-readable:</b> <code>rpc.discover</code> (no <code>params</code> or <code>{{}}</code>, no token, no
points) answers an OpenRPC 1.3 document of every method below, also at
<a href="/v{version.number}/openrpc.json"><code>GET /v{version.number}/openrpc.json</code></a>.</p>
<p><b>Authentication:</b> <code>params.access_token</code> is a <code>login.user</code> session key (one hour),
or a permanent or temporary API key issued in the Admin API. Calls are accepted only from the networks on your
company's allow-list (empty: nobody). An agent (PARTNER) acts for a client user with <code>params.user_id</code>;
its address must be on the client company's list.</p>
<p><b>Limits:</b> every successful call costs 1 point of your company's day and minute budgets (login and logout
are free); <code>metadata.limits</code> reports them on every counted answer.</p>
<p><b>get methods:</b> <code>filter</code> (a simple filter or a tree with <code>and</code>/<code>or</code>,
nested at most {FILTER_DEPTH_MAX} deep, at most {FILTER_CONDITIONS_MAX} conditions; a list value of
<code>in</code>, <code>not_in</code>, <code>overlap</code> or <code>not_overlap</code> holds 1..{MAX_LIST_VALUES}
values, at most {FILTER_VALUES_MAX} in the whole filter; more is <code>invalid_parameter_value</code>),
<code>sort</code>, <code>fields</code>, <code>offset</code> (0..{OFFSET_MAX}, default 0),
<code>limit</code> (1..{LIMIT_MAX}, default {LIMIT_DEFAULT}); <code>metadata.total_items</code> counts every match.
Date-times are <code>YYYY-MM-DD hh:mm:ss</code> in your user's timezone, in answers and in filters; a date-time
taken in (filters, report dates) must lie within {MOMENT_RANGE} once converted to UTC, a date within {DAY_RANGE}
(outside: <code>invalid_parameter_value</code>). Report methods
take <code>date_from</code>/<code>date_till</code>, at most 3 months apart. <code>jsquery</code> is not supported
(<code>invalid_parameter_value</code>); <code>like</code> is case-sensitive, <code>ilike</code> is not;
<code>regexp</code> is a regular expression in RE2 syntax (linear time; no back-references or look-arounds).</p>
<h2>Methods</h2><ul>{index}</ul>{"".join(_method(m) for m in methods)}
<h2>Errors</h2><table><tr><th>mnemonic</th><th>code</th><th>message</th></tr>{errors}</table>
</body></html>"""
