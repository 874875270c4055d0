#!/usr/bin/env bash
# Installs the Debian packages alertd builds and runs with, only when one is missing.
set -euo pipefail
packages=(
  build-essential cmake pkg-config ccache curl
  librdkafka-dev librocksdb-dev libprotobuf-dev protobuf-compiler libjemalloc-dev  # jemalloc: alertd's allocator
  prometheus-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev kcat
  libabsl-dev libcli11-dev libspdlog-dev libfmt-dev libcpp-httplib-dev nlohmann-json3-dev libyaml-cpp-dev
  libkainjow-mustache-dev libssl-dev  # alertd-notify: message templates (mustache.hpp), HMAC signatures
  libcurl4-openssl-dev prometheus-alertmanager  # alertd-notify: sends (libcurl); its test: a real Alertmanager, amtool
  libjwt-dev  # signed action and view links (JWT HS256), alertd-notify signs and alertd verifies
  clang libclang-rt-14-dev  # the fuzz preset: clang 14 with libFuzzer and the sanitizer runtimes
  chromium nodejs fonts-noto-cjk  # the grid view's browser test: headless Chromium driven from node, CJK glyphs in its screenshots
  prometheus prometheus-alertmanager yamllint shellcheck  # deploy/ checked in make test: promtool, amtool, a real Prometheus scraping alertd, YAML and shell lint
  gnuplot-nox  # make bench: the plot of throughput, latency percentiles and RSS over the run (plot.png)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# The FHIR validator of tests/fhir (@medplum/core 4.5.2, fetched by `npm ci`) needs Node >= 20.19 with npm (NodeSource's nodejs; bookworm's is 18).
command -v node >/dev/null && ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' && echo "warning: node $(node --version) is older than 20.19: the fhir.validator tests will fail" >&2
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
