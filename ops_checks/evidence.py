"""Small helpers that put evidence (tables, JSON) into the HTML report, redacted: titles, column
headers and values alike; JSON field by field, so a field is masked for its value or a secret name."""

import html
import json

from pytest_html import extras as html_extras

from procedures.redact import redact, redact_data


def table(extras: list, title: str, rows: list[dict]) -> None:
    """Attach rows as an HTML table under the step."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    head = "".join(f"<th>{html.escape(redact(str(c)))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(redact(str(row.get(c, ''))))}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    extras.append(html_extras.html(
        f"<p><b>{html.escape(redact(title))}</b></p><table border='1' cellpadding='3'>"
        f"<tr>{head}</tr>{body}</table>"
    ))


def data(extras: list, title: str, value) -> None:
    """Attach a JSON document under the step."""
    text = json.dumps(redact_data(json.loads(json.dumps(value, default=str))), indent=2, sort_keys=True)
    extras.append(html_extras.html(
        f"<p><b>{html.escape(redact(title))}</b></p><pre>{html.escape(text)}</pre>"
    ))
