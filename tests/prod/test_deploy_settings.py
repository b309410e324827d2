"""Production settings, loaded as a deployment loads them (in a fresh process): secure, and refused when unsafe."""

import json

from ._production import manage, production_env

SHOW = (
    "from django.conf import settings as s; import json; print(json.dumps({"
    "'session_secure': s.SESSION_COOKIE_SECURE, 'csrf_secure': s.CSRF_COOKIE_SECURE,"
    "'session_httponly': s.SESSION_COOKIE_HTTPONLY, 'samesite': [s.SESSION_COOKIE_SAMESITE, s.CSRF_COOKIE_SAMESITE],"
    "'session_age': s.SESSION_COOKIE_AGE, 'hsts': s.SECURE_HSTS_SECONDS, 'ssl_redirect': s.SECURE_SSL_REDIRECT,"
    "'csp': s.SECURE_CSP, 'health_checks': s.DATABASES['default']['CONN_HEALTH_CHECKS'],"
    "'storage': s.STORAGES['staticfiles']['BACKEND'], 'cache': s.CACHES['default']['BACKEND'],"
    "'middleware': s.MIDDLEWARE}))"
)


def test_check_deploy_finds_nothing_to_warn_about_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_lock_cookies_to_https_and_scripts_to_our_own_files():
    result = manage("shell", "-c", SHOW, env=production_env())
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    assert shown["session_secure"] and shown["csrf_secure"] and shown["session_httponly"]
    assert shown["samesite"] == ["Lax", "Lax"]
    assert 8 * 3600 <= shown["session_age"] <= 10 * 3600, "a staff sign-in lasts a working day"
    assert shown["hsts"] >= 180 * 24 * 3600 and shown["ssl_redirect"]
    assert shown["csp"]["script-src"] == ["'self'"], "no inline script, no other origin"
    assert "'unsafe-inline'" not in shown["csp"]["default-src"]
    assert "django.middleware.csp.ContentSecurityPolicyMiddleware" in shown["middleware"]
    assert shown["health_checks"] is True
    assert shown["storage"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert shown["cache"].endswith("RedisCache")


def test_production_refuses_to_start_without_its_own_field_encryption_key():
    result = manage("check", env=production_env(FIELD_ENCRYPTION_KEY=""))
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY must be set in production" in result.stderr


def test_production_refuses_a_field_encryption_key_equal_to_the_secret_key():
    env = production_env()
    env["FIELD_ENCRYPTION_KEY"] = env["SECRET_KEY"]
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY must differ from SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_redis():
    result = manage("check", env=production_env(REDIS_URL=""))
    assert result.returncode != 0
    assert "REDIS_URL must be set in production" in result.stderr


def test_a_developer_machine_still_starts_without_any_keys():
    result = manage("check", env=production_env(DEBUG="1", SECRET_KEY="", FIELD_ENCRYPTION_KEY="", REDIS_URL=""))
    assert result.returncode == 0, result.stderr


DB_OPTIONS = "from django.conf import settings as s; import json; print(json.dumps(s.DATABASES['default']['OPTIONS']))"
POSTGRES = "postgres://postgres@127.0.0.1:5432/petition"


def database_options(**env: str) -> dict:
    result = manage("shell", "-c", DB_OPTIONS, env=production_env(**env))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_postgresql_gets_statements_prepared_except_behind_pgbouncer_in_transaction_mode():
    # Values bound by the server, so psycopg prepares what one connection runs again and again (the booking's SQL).
    direct = database_options(DATABASE_URL=POSTGRES)
    assert direct["server_side_binding"] is True
    # Django passes psycopg prepare_threshold=None (nothing prepared) unless told otherwise: we tell it.
    assert direct["prepare_threshold"] == 5
    assert database_options(DATABASE_URL=POSTGRES, DB_PREPARE_THRESHOLD="2")["prepare_threshold"] == 2
    assert database_options(DATABASE_URL=POSTGRES, DB_PREPARE_THRESHOLD="0")["prepare_threshold"] is None
    # PgBouncer in transaction mode hands each transaction any server connection: nothing may be prepared.
    pooled = database_options(DATABASE_URL=POSTGRES, PGBOUNCER_TRANSACTION_POOLING="1")
    assert pooled["prepare_threshold"] is None
    assert database_options(DATABASE_URL=POSTGRES, DB_SERVER_SIDE_BINDING="0").get("server_side_binding") is None
