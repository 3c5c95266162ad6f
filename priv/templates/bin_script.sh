#!/bin/sh
# Start script of the @@REL_NAME@@ @@REL_VSN@@ release (ERTS @@ERTS_VSN@@), written by fastrel.
#
# Same commands and exit statuses as relx's extended start script, but:
#   * no helper VM is ever booted (node name and host come from vm.args, fastrel_programs
#     and erl_call);
#   * daemon/stop return as soon as the node is up/gone (short polls, bounded);
#   * heart, run_erl and to_erl are fastrel's (in the bundled erts-VSN/bin, or in
#     release/fastrel/bin when the system's ERTS is used);
#   * a HEART_COMMAND set by the user is kept;
#   * post_install_upgrade hooks run (relx execs its upgrade escript before them), and
#     hooks can also run around any command ({pre|post, Command, Hooks}).
# Run "bin/@@REL_NAME@@ help" for the list of commands.

REL_NAME="@@REL_NAME@@"
REL_VSN="@@REL_VSN@@"
ERTS_VSN="@@ERTS_VSN@@"
# From the relx configuration: the commands of the extensions
# (extended_start_script_extensions) and, when not empty, the only commands this release
# offers (extended_start_script_commands).
EXTENSIONS=
# @@EXTENSIONS@@
RELEASE_COMMANDS=
# @@COMMANDS@@

# ---------------------------------------------------------------------------------------
# Small helpers

err() { printf '%s\n' "$*" >&2; }

# Absolute, symlink-free path of $1 (a file).
resolve_path() {
    if _rp_out=$(readlink -f -- "$1" 2>/dev/null) && [ -n "$_rp_out" ]; then
        printf '%s\n' "$_rp_out"
        return 0
    fi
    # No GNU/BSD readlink -f: follow the links by hand.
    _rp=$1
    _rp_n=0
    while [ -h "$_rp" ] && [ "$_rp_n" -lt 64 ]; do
        _rp_t=$(ls -ld -- "$_rp")
        _rp_t=${_rp_t#* -> }
        case $_rp_t in
            /*) _rp=$_rp_t ;;
            *) _rp=${_rp%/*}/$_rp_t ;;
        esac
        _rp_n=$((_rp_n + 1))
    done
    case $_rp in */*) ;; *) _rp=./$_rp ;; esac
    _rp_d=$(cd -P -- "${_rp%/*}" && pwd -P) || return 1
    printf '%s/%s\n' "$_rp_d" "${_rp##*/}"
}

# Make $1 absolute relative to the directory the script was started from.
abs_path() {
    case $1 in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s/%s\n' "$ORIG_PWD" "$1" ;;
    esac
}

# Sets SQ to $1 quoted for sh (single quotes).
shell_quote() {
    _sq_in=$1
    SQ=
    while :; do
        case $_sq_in in
            *\'*)
                SQ="$SQ${_sq_in%%\'*}'\\''"
                _sq_in=${_sq_in#*\'}
                ;;
            *)
                # shellcheck disable=SC2089
                SQ="'$SQ$_sq_in'"
                return 0
                ;;
        esac
    done
}

# Sleep a short while (fractional sleep where supported, else 1 s).
nap() {
    if [ -z "$NAP" ]; then
        if sleep 0.01 2>/dev/null; then NAP=0.05; else NAP=1; fi
    fi
    sleep "$NAP"
}

# ---------------------------------------------------------------------------------------
# Where are we?

ORIG_PWD=$(pwd)
case $0 in
    */*) SCRIPT=$0 ;;
    *)
        # "sh NAME": a file in the current directory, else found on PATH
        if [ -f "$0" ]; then SCRIPT=./$0; else SCRIPT=$(command -v -- "$0") || SCRIPT=$0; fi
        ;;
esac
if [ -h "$SCRIPT" ]; then
    SCRIPT=$(resolve_path "$SCRIPT") || { err "Cannot resolve the path of $0"; exit 1; }
fi
SCRIPT_DIR=${SCRIPT%/*}
case $SCRIPT_DIR in "$SCRIPT") SCRIPT_DIR=. ;; esac
# cd -P sets PWD to the physical path: no subshell needed.
cd -P -- "$SCRIPT_DIR/.." || { err "Cannot cd to the release root of $SCRIPT"; exit 1; }
RELEASE_ROOT_DIR=$PWD
SCRIPT_DIR=$RELEASE_ROOT_DIR/${SCRIPT_DIR##*/}
SCRIPT=$SCRIPT_DIR/${SCRIPT##*/}

# The version to boot: releases/start_erl.data, which release_handler rewrites when a
# release is made permanent (bin/NAME upgrade), so a hot-upgraded node comes back on its
# new version, heart's restarts included. bin/NAME-VSN keeps the version it was made for.
# read_start_data FILE: sets REL_VSN and ERTS_VSN from FILE if it names a release here.
read_start_data() {
    _sd_erts=
    _sd_vsn=
    # release_handler writes no trailing newline: read fails at EOF but sets the fields.
    read -r _sd_erts _sd_vsn < "$1" || true
    if [ -n "$_sd_vsn" ] && [ -d "$RELEASE_ROOT_DIR/releases/$_sd_vsn" ]; then
        REL_VSN=$_sd_vsn
        [ -n "$_sd_erts" ] && ERTS_VSN=$_sd_erts
    fi
}
if [ "${SCRIPT##*/}" != "$REL_NAME-$REL_VSN" ] && [ -r "$RELEASE_ROOT_DIR/releases/start_erl.data" ]; then
    read_start_data "$RELEASE_ROOT_DIR/releases/start_erl.data"
fi
# vm.args (and sys.config) missing from the booted release's directory are taken from here.
BASE_REL_DIR=$RELEASE_ROOT_DIR/releases/$REL_VSN
# An upgrade with a new ERTS (restart_new_emulator): release_handler has heart run
# "START_PRG RELEASES_DIR/new_start_erl.data" ({sasl, start_prg} is this script, see
# console below): start a daemon of the (temporary) release that file names.
# The file is passed on to the console run_erl starts (START_DATA_FILE); heart's later
# restarts use HEART_COMMAND, so releases/start_erl.data again.
START_DATA_FILE=
case $1 in
    /*/new_start_erl.data)
        if [ -r "$1" ]; then
            START_DATA_FILE=$1
            read_start_data "$1"
            shift
            [ $# -eq 0 ] && set -- daemon
        fi
        ;;
esac

REL_DIR=$RELEASE_ROOT_DIR/releases/$REL_VSN
# fastrel's heart, run_erl, to_erl and the start script's helpers, one executable: here
# without a bundled ERTS; with one, in its bin (below).
FASTREL_BIN=$RELEASE_ROOT_DIR/fastrel/bin

export REL_NAME REL_VSN RELEASE_ROOT_DIR
RELEASE_NAME=$REL_NAME
RELEASE_VSN=$REL_VSN
RELEASE_PROG=$SCRIPT
ESCRIPT_NAME=${ESCRIPT_NAME-$SCRIPT}
export RELEASE_NAME RELEASE_VSN RELEASE_PROG ESCRIPT_NAME

RUN_ERL_DISABLE_FLOWCNTRL=${RUN_ERL_DISABLE_FLOWCNTRL:-true}
export RUN_ERL_DISABLE_FLOWCNTRL

if [ -n "$NODETOOL_TIMEOUT" ] && [ -z "$RELX_RPC_TIMEOUT" ]; then
    RELX_RPC_TIMEOUT=$((NODETOOL_TIMEOUT / 1000))
fi
RELX_RPC_TIMEOUT=${RELX_RPC_TIMEOUT:-60}
export RELX_RPC_TIMEOUT

# Per-user directory for what cannot be written into the release (read-only installs).
runtime_dir() {
    if [ -z "$RUNTIME_DIR" ]; then
        _rd_uid=$(id -u)
        _rd_base=${XDG_RUNTIME_DIR:-/tmp}/fastrel-$_rd_uid
        if [ ! -d "$_rd_base" ]; then
            (umask 077 && mkdir -p -- "$_rd_base") || return 1
        fi
        # -O is in every sh a release runs under (dash, bash, busybox), not in POSIX;
        # newer shellchecks say so.
        # shellcheck disable=SC3067
        if [ -h "$_rd_base" ] || [ ! -O "$_rd_base" ]; then
            err "$_rd_base is not a directory owned by uid $_rd_uid; refusing to use it"
            return 1
        fi
        _rd_sum=$(printf '%s' "$RELEASE_ROOT_DIR" | cksum)
        RUNTIME_DIR=$_rd_base/$REL_NAME-${_rd_sum%% *}
        mkdir -p -- "$RUNTIME_DIR" || return 1
    fi
    printf '%s\n' "$RUNTIME_DIR"
}

# ---------------------------------------------------------------------------------------
# ERTS: bundled (erts-VSN in the release) or the system's, behind a private BINDIR whose
# heart/run_erl/to_erl are fastrel's.

# Sets SYS_ROOT to the root of the system's Erlang/OTP, without starting a VM.
find_system_root() {
    if [ -n "$ERL_ROOTDIR" ]; then
        SYS_ROOT=$(abs_path "$ERL_ROOTDIR")
        return 0
    fi
    _fs_erl=$(command -v erl) || return 1
    _fs_erl=$(resolve_path "$_fs_erl") || return 1
    _fs_dir=${_fs_erl%/*}
    # The erl script of an installed OTP sets ROOTDIR=/abs/path (Debian, kerl, source builds).
    _fs_root=$(sed -n "s|^[[:space:]]*ROOTDIR=[\"']\{0,1\}\(/[^\"'\$\`[:space:]]*\)[\"']\{0,1\}[[:space:]]*\$|\1|p" \
        "$_fs_erl" 2>/dev/null | sed -n 1p)
    for _fs_c in "$_fs_root" "${_fs_dir%/*}" "${_fs_dir%/*/*}"; do
        [ -n "$_fs_c" ] || continue
        for _fs_e in "$_fs_c"/erts-*; do
            if [ -d "$_fs_e/bin" ]; then
                SYS_ROOT=$_fs_c
                return 0
            fi
        done
    done
    return 1
}

