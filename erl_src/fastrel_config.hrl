%% SPDX-License-Identifier: Apache-2.0
%% The relx configuration of one release, as fastrel_config:load/2 reads it: every key
%% with its explicit default, checked once, so no reader below has a default of its own.

-record(relx, {
    name :: atom(),
    %% The version as configured ("1.0.0", git, {cmd, C}, ...); fastrel_release resolves it.
    vsn :: term(),
    goals = [] :: [term()],
    dev_mode = false :: boolean(),
    %% false, true (this OTP's ERTS) or the root of another OTP.
    include_erts = false :: boolean() | file:filename(),
    system_libs = true :: boolean() | file:filename(),
    %% undefined: not configured. relx copies sources into a release but leaves them out
    %% of its tarball unless include_src is set explicitly; both readers need to know.
    include_src = undefined :: boolean() | undefined,
    debug_info = keep :: keep | strip,
    generate_start_script = true :: boolean(),
    %% undefined: config/NAME(.src) if present, else a default; false: none.
    vm_args = undefined :: file:filename() | false | undefined,
    vm_args_src = undefined :: file:filename() | undefined,
    sys_config = undefined :: file:filename() | false | undefined,
    sys_config_src = undefined :: file:filename() | undefined,
    overlay = [] :: [tuple()],
    overlay_vars = [] :: [file:filename()],
    overlay_vars_values = [] :: [{atom(), term()}],
    exclude_apps = [] :: [atom()],
    exclude_modules = [] :: [{atom(), [module()]}],
    lib_dirs = [] :: [file:filename()],
    src_tests = true :: boolean(),
    exref = false :: boolean(),
    warnings_as_errors = false :: boolean(),
    %% The start script's hooks, phase by phase in the order configured (a phase given
    %% twice runs both lists): relx's phases (pre_start, ..., status) and fastrel's
    %% {pre, Command} / {post, Command}. Hooks are relx's forms: pid, {pid, File},
    %% wait_for_vm_start, {wait_for_process, Name}, builtin_status, {custom, Script}.
    extended_start_script_hooks = [] :: [{atom() | {pre | post, atom()}, [term()]}],
    %% bin/NAME Command runs bin/Script (relx's extensions).
    extended_start_script_extensions = [] :: [{atom(), file:filename()}],
    %% all, or the only commands bin/NAME offers (canonical names: daemon, not start).
    extended_start_script_commands = all :: all | [atom()],
    %% undefined: reproducible when SOURCE_DATE_EPOCH is set; true: also without it (mtimes
    %% 0); false: never. Reproducible: every mtime of the release and its tarball is the
    %% epoch, the tarball's entries sorted and owned by 0/0.
    reproducible = undefined :: boolean() | undefined,
    %% Keys fastrel does not know, sorted (reported by name).
    unknown = [] :: [atom()]
}).
