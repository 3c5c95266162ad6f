#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# otp_suites.sh [25|27|29] — runs OTP's own test suites for what fastrel replaces, twice:
# once with OTP's programs and functions, once with fastrel's, and prints them side by side.
#   heart_SUITE (lib/kernel/test)    heart, through peer nodes started with `erl'
#   run_erl_SUITE (erts/test)        run_erl and to_erl, found through PATH
#   systools_SUITE (lib/sasl/test)   systools:make_script/make_tar/script2boot/1/make_relup
#                                    (relnif's in the fastrel run; the rest stay OTP's)
# The fastrel run is ct_run under `fastrel erts-overlay DIR`'s erl (BINDIR and PATH then
# lead to fastrel's heart, run_erl, to_erl) with, for systools_SUITE only, a `systools'
# stand-in first in the code path (tests/otp_suites/systools_shadow.escript).
# The suites come from Debian's source package of OTP (bookworm = 25, trixie = 27), fetched
# with apt-get source through a private apt state (no change to /etc/apt), cached in
# $FASTREL_OTP_SRC_CACHE (default /var/cache/fastrel/otp-src). Debian has no OTP 29 source:
# 29 runs trixie's (27's) suites against OTP 29's programs.
# 25 runs on the host (Debian 12); 27 and 29 in the roots of scripts/otp_root.sh.
# Exits 1 if a case that passes with OTP's fails (or is skipped) with fastrel's.
# Env: OTP_SUITES (default "heart_SUITE run_erl_SUITE systools_SUITE"),
#      OTP_SUITES_KEEP=1 keeps the work dir (ct logs) for reading.
set -eu