# Newest erts-* directory under $1.
newest_erts() {
    for _ne in "$1"/erts-*; do
        [ -d "$_ne/bin" ] && printf '%s\n' "$_ne"
    done | sort -t- -k2,2V 2>/dev/null | sed -n '$p'
}

# True if $1 (a bin dir) is a private BINDIR built from $2 for this release.
private_bindir_ok() {
    [ -r "$1/.fastrel-source" ] || return 1
    _pk_src=
    _pk_root=
    { IFS= read -r _pk_src; IFS= read -r _pk_root; } < "$1/.fastrel-source"
    [ "$_pk_src" = "$2" ] && [ "$_pk_root" = "$RELEASE_ROOT_DIR" ] || return 1
    [ -x "$1/erlexec" ] && [ -x "$1/heart" ] && [ -x "$1/run_erl" ] && [ -x "$1/to_erl" ]
}

# Builds the private BINDIR $1 from the system ERTS bin dir $2.
build_private_bindir() {
    _pb_parent=${1%/*}
    _pb_tmp=$_pb_parent/.bin.tmp.$$
    mkdir -p -- "$_pb_parent" 2>/dev/null || return 1
    rm -rf -- "$_pb_tmp"
    mkdir -- "$_pb_tmp" 2>/dev/null || return 1
    for _pb_f in "$2"/*; do
        _pb_n=${_pb_f##*/}
        case $_pb_n in
            heart | run_erl | to_erl) continue ;;
        esac
        ln -s -- "$_pb_f" "$_pb_tmp/$_pb_n" || { rm -rf -- "$_pb_tmp"; return 1; }
    done
    for _pb_n in heart run_erl to_erl; do
        ln -s -- "$FASTREL_BIN/$_pb_n" "$_pb_tmp/$_pb_n" || { rm -rf -- "$_pb_tmp"; return 1; }
    done
    printf '%s\n%s\n' "$2" "$RELEASE_ROOT_DIR" > "$_pb_tmp/.fastrel-source" || { rm -rf -- "$_pb_tmp"; return 1; }
    rm -rf -- "$1"
    if ! mv -- "$_pb_tmp" "$1" 2>/dev/null; then
        rm -rf -- "$_pb_tmp"
    fi
    private_bindir_ok "$1" "$2"
}

find_erts() {
    if [ -d "$RELEASE_ROOT_DIR/erts-$ERTS_VSN/bin" ]; then
        ERTS_DIR=$RELEASE_ROOT_DIR/erts-$ERTS_VSN
        BINDIR=$ERTS_DIR/bin
        SYSTEM_LIB_DIR=$RELEASE_ROOT_DIR/lib
        return 0
    fi
    if [ -n "$ERTS_DIR" ]; then
        # Explicit override: ERTS_DIR=/path/to/otp/erts-X.Y
        ERTS_DIR=$(abs_path "$ERTS_DIR")
        SYS_ROOT=${ERTS_DIR%/*}
        [ -d "$ERTS_DIR/bin" ] || { err "ERTS_DIR=$ERTS_DIR has no bin directory"; exit 1; }
    else
        if ! find_system_root; then
            err "Can not run the release. There is no ERTS bundled with the release and no Erlang/OTP"
            err "installation was found (no usable erl on PATH). Set ERL_ROOTDIR to the OTP root."
            exit 1
        fi
        ERTS_DIR=$SYS_ROOT/erts-$ERTS_VSN
        if [ ! -d "$ERTS_DIR/bin" ]; then
            ERTS_DIR=$(newest_erts "$SYS_ROOT")
            if [ -z "$ERTS_DIR" ]; then
                err "Can not run the release. There is no ERTS bundled with the release or found in $SYS_ROOT."
                exit 1
            fi
            err "Exact ERTS version ($ERTS_VSN) match not found, instead using ${ERTS_DIR##*/erts-}. The release may fail to run."
        fi
    fi
    SYSTEM_LIB_DIR=$SYS_ROOT/lib
    _fe_vsn=${ERTS_DIR##*/erts-}
    BINDIR=$RELEASE_ROOT_DIR/fastrel/erts-$_fe_vsn/bin
    if private_bindir_ok "$BINDIR" "$ERTS_DIR/bin"; then
        return 0
    fi
    if build_private_bindir "$BINDIR" "$ERTS_DIR/bin"; then
        return 0
    fi
    # The release directory is not writable: keep the private BINDIR per user.
    _fe_rt=$(runtime_dir) || { err "Cannot create a private ERTS bin directory"; exit 1; }
    BINDIR=$_fe_rt/erts-$_fe_vsn/bin
    if private_bindir_ok "$BINDIR" "$ERTS_DIR/bin"; then
        return 0
    fi
    build_private_bindir "$BINDIR" "$ERTS_DIR/bin" || {
        err "Cannot create the private ERTS bin directory $BINDIR"
        exit 1
    }
}

find_erts

# A bundled ERTS carries fastrel's programs, and an upgrade to a new ERTS brings its own.
if [ -x "$BINDIR/fastrel_programs" ]; then FASTREL_BIN=$BINDIR; fi
FASTREL_PROGRAMS=$FASTREL_BIN/fastrel_programs

ROOTDIR=$RELEASE_ROOT_DIR
EMU=beam
PROGNAME=$SCRIPT
case ":$LD_LIBRARY_PATH:" in
    *":$ERTS_DIR/lib:"*) ;;   # already there (e.g. a restart by heart)
    *) LD_LIBRARY_PATH=$ERTS_DIR/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} ;;
esac
export ROOTDIR BINDIR EMU PROGNAME LD_LIBRARY_PATH

ERL_CALL=$BINDIR/erl_call
if [ ! -x "$ERL_CALL" ]; then
    for _ec in "$SYSTEM_LIB_DIR"/erl_interface-*/bin/erl_call; do
        [ -x "$_ec" ] && ERL_CALL=$_ec
    done
fi

# fastrel's run_erl/to_erl: from BINDIR (bundled: replaced there; system: linked there).
RUN_ERL=$BINDIR/run_erl
TO_ERL=$BINDIR/to_erl
[ -x "$RUN_ERL" ] || RUN_ERL=$FASTREL_BIN/run_erl
[ -x "$TO_ERL" ] || TO_ERL=$FASTREL_BIN/to_erl

# ---------------------------------------------------------------------------------------
# vm.args and sys.config: ${VAR} / ${VAR:-default} rendering (relx semantics).

