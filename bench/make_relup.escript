#!/usr/bin/env escript
%% SPDX-License-Identifier: Apache-2.0
%% Benchmark: relnif:make_relup vs systools:make_relup on a 34-application release pair
%% (kernel, stdlib, sasl and 31 applications of 25 modules each, every one changed
%% between the two releases, with appups of load_module, update (some with a dependency
%% chain, some advanced), add_module and delete_module instructions; erts unchanged).
%% Both run in one VM, interleaved; prints warm medians of 41 runs, the first call of
%% each in a fresh VM, and the ratios. Also checks that both write the same relup.
%% A second pair has the same size but each appup's dependencies leave the order open
%% (a diamond), so relnif asks the VM's digraph for the order (one more NIF round).
-mode(compile).

-define(RUNS, 41).
-define(APPS, 31).
-define(MODS, 25).

main(_) ->
    Top = filename:absname(filename:join(filename:dirname(escript:script_name()), "..")),
    Ebin = filename:join(Top, "_build/default/lib/fastrel/ebin"),
    true = code:add_patha(Ebin),
    R1 = bench(Top, Ebin, chain, "_build/bench_relup"),
    R2 = bench(Top, Ebin, diamond, "_build/bench_relup_open"),
    (R1 andalso R2) orelse halt(1).

bench(Top, Ebin, Shape, Dir) ->
    put(shape, Shape),
    Work = filename:join(Top, Dir),
    _ = file:del_dir_r(Work),
    ok = filelib:ensure_path(Work),
    ok = file:set_cwd(Work),
    Apps = fixture(),
    [ok = filelib:ensure_path(D) || D <- ["sys", "rn"]],
    Args = "\"r2\", [\"r1\"], [\"r1\"], [silent, {path, [\"lib/*/ebin\"]}, {outdir, \"~s\"}]",
    Sys = fun() -> {ok, _, _, _} = systools:make_relup("r2", ["r1"], ["r1"], [silent, {path, ["lib/*/ebin"]}, {outdir, "sys"}]) end,
    Ours = fun() -> {ok, _, _, _} = relnif:make_relup("r2", ["r1"], ["r1"], [silent, {path, ["lib/*/ebin"]}, {outdir, "rn"}]) end,
    FirstSys = first_call(Ebin, Work, "systools:make_relup(" ++ io_lib:format(Args, ["sys"]) ++ ")"),
    FirstOurs = first_call(Ebin, Work, "relnif:make_relup(" ++ io_lib:format(Args, ["rn"]) ++ ")"),
    Ours(), Sys(),
    {TS, TO} = lists:unzip([{time(Sys), time(Ours)} || _ <- lists:seq(1, ?RUNS)]),
    {ok, Relup} = file:read_file("rn/relup"),
    Same = file:read_file("sys/relup") =:= {ok, Relup},
    MS = median(TS), MO = median(TO),
    io:format("release pair r1 -> r2 (~p): ~b applications, relup ~b bytes, identical: ~p~n", [Shape, Apps, byte_size(Relup), Same]),
    io:format("~-34s ~12s ~12s ~8s~n", ["", "systools", "relnif", "ratio"]),
    io:format("~-34s ~9.2f ms ~9.2f ms ~7.1fx~n", ["warm, median of " ++ integer_to_list(?RUNS), MS / 1000, MO / 1000, MS / MO]),
    io:format("~-34s ~9.2f ms ~9.2f ms ~7.1fx~n", ["first call in a fresh VM", FirstSys / 1000, FirstOurs / 1000, FirstSys / FirstOurs]),
    Same.