# ------------------------------------------------------------------ inside: run the suites
# otp_suites.sh --inside WORK — on the OTP under test (the host, or chrooted in a root).
if [ "${1:-}" = --inside ]; then
    W=$2
    cd "$W"
    suites=${OTP_SUITES:-heart_SUITE run_erl_SUITE systools_SUITE}
    tag=$(cat "$W/tag")
    root_dir=$(erl -noshell -eval 'io:put_chars(code:root_dir()), halt().')
    erts_bin=$(erl -noshell -eval 'io:put_chars(filename:join([code:root_dir(), "erts-" ++ erlang:system_info(version), "bin"])), halt().')
    echo "    OTP $(erl -noshell -eval 'io:put_chars(erlang:system_info(otp_release)), halt().') at $root_dir"

    # fastrel's relnif and overlay, built here with this OTP's compiler; the prebuilt programs.
    mkdir -p "$W/lib/fastrel/ebin"
    erlc -o "$W/lib/fastrel/ebin" "$W"/fastrel_src/*.erl
    erl -noshell -pa "$W/lib/fastrel/ebin" -eval '
        [Dir] = init:get_plain_arguments(),
        case fastrel_overlay:create(Dir) of
            {ok, _} -> halt(0);
            {error, E} -> io:format(standard_error, "~s~n", [fastrel_overlay:format_error(E)]), halt(1)
        end.' -extra "$W/overlay"
    escript "$W/systools_shadow.escript" "$W/shadow"
    # OTP's ts_install_cth (the suites' hook; Debian does not install it) and its variables
    # file, made by its own configure: it builds heart_SUITE's C helper (simple_echo).
    mkdir -p "$W/ts_ebin"
    erlc -o "$W/ts_ebin" "$W/test_server/ts_install_cth.erl" "$W/test_server/ts_install.erl" \
        "$W/test_server/ts_lib.erl" "$W/test_server/ts_erl_config.erl" "$W/test_server/ts_make.erl" \
        "$W/test_server/ts_autoconf_win32.erl"
    ( cd "$W/test_server" && timeout 300 erl -noshell -pa "$W/ts_ebin" \
        -eval 'io:format("    ts_install: ~p~n", [ts_install:install(install_local, [])]), halt().' ) >"$W/ts_install.log" 2>&1 || true
    tail -n 1 "$W/ts_install.log"
    [ -f "$W/test_server/variables" ] || echo "    no test_server/variables: suites' C helpers are not built (see $W/ts_install.log)"
    for v in otp fastrel; do
        mkdir -p "$W/$v/t/test_server"
        [ ! -f "$W/test_server/variables" ] || cp "$W/test_server/variables" "$W/$v/t/test_server/"
    done
    erl -noshell -pa "$W/lib/fastrel/ebin" -eval 'case code:ensure_loaded(relnif) of {module, relnif} -> halt(0); E -> io:format(standard_error, "relnif does not load: ~p (erl_src/relnif.erl and priv/relnif_nif.so from different builds? run rebar3 compile)~n", [E]), halt(1) end.'

    run_variant() { # run_variant otp|fastrel
        v=$1
        if [ "$v" = otp ]; then erl=$erts_bin/erl; else erl=$W/overlay/erl; fi
        # an epmd of its own, on a free port, so the two variants' fixed node names
        # (run_erl_SUITE's run_erl_node_basic ...) do not meet
        port=""
        for try in 1 2 3 4 5 6 7 8 9 10; do
            p=$(( 20000 + ($$ * 7 + try * 4099 + $(date +%N | sed 's/^0*//;s/^$/0/') ) % 40000 ))
            env FASTREL_OTP_SUITES_TAG="$tag" "$erts_bin/epmd" -port "$p" >/dev/null 2>&1 &
            epid=$!
            sleep 0.5
            if kill -0 "$epid" 2>/dev/null; then port=$p; break; fi
        done
        [ -n "$port" ] || { echo "no free port for epmd" >&2; return 1; }
        echo "$epid" >"$W/epmd.$v.pid"
        for s in $suites; do
            d=$W/$v/t/$s
            logs=$W/$v/logs/$s
            mkdir -p "$logs"
            extra="-pa $W/ts_ebin"
            if [ "$v" = fastrel ] && [ "$s" = systools_SUITE ]; then
                extra="$extra -pa $W/shadow -pa $W/lib/fastrel/ebin"
            fi
            case $s in systools_SUITE) limit=1500 ;; heart_SUITE) limit=1200 ;; *) limit=600 ;; esac
            echo "    [$v] $s (bound: ${limit}s)"
            # shellcheck disable=SC2086 # extra is words
            ( cd "$W/$v" && env ERL_EPMD_PORT="$port" FASTREL_OTP_SUITES_TAG="$tag" \
                timeout -k 10 "$limit" "$erl" -sname "ct_${v}_$$" -noshell -noinput $extra \
                -s ct_run script_start -s erlang halt \
                -dir "$d" -suite "$s" -logdir "$logs" \
                >"$W/$v/$s.out" 2>&1 ) || echo "$?" >"$W/$v/$s.rc"
            [ ! -f "$W/$v/$s.rc" ] || echo "    [$v] $s: ct_run ended with status $(cat "$W/$v/$s.rc") (124 = timed out)"
        done
        kill "$epid" 2>/dev/null || true
    }
    run_variant otp >"$W/otp.log" 2>&1 &
    p1=$!
    run_variant fastrel >"$W/fastrel.log" 2>&1 &
    p2=$!
    wait "$p1" || true
    wait "$p2" || true
    cat "$W/otp.log" "$W/fastrel.log"
    # Leftovers (daemonised run_erl, heart, peer nodes, epmd): every process carrying this
    # run's tag in its environment, by PID.
    left=""
    for e in /proc/[0-9]*/environ; do
        pid=${e#/proc/}; pid=${pid%/environ}
        [ "$pid" != "$$" ] || continue
        if grep -qxz "FASTREL_OTP_SUITES_TAG=$tag" "$e" 2>/dev/null; then left="$left $pid"; fi
    done
    if [ -n "$left" ]; then
        echo "    stopping leftover processes:$left"
        # shellcheck disable=SC2086
        kill -9 $left 2>/dev/null || true
    fi
    exit 0
fi

# ------------------------------------------------------------------ outside
cd "$(dirname "$0")/.."
cache=${FASTREL_OTP_SRC_CACHE:-/var/cache/fastrel/otp-src}
host_otp=$(erl -noshell -eval 'io:put_chars(erlang:system_info(otp_release)), halt().')
otp=${1:-$host_otp}
case $otp in
    "$host_otp") where=host; dist=bookworm ;;
    27) where=root; dist=trixie ;;
    29) where=root; dist=trixie ;;
    *) echo "usage: otp_suites.sh [$host_otp|27|29]" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || { echo "otp_suites.sh: needs root (apt-get source, chroot, mounts)" >&2; exit 2; }