# render_file SRC DST: replace ${VAR} and ${VAR:-default} in SRC from the environment
# (fastrel_programs: relx's rules, DST replaced whole or not at all).
render_file() {
    "$FASTREL_PROGRAMS" render "$1" "$2" 2>/dev/null
}

# prepare_config NAME USER_PATH: sets CFG_OUT to the file the VM should read.
prepare_config() {
    if [ -n "$2" ]; then
        _pc_in=$(abs_path "$2")
    elif [ -f "$RELEASE_ROOT_DIR/$1" ]; then
        _pc_in=$RELEASE_ROOT_DIR/$1
    elif [ ! -f "$REL_DIR/$1" ] && [ ! -f "$REL_DIR/$1.src" ] &&
        { [ -f "$BASE_REL_DIR/$1" ] || [ -f "$BASE_REL_DIR/$1.src" ]; }; then
        _pc_in=$BASE_REL_DIR/$1
    else
        _pc_in=$REL_DIR/$1
    fi
    CFG_OUT=$_pc_in
    if [ -f "$_pc_in.src" ]; then
        _pc_src=$_pc_in.src
        if [ -n "$RELX_OUT_FILE_PATH" ]; then
            _pc_out=$(abs_path "$RELX_OUT_FILE_PATH")/$1
        else
            _pc_out=$_pc_in
        fi
    elif [ -n "$RELX_REPLACE_OS_VARS" ] && [ -f "$_pc_in" ]; then
        _pc_src=$_pc_in
        if [ -n "$RELX_OUT_FILE_PATH" ]; then
            _pc_out=$(abs_path "$RELX_OUT_FILE_PATH")/$1
        else
            # Keep the original intact: render into a copy next to it.
            _pc_out=${_pc_in%/*}/rendered/$1
        fi
        [ "$_pc_out" = "$_pc_in" ] && _pc_out=${_pc_in%/*}/rendered/$1
    else
        return 0
    fi
    mkdir -p -- "${_pc_out%/*}" 2>/dev/null
    if render_file "$_pc_src" "$_pc_out"; then
        CFG_OUT=$_pc_out
        return 0
    fi
    # Not writable: render into the per-user runtime directory instead.
    _pc_rt=$(runtime_dir) || { err "Cannot render $_pc_src: no writable place"; exit 1; }
    mkdir -p -- "$_pc_rt/rendered"
    render_file "$_pc_src" "$_pc_rt/rendered/$1" || { err "Cannot render $_pc_src"; exit 1; }
    CFG_OUT=$_pc_rt/rendered/$1
}

prepare_config vm.args "$VMARGS_PATH"
VMARGS_PATH=$CFG_OUT

# The node's name, cookie and distribution flags, read as erlexec reads vm.args (quotes,
# comments, backslashes, -args_file) by fastrel_programs, which prints sh assignments of
# all of NAME_TYPE, NAME, VM_COOKIE, VM_HEART, VM_HEART_TIMEOUT and DIST_ARGS.
scan_vm_args() {
    _sv_out=$("$FASTREL_PROGRAMS" vmargs "$1" "$RELEASE_ROOT_DIR") ||
        { err "cannot read $1 with $FASTREL_PROGRAMS"; exit 1; }
    eval "$_sv_out"
}
scan_vm_args "$VMARGS_PATH"

if [ -n "$RELX_COOKIE" ]; then
    COOKIE=$RELX_COOKIE
elif [ -n "$VM_COOKIE" ]; then
    COOKIE=$VM_COOKIE
elif [ -r "$HOME/.erlang.cookie" ]; then
    IFS= read -r COOKIE < "$HOME/.erlang.cookie" || true
else
    COOKIE=
fi

EXTRA_DIST_ARGS=
if [ -n "$ERL_DIST_PORT" ]; then
    EXTRA_DIST_ARGS="-erl_epmd_port $ERL_DIST_PORT -start_epmd false"
fi

# Sets NODE to the full node name (NAME@host, the host as erl_call adds it); only for
# the commands that need it (a -name host may take a resolver round trip).
full_node_name() {
    NODE=$("$FASTREL_PROGRAMS" nodename "$NAME_TYPE" "$NAME") ||
        { err "cannot get the host name with $FASTREL_PROGRAMS"; exit 1; }
}

need_name() {
    if [ -z "$NAME_TYPE" ] || [ -z "$NAME" ]; then
        err "$VMARGS_PATH: need to have exactly one of either -name or -sname parameters but none found"
        exit 1
    fi
}

# ---------------------------------------------------------------------------------------
# Talking to the node: erl_call (no helper VM). erl_call adds the host itself when the
# node name has none, the same way the VM does.

erl_call_node() {
    if [ ! -x "$ERL_CALL" ]; then
        err "erl_call not found in $BINDIR (it is needed to talk to the node)"
        return 127
    fi
    if [ -n "$COOKIE" ]; then
        set -- -c "$COOKIE" "$@"
    fi
    if [ -n "$ERL_DIST_PORT" ]; then
        set -- -address "$ERL_DIST_PORT" "$@"
    else
        set -- "$NAME_TYPE" "$NAME" "$@"
    fi
    "$ERL_CALL" -R -timeout "$RELX_RPC_TIMEOUT" "$@"
}

erl_rpc() {
    erl_call_node -a "$*"
}

erl_eval_raw() {
    printf '%s\n' "$*" | erl_call_node -e
}

# relx's erl_eval (hooks and extensions call it): {ok, X} printed as X.
# shellcheck disable=SC2317 # called by hooks
# shellcheck disable=SC2329 # called by hooks and extensions, which are sourced
erl_eval() {
    _ee_out=$(erl_eval_raw "$@") || return
    printf '%s\n' "$_ee_out" | sed 's/^{ok, \(.*\)}$/\1/'
}

# relx's: print the node's OS pid.
# shellcheck disable=SC2317 # called by hooks
# shellcheck disable=SC2329 # called by hooks and extensions, which are sourced
relx_get_pid() {
    get_pid || return 1
    printf '%s\n' "$NODE_PID"
}

# relx's: run the escript $1 (relative to the release root) with the release's ERTS.
# shellcheck disable=SC2317 # called by hooks
# shellcheck disable=SC2329 # called by hooks and extensions, which are sourced
relx_escript() {
    _rx_script=$1
    shift
    export RELEASE_ROOT_DIR
    "$BINDIR/escript" "$ROOTDIR/$_rx_script" "$@"
}

# ---------------------------------------------------------------------------------------
# Hooks and extensions (relx's extended_start_script_hooks and _extensions): scripts under
# bin/, sourced with set -e as relx sources them, so they see this script's variables and
# functions (erl_rpc, erl_eval, relx_get_pid, ...), a variable a pre_start hook exports
# reaches the VM, and a command failing in one ends the script with its status.

HOOKS_DISABLED=
HOOK_ENV_SET=

# The variables relx's script has set when it runs a hook: NAME is the full node name.
hook_env() {
    [ -n "$HOOK_ENV_SET" ] && return 0
    HOOK_ENV_SET=1
    if [ -n "$NAME" ]; then
        full_node_name
        NAME=$NODE
        # shellcheck disable=SC2034 # read by hooks
        RELX_HOSTNAME=${NODE#*@}
        export NAME
    fi
    [ -n "$PIPE_DIR" ] || set_pipe_dir
    export ERTS_VSN REL_DIR
}

# run_hook SCRIPT [ARGS]: source bin/SCRIPT with ARGS as its positional parameters.
# shellcheck disable=SC2317 # called by the hooks configured, if any
# shellcheck disable=SC2329 # called by hooks and extensions, which are sourced
run_hook() {
    _rh_script=$SCRIPT_DIR/$1
    shift
    if [ ! -f "$_rh_script" ]; then
        err "Hook ${_rh_script#"$RELEASE_ROOT_DIR"/} not found (copy it into the release with an overlay)"
        exit 1
    fi
    hook_env
    set -e
    # shellcheck disable=SC1090
    . "$_rh_script"
    set +e
}

# run_phase PHASE [ARGS]: the hooks of PHASE in the order configured. PHASE is one of
# relx's (pre_start, post_start, pre_stop, post_stop, pre_install_upgrade,
# post_install_upgrade, status) or pre:COMMAND / post:COMMAND; the hooks of status and
# of pre:/post: get ARGS (the command and its arguments) after their own.
run_phase() {
    [ -n "$HOOKS_DISABLED" ] && return 0
    _rp_phase=$1
    shift
    case $_rp_phase in
        # @@HOOK_CASES@@
        *) ;;
    esac
}

# Sets EXTENSION_SCRIPT to the script of extension $1; fails if $1 is none.
extension_script() {
    case $1 in
        # @@EXTENSION_CASES@@
        *) return 1 ;;
    esac
}

# run_extension SCRIPT [ARGS]: source bin/SCRIPT in a subshell (this script's variables
# and functions, ARGS as its positional parameters). Its status is the one it exits with;
# one that returns without exiting fails (1), as with relx ("extensions are expected to
# exit").
run_extension() {
    _rx_ext=$SCRIPT_DIR/$1
    shift
    if [ ! -f "$_rx_ext" ]; then
        err "Extension ${_rx_ext#"$RELEASE_ROOT_DIR"/} not found (copy it into the release with an overlay)"
        exit 1
    fi
    hook_env
    (
        set -e
        # shellcheck disable=SC1090
        . "$_rx_ext"
        exit 1
    )
}

# True if $1 is one of the script's own commands (canonical names).
known_command() {
    case $1 in
        foreground | console | console_clean | console_boot | daemon | daemon_boot | daemon_attach | \
            remote_console | ping | pid | stop | restart | reboot | rpc | eval | status | versions | \
            escript | unpack | install | upgrade | downgrade | uninstall | systemd_unit | help) return 0 ;;
    esac
    return 1
}

# True if this release offers command $1 (help and the extensions always).
command_available() {
    [ -z "$RELEASE_COMMANDS" ] && return 0
    case " help $RELEASE_COMMANDS " in
        *" $1 "*) return 0 ;;
    esac
    extension_script "$1"
}

# finish: the command succeeded; its post:COMMAND hooks, then exit 0.
finish() {
    eval "run_phase \"post:\$COMMAND_NAME\" \"\$COMMAND_NAME\" $COMMAND_ARGS"
    exit 0
}

# relx's built-in hooks: bin/hooks/builtin/NAME calls fastrel_builtin_NAME. Where relx
# waits forever, these give up after FASTREL_START_TIMEOUT seconds (default 60).
# shellcheck disable=SC2317 # called by hooks
# shellcheck disable=SC2329 # called by hooks and extensions, which are sourced
fastrel_builtin_wait_for_vm_start() {
    _bw_start=$(date +%s)
    until node_alive; do
        if [ $(($(date +%s) - _bw_start)) -ge "${FASTREL_START_TIMEOUT:-60}" ]; then
            err "wait_for_vm_start: the node does not answer after ${FASTREL_START_TIMEOUT:-60} s (FASTREL_START_TIMEOUT)"
            return 1
        fi
        nap
    done
}

# pid FILE: the node's OS pid written to FILE.
# shellcheck disable=SC2317 # called by hooks
# shellcheck disable=SC2329 # called by hooks and extensions, which are sourced
fastrel_builtin_pid() {
    fastrel_builtin_wait_for_vm_start
    relx_get_pid > "$1"
}

# wait_for_process NAME: until a process is registered as NAME on the node.
# shellcheck disable=SC2317 # called by hooks
# shellcheck disable=SC2329 # called by hooks and extensions, which are sourced
fastrel_builtin_wait_for_process() {
    fastrel_builtin_wait_for_vm_start
    _bp_start=$(date +%s)
    while [ "$(erl_eval "whereis($1).")" = "undefined" ]; do
        if [ $(($(date +%s) - _bp_start)) -ge "${FASTREL_START_TIMEOUT:-60}" ]; then
            err "wait_for_process: no process registered as $1 after ${FASTREL_START_TIMEOUT:-60} s (FASTREL_START_TIMEOUT)"
            return 1
        fi
        nap
    done
}

# shellcheck disable=SC2317 # called by hooks
# shellcheck disable=SC2329 # called by hooks and extensions, which are sourced
fastrel_builtin_status() {
    erl_eval "application:which_applications()."
}

# ---------------------------------------------------------------------------------------
# Hot upgrades: release_handler on the node, through erl_call as well. Exit statuses are
# relx's (install_upgrade.escript): 1 node down, 2 unpack failed or not installed, 3 check
# failed, 4 install failed.

# rh_eval EXPRS: evaluate on the node and print what the expressions print there. Every
# expression below prints one line, "ok DETAIL" or "error SENTENCE".
rh_eval() {
    printf '%s\n' "$*" | erl_call_node -fetch_stdout -no_result_term -e
}

# An Erlang fun W(Reason) -> one sentence about release_handler's error Reason.
RH_WHY='W = fun({existing_release, V}) -> io_lib:format("release ~s is already unpacked", [V]);
               ({no_such_release, V}) -> io_lib:format("release ~s is not installed", [V]);
               ({no_such_file, F}) -> io_lib:format("~ts does not exist", [F]);
               ({no_matching_relup, V, C}) -> io_lib:format("releases/~s/relup has no path from or to the running version ~s (make it with: rebar3 fastrel relup -u ~s)", [V, C, C]);
               ({old_processes, M}) -> io_lib:format("processes still run old code of ~p", [M]);
               ({already_installed, V}) -> io_lib:format("release ~s is already installed", [V]);
               ({permanent, V}) -> io_lib:format("release ~s is permanent", [V]);
               (R) -> io_lib:format("~0tp", [R])
           end,'

# rh_step CALL: CALL is an expression returning ok, {ok, ...} or {error, Reason}; prints
# "ok DETAIL" (the second element of {ok, X, ...}) or "error SENTENCE".
rh_step() {
    rh_eval "$RH_WHY try $1 of
        ok -> io:format(\"ok~n\");
        {ok, X} -> io:format(\"ok ~ts~n\", [X]);
        {ok, X, _} -> io:format(\"ok ~ts~n\", [X]);
        {continue_after_restart, X, _} -> io:format(\"restart ~ts~n\", [X]);
        {error, R} -> io:format(\"error ~ts~n\", [W(R)]);
        Other -> io:format(\"error unexpected answer ~0tp~n\", [Other])
    catch C:E -> io:format(\"error ~0tp~n\", [{C, E}]) end."
}

# Sets RH_STATUS to the status of release $1 on the node (unpacked, current, permanent,
# old) or none.
rh_status() {
    RH_STATUS=$(rh_eval "try lists:keyfind(\"$1\", 2, release_handler:which_releases()) of
        {_, _, _, S} -> io:format(\"~s~n\", [S]);
        false -> io:format(\"none~n\")
    catch _:_ -> io:format(\"error~n\") end.") || RH_STATUS=
    case $RH_STATUS in
        '' | error | *[!a-z_]*)
            err "Cannot ask the node for its releases (release_handler:which_releases/0 failed): the release needs sasl."
            exit 1
            ;;
    esac
}

# Sets RH_CURRENT to the version the node runs (current, else permanent).
rh_current() {
    RH_CURRENT=$(rh_eval "Rs = release_handler:which_releases(),
        case [V || {_, V, _, current} <- Rs] ++ [V || {_, V, _, permanent} <- Rs] of
            [V | _] -> io:format(\"~s~n\", [V]);
            [] -> io:format(\"unknown~n\") end.") || RH_CURRENT=unknown
}

# rh_result OUTPUT: succeeds for "ok ...", sets RH_WHY_TEXT for "error ...".
rh_result() {
    RH_RESTART=
    case $1 in
        ok | "ok "*) ;;
        "restart "*) RH_RESTART=1 ;;
        "error "*) RH_WHY_TEXT=${1#error }; return 1 ;;
        '') RH_WHY_TEXT="no answer from the node (erl_call failed)"; return 1 ;;
        *) RH_WHY_TEXT=$1; return 1 ;;
    esac
}

# rh_unpack VSN: the tarball where relx looks for it, linked as releases/VSN/NAME.tar.gz,
# unpacked by release_handler:unpack_release("VSN/NAME"). Exits 2 on failure.
rh_unpack() {
    _ru_rel=$RELEASE_ROOT_DIR/releases
    _ru_tar=
    for _ru_c in "$_ru_rel/$REL_NAME-$1.tar.gz" "$_ru_rel/$1/$REL_NAME-$1.tar.gz" "$_ru_rel/$1/$REL_NAME.tar.gz"; do
        if [ -f "$_ru_c" ]; then
            _ru_tar=$_ru_c
            break
        fi
    done
    if [ -z "$_ru_tar" ]; then
        err "Unpack failed: no tarball for release $1 (looked for releases/$REL_NAME-$1.tar.gz, releases/$1/$REL_NAME-$1.tar.gz and releases/$1/$REL_NAME.tar.gz)."
        exit 2
    fi
    _ru_link=
    if [ "$_ru_tar" != "$_ru_rel/$1/$REL_NAME.tar.gz" ]; then
        mkdir -p -- "$_ru_rel/$1" || exit 2
        rm -f -- "$_ru_rel/$1/$REL_NAME.tar.gz"
        ln -s -- "$_ru_tar" "$_ru_rel/$1/$REL_NAME.tar.gz" || exit 2
        _ru_link=$_ru_rel/$1/$REL_NAME.tar.gz
    fi
    if ! rh_result "$(rh_step "release_handler:unpack_release(\"$1/$REL_NAME\")")"; then
        [ -n "$_ru_link" ] && rm -f -- "$_ru_link"
        err "Unpack failed: release_handler:unpack_release(\"$1/$REL_NAME\") says: $RH_WHY_TEXT."
        exit 2
    fi
    echo "Unpacked release $1 (from ${_ru_tar#"$RELEASE_ROOT_DIR"/})"
}

# rh_install VSN: check, install (update_paths), make permanent unless --no-permanent.
rh_install() {
    rh_current
    if ! rh_result "$(rh_step "release_handler:check_install_release(\"$1\")")"; then
        err "Check failed: release_handler:check_install_release(\"$1\") says: $RH_WHY_TEXT; the node stays on $RH_CURRENT."
        err "(Release $1 stays unpacked; ${SCRIPT##*/} uninstall $1 removes it.)"
        exit 3
    fi
    echo "Checked release $1: it can replace $RH_CURRENT"
    if ! rh_result "$(rh_step "release_handler:install_release(\"$1\", [{update_paths, true}])")"; then
        case $RH_WHY_TEXT in
            "release $1 is not installed")
                err "Install failed: $RH_WHY_TEXT."
                exit 2
                ;;
        esac
        err "Install failed: release_handler:install_release(\"$1\") says: $RH_WHY_TEXT; the node stays on $RH_CURRENT."
        exit 4
    fi
    if [ -n "$RH_RESTART" ]; then
        # restart_new_emulator: the node reboots into the new ERTS (heart runs this script
        # with new_start_erl.data), then release_handler finishes the upgrade there.
        echo "Installed release $1 up to its emulator restart (new ERTS): the node reboots"
        if [ -z "$VM_HEART" ]; then
            err "The node runs without -heart: start it again with ${SCRIPT##*/} daemon; release_handler finishes the upgrade at boot"
            exit 4
        fi
        if ! rh_wait_current "$1"; then
            err "Install failed: release $1 is not current ${FASTREL_UPGRADE_TIMEOUT:-300} s after the emulator restart; the node boots its permanent release."
            exit 4
        fi
        echo "Installed release $1 in the new emulator (was $RH_CURRENT)"
    else
        echo "Installed release $1 (was $RH_CURRENT)"
    fi
    rh_permanent "$1"
}

