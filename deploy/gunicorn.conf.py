"""gunicorn for the petition scheduler: `gunicorn -c deploy/gunicorn.conf.py scheduler.wsgi` (see deploy/README.md).

Every value can be changed from the environment without editing this file.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
# Sync workers, twice the cores: measured on 2 cores, 4 sync workers gave the steadiest tails (gthread gained nothing).
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * multiprocessing.cpu_count())
worker_class = "sync"
# A request still running after this is killed and logged; no page or API call here needs more than a few seconds.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))  # longer than nothing, shorter than the load balancer's
# Recycle workers now and then, staggered, so a slow leak never reaches the memory limit.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
# Worker heartbeats in memory, not on a disk that may stall (gunicorn's own advice for containers).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - a directory, not a file
# Only a proxy we run may say which address a request came from (the same switch as Django's TRUST_PROXY).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1") if os.environ.get("TRUST_PROXY") == "1" else ""
proc_name = "petition-scheduler"
# gunicorn's control socket (gunicornc) sits at one path per user, so several instances on a host would share it:
# only on request. systemd and the load balancer manage the processes with signals and /health/.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET") or None
control_socket_disable = not control_socket

# The access log: method, path WITHOUT the query string, status, size, milliseconds. No query string, referrer or
# user agent (they can carry ID numbers, mobiles, tokens); what is left still passes through the same redaction
# filter as every other log line here.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_personal_data": {"()": "scheduler.log_filters.RedactPersonalData"}},
    "formatters": {"plain": {"format": "%(message)s"}, "error": {"format": "[%(asctime)s] [%(process)d] %(message)s"}},
    "handlers": {
        "access": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_personal_data"],
            "stream": "ext://sys.stdout",
        },
        "error": {
            "class": "logging.StreamHandler",
            "formatter": "error",
            "filters": ["redact_personal_data"],
            "stream": "ext://sys.stderr",
        },
    },
    "root": {"handlers": ["error"], "level": "INFO"},  # until Django's own LOGGING takes over in each worker
    "loggers": {
        "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        "gunicorn.error": {"handlers": ["error"], "level": loglevel.upper(), "propagate": False},
    },
}
