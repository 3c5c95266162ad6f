%% SPDX-License-Identifier: Apache-2.0
%% @doc The `exref' check of make_script: xref's undefined-function analysis over the
%% release's applications, with the same server setup and results as systools.
-module(fastrel_xref).

-export([undefined/3]).

-define(SERVER, relnif_xref).

%% @doc `AppDirs' are `{App, EbinDir}' of every application in the release; `XrefP' is
%% `true' (all) or `{true, Apps}'. Returns the warnings to add, or the `{error, _}' items
%% systools would put in `{modules, Errors}'.
-spec undefined([{atom(), string()}], [string()], true | {true, [atom()]}) ->
          {ok, [{warning, {exref_undef, [mfa()]}}]} | {error, [{error, term()}]}.
undefined(AppDirs0, Path, XrefP) ->
    AppDirs = case XrefP of
                  true -> lists:usort(AppDirs0);
                  {true, Apps} -> lists:usort([AD || {A, _} = AD <- AppDirs0, lists:member(A, Apps)])
              end,
    %% A server left by an interrupted call would make start fail; xref:stop/1 exits
    %% when there is none, hence the catch.
    stop_xref(),
    {ok, _} = xref:start(?SERVER, [{xref_mode, modules}]),
    try
        {ok, _} = xref:set_default(?SERVER, verbose, false),
        LibPath = case Path == code:get_path() of
                      true -> code_path;
                      false -> Path
                  end,
        ok = xref:set_library_path(?SERVER, LibPath),
        add(AppDirs)
    after
        stop_xref()
    end.

stop_xref() ->
    try xref:stop(?SERVER) catch _:_ -> ok end.

add([{App, Dir} | Rest]) ->
    case xref:add_application(?SERVER, Dir, {name, App}) of
        {ok, _} -> add(Rest);
        Error -> {error, [{error, Error}]}
    end;
add([]) ->
    case xref:analyze(?SERVER, undefined_functions) of
        {ok, []} -> {ok, []};
        {ok, Undefined} -> {ok, [{warning, {exref_undef, Undefined}}]};
        Error -> {error, [{error, Error}]}
    end.
