#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The documents a newcomer and a maintainer read: the README fits on a screen or two,
# tests/README.md maps every test, and every relative link in the README and docs/
# names a file that exists.
source "$(dirname "$0")/../lib/sandbox.sh"
sandbox_init
top=$(cd "$(dirname "$0")/../.." && pwd)

ok "the README is at most 200 lines ($(wc -l <"$top/README.md"))" test "$(wc -l <"$top/README.md")" -le 200
missing=()
for f in "$top"/tests/t/*.t "$top"/tests/unit/test_*.c; do
    name=$(basename "$f")
    grep -qF "\`$name\`" "$top/tests/README.md" || missing+=("$name")
done
is "${missing[*]-}" "" "tests/README.md maps every tests/t/*.t and tests/unit/test_*.c"
unknown=()
for name in $(grep -oE '`([0-9]{2}-[a-z0-9-]+\.t|test_[a-z0-9_]+\.c)`' "$top/tests/README.md" | tr -d '`' | sort -u); do
    [[ -e $top/tests/t/$name || -e $top/tests/unit/$name ]] || unknown+=("$name")
done
is "${unknown[*]-}" "" "and names no test that does not exist"
broken=()
for doc in "$top/README.md" "$top/HACKING.md" "$top"/docs/*.md "$top/tests/README.md" "$top/bench/README.md"; do
    dir=$(dirname "$doc")
    # markdown links [text](target), relative ones only, without their #anchor
    while read -r target; do
        [[ -e $dir/$target ]] || broken+=("${doc#"$top"/} -> $target")
    done < <(grep -oE '\]\([^)#]+' "$doc" | sed 's/^](//' | grep -vE '^[a-z]+:' || true)
done
is "${broken[*]-}" "" "every relative link in the README, HACKING.md, docs/, tests/ and bench/ resolves"
# the license, one SPDX line first in each C file, after the shebang (or first) in each script
unlicensed=() looked=0
while read -r f; do
    looked=$(( looked + 1 ))
    case $f in
    *.c | *.h) head -n 1 "$f" | grep -q "SPDX-License-Identifier: BSD-2-Clause" || unlicensed+=("$f") ;;
    *) head -n 2 "$f" | grep -q "SPDX-License-Identifier: BSD-2-Clause" || unlicensed+=("$f") ;;
    esac
done < <(cd "$top" && git ls-files 'src/*.[ch]' 'tests/*.[ch]' 'tests/*.t' 'tests/*.sh' 'tests/*.py' 'bench/*.sh' \
    'bench/*.py' 'scripts/*' 'contrib/notify/*' '.ci/*' Makefile)
ok "the files of a checkout looked at ($looked)" test "$looked" -gt 100
is "${unlicensed[*]-}" "" "every source file and script carries its SPDX license line"
ok "LICENSE is BSD-2-Clause" grep -q "Redistribution and use in source and binary forms" "$top/LICENSE"
done_testing
