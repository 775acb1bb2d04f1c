#!/usr/bin/env bash
# check-layers.sh: fails when a source file includes a header of a higher
# (or sibling) layer.  The layers and what each may use are in src/LAYERS,
# which the build reads too (each layer compiles against its own and the
# allowed layers' headers only); this check names the offending line and
# runs without a build.  tools/, bench/ and tests/ stand on top.
#
# With --symbols BUILD it also reads the built libraries (libmignet_*.a):
# no layer may leave undefined a symbol that only a layer it may not use
# defines -- a call the includes did not show.
#
# Usage: scripts/check-layers.sh [--symbols BUILD] [ROOT]
set -euo pipefail
symbols=
if [ "${1:-}" = --symbols ]; then
  symbols=$(cd "${2:?--symbols needs a build folder}" && pwd); shift 2
fi
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"

declare -A below hdrs
layers=()
while IFS='|' read -r name uses pats; do
  name=$(echo $name)
  [ -n "$name" ] || continue
  layers+=("$name")
  below[$name]=$(echo $uses)
  hdrs[$name]=$(echo $pats)
done < <(grep -E '^[a-z]' src/LAYERS)

# The layer of a file path or of an include as written.
layer_of() {
  local p=${1#include/} l pat
  case "$p" in
    tools/*|bench/*|tests/*) echo top; return ;;
    src/*) p=${p#src/} ;;
  esac
  for l in "${layers[@]}"; do
    [[ "$p" == "$l"/* ]] && { echo "$l"; return; }
    for pat in ${hdrs[$l]}; do
      # shellcheck disable=SC2053
      [[ "$p" == $pat ]] && { echo "$l"; return; }
    done
  done
  case "$p" in mignet/*|openflow/*) echo unassigned ;; *) echo unknown ;; esac
}

bad=0
while IFS= read -r file; do
  from=$(layer_of "$file")
  case "$from" in
    unknown) continue ;;
    unassigned) echo "$file: public header with no layer in src/LAYERS" >&2
                bad=1; continue ;;
  esac
  if [ "$from" = top ]; then ok=" ${layers[*]} top "
  else ok=" $from ${below[$from]} "; fi
  dir=$(dirname "$file")
  while IFS=: read -r line inc; do
    [ -n "$inc" ] || continue
    case "$inc" in
      ../*|*/../*) echo "$file:$line: \"$inc\" climbs out of its folder" >&2
                   bad=1; continue ;;
    esac
    # A bare name is a header next to the file.
    if [[ "$inc" != */* ]] && [ -e "$dir/$inc" ]; then continue; fi
    to=$(layer_of "$inc")
    case "$to" in
      unknown) continue ;;
      unassigned) echo "$file:$line: \"$inc\" has no layer in src/LAYERS" >&2
                  bad=1; continue ;;
    esac
    if [[ "$ok" != *" $to "* ]]; then
      echo "$file:$line: $from includes \"$inc\" of layer $to," \
           "which $from may not use (src/LAYERS)" >&2
      bad=1
    fi
  done < <(grep -n -o -E '^[[:space:]]*#[[:space:]]*include[[:space:]]+"[^"]+"' \
             "$file" | sed -E 's/^([0-9]+):.*"([^"]+)"/\1:\2/')
done < <(if git rev-parse --git-dir >/dev/null 2>&1; then
           git ls-files -co --exclude-standard -- 'src/*.[ch]' 'include/*.h' \
             'tools/*.c' 'bench/*.c'
         else
           find src include tools bench -name '*.[ch]'
         fi)
if [ -n "$symbols" ]; then
  for from in "${layers[@]}"; do
    lib=$symbols/libmignet_$from.a
    [ -f "$lib" ] || continue
    ok=" $from ${below[$from]} "
    for to in "${layers[@]}"; do
      [[ "$ok" == *" $to "* ]] && continue
      [ -f "$symbols/libmignet_$to.a" ] || continue
      while read -r sym; do
        echo "$lib: uses $sym of layer $to, which $from may not use" >&2
        bad=1
      done < <(comm -12 \
        <(nm -u "$lib" 2>/dev/null | awk '{print $2}' | sort -u) \
        <(nm --defined-only "$symbols/libmignet_$to.a" 2>/dev/null \
            | awk '$2 ~ /^[TDBR]$/ {print $3}' | sort -u))
    done
  done
fi
if [ "$bad" -ne 0 ]; then
  echo "layers: an include goes up a layer (src/LAYERS, docs/architecture.md)" >&2
  exit 1
fi
echo "layers: every include goes down (src/LAYERS)${symbols:+, and every symbol}"
