%% SPDX-License-Identifier: Apache-2.0
%% @doc The start script's hooks, extensions and command list (`extended_start_script_hooks',
%% `extended_start_script_extensions', `extended_start_script_commands'), rendered into
%% `bin/NAME' at build time.
%%
%% relx's model (rlx_assemble and its extended_bin template): a hook or extension is a
%% script under `bin/' that the start script sources, so it sees the script's variables
%% and functions (`erl_rpc', `erl_eval', `relx_get_pid') and can export variables to the
%% VM; a failing command in it ends the start script with its status. The built-in hooks
%% are written to `bin/hooks/builtin/' as relx writes them; custom hooks and extensions
%% are copied into `bin/' by the user's overlays, as with relx.
-module(fastrel_hooks).

-export([phases/0, commands/0, aliases/0, canonical/1, exec_commands/0, is_command_name/1,
         substitutions/1, builtin_files/1, scripts/1]).

-include("fastrel_config.hrl").

%% @doc relx's hook phases.
-spec phases() -> [atom()].
phases() -> [pre_start, post_start, pre_stop, post_stop, pre_install_upgrade, post_install_upgrade, status].

%% @doc The start script's commands (canonical names).
-spec commands() -> [atom()].
commands() ->
    [foreground, console, console_clean, console_boot, daemon, daemon_boot, daemon_attach,
     remote_console, ping, pid, stop, restart, reboot, rpc, eval, status, versions, escript,
     unpack, install, upgrade, downgrade, uninstall, systemd_unit, help].

%% @doc Other names of some commands.
-spec aliases() -> [atom()].
aliases() -> [start, attach, remote, remsh, 'systemd-unit'].

-spec canonical(atom()) -> atom().
canonical(start) -> daemon;
canonical(attach) -> daemon_attach;
canonical(C) when C =:= remote; C =:= remsh -> remote_console;
canonical('systemd-unit') -> systemd_unit;
canonical(C) -> C.

%% @doc The commands that replace the script with a VM or a shell: nothing runs after them.
-spec exec_commands() -> [atom()].
exec_commands() -> [foreground, console, console_clean, console_boot, daemon_attach, remote_console].

%% @doc True if and only if the atom can name a command in the script (letters, digits, _).
-spec is_command_name(atom()) -> boolean().
is_command_name(A) ->
    L = atom_to_list(A),
    L =/= [] andalso lists:all(fun(C) -> (C >= $a andalso C =< $z) orelse (C >= $A andalso C =< $Z)
                                          orelse (C >= $0 andalso C =< $9) orelse C =:= $_ end, L).

%% @doc The template's placeholders and the shell code that replaces them.
-spec substitutions(#relx{}) -> [{binary(), iodata()}].
substitutions(#relx{extended_start_script_hooks = Hooks, extended_start_script_extensions = Exts,
                    extended_start_script_commands = Cmds}) ->
    [{<<"        # @@HOOK_CASES@@\n">>, hook_cases(Hooks)},
     {<<"        # @@EXTENSION_CASES@@\n">>,
      [["        '", atom_to_list(N), "') EXTENSION_SCRIPT=", dq(S), " ;;\n"] || {N, S} <- Exts]},
     {<<"# @@EXTENSIONS@@">>, ["EXTENSIONS='", lists:join(" ", [atom_to_list(N) || {N, _} <- Exts]), "'"]},
     {<<"# @@COMMANDS@@">>,
      case Cmds of
          all -> "RELEASE_COMMANDS=";
          _ -> ["RELEASE_COMMANDS='", lists:join(" ", [atom_to_list(C) || C <- Cmds]), "'"]
      end}].

%% One case branch per phase, its hooks in order (a phase given twice runs both lists).
hook_cases(Hooks) ->
    Phases = lists:usort([P || {P, _} <- Hooks]),
    [["        ", phase_pattern(P), ")\n",
      [["            run_hook ", lists:join(" ", [dq(W) || W <- invocation(H)]), command_args(P), "\n"]
       || {P1, Hs} <- Hooks, P1 =:= P, H <- Hs],
      "            ;;\n"] || P <- Phases].

%% relx sources the status hook with the command line ("status" and its arguments); the
%% hooks around a command get the command and its arguments the same way.
command_args(P) when P =:= status; is_tuple(P) -> " \"$@\"";
command_args(_) -> "".

phase_pattern({When, Cmd}) -> ["'", atom_to_list(When), ":", atom_to_list(Cmd), "'"];
phase_pattern(P) -> atom_to_list(P).

%% relx's invocations (rlx_assemble:hook_invocation/1): the script, relative to bin/,
%% then its arguments; a custom script's "path|arg|arg" is split as relx splits it.
invocation({custom, S}) -> string:split(S, "|", all);
invocation(pid) -> ["hooks/builtin/pid", "/var/run/$REL_NAME.pid"];
invocation({pid, F}) -> ["hooks/builtin/pid", F];
invocation(wait_for_vm_start) -> ["hooks/builtin/wait_for_vm_start"];
invocation({wait_for_process, Name}) -> ["hooks/builtin/wait_for_process", io_lib:format("~p", [Name])];
invocation(builtin_status) -> ["hooks/builtin/status"].

%% Double-quoted for sh: `$VAR' still expands when the hook runs, as in relx's script.
dq(S) -> [$", [case C of $" -> "\\\""; $\\ -> "\\\\"; $` -> "\\`"; _ -> C end || C <- lists:flatten(S)], $"].

%% @doc The built-in hooks the configuration uses, as `{PathUnderBin, Text}': each calls
%% the start script's function of the same name, so the logic stays in the template.
-spec builtin_files(#relx{}) -> [{string(), iodata()}].
builtin_files(#relx{extended_start_script_hooks = Hooks}) ->
    Used = lists:usort([hd(invocation(H)) || {_, Hs} <- Hooks, H <- Hs, not is_custom(H)]),
    [{F, ["#!/bin/sh\n# relx's built-in hook ", filename:basename(F), ", sourced by the start script (fastrel).\n",
          "fastrel_builtin_", filename:basename(F), " \"$@\"\n"]} || F <- Used].

is_custom({custom, _}) -> true;
is_custom(_) -> false.

%% @doc The scripts the user copies into `bin/' (custom hooks and extensions), with the
%% key that names them.
-spec scripts(#relx{}) -> [{atom(), string()}].
scripts(#relx{extended_start_script_hooks = Hooks, extended_start_script_extensions = Exts}) ->
    lists:usort([{extended_start_script_hooks, hd(string:split(S, "|"))} || {_, Hs} <- Hooks, {custom, S} <- Hs]
                ++ [{extended_start_script_extensions, S} || {_, S} <- Exts]).
