#!/usr/bin/env bash
# Installs the Debian packages alertd builds and runs with, only when one is missing.
set -euo pipefail
packages=(
  build-essential cmake pkg-config ccache curl
  librdkafka-dev librocksdb-dev libprotobuf-dev protobuf-compiler
  prometheus-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev kcat
  libabsl-dev libcli11-dev libspdlog-dev libfmt-dev libcpp-httplib-dev nlohmann-json3-dev libyaml-cpp-dev
  libkainjow-mustache-dev libssl-dev  # alertd-notify: message templates (mustache.hpp), HMAC signatures
  libjwt-dev  # signed action and view links (JWT HS256), alertd-notify signs and alertd verifies
  clang libclang-rt-14-dev  # the fuzz preset: clang 14 with libFuzzer and the sanitizer runtimes
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
