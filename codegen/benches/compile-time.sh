#!/usr/bin/env bash
# What a build-script user pays on every clean build: `cargo check` of one spec's generated
# crate, types alone and types + client, with every feature and with one resource's feature,
# beside the same spec's crate from ploidy (if `ploidy` is on PATH: `cargo install ploidy`).
#
#   codegen/benches/compile-time.sh [SPEC] [FEATURE] [PLOIDY_FEATURE]
#
# SPEC defaults to the corpus's Stripe 2022-04-12, FEATURE to `customers` (our resource
# feature), PLOIDY_FEATURE to `customer` (ploidy's). ROUNDS (default 3) rounds, interleaved:
# each round checks every variant once, after `cargo clean -p` of its crate, so the crate is
# checked from nothing (incremental cache included) and its dependencies are not: what a
# build-script user pays on a clean build, less the dependencies. Prints every run, then min
# and median per variant. The scratch crates and their target directory live under WORK
# (default: target/compile-time); dependencies are built once, untimed.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
spec="${1:-$root/../shared/corpus/stripe-spec3-2022-04-12.json}"
feature="${2:-customers}"
ploidy_feature="${3:-customer}"
rounds="${ROUNDS:-3}"
work="${WORK:-$root/target/compile-time}"
[ -f "$spec" ] || { echo "no spec at $spec" >&2; exit 2; }

mkdir -p "$work/ws"
ws="$work/ws"
cargo build -q --release -p codegen --features cli --manifest-path "$root/Cargo.toml"
codegen="${CARGO_TARGET_DIR:-$root/target}/release/codegen"

deps='serde = { version = "1.0.181", features = ["derive"] }
serde_json = { version = "1.0", features = ["preserve_order"] }
serde_path_to_error = "0.1"'

# crate NAME CODE_FILE FEATURES...: a crate including the module privately.
crate() {
    local name=$1 code=$2
    shift 2
    mkdir -p "$ws/$name/src"
    cp "$code" "$ws/$name/src/api.rs"
    {
        printf '[package]\nname = "%s"\nversion = "0.0.0"\nedition = "2024"\npublish = false\n\n[dependencies]\n%s\n\n[features]\n' "$name" "$deps"
        for f in "$@"; do printf '%s = []\n' "$f"; done
    } > "$ws/$name/Cargo.toml"
    printf '#[allow(deprecated, clippy::all)]\nmod api;\n' > "$ws/$name/src/lib.rs"
}

members=()
variants=()
for client in none portable; do
    name="ours_$client"
    "$codegen" generate "$spec" --client "$client" -o "$work/$name.rs"
    crate "$name" "$work/$name.rs"
    members+=("$name")
    variants+=("$name:")
    name="ours_${client}_per_tag"
    if ! "$codegen" generate "$spec" --client "$client" --feature-per-tag -o "$work/$name.rs" 2> "$work/$name.features"; then
        cat "$work/$name.features" >&2
        exit 2
    fi
    mapfile -t features < <(grep ' = \[\]$' "$work/$name.features" | cut -d' ' -f1)
    if ! printf '%s\n' "${features[@]}" | grep -qx -- "$feature"; then
        echo "the spec has no feature $feature; its features: ${features[*]}" >&2
        exit 2
    fi
    crate "$name" "$work/$name.rs" "${features[@]}"
    members+=("$name")
    variants+=("$name:--all-features" "$name:--features=$feature" "$name:")
done
if command -v ploidy > /dev/null; then
    rm -rf "$work/ploidy"
    ploidy generate rust "$spec" -o "$work/ploidy" --name stripe_ploidy > /dev/null
    rm -rf "$ws/stripe_ploidy"
    cp -r "$work/ploidy" "$ws/stripe_ploidy"
    members+=(stripe_ploidy)
    variants+=("stripe_ploidy:--all-features" "stripe_ploidy:--no-default-features --features=$ploidy_feature")
else
    echo "ploidy: not on PATH, left out (cargo install ploidy)" >&2
fi
{
    printf '[workspace]\nresolver = "3"\nmembers = ['
    printf '"%s", ' "${members[@]}"
    printf ']\n'
} > "$ws/Cargo.toml"

export CARGO_TARGET_DIR="$work/target"
cd "$ws"
# Dependencies once, untimed.
for m in "${members[@]}"; do cargo check -q -p "$m" --all-features 2> /dev/null || true; done
for m in "${members[@]}"; do
    printf '%s: %s lines of Rust\n' "$m" "$(cat "$m"/src/*.rs "$m"/src/*/*.rs 2> /dev/null | wc -l)"
done

results="$work/results.tsv"
: > "$results"
for r in $(seq 1 "$rounds"); do
    for v in "${variants[@]}"; do
        crate_name=${v%%:*}
        flags=${v#*:}
        cargo clean -q -p "$crate_name" 2> /dev/null
        t0=$(date +%s.%N)
        # shellcheck disable=SC2086 # flags are words
        if log=$(cargo check -p "$crate_name" $flags 2>&1); then rc=0; else rc=$?; fi
        t1=$(date +%s.%N)
        warnings=$(grep -c '^warning' <<< "$log" || true)
        printf '%s\t%s %s\t%.1f\trc=%s\twarnings=%s\n' "$r" "$crate_name" "${flags:-(no features)}" "$(echo "$t1 - $t0" | bc)" "$rc" "$warnings" | tee -a "$results"
        if [ "$rc" != 0 ]; then { grep -A5 '^error' <<< "$log" | head -30 >&2; } || true; fi
    done
done
echo
echo "variant	min s	median s	(successful runs only)"
awk -F'\t' '$4 == "rc=0"' "$results" | cut -f2,3 | sort -t$'\t' -k1,1 -k2,2n | awk -F'\t' '
    { v[$1] = v[$1] " " $2; n[$1]++ }
    END { for (k in v) { split(substr(v[k], 2), a, " "); m = a[int((n[k] + 1) / 2)]; printf "%s\t%s\t%s\n", k, a[1], m } }' | sort
