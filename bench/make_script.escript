#!/usr/bin/env escript
%% SPDX-License-Identifier: Apache-2.0
%% Benchmark: relnif:make_script vs systools:make_script on a 34-application release built
%% from the installed OTP applications (all but erts, erl_interface and jinterface; the
%% extra ones as `load'). Both run in one VM, interleaved; prints warm medians of 41 runs,
%% the first call of each in a fresh VM, the ratios, the file work alone (the floor), and
%% the warm times again with both writing to a tmpfs.
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
    Floor = io_floor(Apps),
    {TS, TO, TF} = lists:unzip3([{time(Sys), time(Ours), time(Floor)} || _ <- lists:seq(1, ?RUNS)]),
    Same = file:read_file("sys/r34.boot") =:= file:read_file("rn/r34.boot"),
    {ok, Boot} = file:read_file("rn/r34.boot"),
    MS = median(TS), MO = median(TO),
    io:format("release r34: ~b applications, .boot ~b bytes, identical: ~p~n", [length(Apps), byte_size(Boot), Same]),
    io:format("~-34s ~12s ~12s ~8s~n", ["", "systools", "relnif", "ratio"]),
    io:format("~-34s ~9.2f ms ~9.2f ms ~7.1fx~n", ["warm, median of " ++ integer_to_list(?RUNS), MS / 1000, MO / 1000, MS / MO]),
    io:format("~-34s ~9.2f ms ~9.2f ms ~7.1fx~n", ["first call in a fresh VM", FirstSys / 1000, FirstOurs / 1000, FirstSys / FirstOurs]),
    io:format("~-34s ~12s ~9.2f ms~n", ["its file work alone (prim_file)", "", median(TF) / 1000]),
    %% The same, with both writing their .script and .boot to a tmpfs: how much of the
    %% warm time is this disk's (two temporary files renamed over the old ones).
    case filelib:is_dir("/dev/shm") of
        true ->
            Shm = "/dev/shm/fastrel-bench-" ++ os:getpid(),
            [ok = filelib:ensure_path(filename:join(Shm, D)) || D <- ["sys", "rn"]],
            SysShm = fun() -> {ok, _, _} = systools:make_script("r34", [silent, {outdir, Shm ++ "/sys"}]) end,
            OursShm = fun() -> {ok, _, _} = relnif:make_script("r34", [silent, {outdir, Shm ++ "/rn"}]) end,
            OursShm(), SysShm(),
            {SS, SO} = lists:unzip([{time(SysShm), time(OursShm)} || _ <- lists:seq(1, ?RUNS)]),
            io:format("~-34s ~9.2f ms ~9.2f ms ~7.1fx~n",
                      ["warm, outputs on tmpfs (/dev/shm)", median(SS) / 1000, median(SO) / 1000, median(SS) / median(SO)]),
            ok = file:del_dir_r(Shm);
        false ->
            ok
    end,
    Same orelse halt(1).

%% The file work any make_script must do, with the same files, and nothing else: read the
%% .rel, look at each .app, write the .script and .boot each to a temporary file and rename
%% it into place. prim_file, so this is what the OS costs, not the file server.
io_floor(Apps) ->
    {ok, Script} = file:read_file("rn/r34.script"),
    {ok, Boot} = file:read_file("rn/r34.boot"),
    AppFiles = [filename:join(code:lib_dir(element(1, A)), "ebin/" ++ atom_to_list(element(1, A)) ++ ".app")
                || A <- Apps],
    Put = fun(Name, Bin) ->
              Tmp = Name ++ ".tmp",
              ok = prim_file:write_file(Tmp, Bin),
              ok = prim_file:rename(Tmp, Name)
          end,
    fun() ->
            {ok, _} = prim_file:read_file("r34.rel"),
            [{ok, _} = prim_file:read_file_info(F) || F <- AppFiles],
            Put("floor.script", Script),
            Put("floor.boot", Boot)
    end.

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
