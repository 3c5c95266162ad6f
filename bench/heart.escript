#!/usr/bin/env escript
%% SPDX-License-Identifier: Apache-2.0
%% Benchmark: OTP's heart (the system erl) vs fastrel's (the same erl through
%% fastrel_overlay), on real `erl -heart' nodes, in one run, interleaved:
%%  (a) kill -9 of the VM -> the HEART_COMMAND starting, 5 runs each;
%%  (b) a hung VM (SIGSTOP, HEART_BEAT_TIMEOUT=11) -> the command starting, 2 runs each,
%%      timed from the node's last heartbeat (forced just before it stops itself);
%%  (c) heart's resident memory (VmRSS) on a running node.
%% Times are CLOCK_REALTIME on both sides: os:system_time/1 here or in the node, and
%% `date +%s%N' as the command's first act. Every process is killed by PID.
-mode(compile).

-define(KILL_RUNS, 5).
-define(HANG_RUNS, 2).

main(_) ->
    Top = filename:dirname(filename:dirname(filename:absname(escript:script_name()))),
    true = code:add_patha(filename:join(Top, "_build/default/lib/fastrel/ebin")),
    Work = filename:join([Top, "_build", "bench", "heart-" ++ os:getpid()]),
    _ = file:del_dir_r(Work),
    ok = filelib:ensure_path(Work),
    {ok, Ours} = fastrel_overlay:create(filename:join(Work, "ovl")),
    Root = code:root_dir(),
    Flavours = [{otp, filename:join([Root, "bin", "erl"]),
                 filename:join([Root, "erts-" ++ erlang:system_info(version), "bin", "heart"])},
                {fastrel, Ours, filename:join([Work, "ovl", "bin", "heart"])}],
    %% (a) and (c): alternate the flavours so background load hits both alike.
    Kills = [{F, kill_run(Fl, Work, N)} || N <- lists:seq(1, ?KILL_RUNS), {F, _, _} = Fl <- Flavours],
    %% (b): both flavours' nodes hang side by side; each run is mostly waiting.
    Hangs = lists:append([hang_round(Flavours, Work, N) || N <- lists:seq(1, ?HANG_RUNS)]),
    report(Kills, Hangs),
    _ = file:del_dir_r(Work),
    ok.

%% One node: kill -9 its VM, time until the command has started. Returns {Ms, RssKb}.
kill_run({Flavour, Erl, Exe}, Work, N) ->
    Dir = filename:join(Work, io_lib:format("kill-~s-~b", [Flavour, N])),
    Stamp = filename:join(Dir, "started"),
    with_node(Erl, Exe, Dir, [{"HEART_COMMAND", stamp_cmd(Stamp)}], "ok",
              fun(Vm, Heart) ->
                      Rss = rss_kb(Heart),
                      T0 = os:system_time(nanosecond),
                      "" = os:cmd("kill -9 " ++ Vm),
                      T1 = read_stamp(Stamp, 20000),
                      ok = wait_until(fun() -> not alive(Heart) end, 15000),
                      {(T1 - T0) / 1.0e6, Rss}
              end).

hang_round(Flavours, Work, N) ->
    Self = self(),
    Pids = [spawn_link(fun() -> Self ! {self(), {F, hang_run(Fl, Work, N)}} end) || {F, _, _} = Fl <- Flavours],
    [receive {P, R} -> R end || P <- Pids].

%% One node with HEART_BEAT_TIMEOUT=11 forces a beat (any heart API call is followed by
%% one), notes the time and SIGSTOPs itself. Returns seconds until the command started.
hang_run({Flavour, Erl, Exe}, Work, N) ->
    Dir = filename:join(Work, io_lib:format("hang-~s-~b", [Flavour, N])),
    Stamp = filename:join(Dir, "started"),
    Stopped = filename:join(Dir, "stopped"),
    Then = lists:flatten(io_lib:format(
             "{ok, _} = heart:get_cmd(), "
             "ok = file:write_file(~p, integer_to_list(os:system_time(nanosecond))), ok = file:rename(~p, ~p), "
             "os:cmd(\"kill -STOP \" ++ os:getpid())", [Stopped ++ ".tmp", Stopped ++ ".tmp", Stopped])),
    Env = [{"HEART_COMMAND", stamp_cmd(Stamp)}, {"HEART_BEAT_TIMEOUT", "11"}],
    with_node(Erl, Exe, Dir, Env, Then,
              fun(_Vm, Heart) ->
                      T0 = read_stamp(Stopped, 20000),
                      T1 = read_stamp(Stamp, 40000),
                      ok = wait_until(fun() -> not alive(Heart) end, 15000),
                      (T1 - T0) / 1.0e9
              end).

