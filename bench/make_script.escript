#!/usr/bin/env escript
%% SPDX-License-Identifier: Apache-2.0
%% Benchmark: relnif:make_script vs systools:make_script on a 34-application release built
%% from the installed OTP applications (all but erts, erl_interface and jinterface; the
%% extra ones as `load'). Both run in one VM. Prints, with the ratios:
%%  - warm, the release unchanged: each tool called 21 times in a row, in three
%%    alternating blocks (so that a drift in the machine's load reaches both), median of
%%    the 63 calls each. relnif finds its .script and .boot already holding the bytes it
%%    would write and only sets their modification time (fastrel_core's fs::Staged);
%%  - warm, its output changed on every call: the same, alternating between two versions
%%    of the release under one name, so every call writes other bytes to the same files;
%%  - warm, interleaved: one call of each in turn, 41 times. Each call then follows 2-40 ms
%%    of the other tool's work, and on this machine any job of about a millisecond takes
%%    up to 1 ms longer after that (a native loop of the same work with 20 ms sleeps
%%    between calls shows the same), which weighs on the faster tool only;
%%  - the first call of each in a fresh VM; the file work of a changed output alone (the
%%    floor of that row); and the changed-output row again, both writing to a tmpfs.
-mode(compile).

-define(RUNS, 41).
-define(BLOCK, 21).
-define(BLOCKS, 3).

main(_) ->
    Top = filename:absname(filename:join(filename:dirname(escript:script_name()), "..")),
    Ebin = filename:join(Top, "_build/default/lib/fastrel/ebin"),
    true = code:add_patha(Ebin),
    Work = filename:join(Top, "_build/bench"),
    ok = filelib:ensure_path(Work),
    ok = file:set_cwd(Work),
    Apps = release_apps(),
    Rel = fun(Vsn) -> {release, {"r34", Vsn}, {erts, erlang:system_info(version)}, Apps} end,
    ok = file:write_file("r34.rel", io_lib:format("~tp.~n", [Rel("1")])),
    %% The same release at another version, under the same name: calls alternating
    %% between the two write other bytes to the same .script and .boot every time.
    ok = filelib:ensure_path("alt"),
    ok = file:write_file("alt/r34.rel", io_lib:format("~tp.~n", [Rel("2")])),
    [ok = filelib:ensure_path(D) || D <- ["sys", "rn"]],
    Call = fun(M, Rel0, Out) -> fun() -> {ok, _, _} = M:make_script(Rel0, [silent, {outdir, Out}]) end end,
    Sys = Call(systools, "r34", "sys"),
    Ours = Call(relnif, "r34", "rn"),
    Alternating = fun(M, Out) ->
                          A = Call(M, "r34", Out), B = Call(M, "alt/r34", Out),
                          fun() -> A(), B() end
                  end,
    FirstSys = first_call(Ebin, Work, "systools:make_script(\"r34\", [silent, {outdir, \"sys\"}])"),
    FirstOurs = first_call(Ebin, Work, "relnif:make_script(\"r34\", [silent, {outdir, \"rn\"}])"),
    Ours(), Sys(),
    Floor = io_floor(Apps),
    {WO, WS} = blocks(Ours, Sys),
    %% Each timed "call" there is two (r34, then alt/r34): halved.
    {CO, CS} = blocks(Alternating(relnif, "rn"), Alternating(systools, "sys")),
    Ours(), Sys(),
    {TS, TO, TF} = lists:unzip3([{time(Sys), time(Ours), time(Floor)} || _ <- lists:seq(1, ?RUNS)]),
    Same = file:read_file("sys/r34.boot") =:= file:read_file("rn/r34.boot"),
    {ok, Boot} = file:read_file("rn/r34.boot"),
    io:format("release r34: ~b applications, .boot ~b bytes, identical: ~p~n", [length(Apps), byte_size(Boot), Same]),
    io:format("~-44s ~12s ~12s ~8s~n", ["", "systools", "relnif", "ratio"]),
    Row = fun(Label, S, O) -> io:format("~-44s ~9.2f ms ~9.2f ms ~7.1fx~n", [Label, S / 1000, O / 1000, S / O]) end,
    Row("warm, the release unchanged", WS, WO),
    Row("warm, its output changed on every call", CS / 2, CO / 2),
    Row("warm, unchanged, interleaved", median(TS), median(TO)),
    Row("first call in a fresh VM", FirstSys, FirstOurs),
    io:format("~-44s ~12s ~9.2f ms~n", ["file work alone, changed output (prim_file)", "", median(TF) / 1000]),
    %% Changed outputs on a tmpfs: how much of that is this disk's (a temporary file
    %% renamed over each old one: a new inode, its blocks written, the old ones freed).
    case filelib:is_dir("/dev/shm") of
        true ->
            Shm = "/dev/shm/fastrel-bench-" ++ os:getpid(),
            [ok = filelib:ensure_path(filename:join(Shm, D)) || D <- ["sys", "rn"]],
            {SO, SS} = blocks(Alternating(relnif, Shm ++ "/rn"), Alternating(systools, Shm ++ "/sys")),
            Row("warm, changed on every call, on tmpfs", SS / 2, SO / 2),
            ok = file:del_dir_r(Shm);
        false ->
            ok
    end,
    Same orelse halt(1).

%% Medians of ?BLOCKS alternating blocks of ?BLOCK calls of each, back to back.
blocks(Ours, Sys) ->
    Ours(), Sys(),
    {BO, BS} = lists:unzip([{[time(Ours) || _ <- lists:seq(1, ?BLOCK)], [time(Sys) || _ <- lists:seq(1, ?BLOCK)]}
                            || _ <- lists:seq(1, ?BLOCKS)]),
    {median(lists:append(BO)), median(lists:append(BS))}.

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