# rh_wait_current VSN: wait (FASTREL_UPGRADE_TIMEOUT s) for the node to run VSN.
rh_wait_current() {
    _rw_start=$(date +%s)
    while :; do
        _rw_s=$(rh_eval "case lists:keyfind(\"$1\", 2, release_handler:which_releases()) of
            {_, _, _, S} -> io:format(\"~s~n\", [S]);
            false -> io:format(\"none~n\") end." 2>/dev/null)
        case $_rw_s in current | permanent) return 0 ;; esac
        [ $(($(date +%s) - _rw_start)) -ge "${FASTREL_UPGRADE_TIMEOUT:-300}" ] && return 1
        nap
    done
}

rh_permanent() {
    if [ -n "$RH_NO_PERMANENT" ]; then
        echo "Release $1 is not made permanent (--no-permanent): the next boot starts the permanent one"
        return 0
    fi
    if ! rh_result "$(rh_step "release_handler:make_permanent(\"$1\")")"; then
        err "Make permanent failed: release_handler:make_permanent(\"$1\") says: $RH_WHY_TEXT; the node runs $1 but boots its permanent release."
        exit 4
    fi
    echo "Made release $1 permanent"
}

# Sets RH_VSN and RH_NO_PERMANENT from COMMAND's arguments.
rh_args() {
    RH_VSN=
    RH_NO_PERMANENT=
    for _ra do
        case $_ra in
            --no-permanent) RH_NO_PERMANENT=1 ;;
            -*) err "Unknown option for $COMMAND: $_ra"; exit 1 ;;
            *)
                if [ -n "$RH_VSN" ]; then
                    err "Usage: ${SCRIPT##*/} $COMMAND VSN [--no-permanent]"
                    exit 1
                fi
                RH_VSN=$_ra
                ;;
        esac
    done
    case $RH_VSN in
        '')
            err "Usage: ${SCRIPT##*/} $COMMAND VSN [--no-permanent]"
            exit 1
            ;;
        *[!A-Za-z0-9._+-]*)
            err "Not a release version: $RH_VSN"
            exit 1
            ;;
    esac
    RELX_RPC_TIMEOUT=${FASTREL_UPGRADE_TIMEOUT:-300}
}

