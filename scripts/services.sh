#!/usr/bin/env bash
# Makes sure the real services the tests use are running on localhost: PostgreSQL, Redis,
# RabbitMQ and Mosquitto. Installs them from Debian's packages when missing (needs root)
# and starts each one that is not answering, with the machine's standard commands.
set -euo pipefail

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {
    local name=$1 port=$2
    for _ in $(seq 1 60); do
        listening "$port" && return 0
        sleep 1
    done
    echo "services: $name did not start on port $port" >&2
    return 1
}

apt_updated=0
ensure_package() {
    local binary=$1 package=$2
    if command -v "$binary" >/dev/null 2>&1 || [[ -x "$binary" ]]; then
        return 0
    fi
    if [[ $(id -u) -ne 0 ]]; then
        echo "services: $package is not installed and this is not root" >&2
        return 1
    fi
    if [[ $apt_updated -eq 0 ]]; then
        apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
}

if ! listening 5432; then
    ensure_package pg_ctlcluster postgresql
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
    wait_for PostgreSQL 5432
fi
if ! listening 6379; then
    ensure_package redis-server redis-server
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
        --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
    wait_for Redis 6379
fi
if ! listening 5672; then
    ensure_package rabbitmq-server rabbitmq-server
    rabbitmq-server -detached
    wait_for RabbitMQ 5672
fi
if ! listening 1883; then
    ensure_package mosquitto mosquitto
    mosquitto -d -c /etc/mosquitto/mosquitto.conf
    wait_for Mosquitto 1883
fi
# the tests connect to PostgreSQL as "postgres" over TCP without a password (trust, as on
# this machine kind); say so plainly if the server wants one
if command -v psql >/dev/null && ! psql -h 127.0.0.1 -U postgres -d postgres -c 'select 1' >/dev/null 2>&1; then
    echo "services: cannot log in to PostgreSQL as postgres on 127.0.0.1 (trust auth expected)" >&2
    exit 1
fi
