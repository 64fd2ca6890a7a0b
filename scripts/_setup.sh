# shellcheck shell=bash
# Shared set-up for scripts/test and scripts/quickstart; source it, do not run it.
# It cds to the repository root and defines the functions below.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT" || exit 1

PYTHON="${PYTHON:-python3}"
VENV_PY="$REPO_ROOT/.venv/bin/python"
_APT_UPDATED=0

# Print a message on stderr.
say() {
    printf '%s\n' "$*" >&2
}

# Print a very visible warning on stderr.
shout() {
    say ""
    say "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    say "!!! $*"
    say "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    say ""
}

# True when we may install Debian packages ourselves (root with apt-get).
can_apt() {
    [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1
}

# apt-get install the given packages (runs apt-get update once per script).
apt_install() {
    if [ "$_APT_UPDATED" -eq 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
        _APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

# Create .venv if missing (installing python3-venv if needed), then
# pip install -e '.[test]' quietly (errors are still shown). The install is
# skipped when pyproject.toml is unchanged since the last successful one.
setup_venv() {
    if ! "$VENV_PY" -c '' >/dev/null 2>&1; then
        say "==> creating .venv with $PYTHON"
        rm -rf .venv
        if ! "$PYTHON" -m venv .venv; then
            rm -rf .venv
            if can_apt; then
                say "==> installing python3-venv with apt-get"
                apt_install python3-venv && "$PYTHON" -m venv .venv || return 1
            else
                say "error: '$PYTHON -m venv' failed; install python3-venv"
                return 1
            fi
        fi
    fi
    local stamp=".venv/.pip-install-stamp" digest
    digest="$(cksum <pyproject.toml)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
        return 0
    fi
    say "==> pip install -e '.[test]'"
    "$VENV_PY" -m pip install --quiet --disable-pip-version-check -e '.[test]' \
        && printf '%s\n' "$digest" >"$stamp"
}

# Make sure redis-server is on PATH, installing it with apt-get when we can.
# Never fails: without redis-server the real-backend tests skip (or fail in CI).
ensure_redis_server() {
    if command -v redis-server >/dev/null 2>&1; then
        return 0
    fi
    if can_apt; then
        say "==> installing redis-server with apt-get"
        apt_install redis-server || true
    fi
    if ! command -v redis-server >/dev/null 2>&1; then
        shout "redis-server is NOT installed: real-Redis tests will be SKIPPED" \
            "(and FAIL when CI=true). Install it, e.g. 'apt-get install redis-server'."
    fi
}
