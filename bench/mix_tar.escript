#!/usr/bin/env escript
%% SPDX-License-Identifier: Apache-2.0
%% fastrel tar vs mix release's :tar step on the same release (examples/server02, bundled
%% ERTS). The :tar step is `:erl_tar.create(out, entries, [:dereference, :compressed])'
%% over mix's entry list; it runs here in the same VM as relnif:tar_files over the same
%% entries, interleaved, RUNS times each. Run from the repository root after `rebar3
%% compile', with Elixir installed.
main(_) ->
    true = code:add_patha(filename:absname("_build/default/lib/fastrel/ebin")),
    {module, relnif} = code:ensure_loaded(relnif),
    Runs = list_to_integer(os:getenv("RUNS", "5")),
    Dir = filename:absname("_build/bench_mix_tar"),
    _ = file:del_dir_r(Dir),
    ok = filelib:ensure_path(Dir),
    [] = os:cmd("cp -r examples/server02/. " ++ Dir),
    Mix = os:find_executable("mix"),
    Release = fun() -> os:cmd("cd " ++ Dir ++ " && MIX_ENV=prod " ++ Mix ++ " release --overwrite >/dev/null 2>&1") end,
    Release(),
    Rel = filename:join([Dir, "_build", "prod", "rel", "server02"]),
    MixTar = filename:join([Dir, "_build", "prod", "server02-0.1.0.tar.gz"]),
    {ok, Names} = erl_tar:table(MixTar, [compressed]),
    Tops = tops(Names),
    Entries = [{filename:join(Rel, T), T} || T <- Tops],
    Time = fun(F) -> garbage_collect(), {T, ok} = timer:tc(F), T / 1000 end,
    Pairs = [{Time(fun() -> erl_tar:create(filename:join(Dir, "erl_tar.tar.gz"), [{T, F} || {F, T} <- Entries],
                                          [dereference, compressed]) end),
              Time(fun() -> relnif:tar_files(filename:join(Dir, "relnif.tar.gz"), Entries, []) end)}
             || _ <- lists:seq(1, Runs)],
    {E, R} = lists:unzip(Pairs),
    Med = fun(L) -> lists:nth((length(L) + 1) div 2, lists:sort(L)) end,
    io:format("mix :tar step (erl_tar:create) vs relnif:tar_files, server02 + ERTS, ~w entries, ~w runs (ms)~n"
              "  erl_tar: ~w~n  relnif:  ~w~n  median ~w vs ~w ms: ~.1fx; sizes ~w vs ~w bytes~n",
              [length(Names), Runs, [round(X) || X <- E], [round(X) || X <- R], round(Med(E)), round(Med(R)),
               Med(E) / Med(R), filelib:file_size(filename:join(Dir, "erl_tar.tar.gz")),
               filelib:file_size(filename:join(Dir, "relnif.tar.gz"))]),
    {ok, Same} = erl_tar:table(filename:join(Dir, "relnif.tar.gz"), [compressed]),
    io:format("  same entries in the same order: ~p~n", [Same =:= Names]),
    _ = file:del_dir_r(Dir).

%% The :tar step's top-level entries, in order, from its own tarball.
tops(Names) ->
    lists:reverse(lists:foldl(fun(N, Acc) ->
                                      T = top(N),
                                      case Acc of
                                          [T | _] -> Acc;
                                          _ -> [T | Acc]
                                      end
                              end, [], Names)).

top(N) ->
    case string:split(N, "/", all) of
        ["lib", App | _] -> "lib/" ++ App;
        ["releases", F] -> "releases/" ++ F;
        ["releases", V | _] -> "releases/" ++ V;
        [First | _] -> First
    end.