node_alive() {
    [ "$(erl_rpc erlang is_alive 2>/dev/null)" = "true" ]
}

ping_or_exit() {
    need_name
    if ! node_alive; then
        echo "Node is not running!"
        exit 1
    fi
}

# Sets NODE_PID to the VM's OS pid.
get_pid() {
    NODE_PID=$(erl_rpc os getpid 2>/dev/null) || return 1
    NODE_PID=${NODE_PID#\"}
    NODE_PID=${NODE_PID%\"}
    case $NODE_PID in '' | *[!0-9]*) return 1 ;; esac
}

set_pipe_dir() {
    if [ -z "$PIPE_DIR" ]; then
        full_node_name
        PIPE_BASE_DIR=/tmp/erl_pipes
        PIPE_DIR=$PIPE_BASE_DIR/$NODE/
    else
        PIPE_DIR=$(abs_path "$PIPE_DIR")
    fi
}

# True while OS process $1 exists and is not a zombie (a dead VM whose parent, run_erl,
# has not reaped it yet is gone as far as stop is concerned).
os_pid_running() {
    kill -0 "$1" 2>/dev/null || return 1
    if [ -r "/proc/$1/stat" ]; then
        _op_stat=
        IFS= read -r _op_stat < "/proc/$1/stat" 2>/dev/null || return 1
        case ${_op_stat##*) } in Z* | X*) return 1 ;; esac
    fi
    return 0
}

print_last_log() {
    # shellcheck disable=SC2012
    _pl_newest=$(ls -t -- "$RUNNER_LOG_DIR"/erlang.log.* 2>/dev/null | sed -n 1p)
    if [ -n "$_pl_newest" ]; then
        err "Last lines of $_pl_newest:"
        tail -n "${1:-25}" "$_pl_newest" >&2
    fi
}

# $1 for a systemd unit file, in UE: \ and " escaped (for a quoted word), % doubled
# (systemd's specifiers).
unit_escape() {
    UE=$(printf '%s' "$1" | sed -e 's/[\\"]/\\&/g' -e 's/%/%%/g')
}

# The systemd service for this release (see "help systemd-unit").
print_systemd_unit() {
    # vm.args' -env wins over the environment in the VM, so in the unit too.
    _su_t=${VM_HEART_TIMEOUT:-${HEART_BEAT_TIMEOUT:-60}}
    case $_su_t in '' | *[!0-9]*) _su_t=60 ;; esac
    _su_stop=${FASTREL_STOP_TIMEOUT:-60}
    case $_su_stop in '' | *[!0-9]*) _su_stop=60 ;; esac
    _su_start=${FASTREL_START_TIMEOUT:-60}
    case $_su_start in '' | *[!0-9]*) _su_start=60 ;; esac
    _su_user=${FASTREL_UNIT_USER:-$(stat -c %U -- "$RELEASE_ROOT_DIR" 2>/dev/null || id -un)}
    unit_escape "$RELEASE_ROOT_DIR"
    _su_root=$UE
    shell_quote "$RELEASE_ROOT_DIR/bin/$REL_NAME"
    unit_escape "$SQ daemon"
    _su_heart_cmd=$UE
    _su_flags=
    [ -z "$VM_HEART" ] && _su_flags="
