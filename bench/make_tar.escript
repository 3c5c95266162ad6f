#!/usr/bin/env escript
%% SPDX-License-Identifier: Apache-2.0
%% make_tar of a release of 15 installed OTP applications plus this ERTS, systools vs
%% relnif, interleaved in one VM (boot file made first). Prints each run, the medians, the
%% ratio and the sizes. Run from the repository root after `rebar3 compile`.
main(_) ->
    true = code:add_patha(filename:absname("_build/default/lib/fastrel/ebin")),
    {module, relnif} = code:ensure_loaded(relnif),
    Runs = list_to_integer(os:getenv("RUNS", "5")),
    {ok, Cwd} = file:get_cwd(),
    Dir = filename:join([Cwd, "_build", "bench_make_tar"]),
    _ = file:del_dir_r(Dir),
    ok = filelib:ensure_path(filename:join(Dir, "sys")),
    ok = filelib:ensure_path(filename:join(Dir, "rn")),
    ok = file:set_cwd(Dir),
    Apps = [kernel, stdlib, sasl, compiler, crypto, syntax_tools, tools, runtime_tools, inets,
            ssl, public_key, asn1, xmerl, mnesia, os_mon],
    [application:load(A) || A <- Apps],
    Vsns = [{A, element(2, {ok, _} = application:get_key(A, vsn))} || A <- Apps],
    ok = file:write_file("r.rel", io_lib:format("~p.~n", [{release, {"r", "1.0"}, {erts, erlang:system_info(version)}, Vsns}])),
    {ok, systools_make, _} = systools:make_script("r", [silent]),
    Opts = [silent, {erts, code:root_dir()}],
    Time = fun(F) -> garbage_collect(), {T, {ok, _, _}} = timer:tc(F), T / 1000 end,
    Pairs = [{Time(fun() -> systools:make_tar("r", [{outdir, "sys"} | Opts]) end),
              Time(fun() -> relnif:make_tar("r", [{outdir, "rn"} | Opts]) end)} || _ <- lists:seq(1, Runs)],
    {S, R} = lists:unzip(Pairs),
    Med = fun(L) -> lists:nth((length(L) + 1) div 2, lists:sort(L)) end,
    SysSize = filelib:file_size("sys/r.tar.gz"),
    OurSize = filelib:file_size("rn/r.tar.gz"),
    Same = zlib:gunzip(element(2, file:read_file("sys/r.tar.gz"))) =:= zlib:gunzip(element(2, file:read_file("rn/r.tar.gz"))),
    io:format("make_tar, 15 OTP apps + ERTS, ~w cores, ~w runs (ms): systools ~w, relnif ~w~n",
              [erlang:system_info(logical_processors_available), Runs,
               [round(X) || X <- S], [round(X) || X <- R]]),
    io:format("median: systools ~w ms, relnif ~w ms, ratio ~.1fx~n", [round(Med(S)), round(Med(R)), Med(S) / Med(R)]),
    io:format("size: systools ~w bytes, relnif ~w bytes (~.2f%); inner tar identical: ~p~n",
              [SysSize, OurSize, 100 * (OurSize / SysSize - 1), Same]),
    ok = file:set_cwd(Cwd),
    _ = file:del_dir_r(Dir).