%% The command's first act is to take the time; written aside and renamed, so a reader
%% never sees half of it.
stamp_cmd(File) ->
    lists:flatten(io_lib:format("date +%s%N > '~s.tmp' && mv '~s.tmp' '~s'", [File, File, File])).

read_stamp(File, Ms) ->
    ok = wait_until(fun() -> filelib:is_regular(File) end, Ms),
    {ok, B} = file:read_file(File),
    binary_to_integer(string:trim(B)).

%% Starts `Erl -heart' in Dir, checks its heart is Exe, runs Fun(VmPid, HeartPid), and
%% kills the VM and heart by PID whatever happens.
with_node(Erl, Exe, Dir, Env, Then, Fun) ->
    ok = filelib:ensure_path(Dir),
    Pids = filename:join(Dir, "pids"),
    Eval = lists:flatten(io_lib:format(
             "{os_pid, H} = erlang:port_info(whereis(heart_port), os_pid), "
             "ok = file:write_file(~p, io_lib:format(\"~~s ~~p\", [os:getpid(), H])), ok = file:rename(~p, ~p), ~s",
             [Pids ++ ".tmp", Pids ++ ".tmp", Pids, Then])),
    Port = open_port({spawn_executable, Erl},
                     [{args, ["-heart", "-noshell", "-eval", Eval]}, {env, Env}, {cd, Dir},
                      exit_status, stderr_to_stdout, binary]),
    %% erl and erlexec exec: the port's OS pid is the VM's.
    {os_pid, VmOsPid} = erlang:port_info(Port, os_pid),
    Started = fun() -> case file:read_file(Pids) of
                           {ok, B} -> string:lexemes(binary_to_list(B), " ");
                           _ -> []
                       end
              end,
    try
        ok = wait_until(fun() -> filelib:is_regular(Pids) end, 30000),
        [Vm, Heart] = Started(),
        %% fastrel's heart is a link to fastrel_programs beside it: the same directory.
        {ok, Real} = file:read_link("/proc/" ++ Heart ++ "/exe"),
        true = filename:dirname(Real) =:= filename:dirname(Exe),
        Fun(Vm, Heart)
    after
        [os:cmd("kill -9 " ++ P ++ " 2>/dev/null") || P <- lists:usort([integer_to_list(VmOsPid) | Started()]), alive(P)],
        flush(Port)
    end.

flush(Port) ->
    receive {Port, _} -> flush(Port) after 0 -> ok end.

rss_kb(Pid) ->
    {ok, Status} = file:read_file("/proc/" ++ Pid ++ "/status"),
    {match, [Kb]} = re:run(Status, "VmRSS:\\s+(\\d+) kB", [{capture, all_but_first, list}]),
    list_to_integer(Kb).

alive(OsPid) -> filelib:is_dir("/proc/" ++ OsPid).

wait_until(F, Ms) when Ms =< 0 -> case F() of true -> ok; false -> timeout end;
wait_until(F, Ms) ->
    case F() of
        true -> ok;
        false -> timer:sleep(5), wait_until(F, Ms - 5)
    end.

median(L) -> lists:nth((length(L) + 1) div 2, lists:sort(L)).

report(Kills, Hangs) ->
    Of = fun(F, L) -> [X || {G, X} <- L, G =:= F] end,
    {KO, RO} = lists:unzip(Of(otp, Kills)),
    {KF, RF} = lists:unzip(Of(fastrel, Kills)),
    HO = Of(otp, Hangs), HF = Of(fastrel, Hangs),
    io:format("heart on real `erl -heart' nodes, OTP ~s (erts ~s); ratio = OTP / fastrel~n",
              [erlang:system_info(otp_release), erlang:system_info(version)]),
    io:format("~-44s ~12s ~12s ~8s~n", ["", "OTP heart", "fastrel", "ratio"]),
    Row = fun(Label, Fmt, O, F) ->
                  io:format("~-44s ~12s ~12s ~7.1fx~n",
                            [Label, io_lib:format(Fmt, [O]), io_lib:format(Fmt, [F]), O / max(F, 1.0e-9)])
          end,
    KLabel = "(a) kill -9 -> command started, ms, " ++ integer_to_list(?KILL_RUNS) ++ " runs",
    io:format("~s~n", [KLabel]),
    Row("      min", "~.1f", lists:min(KO), lists:min(KF)),
    Row("      median", "~.1f", median(KO), median(KF)),
    Row("      max", "~.1f", lists:max(KO), lists:max(KF)),
    io:format("(b) SIGSTOP (HEART_BEAT_TIMEOUT=11) -> command started, s~n"),
    [Row("      run " ++ integer_to_list(I), "~.2f", O, F) || {I, O, F} <- lists:zip3(lists:seq(1, length(HO)), HO, HF)],
    Row("(c) heart VmRSS, kB (median)", "~b", median(RO), median(RF)).
