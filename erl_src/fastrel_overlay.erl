%% SPDX-License-Identifier: Apache-2.0
%% @doc A private ERTS `bin' directory for `erl -heart' with fastrel's heart, leaving the
%% system's ERTS untouched.
%%
%% `erl' execs `$BINDIR/erlexec', which puts `$BINDIR' first in `PATH'; heart.erl then
%% spawns `heart' through that `PATH'. So a directory holding links to every ERTS program
%% except `heart', fastrel's `heart' itself, and an `erl' that points `BINDIR' there makes
%% the VM run fastrel's heart, with nothing else changed.
-module(fastrel_overlay).

-export([create/1, heart_binary/0, format_error/1]).

%% @doc Creates (or refreshes) the overlay in `Dir'; returns the `erl' to run.
-spec create(file:filename()) -> {ok, file:filename()} | {error, {?MODULE, term()}}.
create(Dir0) ->
    Dir = filename:absname(Dir0),
    Root = code:root_dir(),
    ErtsBin = filename:join([Root, "erts-" ++ erlang:system_info(version), "bin"]),
    Bin = filename:join(Dir, "bin"),
    try
        ok(filelib:ensure_path(Bin), {mkdir, Bin}),
        {ok, Names} = ok(file:list_dir(ErtsBin), {list, ErtsBin}),
        [link(filename:join(ErtsBin, N), filename:join(Bin, N)) || N <- Names, N =/= "heart"],
        {ok, Heart} = ok(heart_binary(), heart_binary),
        install(filename:join(Bin, "heart"), Heart),
        Erl = filename:join(Dir, "erl"),
        install(Erl, erl_script(Root, Bin)),
        {ok, Erl}
    catch
        throw:Reason -> {error, {?MODULE, Reason}}
    end.

%% @doc The bytes of fastrel's heart: from the application's priv dir, or from the escript.
-spec heart_binary() -> {ok, binary()} | {error, not_found}.
heart_binary() ->
    Priv = code:priv_dir(fastrel),
    case is_list(Priv) andalso file:read_file(filename:join(Priv, "heart")) of
        {ok, Bin} -> {ok, Bin};
        _ ->
            InArchive = filename:join([escript_name(), "fastrel", "priv", "heart"]),
            case erl_prim_loader:get_file(InArchive) of
                {ok, Bin, _} -> {ok, Bin};
                error -> {error, not_found}
            end
    end.

escript_name() ->
    try escript:script_name() catch _:_ -> "" end.

erl_script(Root, Bin) ->
    ["#!/bin/sh\n",
     "# erl through a private BINDIR whose heart is fastrel's (fastrel erts-overlay).\n",
     "ROOTDIR=", sh_quote(Root), "\n",
     "BINDIR=", sh_quote(Bin), "\n",
     "EMU=beam\nPROGNAME=erl\nexport EMU ROOTDIR BINDIR PROGNAME\n",
     "exec \"$BINDIR/erlexec\" ${1+\"$@\"}\n"].

sh_quote(S) -> [$', string:replace(S, "'", "'\\''", all), $'].

link(Target, Link) ->
    _ = file:delete(Link),
    ok(file:make_symlink(Target, Link), {symlink, Link}).

%% Written beside the target and renamed, so a running overlay never sees half a file.
install(Path, Contents) ->
    Tmp = Path ++ ".tmp" ++ os:getpid(),
    ok(file:write_file(Tmp, Contents), {write, Tmp}),
    ok(file:change_mode(Tmp, 8#755), {chmod, Tmp}),
    ok(file:rename(Tmp, Path), {write, Path}).

ok(ok, _) -> ok;
ok({ok, _} = Ok, _) -> Ok;
ok({error, Why}, What) -> throw({What, Why}).

%% @doc One sentence per failure.
-spec format_error({?MODULE, term()} | term()) -> string().
format_error({?MODULE, Reason}) -> format_error(Reason);
format_error({heart_binary, not_found}) ->
    "fastrel's heart binary is missing (build with rebar3 compile or rebar3 escriptize)";
format_error({What, Why}) when is_atom(What) ->
    lists:flatten(io_lib:format("cannot ~p: ~ts", [What, file:format_error(Why)]));
format_error({{What, Path}, Why}) ->
    lists:flatten(io_lib:format("cannot ~p ~ts: ~ts", [What, Path, file:format_error(Why)]));
format_error(Other) ->
    lists:flatten(io_lib:format("~tp", [Other])).