[ -x priv/run_erl ] && [ -f priv/relnif_nif.so ] ||
    { echo "otp_suites.sh: build fastrel first (rebar3 compile): priv/ has no programs" >&2; exit 2; }

# The suites' sources: Debian's orig tarball of erlang for $dist, fetched once.
fetch_src() {
    mkdir -p "$cache"
    want=$(cat "$cache/$dist.version" 2>/dev/null || echo none)
    t=""
    for f in "$cache"/erlang_*+dfsg.orig.tar.xz; do
        case $f in *"$want"*) [ -f "$f" ] && { t=$f; break; } ;; esac
    done
    if [ -n "$t" ]; then echo "$t"; return 0; fi
    a=$cache/apt-$dist
    mkdir -p "$a/lists/partial" "$a/cache/archives/partial"
    echo "deb-src http://deb.debian.org/debian $dist main" >"$a/sources.list"
    set -- -o Dir::Etc::SourceList="$a/sources.list" -o Dir::Etc::SourceParts=/nonexistent \
        -o Dir::State::Lists="$a/lists" -o Dir::Cache="$a/cache" -o Dir::State::Status=/var/lib/dpkg/status
    echo "==> fetching Debian $dist's erlang source (once, into $cache)" >&2
    timeout 300 apt-get "$@" -qq update >&2
    d=$(mktemp -d)
    # Only the .orig tarball matters; apt may fail on a .dsc that moved (a newer upload).
    (cd "$d" && timeout 600 apt-get "$@" -qq source --download-only erlang >&2) || true
    t=$(ls "$d"/erlang_*+dfsg.orig.tar.xz 2>/dev/null | head -n 1 || true)
    [ -n "$t" ] || { echo "otp_suites.sh: apt-get source erlang ($dist) gave no .orig tarball" >&2; rm -rf "$d"; return 1; }
    base=$(basename "$t")
    mv -f "$t" "$cache/$base"
    rm -rf "$d"
    echo "$base" | sed 's/^erlang_//; s/+dfsg.orig.tar.xz$//' >"$cache/$dist.version"
    echo "$cache/$base"
}
tarball=$(fetch_src)
src_vsn=$(basename "$tarball" | sed 's/^erlang_//; s/+dfsg.orig.tar.xz$//')

# The work dir: on the host, or inside the root (so the chrooted run sees it at the same path
# minus the root prefix).
root=""
if [ "$where" = root ]; then
    root=$(scripts/otp_root.sh "$otp")
fi
wrel=/tmp/fastrel-otp-suites.$$
W=$root$wrel
rm -rf "$W"
mkdir -p "$W/fastrel_src"
echo "otp_suites_$$_$(date +%s%N)" >"$W/tag"
# All of erl_src: relnif and the overlay call into fastrel_file, fastrel_opts, fastrel_make, ...
cp erl_src/*.erl erl_src/*.hrl "$W/fastrel_src/"
cp tests/otp_suites/systools_shadow.escript "$W/"
cp scripts/otp_suites.sh "$W/otp_suites.sh"
# fastrel's programs from priv/ (what rebar3 compile built from this tree)
mkdir -p "$W/lib/fastrel/priv"
cp -f priv/relnif_nif.so priv/fastrel_programs "$W/lib/fastrel/priv/"
for p in heart run_erl to_erl; do ln -sf fastrel_programs "$W/lib/fastrel/priv/$p"; done

echo "==> OTP $otp ($where): suites from Debian's erlang $src_vsn ($dist)"
[ "$otp" != 29 ] || echo "    NOTE: Debian has no OTP 29 source; these are OTP 27's suites (trixie) run against OTP 29's programs"
x=$W/x
mkdir -p "$x"
tar -C "$x" -xJf "$tarball" --wildcards --no-wildcards-match-slash \
    '*/lib/kernel/test/heart_SUITE*' '*/lib/kernel/test/ignore_cores.erl' '*/erts/test/run_erl_SUITE*' \
    '*/lib/sasl/test/systools_SUITE*' '*/lib/sasl/test/rh_test_lib.erl' 2>/dev/null || true
