#!/bin/sh
# The image's entry points (deploy/Dockerfile); anything else runs as given.
set -e
case "$1" in
    web)
        # One daphne node; PORT per node when several share a host.
        exec python manage.py serve --host 0.0.0.0 --port "${PORT:-8000}"
        ;;
    worker)
        exec celery -A cpms worker --loglevel "${LOG_LEVEL:-INFO}"
        ;;
    beat)
        # One beat for the whole installation: two would queue every periodic task twice.
        exec celery -A cpms beat --loglevel "${LOG_LEVEL:-INFO}" --schedule /app/var/celerybeat-schedule
        ;;
    migrate)
        exec python manage.py migrate --noinput
        ;;
    *)
        exec "$@"
        ;;
esac
