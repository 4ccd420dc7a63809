#!/usr/bin/env bash
# Records reference outputs for the guest test corpus.
#
#   ./record-expected.sh [arch...]        (default: riscv64 aarch64 x86_64)
#   make -C testsuite expected            (same, all arches)
#
# For every program in guests/manifest.txt, every selected arch it is built
# for, and each of -O0/-O2 whose fixture exists, runs fixtures/<arch>/<prog>-<opt>
# under qemu-riscv64-static / qemu-aarch64-static, or natively for x86_64, in a
# fresh temporary directory with the manifest's arguments and a clean
# environment (env -i VMTRANS_TEST=1 PATH=/usr/bin:/bin + the manifest's env=),
# stdin from /dev/null, and writes
#   expected/<arch>/<prog>-<opt>.stdout
#   expected/<arch>/<prog>-<opt>.stderr
#   expected/<arch>/<prog>-<opt>.status     "exit N" or "signal N"
#   expected/<arch>/<prog>-<opt>.files/     the paths listed in files=
# Each program is run RUNS times (default 2) and the runs must agree; when they
# do not, up to two extra runs decide whether it was a one-off (reported as
# "flaky", e.g. a qemu crash) or real nondeterminism (reported, exit status 1).
# qemu's own "qemu: uncaught target signal ..." line is removed from stderr
# (the guest did not write it).  Programs with ref-from=A:B in the manifest get
# arch A's reference copied from arch B (qemu-A is known to be wrong for them);
# A is still run and any difference is reported for information.
#
# Environment: JOBS (parallel runs, default: number of CPUs), RUNS (default 2),
#              QEMU_RISCV64, QEMU_AARCH64 (emulator commands).
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
MANIFEST=$HERE/guests/manifest.txt
FIX=$HERE/fixtures
EXP=$HERE/expected
ALL_ARCHES=(riscv64 aarch64 x86_64)
RUNS=${RUNS:-2}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
QEMU_RISCV64=${QEMU_RISCV64:-qemu-riscv64-static}
QEMU_AARCH64=${QEMU_AARCH64:-qemu-aarch64-static}

trim() { local s=$1; s=${s#"${s%%[![:space:]]*}"}; s=${s%"${s##*[![:space:]]}"}; printf '%s' "$s"; }

# parse_entry <manifest line>: sets NAME ARGS[] ENVS[] FILES[] TIMEOUT ARCHES[] REF_FROM
parse_entry() {
    local line=$1 f key val
    local -a fields
    IFS='|' read -r -a fields <<<"$line"
    read -r -a ARGS <<<"$(trim "${fields[0]}")"
    NAME=${ARGS[0]}
    ARGS=("${ARGS[@]:1}")
    ENVS=() FILES=() TIMEOUT=10 ARCHES=("${ALL_ARCHES[@]}") REF_FROM=
    for f in "${fields[@]:1}"; do
        f=$(trim "$f")
        [ -z "$f" ] && continue
        key=${f%%=*} val=${f#*=}
        case $key in
        env) IFS=',' read -r -a ENVS <<<"$val" ;;
        files) IFS=',' read -r -a FILES <<<"$val" ;;
        timeout) TIMEOUT=$val ;;
        arches) IFS=',' read -r -a ARCHES <<<"$val" ;;
        ref-from) REF_FROM=$val ;;
        commit-O0) ;;
        *) echo "manifest: unknown key '$key' for $NAME" >&2; return 1 ;;
        esac
    done
}

manifest_lines() { grep -v '^[[:space:]]*\(#\|$\)' "$MANIFEST"; }

find_entry() {
    local line
    while IFS= read -r line; do
        parse_entry "$line" || return 1
        [ "$NAME" = "$1" ] && return 0
    done < <(manifest_lines)
    echo "no manifest entry for $1" >&2
    return 1
}

runner_for() {
    case $1 in
    riscv64) echo "$QEMU_RISCV64" ;;
    aarch64) echo "$QEMU_AARCH64" ;;
    x86_64) echo "" ;;
    esac
}