%% Writes r1.rel, r2.rel and lib/App-Vsn/ebin/{App.app, App.appup}; returns the
%% number of applications per release.
fixture() ->
    Names = [list_to_atom("bench_app" ++ integer_to_list(I)) || I <- lists:seq(1, ?APPS)],
    Mods = fun(A, Vsn) ->
                   [list_to_atom(atom_to_list(A) ++ "_m" ++ integer_to_list(I)) || I <- lists:seq(1, ?MODS)]
                       ++ case Vsn of "2.0" -> [list_to_atom(atom_to_list(A) ++ "_new")]; _ -> [list_to_atom(atom_to_list(A) ++ "_old")] end
           end,
    Mandatory = [{kernel, "1.0"}, {stdlib, "1.0"}, {sasl, "3.0"}],
    [app(A, V, [], none) || {A, V} <- Mandatory],
    Erts = erlang:system_info(version),
    rel("r1", "1", Erts, Mandatory ++ [{A, "1.0"} || A <- Names]),
    rel("r2", "2", Erts, Mandatory ++ [{A, "2.0"} || A <- Names]),
    [begin
         app(A, "1.0", Mods(A, "1.0"), none),
         New = Mods(A, "2.0"),
         app(A, "2.0", New, {"2.0", [{"1.0", script(A, New, up)}], [{"1.0", script(A, New, down)}]})
     end || A <- Names],
    length(Mandatory) + length(Names).

script(A, Mods, Dir) ->
    [M1, M2, M3 | Rest] = Mods -- [lists:last(Mods)],
    Gone = list_to_atom(atom_to_list(A) ++ "_old"),
    New = list_to_atom(atom_to_list(A) ++ "_new"),
    Change = case Dir of up -> [{add_module, New}, {delete_module, Gone}]; down -> [{delete_module, New}, {add_module, Gone}] end,
    [M4 | Rest1] = Rest,
    case get(shape) of
        chain ->
            [{update, M1, {advanced, []}, [M2]}, {update, M2, [M3]}, {update, M3, {advanced, {extra, Dir}}}]
                ++ [{load_module, M} || M <- Rest] ++ Change;
        diamond ->
            [{update, M1, {advanced, []}, [M2, M3]}, {update, M2, [M4]}, {update, M3, [M4]},
             {update, M4, {advanced, {extra, Dir}}}]
                ++ [{load_module, M} || M <- Rest1] ++ Change
    end.

rel(Name, Vsn, Erts, Apps) ->
    ok = file:write_file(Name ++ ".rel", io_lib:format("~tp.~n", [{release, {"bench", Vsn}, {erts, Erts}, Apps}])).

app(A, Vsn, Mods, Appup) ->
    Ebin = filename:join(["lib", atom_to_list(A) ++ "-" ++ Vsn, "ebin"]),
    ok = filelib:ensure_path(Ebin),
    Uses = case lists:member(A, [kernel, stdlib, sasl]) of true -> []; false -> [kernel, stdlib] end,
    AppTerm = {application, A, [{description, "bench"}, {vsn, Vsn}, {modules, Mods}, {registered, []}, {applications, Uses}]},
    ok = file:write_file(filename:join(Ebin, atom_to_list(A) ++ ".app"), io_lib:format("~tp.~n", [AppTerm])),
    case Appup of
        none -> ok;
        _ -> ok = file:write_file(filename:join(Ebin, atom_to_list(A) ++ ".appup"), io_lib:format("~tp.~n", [Appup]))
    end.

%% Each timed call starts from a collected heap, so neither side pays for the other's garbage.
time(F) ->
    erlang:garbage_collect(),
    {T, _} = timer:tc(F),
    T.

median(L) -> lists:nth((length(L) + 1) div 2, lists:sort(L)).

%% The first call pays for loading code (systools' modules, or relnif and its NIF).
first_call(Ebin, Work, Expr) ->
    Cmd = io_lib:format("cd '~ts' && erl -noshell -pa '~ts' -eval '{T, _} = timer:tc(fun() -> ~ts end), io:format(\"~~b\", [T]), halt().'",
                        [Work, Ebin, Expr]),
    Out = string:trim(os:cmd(lists:flatten(Cmd))),
    try list_to_integer(Out) catch _:_ -> io:format("first call failed: ~ts~n", [Out]), 1 end.
