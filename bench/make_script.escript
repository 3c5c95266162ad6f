#!/usr/bin/env escript
%% SPDX-License-Identifier: Apache-2.0
%% Benchmark: relnif:make_script vs systools:make_script on a 34-application release built
%% from the installed OTP applications (all but erts, erl_interface and jinterface; the
%% extra ones as `load'). Both run in one VM, interleaved; prints warm medians of 41 runs,
%% the first call of each in a fresh VM, and the ratios.
-mode(compile).

-define(RUNS, 41).

main(_) ->
    Top = filename:absname(filename:join(filename:dirname(escript:script_name()), "..")),
    Ebin = filename:join(Top, "_build/default/lib/fastrel/ebin"),
    true = code:add_patha(Ebin),
    Work = filename:join(Top, "_build/bench"),
    ok = filelib:ensure_path(Work),
    ok = file:set_cwd(Work),
    Apps = release_apps(),
    Rel = {release, {"r34", "1"}, {erts, erlang:system_info(version)}, Apps},
    ok = file:write_file("r34.rel", io_lib:format("~tp.~n", [Rel])),
    [ok = filelib:ensure_path(D) || D <- ["sys", "rn"]],
    Sys = fun() -> {ok, _, _} = systools:make_script("r34", [silent, {outdir, "sys"}]) end,
    Ours = fun() -> {ok, _, _} = relnif:make_script("r34", [silent, {outdir, "rn"}]) end,
    FirstSys = first_call(Ebin, Work, "systools:make_script(\"r34\", [silent, {outdir, \"sys\"}])"),
    FirstOurs = first_call(Ebin, Work, "relnif:make_script(\"r34\", [silent, {outdir, \"rn\"}])"),
    Ours(), Sys(),
    {TS, TO} = lists:unzip([{time(Sys), time(Ours)} || _ <- lists:seq(1, ?RUNS)]),
    Same = file:read_file("sys/r34.boot") =:= file:read_file("rn/r34.boot"),
    {ok, Boot} = file:read_file("rn/r34.boot"),
    MS = median(TS), MO = median(TO),
    io:format("release r34: ~b applications, .boot ~b bytes, identical: ~p~n", [length(Apps), byte_size(Boot), Same]),
    io:format("~-34s ~12s ~12s ~8s~n", ["", "systools", "relnif", "ratio"]),
    io:format("~-34s ~9.2f ms ~9.2f ms ~7.1fx~n", ["warm, median of " ++ integer_to_list(?RUNS), MS / 1000, MO / 1000, MS / MO]),
    io:format("~-34s ~9.2f ms ~9.2f ms ~7.1fx~n", ["first call in a fresh VM", FirstSys / 1000, FirstOurs / 1000, FirstSys / FirstOurs]),
    Same orelse halt(1).

release_apps() ->
    Skip = [erts, erl_interface, jinterface],
    Names = lists:usort([list_to_atom(hd(string:split(filename:basename(D), "-")))
                         || D <- filelib:wildcard(filename:join(code:lib_dir(), "*"))]) -- Skip,
    Vsn = fun(A) -> _ = application:load(A), {ok, V} = application:get_key(A, vsn), V end,
    [{A, Vsn(A)} || A <- [kernel, stdlib, sasl]]
        ++ [{A, Vsn(A), load} || A <- Names -- [kernel, stdlib, sasl]].

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
    list_to_integer(string:trim(os:cmd(lists:flatten(Cmd)))).
