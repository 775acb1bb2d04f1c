#!/usr/bin/env bash
# The layering rule (src/LAYERS) holds, and both guards catch a break:
# scripts/check-layers.sh names an upward include, and the build refuses to
# compile it (a layer sees only its own and its allowed layers' headers).
# Works on a scratch copy of the tracked tree; the checkout is not touched.
set -euo pipefail
src=${MIGNET_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

(cd "$src" && git ls-files -co --exclude-standard -z \
   | xargs -0 cp --parents -t "$tmp" 2>/dev/null) \
  || (cd "$src" && tar cf - --exclude=./build* . | tar xf - -C "$tmp")
cd "$tmp"
rm -rf .git

# 1. The tree as it is passes.
scripts/check-layers.sh >/dev/null || fail "the tree itself breaks the layers"

# 2. Upward and sideways includes are named, with file and line.
add_include() { # before the file's first #include, outside any comment
  sed -i "0,/^#include/s|^#include|#include \"$2\"\n#include|" "$1"
  grep -q "^#include \"$2\"" "$1" || fail "could not edit $1"
}
expect_refusal() {
  local file=$1 inc=$2 want=$3 out
  cp "$file" "$file.orig"
  add_include "$file" "$inc"
  if out=$(scripts/check-layers.sh 2>&1); then
    fail "check-layers accepted $file including $inc"
  fi
  grep -q "$file:[0-9]*: .*$want" <<<"$out" || fail "unclear refusal: $out"
  mv "$file.orig" "$file"
}
expect_refusal src/lib/util.c mignet/core.h "lib includes \"mignet/core.h\" of layer core"
expect_refusal src/model/model.c proto/chan_msg.h "of layer proto"
expect_refusal src/proto/chan_msg.c agent/agent.h "of layer agent"
expect_refusal src/core/config.c mignet/planner.h "of layer planner"
expect_refusal src/agent/main.c mignet/core.h "of layer core"
expect_refusal src/controller/main.c cli/cli.h "of layer cli"
scripts/check-layers.sh >/dev/null || fail "restoring the files did not pass"

# 3. A public header must be given a layer.
touch include/mignet/stray.h
if scripts/check-layers.sh >/dev/null 2>&1; then
  fail "a public header without a layer passed"
fi
rm include/mignet/stray.h

# 4. The build itself refuses the upward include: lib cannot even find the
# core's header.
command -v cmake >/dev/null && command -v ninja >/dev/null || exit 0
cp src/lib/util.c util.c.orig
add_include src/lib/util.c mignet/core.h
cmake -S . -B b -G Ninja >/dev/null
if ninja -C b CMakeFiles/mignet_lib.dir/src/lib/util.c.o >b.log 2>&1; then
  fail "the build compiled lib with an include of the core"
fi
grep -q 'mignet/core.h: No such file' b.log \
  || fail "the build failed for another reason: $(tail -5 b.log)"
# ... and the same file builds once the include is gone.
cp util.c.orig src/lib/util.c
ninja -C b CMakeFiles/mignet_lib.dir/src/lib/util.c.o >b.log 2>&1 \
  || fail "lib's util.c does not build without the include: $(tail -5 b.log)"

# 5. A call that no include shows: lib declares a core function itself.
# The libraries build; the symbol check names it.
ninja -C b mignet_lib mignet_core >b.log 2>&1 \
  || fail "the libraries do not build: $(tail -5 b.log)"
scripts/check-layers.sh --symbols b >/dev/null \
  || fail "the symbol check refused the tree as it is"
cat >>src/lib/util.c <<'EOC'
unsigned long core_n_tasks(const void *);
unsigned long layers_probe(void);
unsigned long
layers_probe(void)
{
    return core_n_tasks(0);
}
EOC
ninja -C b mignet_lib >b.log 2>&1 \
  || fail "lib with a hidden call does not build: $(tail -5 b.log)"
if out=$(scripts/check-layers.sh --symbols b 2>&1); then
  fail "the symbol check accepted lib calling the core"
fi
grep -q 'libmignet_lib.a: uses core_n_tasks of layer core' <<<"$out" \
  || fail "unclear symbol refusal: $out"
echo "layers: the check and the build refuse upward includes and calls"
