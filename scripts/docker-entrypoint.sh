#!/bin/sh
# The container's entrypoint. `serve` (the image's default command) brings the schema up to
# date, then becomes the bot: webhook mode when YISHI_WEBHOOK_URL is set, long polling when it
# is not; /healthz and /metrics answer on YISHI_LISTEN either way. Any other command is handed
# to yishi as it is: `docker compose run --rm bot report --period 2026-11`.
set -eu

if [ "$#" -eq 0 ] || [ "$1" = "serve" ]; then
    if [ "$#" -gt 0 ]; then
        shift
    fi
    # Several replicas starting at once should not all migrate: set YISHI_MIGRATE_ON_START=0
    # there and run `yishi migrate` once before rolling them.
    if [ "${YISHI_MIGRATE_ON_START:-1}" = "1" ]; then
        yishi migrate
    fi
    listen="${YISHI_LISTEN:-0.0.0.0:8443}"
    # exec: yishi replaces this shell, so SIGTERM from `docker stop` reaches it directly.
    if [ -n "${YISHI_WEBHOOK_URL:-}" ]; then
        exec yishi run --webhook --url "$YISHI_WEBHOOK_URL" --listen "$listen" "$@"
    fi
    exec yishi run --listen "$listen" "$@"
fi
exec yishi "$@"
