#!/usr/bin/env escript
%% SPDX-License-Identifier: Apache-2.0
%% The bundled example: builds examples/example_server, writes its boot script with
%% systools and with relnif, shows that the files are identical and how long each took.
-mode(compile).

main(_) ->
    Top = filename:absname(filename:join(filename:dirname(escript:script_name()), "..")),
    true = code:add_patha(filename:join(Top, "_build/default/lib/fastrel/ebin")),
    Work = filename:join(Top, "_build/example"),
    Ebin = filename:join(Work, "lib/example_server-1.0.0/ebin"),
    ok = filelib:ensure_path(Ebin),
    Src = filename:join(Top, "examples/example_server/src"),
    [{ok, _} = compile:file(F, [{outdir, Ebin}, return_errors]) || F <- filelib:wildcard(filename:join(Src, "*.erl"))],
    {ok, [App]} = file:consult(filename:join(Src, "example_server.app.src")),
    ok = file:write_file(filename:join(Ebin, "example_server.app"), io_lib:format("~tp.~n", [App])),
    Vsn = fun(A) -> ok = load(A), {ok, V} = application:get_key(A, vsn), V end,
    Rel = {release, {"example_server", "1.0.0"}, {erts, erlang:system_info(version)},
           [{kernel, Vsn(kernel)}, {stdlib, Vsn(stdlib)}, {sasl, Vsn(sasl)}, {example_server, "1.0.0"}]},
    ok = file:write_file(filename:join(Work, "example_server.rel"), io_lib:format("~tp.~n", [Rel])),
    ok = file:set_cwd(Work),
    [ok = filelib:ensure_path(D) || D <- ["systools", "relnif"]],
    Opts = fun(Dir) -> [silent, {path, ["lib/*/ebin"]}, {outdir, Dir}] end,
    {ok, _, _} = systools:make_script("example_server", Opts("systools")),
    {module, relnif} = code:ensure_loaded(relnif),
    {T1, {ok, relnif, _}} = timer:tc(relnif, make_script, ["example_server", Opts("relnif")]),
    Same = [same(F) || F <- ["example_server.boot", "example_server.script"]],
    Sys = median([element(1, timer:tc(systools, make_script, ["example_server", Opts("systools")])) || _ <- lists:seq(1, 21)]),
    Ours = median([element(1, timer:tc(relnif, make_script, ["example_server", Opts("relnif")])) || _ <- lists:seq(1, 21)]),
    io:format("~nexample_server 1.0.0 (kernel, stdlib, sasl, example_server) in ~ts~n", [Work]),
    io:format("  systools:make_script  ~8.3f ms (warm median of 21)~n", [Sys / 1000]),
    io:format("  relnif:make_script    ~8.3f ms (warm median of 21; first call ~.3f ms)~n", [Ours / 1000, T1 / 1000]),
    io:format("  ratio                 ~8.1fx~n", [Sys / max(Ours, 1)]),
    case lists:all(fun(X) -> X end, Same) of
        true -> io:format("OK: relnif wrote the same .boot and .script bytes as systools.~n");
        false -> io:format("MISMATCH between relnif and systools output~n"), halt(1)
    end.

load(A) ->
    case application:load(A) of
        ok -> ok;
        {error, {already_loaded, A}} -> ok
    end.

same(F) ->
    {ok, A} = file:read_file(filename:join("systools", F)),
    {ok, B} = file:read_file(filename:join("relnif", F)),
    io:format("  ~-24s ~7b bytes  ~s~n", [F, byte_size(A), case A =:= B of true -> "identical"; false -> "DIFFERENT" end]),
    A =:= B.

median(L) -> lists:nth((length(L) + 1) div 2, lists:sort(L)).
