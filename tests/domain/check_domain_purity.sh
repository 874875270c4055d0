#!/bin/sh
# Fails if any C++ file under the given directory (engine/domain) includes anything but the C++
# standard library or engine/domain's own headers. Usage: check_domain_purity.sh DIR
set -u
dir=${1:?usage: check_domain_purity.sh DIR}
[ -d "$dir" ] || { echo "no such directory: $dir" >&2; exit 2; }

# Standard headers, C++23 plus the C compatibility headers; nothing with a '/' is standard.
std_headers=" algorithm any array atomic barrier bit bitset cassert ccomplex cctype cerrno cfenv cfloat
 charconv chrono cinttypes ciso646 climits clocale cmath codecvt compare complex concepts
 condition_variable coroutine csetjmp csignal cstdalign cstdarg cstdbool cstddef cstdint cstdio cstdlib
 cstring ctgmath ctime cuchar cwchar cwctype deque exception execution expected filesystem flat_map
 flat_set format forward_list fstream functional future generator initializer_list iomanip ios iosfwd
 iostream istream iterator latch limits list locale map mdspan memory memory_resource mutex new numbers
 numeric optional ostream print queue random ranges ratio regex scoped_allocator semaphore set
 shared_mutex source_location span spanstream sstream stack stacktrace stdexcept stdfloat stop_token
 streambuf string string_view strstream syncstream system_error thread tuple type_traits typeindex
 typeinfo unordered_map unordered_set utility valarray variant vector version
 assert.h ctype.h errno.h fenv.h float.h inttypes.h limits.h locale.h math.h setjmp.h signal.h
 stdarg.h stddef.h stdint.h stdio.h stdlib.h string.h time.h uchar.h wchar.h wctype.h "
# shellcheck disable=SC2086 # word splitting folds the list onto one line
std_headers=" $(echo $std_headers) "

files=$(find "$dir" -type f \( -name '*.h' -o -name '*.hh' -o -name '*.hpp' -o -name '*.cc' -o -name '*.cpp' \
  -o -name '*.cxx' -o -name '*.inc' -o -name '*.ipp' \) | sort)
[ -n "$files" ] || { echo "no C++ files under $dir" >&2; exit 2; }

bad=0
checked=0
for f in $files; do
  checked=$((checked + 1))
  # Every preprocessor include, however spaced: '#include', '#  include', '# include_next'.
  grep -nE '^[[:space:]]*#[[:space:]]*include' "$f" | while IFS= read -r line; do
    spec=$(printf '%s\n' "$line" | sed -E 's/^[0-9]+:[[:space:]]*#[[:space:]]*include(_next)?[[:space:]]*//; s/[[:space:]]*(\/\/.*|\/\*.*)?$//')
    case "$spec" in
      \<*\>)
        name=${spec#<}; name=${name%>}
        case "$std_headers" in
          *" $name "*) continue ;;
        esac
        ;;
      \"engine/domain/*\")
        name=${spec#\"}; name=${name%\"}
        case "$name" in
          *..*) ;;
          *) continue ;;
        esac
        ;;
    esac
    echo "$f:${line%%:*}: not the standard library or engine/domain: $spec"
  done
done > "${TMPDIR:-/tmp}/domain_purity.$$" 2>&1
if [ -s "${TMPDIR:-/tmp}/domain_purity.$$" ]; then
  cat "${TMPDIR:-/tmp}/domain_purity.$$"
  bad=1
fi
rm -f "${TMPDIR:-/tmp}/domain_purity.$$"
if [ "$bad" -ne 0 ]; then
  echo "FAIL: engine/domain must stay pure (see STYLE.md): only <std> and \"engine/domain/...\" includes" >&2
  exit 1
fi
echo "OK: $checked files under $dir include only the standard library and engine/domain"