# vm.args has no -heart: READY=1 and WATCHDOG=1 come from heart.
Environment=ERL_FLAGS=-heart"
    cat <<EOF
# systemd service for the $REL_NAME $REL_VSN release, printed by "bin/$REL_NAME systemd-unit".
#   bin/$REL_NAME systemd-unit > /etc/systemd/system/$REL_NAME.service
#   systemctl daemon-reload && systemctl enable --now $REL_NAME
#
# Who restarts what: heart restarts the VM when it dies or stops answering for
# HEART_BEAT_TIMEOUT s (running HEART_COMMAND), at most HEART_MAX_RESTARTS times in
# HEART_RESTART_WINDOW s; the unit stays up meanwhile (ExitType=cgroup). systemd
# restarts the unit when heart gives up, dies, or sends no WATCHDOG=1 for WatchdogSec.
[Unit]
Description=$REL_NAME $REL_VSN (Erlang/OTP release)
Wants=network-online.target
After=network-online.target

[Service]
Type=notify
# heart sends READY=1 (first heartbeat), WATCHDOG=1 (each one) and STOPPING=1.
NotifyAccess=all
ExitType=cgroup
User=$_su_user
WorkingDirectory=$_su_root
RuntimeDirectory=$REL_NAME
LogsDirectory=$REL_NAME
Environment=RUNNER_LOG_DIR=%L/$REL_NAME
Environment=HEART_STATE_DIR=%t/$REL_NAME
Environment=HEART_BEAT_TIMEOUT=$_su_t
Environment=HEART_MAX_RESTARTS=${HEART_MAX_RESTARTS:-3} HEART_RESTART_WINDOW=${HEART_RESTART_WINDOW:-3600}
Environment="HEART_COMMAND=$_su_heart_cmd"
Environment=FASTREL_STOP_TIMEOUT=$_su_stop$_su_flags
ExecStart="$_su_root/bin/$REL_NAME" foreground
# Returns once the VM has finished init:stop() and exited.
ExecStop="$_su_root/bin/$REL_NAME" stop
# heart's own timeout, a restart, and the new node's first heartbeat fit in it.
WatchdogSec=$((2 * _su_t + 30))
TimeoutStartSec=$((_su_start + 30))
TimeoutStopSec=$((_su_stop + 30))
# SIGTERM (init:stop()) to the VM only; heart and run_erl go with it.
KillMode=mixed
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
EOF
}

usage() {
    case $1 in
        '' | help | foreground | console | console_clean | console_boot | daemon | start | \
            daemon_boot | daemon_attach | attach | remote_console | remote | remsh | ping | \
            pid | stop | restart | reboot | rpc | eval | status | versions | escript | \
            unpack | install | upgrade | downgrade | uninstall | systemd-unit | systemd_unit)
            cat <<EOF
Usage: ${SCRIPT##*/} COMMAND [ARGS]

Starting:
  foreground            Start the release in the foreground (no shell; for systemd, runit, ...)
  console               Start the release with an interactive shell
  console_clean         Start an interactive shell with only kernel and stdlib (start_clean)
  console_boot FILE     Start an interactive shell with the boot file FILE
  daemon                Start the release in the background under run_erl (start: alias)
  daemon_boot FILE      Same as daemon, booting FILE

Talking to a running node:
  daemon_attach         Attach to the shell of a daemon node through its pipe (to_erl) (attach: alias)
  remote_console        Open a remote shell on the node (remote, remsh: aliases)
  ping                  Print pong if the node is up, else "Node is not running!" (exit 1)
  pid                   Print the OS pid of the node
  stop                  Stop the node; return when its OS process is gone
  restart               Restart the applications (init:restart/0), the VM keeps running
  reboot                Stop the VM (init:reboot/0); it comes back only if heart is on
  rpc [Mod [Fun [Args]]]  Call Mod:Fun(Args...) on the node and print the result
  eval 'Exprs.'         Evaluate Erlang expressions on the node and print the result
  status                Succeed if the node is up
  versions              Print the installed versions of the release

Hot upgrades (release_handler; the tarball in releases/NAME-VSN.tar.gz,
releases/VSN/NAME-VSN.tar.gz or releases/VSN/NAME.tar.gz):
  unpack VSN            Unpack release VSN
  upgrade VSN [--no-permanent]    Unpack if needed, check, install and make VSN permanent
  downgrade VSN [--no-permanent]  Install the older release VSN and make it permanent
  install VSN [--no-permanent]    Same as upgrade
  uninstall VSN         Remove release VSN (not the current or permanent one)
  Exit statuses: 1 node down, 2 unpack failed or not installed, 3 check failed,
  4 install failed. The next boot (heart's restarts too) runs releases/start_erl.data's version.

Other:
  escript PATH [ARGS]   Run the escript PATH (relative to the release root) with the release's ERTS
  systemd-unit          Print a systemd service for the release (Type=notify through heart,
                        WatchdogSec from HEART_BEAT_TIMEOUT, foreground, stop waits for the VM;
                        User: FASTREL_UNIT_USER or the release's owner)
  help [COMMAND]        This text

Environment: PIPE_DIR, RUNNER_LOG_DIR, VMARGS_PATH, RELX_CONFIG_PATH, RELX_REPLACE_OS_VARS,
RELX_OUT_FILE_PATH, RELX_COOKIE, RELX_RPC_TIMEOUT, CODE_LOADING_MODE, ERL_DIST_PORT,
HEART_COMMAND, FASTREL_START_TIMEOUT (s, default 60), FASTREL_STOP_TIMEOUT (s, default 60),
FASTREL_UPGRADE_TIMEOUT (s per release_handler call, default 300),
ERL_ROOTDIR / ERTS_DIR (system ERTS to use when none is bundled).
EOF
            if [ -n "$EXTENSIONS" ]; then
                printf '\nExtensions of this release: %s\n' "$EXTENSIONS"
            fi
            if [ -n "$RELEASE_COMMANDS" ]; then
                printf '\nCommands this release offers (the others exit 1): %s\n' "$RELEASE_COMMANDS"
            fi
            ;;
        *)
            echo "Unknown command: $1" >&2
            usage ""
            ;;
    esac
}

# Heart is told to run this to restart the node; a value the user set is kept.
set_heart_command() {
    if [ -z "${HEART_COMMAND+set}" ]; then
        shell_quote "$RELEASE_ROOT_DIR/bin/$REL_NAME"
        HEART_COMMAND="$SQ $1"
        shift
        for _hc_a do
            shell_quote "$_hc_a"
            HEART_COMMAND="$HEART_COMMAND $SQ"
        done
    fi
    # shellcheck disable=SC2090
    export HEART_COMMAND
}

# ---------------------------------------------------------------------------------------
# Commands that start the node
# (cmd_*: one per command, called with its arguments by the dispatcher below, which
# runs finish when one returns: the command succeeded).

# foreground, console, console_clean, console_boot FILE: the VM replaces this script (exec).
cmd_exec_vm() {
    prepare_config sys.config "$RELX_CONFIG_PATH"
    RELX_CONFIG_PATH=$CFG_OUT
    FG_OPTS=
    case $COMMAND in
        foreground)
            BOOTFILE=$REL_DIR/start
            [ -f "$REL_DIR/$REL_NAME.boot" ] && BOOTFILE=$REL_DIR/$REL_NAME
            FG_OPTS="-noinput +Bd"
            ;;
        console)
            BOOTFILE=$REL_DIR/start
            [ -f "$REL_DIR/$REL_NAME.boot" ] && BOOTFILE=$REL_DIR/$REL_NAME
            ;;
        console_clean)
            BOOTFILE=$REL_DIR/start_clean
            CODE_LOADING_MODE=${CODE_LOADING_MODE:-interactive}
            ;;
        console_boot)
            if [ -z "$1" ]; then
                err "Usage: ${SCRIPT##*/} console_boot FILE"
                exit 1
            fi
            BOOTFILE=$(abs_path "$1")
            BOOTFILE=${BOOTFILE%.boot}
            shift
            ;;
    esac
    CODE_LOADING_MODE=${CODE_LOADING_MODE:-embedded}
    set -- "$COMMAND" "$@"
    if [ -f "$VMARGS_PATH" ]; then
        # shellcheck disable=SC2086
        set -- -args_file "$VMARGS_PATH" $EXTRA_DIST_ARGS -- "$@"
    else
        # shellcheck disable=SC2086
        set -- $EXTRA_DIST_ARGS -- "$@"
    fi
    if [ -f "$RELX_CONFIG_PATH" ]; then
        set -- -config "$RELX_CONFIG_PATH" "$@"
    fi
    # release_handler restarts a node into a new ERTS through this script (see
    # new_start_erl.data above); a start_prg in vm.args still wins, one in sys.config
    # does not.
    set -- -sasl start_prg "\"$RELEASE_ROOT_DIR/bin/$REL_NAME\"" "$@"
    # shellcheck disable=SC2086
    set -- $FG_OPTS -boot "$BOOTFILE" -mode "$CODE_LOADING_MODE" \
        -boot_var SYSTEM_LIB_DIR "$SYSTEM_LIB_DIR" "$@"
    echo "Exec: $BINDIR/erlexec $*"
    echo "Root: $ROOTDIR"
    run_phase pre_start
    # Under daemon: tell the waiting script which OS pid the VM will have (exec keeps it).
    if [ -n "$FASTREL_PID_FILE" ]; then
        echo "$$" > "$FASTREL_PID_FILE" 2>/dev/null
        unset FASTREL_PID_FILE
    fi
    exec "$BINDIR/erlexec" "$@"
}

