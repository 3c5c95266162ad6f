%% SPDX-License-Identifier: Apache-2.0
%% @doc A private ERTS `bin' directory whose `heart', `run_erl' and `to_erl' are fastrel's,
%% leaving the system's ERTS untouched.
%%
%% `erl' execs `$BINDIR/erlexec', which puts `$BINDIR' first in `PATH'; heart.erl then
%% spawns `heart' through that `PATH'. So a directory holding links to every ERTS program
%% except `heart', fastrel's `heart' itself, and an `erl' that points `BINDIR' there makes
%% the VM run fastrel's heart, with nothing else changed. `run_erl' and `to_erl' are
%% replaced the same way, so `DIR/bin/run_erl -daemon ... "exec DIR/erl ..."' is all
%% fastrel's.
-module(fastrel_overlay).

%% heart, run_erl and to_erl are one executable, run under each name.
-define(EXECUTABLE, "fastrel_programs").

-export([create/1, create/2, heart_binary/0, program_binary/1, programs/0, install_programs/1, format_error/1]).

%% @doc Creates (or refreshes) the overlay in `Dir'; returns the `erl' to run.
-spec create(file:filename()) -> {ok, file:filename()} | {error, {?MODULE, term()}}.
create(Dir) -> create(Dir, #{}).

%% @doc `create/1'. The `erl' wrapper is also `Dir/bin/erl': erlexec puts `BINDIR' first
%% in `PATH', so an `erl' started from inside an overlay node (a heart command, a peer
%% node) must be the wrapper too, or it would reset `BINDIR' to the system's. The option
%% `erl_in_bin' is accepted for compatibility; it is always on.
-spec create(file:filename(), #{erl_in_bin => boolean()}) -> {ok, file:filename()} | {error, {?MODULE, term()}}.
create(Dir0, Opts) ->
    Dir = filename:absname(Dir0),
    Root = code:root_dir(),
    ErtsBin = filename:join([Root, "erts-" ++ erlang:system_info(version), "bin"]),
    Bin = filename:join(Dir, "bin"),
    try
        ok(filelib:ensure_path(Bin), {mkdir, Bin}),
        {ok, Names} = ok(file:list_dir(ErtsBin), {list, ErtsBin}),
        Ours = [?EXECUTABLE | programs()],
        [symlink(filename:join(ErtsBin, N), filename:join(Bin, N))
         || N <- Names, not lists:member(N, ["erl" | Ours])],
        install_all(Bin),
        Erl = filename:join(Dir, "erl"),
        install(Erl, erl_script(Root, Bin)),
        _ = Opts,
        install(filename:join(Bin, "erl"), erl_script(Root, Bin)),
        {ok, Erl}
    catch
        throw:Reason -> {error, {?MODULE, Reason}}
    end.

%% @doc The ERTS programs fastrel replaces.
-spec programs() -> [string()].
programs() -> ["heart", "run_erl", "to_erl"].

%% @doc Puts fastrel's programs into `BinDir': one executable, `fastrel_programs', and
%% `heart', `run_erl' and `to_erl' as links to it beside it (it runs as the program it is
%% called by). Links within one directory are what `erl_tar:extract/2' (and so
%% `release_handler:unpack_release/1') accepts.
-spec install_programs(file:filename()) -> ok | {error, {?MODULE, term()}}.
install_programs(BinDir) ->
    try
        ok(filelib:ensure_path(BinDir), {mkdir, BinDir}),
        install_all(BinDir)
    catch
        throw:Reason -> {error, {?MODULE, Reason}}
    end.

install_all(Bin) ->
    {ok, Prog} = ok(program_binary(?EXECUTABLE), {binary, ?EXECUTABLE}),
    install(filename:join(Bin, ?EXECUTABLE), Prog),
    [symlink(?EXECUTABLE, filename:join(Bin, P)) || P <- programs()],
    ok.

%% @doc The bytes of fastrel's heart.
-spec heart_binary() -> {ok, binary()} | {error, not_found}.
heart_binary() -> program_binary("heart").

%% @doc The bytes of one of fastrel's programs (all are `fastrel_programs'): from the
%% application's priv dir, or from the escript.
-spec program_binary(string()) -> {ok, binary()} | {error, not_found}.
program_binary(_Name) ->
    fastrel_file:priv_file(?EXECUTABLE).

erl_script(Root, Bin) ->
    ["#!/bin/sh\n",
     "# erl through a private BINDIR whose heart, run_erl and to_erl are fastrel's (fastrel erts-overlay).\n",
     "ROOTDIR=", sh_quote(Root), "\n",
     "BINDIR=", sh_quote(Bin), "\n",
     "EMU=beam\nPROGNAME=erl\nexport EMU ROOTDIR BINDIR PROGNAME\n",
     "exec \"$BINDIR/erlexec\" ${1+\"$@\"}\n"].

sh_quote(S) -> [$', string:replace(S, "'", "'\\''", all), $'].

symlink(Target, Link) ->
    _ = file:delete(Link),
    ok(file:make_symlink(Target, Link), {symlink, Link}).

%% Atomically, so a running overlay never sees half a file.
install(Path, Contents) ->
    ok(fastrel_file:write_atomic(Path, Contents, 8#755), {write, Path}).

ok(ok, _) -> ok;
ok({ok, _} = Ok, _) -> Ok;
ok({error, Why}, What) -> throw({What, Why}).

%% @doc One sentence per failure.
-spec format_error({?MODULE, term()} | term()) -> string().
format_error({?MODULE, Reason}) -> format_error(Reason);
format_error({{binary, Name}, not_found}) ->
    "fastrel's " ++ Name ++ " binary is missing (build with rebar3 compile or rebar3 escriptize)";
format_error({What, Why}) when is_atom(What) ->
    lists:flatten(io_lib:format("cannot ~p: ~ts", [What, file:format_error(Why)]));
format_error({{What, Path}, Why}) ->
    lists:flatten(io_lib:format("cannot ~p ~ts: ~ts", [What, Path, file:format_error(Why)]));
format_error(Other) ->
    lists:flatten(io_lib:format("~tp", [Other])).