# run_once <arch> <fixture> <outdir>: one run into outdir/{stdout,stderr,status,files/,leftovers,seconds}
run_once() {
    local arch=$1 fixture=$2 out=$3 runner rc start end p
    runner=$(runner_for "$arch")
    mkdir -p "$out/work" "$out/files"
    start=$(date +%s.%N)
    { (
        cd "$out/work" || exit 125
        ulimit -c 0
        # shellcheck disable=SC2086 # $runner is a command word or empty
        exec env -i VMTRANS_TEST=1 PATH=/usr/bin:/bin "${ENVS[@]}" \
            timeout -k 5 "$TIMEOUT" $runner "$fixture" "${ARGS[@]}" \
            </dev/null >"$out/stdout.raw" 2>"$out/stderr.raw"
    ); } 2>/dev/null # no "Aborted" job messages from this shell
    rc=$?
    end=$(date +%s.%N)
    echo "$start $end" | awk '{printf "%.2f\n", $2 - $1}' >"$out/seconds"
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        echo "timeout" >"$out/status"
    elif [ $rc -gt 128 ]; then
        echo "signal $((rc - 128))" >"$out/status"
    else
        echo "exit $rc" >"$out/status"
    fi
    cp "$out/stdout.raw" "$out/stdout"
    grep -av -E '^qemu: uncaught target signal [0-9]+ \(.*\) - (core dumped|exiting)$' \
        "$out/stderr.raw" >"$out/stderr" || true
    for p in "${FILES[@]}"; do
        p=${p%/}
        if [ -e "$out/work/$p" ] || [ -L "$out/work/$p" ]; then
            (cd "$out/work" && cp -a --parents "$p" "$out/files/")
        else
            echo "missing: $p" >>"$out/leftovers"
        fi
    done
    # Anything else left in the working directory should be listed in files=.
    (cd "$out/work" && find . -mindepth 1 -maxdepth 1 -printf '%P\n') | while IFS= read -r p; do
        local listed=0 q
        for q in "${FILES[@]}"; do [ "${q%/}" = "$p" ] && listed=1; done
        [ $listed -eq 0 ] && echo "unlisted: $p" >>"$out/leftovers"
    done
    # git does not store empty directories: such a reference could not be committed.
    (cd "$out/files" && find . -mindepth 1 -type d -empty -printf 'empty-dir: %P\n') >>"$out/leftovers"
    touch "$out/leftovers"
    rm -rf "$out/work"
}

same_run() {
    local a=$1 b=$2
    cmp -s "$a/stdout" "$b/stdout" && cmp -s "$a/stderr" "$b/stderr" &&
        cmp -s "$a/status" "$b/status" && diff -r --no-dereference "$a/files" "$b/files" >/dev/null 2>&1
}