# daemon (start), daemon_boot FILE: the VM under run_erl; returns once it has booted.
cmd_daemon() {
    need_name
    case $COMMAND in
        daemon | start) START_OPTION=console; HEART_OPTION=daemon ;;
        daemon_boot)
            START_OPTION=console_boot; HEART_OPTION=daemon_boot
            if [ -z "$1" ]; then
                err "Usage: ${SCRIPT##*/} daemon_boot FILE"
                exit 1
            fi
            _db_file=$(abs_path "$1")
            shift
            set -- "$_db_file" "$@"
            ;;
    esac
    if node_alive; then
        echo "Node is already running!"
        exit 1
    fi
    set_heart_command "$HEART_OPTION" "$@"
    case $TERM in '' | dumb) TERM=screen; export TERM ;; esac
    set_pipe_dir
    if [ -n "$PIPE_BASE_DIR" ] && [ ! -d "$PIPE_BASE_DIR" ]; then
        mkdir -p -- "$PIPE_BASE_DIR" 2>/dev/null && chmod 1777 "$PIPE_BASE_DIR" 2>/dev/null
    fi
    mkdir -p -- "$PIPE_DIR" 2>/dev/null
    if [ ! -w "$PIPE_DIR" ]; then
        err "failed to start, user '$(id -un)' does not have write privileges on '$PIPE_DIR', either delete it or run node as a different user"
        exit 1
    fi
    mkdir -p -- "$RUNNER_LOG_DIR" || exit 1
    run_phase pre_start
    shell_quote "$RELEASE_ROOT_DIR/bin/$REL_NAME"
    _dm_cmd="exec $SQ"
    if [ -n "$START_DATA_FILE" ]; then
        shell_quote "$START_DATA_FILE"
        _dm_cmd="$_dm_cmd $SQ"
    fi
    _dm_cmd="$_dm_cmd --relx-disable-hooks $START_OPTION"
    for _dm_a do
        shell_quote "$_dm_a"
        _dm_cmd="$_dm_cmd $SQ"
    done
    FASTREL_PID_FILE=$PIPE_DIR/fastrel.$$.pid
    rm -f -- "$FASTREL_PID_FILE"
    export FASTREL_PID_FILE
    "$RUN_ERL" -daemon "$PIPE_DIR" "$RUNNER_LOG_DIR" "$_dm_cmd" || {
        err "run_erl failed to start"
        exit 1
    }
    # Wait for the node to be started; give up after FASTREL_START_TIMEOUT seconds, or as
    # soon as run_erl is gone (it removes its FIFOs when the VM exits).
    _dm_limit=${FASTREL_START_TIMEOUT:-60}
    _dm_start=$(date +%s)
    _dm_vm_pid=
    while :; do
        # Up = distribution answers and init has finished the boot script (relx only
        # waited for is_alive, i.e. it could return before the applications started).
        case $(erl_rpc init get_status 2>/dev/null) in
            "{started, started}")
                rm -f -- "$FASTREL_PID_FILE"
                run_phase post_start
                finish
                ;;
        esac
        _dm_now=$(date +%s)
        if [ -z "$_dm_vm_pid" ] && [ -r "$FASTREL_PID_FILE" ]; then
            IFS= read -r _dm_vm_pid < "$FASTREL_PID_FILE"
        fi
        if [ -n "$_dm_vm_pid" ]; then
            if ! os_pid_running "$_dm_vm_pid"; then
                rm -f -- "$FASTREL_PID_FILE"
                err "The node did not start: the VM (OS pid $_dm_vm_pid) exited during boot."
                [ -n "$VM_HEART" ] && err "(-heart is on: heart may restart it with HEART_COMMAND=$HEART_COMMAND)"
                print_last_log 25
                exit 1
            fi
        elif [ $((_dm_now - _dm_start)) -ge 10 ]; then
            rm -f -- "$FASTREL_PID_FILE"
            err "The node did not start: run_erl did not run the start command within 10 s."
            err "(run_erl reports its errors to syslog and $RUNNER_LOG_DIR/run_erl.log)"
            print_last_log 25
            exit 1
        fi
        if [ $((_dm_now - _dm_start)) -ge "$_dm_limit" ]; then
            rm -f -- "$FASTREL_PID_FILE"
            err "The node did not finish booting within $_dm_limit s (FASTREL_START_TIMEOUT)."
            print_last_log 25
            exit 1
        fi
        nap
    done
}

# ---------------------------------------------------------------------------------------
# Commands that talk to a running node

# daemon_attach (attach): the daemon's shell through its pipe (to_erl).
cmd_attach() {
    ping_or_exit
    set_pipe_dir
    if [ ! -w "$PIPE_DIR" ]; then
        err "failed to attach, user '$(id -un)' does not have sufficient privileges on '$PIPE_DIR', please run node as a different user"
        exit 1
    fi
    case $TERM in '' | dumb) TERM=screen; export TERM ;; esac
    exec "$TO_ERL" "$PIPE_DIR"
}

# remote_console (remote, remsh): a hidden node with a remote shell on the node.
cmd_remote_console() {
    ping_or_exit
    full_node_name
    TICKTIME=$(erl_rpc net_kernel get_net_ticktime 2>/dev/null)
    case $TICKTIME in '' | *[!0-9]*) TICKTIME=60 ;; esac
    set -- -remsh "$NODE" -boot "$REL_DIR/start_clean" -mode interactive \
        -boot_var SYSTEM_LIB_DIR "$SYSTEM_LIB_DIR" -hidden -kernel net_ticktime "$TICKTIME" \
        -dist_listen false
    [ -n "$COOKIE" ] && set -- "$@" -setcookie "$COOKIE"
    # shellcheck disable=SC2086
    exec "$BINDIR/erlexec" "$NAME_TYPE" "undefined@${NODE#*@}" "$@" $DIST_ARGS $EXTRA_DIST_ARGS
}

cmd_ping() {
    ping_or_exit
    echo "pong"
}

cmd_pid() {
    need_name
    if ! get_pid; then
        echo "Node is not running!"
        exit 1
    fi
    echo "$NODE_PID"
}

# stop: init:stop(), then wait until the VM's OS process is gone.
cmd_stop() {
    need_name
    run_phase pre_stop
    if ! get_pid; then
        echo "Node is not running!"
        exit 1
    fi
    erl_rpc init stop > /dev/null || exit 1
    _st_limit=${FASTREL_STOP_TIMEOUT:-60}
    # Returns at the VM's exit itself (a pidfd), not at the next tick of a polling loop.
    if ! "$FASTREL_PROGRAMS" waitpid "$NODE_PID" "$_st_limit"; then
        err "The node (OS pid $NODE_PID) is still running after $_st_limit s."
        exit 1
    fi
    run_phase post_stop
}

