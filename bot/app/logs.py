"""Logs as text or as JSON lines (LOG_FORMAT), each line of one request carrying its id.

The WSGI app gives every request an id (`REQUEST_ID`, also sent back as the
`X-Request-Id` header); the listener threads (`ContextExecutor`) and the publisher
(`Services.after_ack`) run in a copy of the request's context, so whatever they log
carries the same id. gunicorn's access line is written after the request is over,
so it takes the id from that header.
"""

from __future__ import annotations

import contextvars
import logging
import uuid
from concurrent.futures import Future, ThreadPoolExecutor

from pythonjsonlogger.json import JsonFormatter

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
REQUEST_ID_HEADER = "X-Request-Id"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# gunicorn's access line in JSON mode: the fields say what the line is, the message what happened.
JSON_ACCESS_FORMAT = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
ACCESS_LOGGER = "gunicorn.access"


def new_request_id() -> str:
    return uuid.uuid4().hex


class ContextExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks run in a copy of the submitting thread's context."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to a record made while a request is being handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = REQUEST_ID.get()
        if request_id is None and record.name == ACCESS_LOGGER and isinstance(record.args, dict):
            # gunicorn's atoms: response headers are keyed "{name}o", lower case.
            request_id = record.args.get("{%s}o" % REQUEST_ID_HEADER.lower())
        if request_id:
            record.request_id = request_id
        return True


def json_formatter() -> logging.Formatter:
    """One JSON object per line: time, level, logger, message, pid, request_id and the
    exception's traceback when there is one."""
    return JsonFormatter(
        "{message}{levelname}{name}{process}", style="{", timestamp="time",
        rename_fields={"levelname": "level", "name": "logger", "process": "pid", "exc_info": "exception"},
    )


def formatter(log_format: str) -> logging.Formatter:
    return json_formatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def configure_logging(log_format: str) -> None:
    """Log INFO and above to stderr in `log_format` ("text" or "json")."""
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(log_format))
    handler.addFilter(RequestIdFilter())
    logging.basicConfig(level=logging.INFO, handlers=[handler])


def gunicorn_logging(log_format: str) -> dict[str, object]:
    """gunicorn settings that make its own lines (errors and access) match `log_format`."""
    if log_format != "json":
        return {}
    from gunicorn import glogging

    class JsonLinesLogger(glogging.Logger):
        def setup(self, cfg) -> None:
            super().setup(cfg)
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    handler.setFormatter(json_formatter())
                    handler.addFilter(RequestIdFilter())

    return {"logger_class": JsonLinesLogger, "access_log_format": JSON_ACCESS_FORMAT}