tar -C "$x" -xJf "$tarball" --wildcards \
    '*/lib/kernel/test/heart_SUITE_data/*' '*/erts/test/run_erl_SUITE_data/*' \
    '*/lib/sasl/test/systools_SUITE_data/*' '*/lib/common_test/test_server/*'
top=$(ls "$x")
mv "$x/$top/lib/common_test/test_server" "$W/test_server"
for v in otp fastrel; do
    mkdir -p "$W/$v/t/heart_SUITE" "$W/$v/t/run_erl_SUITE" "$W/$v/t/systools_SUITE"
    cp -R "$x/$top/lib/kernel/test/heart_SUITE.erl" "$x/$top/lib/kernel/test/heart_SUITE_data" \
        "$x/$top/lib/kernel/test/ignore_cores.erl" "$W/$v/t/heart_SUITE/"
    cp -R "$x/$top/erts/test/run_erl_SUITE.erl" "$x/$top/erts/test/run_erl_SUITE_data" "$W/$v/t/run_erl_SUITE/"
    cp -R "$x/$top/lib/sasl/test/systools_SUITE.erl" "$x/$top/lib/sasl/test/systools_SUITE_data" \
        "$x/$top/lib/sasl/test/rh_test_lib.erl" "$W/$v/t/systools_SUITE/"
done
rm -rf "$x"

mounted=""
cleanup() {
    for m in $mounted; do umount -l "$m" 2>/dev/null || true; done
    mounted=""
    [ "${OTP_SUITES_KEEP:-}" = 1 ] || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$where" = host ]; then
    sh "$W/otp_suites.sh" --inside "$W"
else
    # proc, dev, dev/pts: mounted here unless someone else (scripts/matrix.sh) has them;
    # only what this run mounted is unmounted.
    if ! mountpoint -q "$root/proc"; then mount -t proc proc "$root/proc"; mounted="$root/proc $mounted"; fi
    if ! mountpoint -q "$root/dev"; then mount --bind /dev "$root/dev"; mounted="$root/dev $mounted"; fi
    if ! mountpoint -q "$root/dev/pts"; then mount --bind /dev/pts "$root/dev/pts"; mounted="$root/dev/pts $mounted"; fi
    if ! chroot "$root" sh -c 'command -v cc && command -v make' >/dev/null 2>&1; then
        echo "    installing gcc and make in $root (heart_SUITE builds a C helper)"
        chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
            sh -c 'apt-get -qq update && apt-get install -y -qq --no-install-recommends gcc make libc6-dev' >/dev/null
    fi
    chroot "$root" /usr/bin/env -i HOME=/root LC_ALL=C.UTF-8 TERM=dumb \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        OTP_SUITES="${OTP_SUITES:-heart_SUITE run_erl_SUITE systools_SUITE}" \
        sh "$wrel/otp_suites.sh" --inside "$wrel"
fi

# ------------------------------------------------------------------ results
# suite.log: "=case SUITE:CASE" then "=result ok | failed: ... | skipped: ... | auto_skipped: ..."
results() { # results VARIANT -> lines "suite<TAB>case<TAB>ok|FAILED|skipped<TAB>text"
    find "$W/$1/logs" -name suite.log 2>/dev/null | while read -r f; do
        awk -v OFS='\t' '
            function flush() {
                if (c != "") {
                    gsub(/[\t\r\n]/, " ", r); gsub(/  +/, " ", r)
                    print s, c, k, substr(r, 1, 400)
                }
                c = ""; inres = 0
            }
            inres && /^[^=]/ { r = r " " $0; next }
            inres { flush() }
            /^=case / { split($2, a, ":"); s = a[1]; c = a[2]; next }
            /^=result / {
                inres = 1
                r = $0; sub(/^=result +/, "", r)
                if (r ~ /^ok/) k = "ok"
                else if (r ~ /^(auto_)?skipped/ || r ~ /^user_skipped/) k = "skipped"
                else k = "FAILED"
                next
            }
            END { if (inres) flush() }' "$f"
    done
}
results otp >"$W/otp.tsv"
results fastrel >"$W/fastrel.tsv"

# Cases that fail with fastrel for a reason the README's "Differences from OTP" gives,
# and the word that reason must show: any other failure of them still counts.
documented() { # documented SUITE CASE
    case "$1:$2" in
        # link_tar packs an application whose files are symlinks out of its directory;
        # fastrel refuses those unless {follow_symlinks, outside} is given.
        systools_SUITE:link_tar) echo symlink_outside ;;
    esac
}