# restart: init:restart() (the applications restart, the VM keeps running).
cmd_restart() {
    need_name
    erl_rpc init restart > /dev/null || exit 1
}

# reboot: init:reboot() (the VM exits; heart, if on, starts it again).
cmd_reboot() {
    need_name
    erl_rpc init reboot > /dev/null || exit 1
}

# rpc [Mod [Fun [Args]]]: the result of Mod:Fun(Args...) on the node.
cmd_rpc() {
    ping_or_exit
    _rpc_out=$(erl_rpc "$@") || { [ -n "$_rpc_out" ] && printf '%s\n' "$_rpc_out"; exit 1; }
    printf '%s\n' "$_rpc_out"
}

# eval 'Exprs.': the value, printed as relx prints it ({ok, X} as X).
cmd_eval() {
    ping_or_exit
    _ev_out=$(erl_eval_raw "$@") || { [ -n "$_ev_out" ] && printf '%s\n' "$_ev_out"; exit 1; }
    case $_ev_out in
        "{ok, "*"}")
            _ev_out=${_ev_out#"{ok, "}
            _ev_out=${_ev_out%"}"}
            ;;
        "{error, "*)
            # erl_call could not evaluate it (relx printed this and exited 0)
            printf '%s\n' "$_ev_out"
            exit 1
            ;;
    esac
    printf '%s\n' "$_ev_out"
}

# status: succeeds if the node is up; the status hooks get the arguments.
cmd_status() {
    ping_or_exit
    run_phase status status "$@"
}

# versions: the releases release_handler knows, with their status.
cmd_versions() {
    ping_or_exit
    printf '%s\n' 'io:format("Installed versions:~n~s", [[io_lib:format("* ~s\t~s~n", [V, S]) || {_, V, _, S} <- release_handler:which_releases()]]).' |
        erl_call_node -fetch_stdout -no_result_term -e || exit 1
}

# ---------------------------------------------------------------------------------------
# Hot upgrade commands

# upgrade, downgrade, install VSN [--no-permanent]: unpack if needed, install, make permanent.
cmd_upgrade() {
    # Every branch exits: unpacking may replace this very file.
    rh_args "$@"
    ping_or_exit
    run_phase pre_install_upgrade
    rh_status "$RH_VSN"
    case $RH_STATUS in
        none)
            rh_unpack "$RH_VSN"
            rh_install "$RH_VSN"
            ;;
        unpacked)
            echo "Release $RH_VSN is already unpacked, now installing"
            rh_install "$RH_VSN"
            ;;
        old)
            echo "Release $RH_VSN is marked old, switching to it"
            rh_install "$RH_VSN"
            ;;
        current)
            echo "Release $RH_VSN is already installed and current, making it permanent"
            rh_permanent "$RH_VSN"
            ;;
        permanent)
            echo "Release $RH_VSN is already installed and permanent"
            ;;
        *)
            err "Release $RH_VSN has the unknown status $RH_STATUS"
            exit 2
            ;;
    esac
    run_phase post_install_upgrade
    finish
}

cmd_unpack() {
    rh_args "$@"
    ping_or_exit
    run_phase pre_install_upgrade
    rh_status "$RH_VSN"
    case $RH_STATUS in
        none) rh_unpack "$RH_VSN" ;;
        *) echo "Release $RH_VSN is already unpacked ($RH_STATUS)" ;;
    esac
    run_phase post_install_upgrade
    finish
}

cmd_uninstall() {
    rh_args "$@"
    ping_or_exit
    run_phase pre_install_upgrade
    rh_status "$RH_VSN"
    case $RH_STATUS in
        old | unpacked)
            if ! rh_result "$(rh_step "release_handler:remove_release(\"$RH_VSN\")")"; then
                err "Uninstall failed: release_handler:remove_release(\"$RH_VSN\") says: $RH_WHY_TEXT."
                exit 2
            fi
            echo "Uninstalled release $RH_VSN"
            ;;
        none)
            err "Release $RH_VSN is not installed"
            exit 2
            ;;
        *)
            err "Release $RH_VSN is $RH_STATUS: it cannot be uninstalled"
            exit 2
            ;;
    esac
    run_phase post_install_upgrade
    finish
}

# ---------------------------------------------------------------------------------------
# Other commands

# escript PATH [ARGS]: PATH (relative to the release root) run with the release's ERTS.
cmd_escript() {
    if [ -z "$1" ]; then
        err "Usage: ${SCRIPT##*/} escript PATH [ARGS]"
        exit 1
    fi
    case $1 in
        /*) _es=$1 ;;
        *) _es=$RELEASE_ROOT_DIR/$1 ;;
    esac
    shift
    "$BINDIR/escript" "$_es" "$@" || exit 1
}

# help [COMMAND]; an extension's help is the extension run with "help".
cmd_help() {
    if [ -z "$1" ]; then
        usage ""
        exit 1
    fi
    if ! known_command "$1" && extension_script "$1"; then
        # relx: an extension's help is the extension run with "help".
        run_extension "$EXTENSION_SCRIPT" help
        exit
    fi
    usage "$1"
}

# An extension of this release, else an unknown command (usage, exit 1).
cmd_other() {
    if extension_script "$COMMAND"; then
        run_extension "$EXTENSION_SCRIPT" "$@"
        _ex_status=$?
        [ "$_ex_status" -eq 0 ] && finish
        exit "$_ex_status"
    fi
    usage "$COMMAND"
    exit 1
}

# ---------------------------------------------------------------------------------------
# The command line

# relx's internal flag (daemon's inner console): no hooks, every command available.
if [ "$1" = "--relx-disable-hooks" ]; then
    HOOKS_DISABLED=1
    shift
fi
COMMAND=$1
[ $# -gt 0 ] && shift
case $1 in --relx-disable-hooks) HOOKS_DISABLED=1; shift ;; esac

RUNNER_LOG_DIR=$(abs_path "${RUNNER_LOG_DIR:-$RELEASE_ROOT_DIR/log}")

# The command's canonical name (for extended_start_script_commands and pre:/post: hooks)
# and its arguments, quoted for finish.
case $COMMAND in
    start) COMMAND_NAME=daemon ;;
    attach) COMMAND_NAME=daemon_attach ;;
    remote | remsh) COMMAND_NAME=remote_console ;;
    systemd-unit) COMMAND_NAME=systemd_unit ;;
    *) COMMAND_NAME=$COMMAND ;;
esac
COMMAND_ARGS=
for _ca do
    shell_quote "$_ca"
    COMMAND_ARGS="$COMMAND_ARGS $SQ"
done
if [ -z "$HOOKS_DISABLED" ] && ! command_available "$COMMAND_NAME"; then
    if known_command "$COMMAND_NAME" || extension_script "$COMMAND_NAME"; then
        err "${SCRIPT##*/}: $COMMAND is not available in this release"
        exit 1
    fi
fi
run_phase "pre:$COMMAND_NAME" "$COMMAND_NAME" "$@"

case $COMMAND in
    foreground | console | console_clean | console_boot) cmd_exec_vm "$@" ;;
    daemon | start | daemon_boot) cmd_daemon "$@" ;;
    daemon_attach | attach) cmd_attach "$@" ;;
    remote_console | remote | remsh) cmd_remote_console "$@" ;;
    ping) cmd_ping "$@" ;;
    pid) cmd_pid "$@" ;;
    stop) cmd_stop "$@" ;;
    restart) cmd_restart "$@" ;;
    reboot) cmd_reboot "$@" ;;
    rpc) cmd_rpc "$@" ;;
    eval) cmd_eval "$@" ;;
    status) cmd_status "$@" ;;
    versions) cmd_versions "$@" ;;
    escript) cmd_escript "$@" ;;
    upgrade | downgrade | install) cmd_upgrade "$@" ;;
    unpack) cmd_unpack "$@" ;;
    uninstall) cmd_uninstall "$@" ;;
    systemd-unit | systemd_unit) print_systemd_unit ;;
    help) cmd_help "$@" ;;
    *) cmd_other "$@" ;;
esac

finish
