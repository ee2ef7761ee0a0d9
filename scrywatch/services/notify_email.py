"""Alert email: a multipart (plain text + HTML) message sent with smtplib per [smtp].

`send_email` blocks; services/notify.py runs it on its own thread pool, never on the event loop.
"""

from __future__ import annotations

import html
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from scrywatch.config import SmtpConfig
from scrywatch.services.notify_formats import Attempt, Notice, condition, iso, sample_line, title


def _one_line(text: str) -> str:
    return " ".join(text.split())  # headers must not carry newlines from rule names


def build_email(n: Notice, *, to: str, from_address: str) -> EmailMessage:
    """Subject naming the rule and count; plain-text and HTML bodies with the same facts."""
    r = n.rule
    msg = EmailMessage()
    msg["Subject"] = _one_line(f"[ScryWatch] {title(n)}")
    msg["From"] = from_address
    msg["To"] = to
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=from_address.rpartition("@")[2] or "scrywatch.local")
    facts = [("Rule", r.name), ("Condition", condition(r)), ("Window", f"{r.window_minutes} min"),
             ("Threshold", str(r.threshold)), ("Project", n.project_name),
             ("Between", f"{iso(n.from_ms)} and {iso(n.to_ms)}")]
    if n.count is not None:
        facts.insert(1, ("Matched events", str(n.count)))
    samples = [sample_line(e) for e in n.sample_events]
    plain = [title(n), "", *(f"{k}: {v}" for k, v in facts)]
    if samples:
        plain += ["", "Recent events:", *(f"  {s}" for s in samples)]
    if n.link:
        plain += ["", f"Open in Log Explorer: {n.link}"]
    msg.set_content("\n".join(plain) + "\n")
    msg.add_alternative(_html_body(n, facts, samples), subtype="html")
    return msg


def _html_body(n: Notice, facts: list[tuple[str, str]], samples: list[str]) -> str:
    e = html.escape
    rows = "".join(f"<tr><th align='left'>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in facts)
    parts = [f"<h2>{e(title(n))}</h2>", f"<table cellpadding='4'>{rows}</table>"]
    if samples:
        items = "".join(f"<li><code>{e(s)}</code></li>" for s in samples)
        parts.append(f"<h3>Recent events</h3><ul>{items}</ul>")
    if n.link:
        parts.append(f"<p><a href=\"{e(n.link)}\">Open in Log Explorer</a></p>")
    return "<!doctype html><html><body>" + "".join(parts) + "</body></html>\n"


def send_email(cfg: SmtpConfig, msg: EmailMessage, *, to: str) -> Attempt:
    """One SMTP attempt (blocking). 5xx replies are permanent; anything else may be retried."""
    if not cfg.host:
        return Attempt(ok=False, error="SMTP is not configured: set [smtp] host", permanent=True)
    try:
        client: smtplib.SMTP
        if cfg.ssl:
            client = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_seconds,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
        with client:
            client.ehlo()
            if cfg.starttls and not cfg.ssl:
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if cfg.username:
                client.login(cfg.username, cfg.password)
            client.send_message(msg, from_addr=cfg.from_address, to_addrs=[to])
        return Attempt(ok=True, status=250)  # send_message raises unless the server answered 250
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()), (0, b""))
        return Attempt(ok=False, status=code or None, error=f"recipient refused: {code} {_text(reply)}",
                       permanent=500 <= code < 600)
    except smtplib.SMTPResponseException as exc:
        return Attempt(ok=False, status=exc.smtp_code, error=f"SMTP {exc.smtp_code} {_text(exc.smtp_error)}",
                       permanent=500 <= exc.smtp_code < 600)
    except TimeoutError:
        return Attempt(ok=False, error=f"timed out after {cfg.timeout_seconds:g} s")
    except (smtplib.SMTPException, OSError) as exc:
        return Attempt(ok=False, error=f"{type(exc).__name__}: {exc}"[:500])


def _text(reply: bytes | str) -> str:
    return (reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply)[:300]
