# setup.sh: sourced by scripts/train and scripts/test. Installs what is missing, configures, builds.
# Safe to re-run: each step does nothing when its work is already done.
#   usage (from a script): source scripts/setup.sh; setup_build <build-dir> [extra Debian packages...]
#   AG_BUILD_TARGETS="a b" before setup_build builds only those ninja targets (default: everything)

# Debian 12 packages the build needs (doctest is found through its CMake config, hence cmake).
AG_BUILD_PACKAGES="g++ meson ninja-build pkg-config cmake libxsimd-dev libfmt-dev doctest-dev libutf8proc-dev nlohmann-json3-dev libcli11-dev"
# What scripts/train's dataset (textclf --data fortunes-lang) reads: Debian's fortune files in four languages.
AG_TRAIN_PACKAGES="fortunes fortunes-de fortunes-it fortunes-es"

# Installs the Debian packages given as arguments that are not installed yet.
ensure_packages() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "attograd needs these Debian packages. Install them, then run this command again:" >&2
        echo "    sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    echo "Installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}"
}

# Configures (once) and builds the release build in $1.
setup_build() {
    local dir="$1"
    shift
    # shellcheck disable=SC2086
    ensure_packages $AG_BUILD_PACKAGES "$@"
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" --buildtype=release
    fi
    # shellcheck disable=SC2086
    ninja -C "$dir" ${AG_BUILD_TARGETS:-}
}