status=0
for s in ${OTP_SUITES:-heart_SUITE run_erl_SUITE systools_SUITE}; do
    echo
    echo "== $s (suites: erlang $src_vsn; OTP $otp's programs)"
    for v in otp fastrel; do
        if [ -f "$W/$v/$s.rc" ]; then echo "   ($v: ct_run status $(cat "$W/$v/$s.rc"), 124 = timed out)"; fi
    done
    printf '   %-40s %-9s %-9s\n' case OTP fastrel
    awk -F'\t' -v s="$s" '$1 == s { print $2 }' "$W/otp.tsv" "$W/fastrel.tsv" | awk '!seen[$0]++' >"$W/cases"
    if [ ! -s "$W/cases" ]; then echo "   no results (see the ct_run output above; OTP_SUITES_KEEP=1 keeps $W)"; status=1; continue; fi
    po=0; pf=0; fo=0; ff=0; so=0; sf=0
    while read -r c; do
        o=$(awk -F'\t' -v s="$s" -v c="$c" '$1 == s && $2 == c { r = $3 } END { print (r == "" ? "-" : r) }' "$W/otp.tsv")
        f=$(awk -F'\t' -v s="$s" -v c="$c" '$1 == s && $2 == c { r = $3 } END { print (r == "" ? "-" : r) }' "$W/fastrel.tsv")
        mark=""
        if [ "$o" = ok ] && [ "$f" != ok ]; then
            why=$(awk -F'\t' -v s="$s" -v c="$c" '$1 == s && $2 == c { r = $4 } END { print r }' "$W/fastrel.tsv")
            expected=$(documented "$s" "$c")
            if [ -n "$expected" ] && [ "${why#*"$expected"}" != "$why" ]; then
                mark="  (a documented difference: $expected, see the README)"
            else
                mark="  <== fails with fastrel only"; status=1
            fi
        fi
        if [ "$o" != ok ] && [ "$f" = ok ]; then mark="  (passes with fastrel only)"; fi
        printf '   %-40s %-9s %-9s%s\n' "$c" "$o" "$f" "$mark"
        case $o in ok) po=$((po + 1)) ;; FAILED) fo=$((fo + 1)) ;; skipped) so=$((so + 1)) ;; esac
        case $f in ok) pf=$((pf + 1)) ;; FAILED) ff=$((ff + 1)) ;; skipped) sf=$((sf + 1)) ;; esac
        for v in otp fastrel; do
            t=$(awk -F'\t' -v s="$s" -v c="$c" '$1 == s && $2 == c && $3 != "ok" { r = $4 } END { print r }' "$W/$v.tsv")
            [ -z "$t" ] || printf '      %s: %s\n' "$v" "$t"
        done
    done <"$W/cases"
    printf '   %-40s %-9s %-9s\n' "passed/failed/skipped" "$po/$fo/$so" "$pf/$ff/$sf"
    if [ "$po" = 0 ]; then echo "   NOTE: no case passed with OTP's own programs: the harness, not fastrel, needs a look"; status=1; fi
done
echo
if [ "$status" = 0 ]; then
    echo "==> OTP $otp: no case that passes with OTP's fails with fastrel's"
else
    echo "==> OTP $otp: some case passes with OTP's and not with fastrel's (or a suite gave no results)"
fi
[ "${OTP_SUITES_KEEP:-}" != 1 ] || echo "    logs kept in $W"
exit $status