store() {
    local run=$1 dest=$2
    cp "$run/stdout" "$dest.stdout"
    cp "$run/stderr" "$dest.stderr"
    cp "$run/status" "$dest.status"
    rm -rf "$dest.files"
    if [ ${#FILES[@]} -gt 0 ]; then
        cp -a "$run/files" "$dest.files"
    fi
}

# record_one <arch> <name> <opt>: prints one summary line
record_one() {
    local arch=$1 name=$2 opt=$3 fixture tmp i verdict=ok chosen=
    find_entry "$name" || return 1
    fixture=$FIX/$arch/$name-$opt
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmtrans-record.XXXXXX")
    for ((i = 1; i <= RUNS; i++)); do run_once "$arch" "$fixture" "$tmp/run$i"; done
    chosen=$tmp/run1
    for ((i = 2; i <= RUNS; i++)); do
        same_run "$tmp/run1" "$tmp/run$i" || verdict=differ
    done
    if [ $verdict = differ ]; then
        # One more pair of runs: a one-off (e.g. an emulator crash) vs real nondeterminism.
        run_once "$arch" "$fixture" "$tmp/run$((RUNS + 1))"
        run_once "$arch" "$fixture" "$tmp/run$((RUNS + 2))"
        verdict=NONDETERMINISTIC
        local a b found=0
        for ((a = 1; a <= RUNS + 2 && !found; a++)); do
            for ((b = a + 1; b <= RUNS + 2; b++)); do
                if same_run "$tmp/run$a" "$tmp/run$b"; then
                    verdict=flaky # two runs agree: the others were one-offs
                    chosen=$tmp/run$a
                    found=1
                    break
                fi
            done
        done
    fi
    mkdir -p "$EXP/$arch"
    store "$chosen" "$EXP/$arch/$name-$opt"
    local note
    note=$(tr '\n' ' ' <"$chosen/leftovers")
    printf '%-8s %-18s %-3s %-10s %6ss %s %s\n' "$arch" "$name" "$opt" "$(cat "$chosen/status")" \
        "$(cat "$chosen/seconds")" "$verdict" "$note"
    if [ "$verdict" = NONDETERMINISTIC ]; then
        echo "  (runs kept in $tmp for inspection)"
    else
        rm -rf "$tmp"
    fi
}

if [ "${1:-}" = --one ]; then
    shift
    record_one "$@"
    exit $?
fi

# ---- main ------------------------------------------------------------------
if [ $# -gt 0 ]; then SEL=("$@"); else SEL=("${ALL_ARCHES[@]}"); fi
for a in "${SEL[@]}"; do
    case $a in riscv64 | aarch64 | x86_64) ;; *) echo "unknown arch $a" >&2; exit 2 ;; esac
done
for tool in "$QEMU_RISCV64" "$QEMU_AARCH64" timeout env; do
    command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
done

jobs_file=$(mktemp)
missing=0
while IFS= read -r line; do
    parse_entry "$line" || exit 2
    for a in "${SEL[@]}"; do
        printf '%s\n' "${ARCHES[@]}" | grep -qx "$a" || continue
        for o in O0 O2; do
            if [ -x "$FIX/$a/$NAME-$o" ]; then
                echo "$a $NAME $o" >>"$jobs_file"
            else
                echo "no fixture $a/$NAME-$o (run make -C testsuite fixtures)" >&2
                missing=1
            fi
        done
    done
done < <(manifest_lines)

echo "recording $(wc -l <"$jobs_file") runs x $RUNS with $JOBS jobs" >&2
summary=$(xargs -P "$JOBS" -L 1 "$0" --one <"$jobs_file" | sort)
rm -f "$jobs_file"
echo "$summary"

# ref-from: copy references across arches where the emulator is known wrong.
status=0
while IFS= read -r line; do
    parse_entry "$line" || exit 2
    [ -n "$REF_FROM" ] || continue
    to=${REF_FROM%%:*} from=${REF_FROM#*:}
    printf '%s\n' "${SEL[@]}" | grep -qx "$to" || continue
    for o in O0 O2; do
        src=$EXP/$from/$NAME-$o
        dst=$EXP/$to/$NAME-$o
        [ -e "$src.status" ] || { echo "ref-from: no $from reference for $NAME-$o (record $from too)" >&2; status=1; continue; }
        if [ -e "$dst.status" ] && ! { cmp -s "$src.stdout" "$dst.stdout" && cmp -s "$src.status" "$dst.status"; }; then
            echo "ref-from: $to/$NAME-$o under the emulator differs from $from (known emulator bug); using $from's reference"
        fi
        for ext in stdout stderr status; do cp "$src.$ext" "$dst.$ext"; done
        rm -rf "$dst.files"
        [ -d "$src.files" ] && cp -a "$src.files" "$dst.files"
    done
done < <(manifest_lines)

if grep -q NONDETERMINISTIC <<<"$summary"; then status=1; fi
if grep -q ' timeout ' <<<"$summary"; then status=1; fi
[ $missing -eq 0 ] || status=1
exit $status
