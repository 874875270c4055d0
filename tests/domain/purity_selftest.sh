#!/bin/sh
# Proves check_domain_purity.sh catches third-party includes and passes pure code, on scratch trees.
# Usage: purity_selftest.sh PATH/TO/check_domain_purity.sh
set -u
checker=${1:?usage: purity_selftest.sh CHECKER}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/domain_purity_selftest.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
failures=0

# expect NAME pure|impure LINE...: writes the lines to NAME/x.h and checks the verdict.
expect() {
  name=$1; want=$2; shift 2
  mkdir -p "$scratch/$name"
  printf '%s\n' "$@" > "$scratch/$name/x.h"
  if sh "$checker" "$scratch/$name" > "$scratch/$name.out" 2>&1; then got=pure; else got=impure; fi
  if [ "$got" != "$want" ]; then
    echo "FAIL $name: expected $want, checker said $got"; cat "$scratch/$name.out"
    failures=$((failures + 1))
  else
    echo "ok   $name: $want"
  fi
}

expect std_and_domain pure '#pragma once' '#include <cstdint>' '#include <string_view>' \
  '#include "engine/domain/types.h"' '  #  include <vector>  // why' '// #include <rocksdb/db.h>'
expect c_compat_header pure '#include <stdint.h>'
expect rocksdb impure '#include <rocksdb/db.h>'
expect rocksdb_quoted impure '#include "rocksdb/db.h"'
expect librdkafka impure '#include <librdkafka/rdkafkacpp.h>'
expect protobuf impure '#include <google/protobuf/message.h>'
expect generated_pb impure '#include "proto/health.pb.h"'
expect absl impure '#include "absl/status/statusor.h"'
expect spdlog_spaced impure '  #   include <spdlog/spdlog.h>'
expect fmt impure '#include <fmt/format.h>'
expect other_engine_folder impure '#include "engine/state/store.h"'
expect escapes_domain impure '#include "engine/domain/../kafka/codec.h"'
expect bare_quoted impure '#include "types.h"'
expect gtest impure '#include <gtest/gtest.h>'
expect include_next impure '#include_next <rocksdb/db.h>'

# A clean file next to a dirty one still fails.
mkdir -p "$scratch/mixed"
printf '#include <string>\n' > "$scratch/mixed/a.h"
printf '#include <string>\n#include <nlohmann/json.hpp>\n' > "$scratch/mixed/b.cc"
if sh "$checker" "$scratch/mixed" > /dev/null 2>&1; then
  echo "FAIL mixed: a dirty .cc beside a clean .h passed"; failures=$((failures + 1))
else
  echo "ok   mixed: impure"
fi

[ "$failures" -eq 0 ] || { echo "$failures self-test case(s) failed"; exit 1; }
echo "all self-test cases passed"
