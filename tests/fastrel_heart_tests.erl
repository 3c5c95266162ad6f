%% SPDX-License-Identifier: Apache-2.0
%% Real nodes (`erl -heart') run through `fastrel_overlay': the heart they start must be
%% fastrel's, and it must behave like OTP's towards kernel's heart.erl. Every test is
%% bounded in time and kills what it started by PID.
-module(fastrel_heart_tests).

-include_lib("eunit/include/eunit.hrl").

scratch() ->
    {ok, Cwd} = file:get_cwd(),
    Dir = filename:join([Cwd, "_build", "heart_tests", os:getpid() ++ "-" ++ integer_to_list(erlang:unique_integer([positive]))]),
    _ = file:del_dir_r(Dir),
    ok = filelib:ensure_path(Dir),
    Dir.

%% Starts `Erl -heart -noshell -eval Eval' with Env; the node writes "VmPid HeartPid" to
%% Dir/pids before running Then. Returns {VmPid, HeartPid} as strings.
start_node(Erl, Dir, Env, Then) ->
    Pids = filename:join(Dir, "pids"),
    Eval = lists:flatten(io_lib:format(
             "{os_pid, H} = erlang:port_info(whereis(heart_port), os_pid), "
             "ok = file:write_file(~p, io_lib:format(\"~~s ~~p\", [os:getpid(), H])), ~s",
             [Pids, Then])),
    _Port = open_port({spawn_executable, Erl},
                      [{args, ["-heart", "-noshell", "-eval", Eval]}, {env, Env}, {cd, Dir},
                       exit_status, stderr_to_stdout, binary]),
    ok = wait_until(fun() -> filelib:is_regular(Pids) end, 15000),
    {ok, Bin} = file:read_file(Pids),
    [Vm, Heart] = string:lexemes(binary_to_list(Bin), " "),
    {Vm, Heart}.

wait_until(F, Ms) when Ms =< 0 -> case F() of true -> ok; false -> timeout end;
wait_until(F, Ms) ->
    case F() of
        true -> ok;
        false -> timer:sleep(50), wait_until(F, Ms - 50)
    end.

alive(OsPid) -> filelib:is_dir("/proc/" ++ OsPid).

cleanup(Pids) ->
    [os:cmd("kill -9 " ++ P ++ " 2>/dev/null") || P <- Pids, alive(P)],
    ok.

%% One bounded test on a real node started through a fresh overlay. Setup(Dir, Marker)
%% gives the node's environment and what it evaluates once up; Check gets the node's
%% and heart's OS pids, the directory and the marker file a reboot command may touch.
node_test(Setup, Check) ->
    {timeout, 60, fun() ->
        Dir = scratch(),
        {ok, Erl} = fastrel_overlay:create(filename:join(Dir, "ovl")),
        Marker = filename:join(Dir, "rebooted"),
        {Env, Then} = Setup(Dir, Marker),
        {Vm, Heart} = start_node(Erl, Dir, Env, Then),
        try
            Check(#{vm => Vm, heart => Heart, dir => Dir, marker => Marker})
        after
            cleanup([Vm, Heart])
        end
    end}.

touch(Marker) -> [{"HEART_COMMAND", "touch " ++ Marker}].

zombie(OsPid) ->
    case file:read_file("/proc/" ++ OsPid ++ "/stat") of
        {ok, Stat} -> lists:member(<<"Z">>, binary:split(Stat, <<" ">>, [global]));
        _ -> false
    end.

the_running_heart_is_fastrels_and_restarts_a_killed_vm_test_() ->
    node_test(fun(_, Marker) -> {touch(Marker), "ok"} end,
              fun(#{vm := Vm, heart := Heart, dir := Dir, marker := Marker}) ->
                      ?assertEqual({ok, filename:join([Dir, "ovl", "bin", "heart"])},
                                   file:read_link("/proc/" ++ Heart ++ "/exe")),
                      T0 = erlang:monotonic_time(millisecond),
                      "" = os:cmd("kill -9 " ++ Vm),
                      ?assertEqual(ok, wait_until(fun() -> filelib:is_regular(Marker) end, 10000)),
                      %% OTP's heart waits out a 1-s poll at least; ours runs the command at once.
                      ?assert(erlang:monotonic_time(millisecond) - T0 < 3000),
                      ?assertEqual(ok, wait_until(fun() -> not alive(Heart) end, 10000))
              end).

clean_stop_runs_no_command_test_() ->
    node_test(fun(_, Marker) -> {touch(Marker), "init:stop()"} end,
              fun(#{vm := Vm, heart := Heart, marker := Marker}) ->
                      ?assertEqual(ok, wait_until(fun() -> not alive(Vm) andalso not alive(Heart) end, 15000)),
                      timer:sleep(500),
                      ?assertNot(filelib:is_regular(Marker))
              end).

set_get_clear_cmd_round_trip_on_a_real_node_test_() ->
    Long = lists:duplicate(160, $x),
    node_test(fun(Dir, _) ->
                      Then = io_lib:format(
                               "R = [heart:set_cmd(\"echo hi\"), heart:get_cmd(), heart:clear_cmd(), heart:get_cmd(), "
                               "heart:set_cmd(~p), heart:get_cmd(), heart:set_cmd(lists:duplicate(2047, $y))], "
                               "file:write_file(~p, term_to_binary(R)), init:stop()",
                               [Long, filename:join(Dir, "result")]),
                      {[{"HEART_COMMAND", false}], lists:flatten(Then)}
              end,
              fun(#{vm := Vm, dir := Dir}) ->
                      Out = filename:join(Dir, "result"),
                      ?assertEqual(ok, wait_until(fun() -> filelib:is_regular(Out) andalso not alive(Vm) end, 15000)),
                      {ok, Bin} = file:read_file(Out),
                      ?assertMatch([ok, {ok, "echo hi"}, ok, {ok, []}, ok, {ok, Long}, {error, {bad_cmd, _}}],
                                   binary_to_term(Bin))
              end).

hung_vm_is_killed_at_the_timeout_test_() ->
    node_test(fun(_, Marker) -> {[{"HEART_BEAT_TIMEOUT", "11"} | touch(Marker)], "ok"} end,
              fun(#{vm := Vm, marker := Marker}) ->
                      "" = os:cmd("kill -STOP " ++ Vm),
                      T0 = erlang:monotonic_time(millisecond),
                      ?assertEqual(ok, wait_until(fun() -> filelib:is_regular(Marker) end, 25000)),
                      Took = erlang:monotonic_time(millisecond) - T0,
                      %% Declared at the 11-s deadline (OTP's heart: on a 5-s grid, up to ~17 s).
                      ?assert(Took >= 10000 andalso Took < 13500),
                      ?assertNot(alive(Vm) andalso not zombie(Vm))
              end).

reboot_runs_the_command_set_by_heart_erl_test_() ->
    node_test(fun(_, Marker) ->
                      {[{"HEART_COMMAND", false}],
                       lists:flatten(io_lib:format("ok = heart:set_cmd(~p), init:reboot()", ["touch " ++ Marker]))}
              end,
              fun(#{marker := Marker}) ->
                      ?assertEqual(ok, wait_until(fun() -> filelib:is_regular(Marker) end, 15000))
              end).

crashing_vm_gets_its_dump_written_then_restarted_test_() ->
    node_test(fun(Dir, Marker) ->
                      Env = [{"ERL_CRASH_DUMP_SECONDS", "10"}, {"ERL_CRASH_DUMP", filename:join(Dir, "erl_crash.dump")}
                             | touch(Marker)],
                      {Env, "erlang:halt(\"fastrel heart test crash\")"}
              end,
              fun(#{dir := Dir, marker := Marker}) ->
                      ?assertEqual(ok, wait_until(fun() -> filelib:is_regular(Marker) end, 20000)),
                      {ok, DumpText} = file:read_file(filename:join(Dir, "erl_crash.dump")),
                      ?assertNotEqual(nomatch, binary:match(DumpText, <<"fastrel heart test crash">>))
              end).

cleared_command_leaves_the_node_down_test_() ->
    node_test(fun(_, Marker) ->
                      {[{"HEART_COMMAND", false}],
                       lists:flatten(io_lib:format("ok = heart:set_cmd(~p), ok = heart:clear_cmd(), init:reboot()",
                                                   ["touch " ++ Marker]))}
              end,
              fun(#{vm := Vm, heart := Heart, marker := Marker}) ->
                      ?assertEqual(ok, wait_until(fun() -> not alive(Heart) andalso not alive(Vm) end, 15000)),
                      ?assertNot(filelib:is_regular(Marker))
              end).

%% heart_SUITE's kill_pid: the node opens a second heart that never gets a beat; that heart
%% must SIGKILL the node after its timeout.
second_heart_kills_a_silent_node_test_() ->
    node_test(fun(_, _) ->
                      {[{"HEART_COMMAND", "nickeNyfikenFarEttJobb"}],
                       "open_port({spawn, \"heart -ht 11 -pid \" ++ os:getpid()}, [{packet, 2}])"}
              end,
              fun(#{vm := Vm}) ->
                      ?assertEqual(ok, wait_until(fun() -> not alive(Vm) orelse zombie(Vm) end, 25000))
              end).

%% heart_SUITE's heart_no_kill: with HEART_NO_KILL=TRUE that heart times out and exits,
%% and the node lives on.
no_kill_heart_leaves_the_node_alive_test_() ->
    node_test(fun(Dir, _) ->
                      Then = io_lib:format(
                               "P = open_port({spawn, \"heart -ht 11 -pid \" ++ os:getpid()}, "
                               "[{packet, 2}, exit_status, {env, [{\"HEART_NO_KILL\", \"TRUE\"}]}]), "
                               "receive {P, {exit_status, S}} -> file:write_file(~p, integer_to_list(S)) end, "
                               "init:stop()", [filename:join(Dir, "exited")]),
                      {[{"HEART_COMMAND", false}], lists:flatten(Then)}
              end,
              fun(#{vm := Vm, dir := Dir}) ->
                      Exited = filename:join(Dir, "exited"),
                      ?assertEqual(ok, wait_until(fun() -> filelib:is_regular(Exited) end, 25000)),
                      ?assertEqual({ok, <<"0">>}, file:read_file(Exited)),
                      ?assertEqual(ok, wait_until(fun() -> not alive(Vm) end, 10000))
              end).
