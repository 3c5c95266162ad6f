%% SPDX-License-Identifier: Apache-2.0
%% Real nodes (`erl -heart') with two hearts: fastrel's, through `fastrel_overlay', and
%% OTP's, through the system `erl'. Each behaviour here is meant to be identical, so every
%% case runs against both and asserts the same things; only the heart binary differs.
%% Every test is bounded in time, has its own scratch directory and kills what it
%% started by PID, so the cases run in parallel.
-module(fastrel_heart_tests).

-include_lib("eunit/include/eunit.hrl").

-define(FLAVOURS, [fastrel, otp]).

%% The timeout cases spend 11-17 s idle, waiting for a heart to give up, so they all run
%% at once; beside them the quick ones, a few at a time, since on two cores more booting
%% VMs at once only stretch every boot.
heart_test_() ->
    Tests = fun(Cases) -> [node_test(Flavour, Name, Case) || {Name, Case} <- Cases, Flavour <- ?FLAVOURS] end,
    {inparallel, [{inparallel, Tests(timeout_cases())}, {inparallel, 3, Tests(quick_cases())}]}.

timeout_cases() ->
    [{"a hung VM is killed at the timeout", fun hung_vm_is_killed_at_the_timeout/0},
     {"kill_pid: a second heart kills a silent node", fun second_heart_kills_a_silent_node/0},
     {"heart_no_kill: that heart leaves the node alive", fun no_kill_heart_leaves_the_node_alive/0}].

quick_cases() ->
    [{"kill -9 of the VM runs the command", fun killed_vm_is_restarted/0},
     {"init:stop runs no command", fun clean_stop_runs_no_command/0},
     {"set/get/clear_cmd round trip", fun set_get_clear_cmd_round_trip/0},
     {"init:reboot runs the command set by heart.erl", fun reboot_runs_the_command_set_by_heart_erl/0},
     {"a crashing VM writes its dump, then is restarted", fun crashing_vm_gets_its_dump_written_then_restarted/0},
     {"a cleared command leaves the node down", fun cleared_command_leaves_the_node_down/0},
     {"restart: init:restart keeps heart", fun restart_keeps_heart/0},
     {"set_cmd validation", fun set_cmd_validation/0},
     {"get_cmd round trips a 160-char command", fun get_cmd_long_command/0},
     {"callback_api", fun callback_api/0},
     {"options_api", fun options_api/0}].

scratch() -> fastrel_os:scratch("heart_tests").

%% The `erl' to start and the heart executable its node must end up running.
erl(fastrel, Dir) ->
    {ok, Erl} = fastrel_overlay:create(filename:join(Dir, "ovl")),
    {Erl, filename:join([Dir, "ovl", "bin", "heart"])};
erl(otp, _Dir) ->
    Root = code:root_dir(),
    {filename:join([Root, "bin", "erl"]),
     filename:join([Root, "erts-" ++ erlang:system_info(version), "bin", "heart"])}.

%% Starts `Erl -heart -noshell -eval Eval' with Env; the node writes "VmPid HeartPid" to
%% Dir/pids before running Then. Returns the port that carries the node's (and so heart's)
%% stdout and stderr; `erl' and erlexec exec, so the port's OS pid is the VM's.
start_node(Erl, Dir, Env, Then) ->
    Pids = filename:join(Dir, "pids"),
    %% Written aside and renamed: the test polls for the file and must not read it half-written.
    Eval = lists:flatten(io_lib:format(
             "{os_pid, H} = erlang:port_info(whereis(heart_port), os_pid), "
             "ok = file:write_file(~p, io_lib:format(\"~~s ~~p\", [os:getpid(), H])), ok = file:rename(~p, ~p), ~s",
             [Pids ++ ".tmp", Pids ++ ".tmp", Pids, Then])),
    open_port({spawn_executable, Erl},
              [{args, ["-heart", "-noshell", "-eval", Eval]}, {env, Env}, {cd, Dir},
               exit_status, stderr_to_stdout, binary]).

%% The node's and its heart's OS pids, as strings, once the node has written them.
node_pids(Dir) ->
    Pids = filename:join(Dir, "pids"),
    %% Generous: several nodes boot at once on two cores.
    ok = wait_until(fun() -> filelib:is_regular(Pids) end, 30000),
    {ok, Bin} = file:read_file(Pids),
    [Vm, Heart] = string:lexemes(binary_to_list(Bin), " "),
    {Vm, Heart}.

%% Waits (bounded) until the node's output so far contains Needle; returns it either way.
await_output(Port, Needle, Ms) -> await_output(Port, Needle, erlang:monotonic_time(millisecond) + Ms, <<>>).

await_output(Port, Needle, Until, Acc) ->
    case binary:match(Acc, Needle) of
        nomatch ->
            receive {Port, {data, B}} -> await_output(Port, Needle, Until, <<Acc/binary, B/binary>>)
            after max(0, Until - erlang:monotonic_time(millisecond)) -> {timeout, Acc}
            end;
        _ -> {ok, Acc}
    end.

%% ok | timeout: the assertions below name which wait ran out.
wait_until(F, Ms) ->
    case fastrel_os:wait_until(F, Ms) of
        true -> ok;
        false -> timeout
    end.

%% Exists at all, a zombie included (heart's kill must have reaped or killed it; see zombie/1).
alive(OsPid) -> filelib:is_dir("/proc/" ++ OsPid).

cleanup(Pids) -> fastrel_os:kill(Pids).

%% One bounded test on a real node started with Flavour's heart. Case() gives
%% {Setup, Check}: Setup(Dir, Marker) gives the node's environment and what it evaluates
%% once up; Check gets the node's and heart's OS pids, the directory, the marker file a
%% reboot command may touch, the heart executable the node must be running, and the port
%% with the node's output.
node_test(Flavour, Name, Case) ->
    {atom_to_list(Flavour) ++ ": " ++ Name,
     {timeout, 60, fun() ->
        {Setup, Check} = Case(),
        Dir = scratch(),
        {Erl, HeartExe} = erl(Flavour, Dir),
        Marker = filename:join(Dir, "rebooted"),
        {Env, Then} = Setup(Dir, Marker),
        Port = start_node(Erl, Dir, Env, Then),
        {os_pid, VmOsPid} = erlang:port_info(Port, os_pid),
        %% Whatever fails, even the start, the node and its heart go (a heart not yet
        %% known dies of the node's death).
        Started = fun() -> case file:read_file(filename:join(Dir, "pids")) of
                               {ok, B} -> string:lexemes(binary_to_list(B), " ");
                               _ -> []
                           end
                  end,
        try
            {Vm, Heart} = node_pids(Dir),
            Check(#{vm => Vm, heart => Heart, dir => Dir, marker => Marker, heart_exe => HeartExe, port => Port})
        after
            cleanup(lists:usort([integer_to_list(VmOsPid) | Started()]))
        end
     end}}.

touch(Marker) -> [{"HEART_COMMAND", "touch " ++ Marker}].

zombie(OsPid) ->
    case file:read_file("/proc/" ++ OsPid ++ "/stat") of
        {ok, Stat} -> lists:member(<<"Z">>, binary:split(Stat, <<" ">>, [global]));
        _ -> false
    end.

%% What the node evaluated, as it wrote it to Dir/result before stopping itself.
result(Dir, Vm) ->
    Out = filename:join(Dir, "result"),
    ?assertEqual(ok, wait_until(fun() -> filelib:is_regular(Out) andalso not alive(Vm) end, 30000)),
    {ok, Bin} = file:read_file(Out),
    binary_to_term(Bin).

%% Then: evaluate the list expression Exprs, write it to Dir/result, stop cleanly.
write_result(Dir, Exprs) ->
    lists:flatten(io_lib:format("R = ~s, ok = file:write_file(~p, term_to_binary(R)), init:stop()",
                                [Exprs, filename:join(Dir, "result")])).

killed_vm_is_restarted() ->
    {fun(_, Marker) -> {touch(Marker), "ok"} end,
     fun(#{vm := Vm, heart := Heart, marker := Marker, heart_exe := Exe}) ->
             ?assertEqual(Exe, fastrel_os:program(Heart)),
             "" = os:cmd("kill -9 " ++ Vm),
             ?assertEqual(ok, wait_until(fun() -> filelib:is_regular(Marker) end, 15000)),
             ?assertEqual(ok, wait_until(fun() -> not alive(Heart) end, 10000))
     end}.

clean_stop_runs_no_command() ->
    {fun(_, Marker) -> {touch(Marker), "init:stop()"} end,
     fun(#{vm := Vm, heart := Heart, marker := Marker}) ->
             ?assertEqual(ok, wait_until(fun() -> not alive(Vm) andalso not alive(Heart) end, 15000)),
             timer:sleep(500),
             ?assertNot(filelib:is_regular(Marker))
     end}.

set_get_clear_cmd_round_trip() ->
    Long = lists:duplicate(160, $x),
    {fun(Dir, _) ->
             Exprs = io_lib:format(
                       "[heart:set_cmd(\"echo hi\"), heart:get_cmd(), heart:clear_cmd(), heart:get_cmd(), "
                       "heart:set_cmd(~p), heart:get_cmd(), heart:set_cmd(lists:duplicate(2047, $y))]", [Long]),
             {[{"HEART_COMMAND", false}], write_result(Dir, Exprs)}
     end,
     fun(#{vm := Vm, dir := Dir}) ->
             ?assertEqual([ok, {ok, "echo hi"}, ok, {ok, []}, ok, {ok, Long},
                           {error, {bad_cmd, lists:duplicate(2047, $y)}}],
                          result(Dir, Vm))
     end}.

hung_vm_is_killed_at_the_timeout() ->
    {fun(_, Marker) -> {[{"HEART_BEAT_TIMEOUT", "11"} | touch(Marker)], "ok"} end,
     fun(#{vm := Vm, marker := Marker, port := Port}) ->
             "" = os:cmd("kill -STOP " ++ Vm),
             T0 = erlang:monotonic_time(millisecond),
             %% OTP's heart checks on a 5-s grid: up to ~17 s after the last beat.
             ?assertEqual(ok, wait_until(fun() -> filelib:is_regular(Marker) end, 30000)),
             %% The last beat came at most 5 s (heart.erl's idle interval) before the STOP,
             %% so anything sooner than 11 - 5 s would be a kill before the deadline.
             ?assert(erlang:monotonic_time(millisecond) - T0 >= 6000),
             ?assertNot(alive(Vm) andalso not zombie(Vm)),
             ?assertMatch({ok, _}, await_output(Port, <<"heart-beat time-out, no activity for ">>, 5000))
     end}.

reboot_runs_the_command_set_by_heart_erl() ->
    {fun(_, Marker) ->
             {[{"HEART_COMMAND", false}],
              lists:flatten(io_lib:format("ok = heart:set_cmd(~p), init:reboot()", ["touch " ++ Marker]))}
     end,
     fun(#{marker := Marker}) ->
             ?assertEqual(ok, wait_until(fun() -> filelib:is_regular(Marker) end, 20000))
     end}.

crashing_vm_gets_its_dump_written_then_restarted() ->
    {fun(Dir, Marker) ->
             Env = [{"ERL_CRASH_DUMP_SECONDS", "10"}, {"ERL_CRASH_DUMP", filename:join(Dir, "erl_crash.dump")}
                    | touch(Marker)],
             {Env, "erlang:halt(\"fastrel heart test crash\")"}
     end,
     fun(#{dir := Dir, marker := Marker}) ->
             ?assertEqual(ok, wait_until(fun() -> filelib:is_regular(Marker) end, 25000)),
             {ok, DumpText} = file:read_file(filename:join(Dir, "erl_crash.dump")),
             ?assertNotEqual(nomatch, binary:match(DumpText, <<"fastrel heart test crash">>))
     end}.

cleared_command_leaves_the_node_down() ->
    {fun(_, Marker) ->
             {[{"HEART_COMMAND", false}],
              lists:flatten(io_lib:format("ok = heart:set_cmd(~p), ok = heart:clear_cmd(), init:reboot()",
                                          ["touch " ++ Marker]))}
     end,
     fun(#{vm := Vm, heart := Heart, marker := Marker}) ->
             ?assertEqual(ok, wait_until(fun() -> not alive(Heart) andalso not alive(Vm) end, 15000)),
             ?assertNot(filelib:is_regular(Marker))
     end}.

%% heart_SUITE's kill_pid: the node opens a second heart (found on the node's PATH, so of
%% the same flavour) that never gets a beat; that heart must SIGKILL the node after its
%% timeout. The port's owner must stay alive: if it exited, the port would close and that
%% heart would go the "Erlang has closed" way instead, which is not what this tests.
second_heart_kills_a_silent_node() ->
    {fun(_, _) ->
             {[{"HEART_COMMAND", "nickeNyfikenFarEttJobb"}],
              "open_port({spawn, \"heart -ht 11 -pid \" ++ os:getpid()}, [{packet, 2}]), "
              "receive after infinity -> ok end"}
     end,
     fun(#{vm := Vm, port := Port}) ->
             ?assertEqual(ok, wait_until(fun() -> not alive(Vm) orelse zombie(Vm) end, 30000)),
             %% The node's own heart prints "Erlang has closed." once the node is dead;
             %% only the second heart's timeout prints this.
             ?assertMatch({ok, _}, await_output(Port, <<"heart-beat time-out, no activity for ">>, 5000))
     end}.

%% heart_SUITE's heart_no_kill: with HEART_NO_KILL=TRUE that heart times out and exits,
%% and the node lives on.
no_kill_heart_leaves_the_node_alive() ->
    {fun(Dir, _) ->
             Then = io_lib:format(
                      "P = open_port({spawn, \"heart -ht 11 -pid \" ++ os:getpid()}, "
                      "[{packet, 2}, exit_status, {env, [{\"HEART_NO_KILL\", \"TRUE\"}]}]), "
                      "receive {P, {exit_status, S}} -> ok = file:write_file(~p, integer_to_list(S)) end, "
                      "ok = file:rename(~p, ~p), init:stop()",
                      [filename:join(Dir, "exited.tmp"), filename:join(Dir, "exited.tmp"), filename:join(Dir, "exited")]),
             {[{"HEART_COMMAND", false}], lists:flatten(Then)}
     end,
     fun(#{vm := Vm, dir := Dir, port := Port}) ->
             Exited = filename:join(Dir, "exited"),
             ?assertEqual(ok, wait_until(fun() -> filelib:is_regular(Exited) end, 30000)),
             ?assertEqual({ok, <<"0">>}, file:read_file(Exited)),
             ?assertMatch({ok, _}, await_output(Port, <<"heart-beat time-out, no activity for ">>, 5000)),
             ?assertEqual(ok, wait_until(fun() -> not alive(Vm) end, 10000))
     end}.

%% heart_SUITE's restart: init:restart() reboots the Erlang system inside the same VM,
%% and heart (the process and its port program) must survive it. The -eval runs again
%% after the restart; that second run records which VM and heart it sees.
restart_keeps_heart() ->
    {fun(Dir, Marker) ->
             Then = io_lib:format(
                      "case filelib:is_regular(~p) of "
                      "  false -> ok = file:write_file(~p, <<>>), init:restart(); "
                      "  true -> {os_pid, H2} = erlang:port_info(whereis(heart_port), os_pid), "
                      "          ok = file:write_file(~p, io_lib:format(\"~~s ~~p\", [os:getpid(), H2])), "
                      "          ok = file:rename(~p, ~p), init:stop() "
                      "end",
                      [filename:join(Dir, "booted"), filename:join(Dir, "booted"), filename:join(Dir, "again.tmp"),
                       filename:join(Dir, "again.tmp"), filename:join(Dir, "again")]),
             {touch(Marker), lists:flatten(Then)}
     end,
     fun(#{vm := Vm, heart := Heart, dir := Dir, marker := Marker}) ->
             Again = filename:join(Dir, "again"),
             ?assertEqual(ok, wait_until(fun() -> filelib:is_regular(Again) end, 30000)),
             ?assertEqual({ok, list_to_binary(Vm ++ " " ++ Heart)}, file:read_file(Again)),
             ?assertEqual(ok, wait_until(fun() -> not alive(Vm) andalso not alive(Heart) end, 15000)),
             ?assertNot(filelib:is_regular(Marker))
     end}.

%% heart_SUITE's set_cmd: heart.erl takes commands of at most 2046 bytes, and each one it
%% takes must be ACKed by the port program.
set_cmd_validation() ->
    {fun(Dir, _) ->
             Exprs = "[heart:set_cmd(an_atom), heart:set_cmd(lists:duplicate(2047, $a)), "
                     "heart:set_cmd(lists:duplicate(28, $b)), heart:get_cmd(), "
                     "heart:set_cmd(lists:duplicate(2000, $c)), heart:get_cmd(), "
                     "heart:set_cmd(lists:duplicate(2046, $d)), heart:get_cmd()]",
             {[{"HEART_COMMAND", false}], write_result(Dir, Exprs)}
     end,
     fun(#{vm := Vm, dir := Dir}) ->
             ?assertEqual([{error, {bad_cmd, an_atom}}, {error, {bad_cmd, lists:duplicate(2047, $a)}},
                           ok, {ok, lists:duplicate(28, $b)},
                           ok, {ok, lists:duplicate(2000, $c)},
                           ok, {ok, lists:duplicate(2046, $d)}],
                          result(Dir, Vm))
     end}.

%% heart_SUITE's get_cmd, with OTP-15024's 160-char command.
get_cmd_long_command() ->
    Long = lists:flatten(lists:duplicate(16, "0123456789")),
    {fun(Dir, _) ->
             Exprs = io_lib:format("[heart:get_cmd(), heart:set_cmd(\"test\"), heart:get_cmd(), "
                                   "heart:set_cmd(~p), heart:get_cmd()]", [Long]),
             {[{"HEART_COMMAND", false}], write_result(Dir, Exprs)}
     end,
     fun(#{vm := Vm, dir := Dir}) ->
             ?assertEqual([{ok, []}, ok, {ok, "test"}, ok, {ok, Long}], result(Dir, Vm))
     end}.

%% heart_SUITE's callback_api. heart.erl runs the callback before every beat; one that
%% returns ok is harmless, one that exits takes the heart process and so the node down,
%% and the port program then runs the reboot command.
callback_api() ->
    Cb = fastrel_heart_cb,
    {fun(Dir, Marker) ->
             Then = io_lib:format(
                      "{ok, M, B} = compile:forms([{attribute, 1, module, ~p}, {attribute, 1, export, [{fine, 0}, {bye, 0}]}, "
                      "  {function, 1, fine, 0, [{clause, 1, [], [], [{atom, 1, ok}]}]}, "
                      "  {function, 1, bye, 0, [{clause, 1, [], [], [{call, 1, {atom, 1, exit}, [{atom, 1, bye}]}]}]}]), "
                      "{module, M} = code:load_binary(M, \"fastrel_heart_cb.erl\", B), "
                      "R = [heart:get_callback(), heart:set_callback(M, \"fine\"), heart:set_callback(<<\"m\">>, fine), "
                      "     heart:set_callback(M, fine), heart:get_callback(), heart:clear_callback(), heart:get_callback(), "
                      "     heart:set_callback(M, fine), heart:get_callback(), heart:get_callback()], "
                      "ok = file:write_file(~p, term_to_binary(R)), "
                      "ok = heart:set_callback(M, bye)",
                      [Cb, filename:join(Dir, "result")]),
             {[{"ERL_CRASH_DUMP", filename:join(Dir, "erl_crash.dump")} | touch(Marker)], lists:flatten(Then)}
     end,
     fun(#{vm := Vm, dir := Dir, marker := Marker}) ->
             ?assertEqual(ok, wait_until(fun() -> filelib:is_regular(Marker) end, 30000)),
             ?assertNot(alive(Vm) andalso not zombie(Vm)),
             {ok, Bin} = file:read_file(filename:join(Dir, "result")),
             ?assertEqual([none, {error, {bad_callback, {Cb, "fine"}}}, {error, {bad_callback, {<<"m">>, fine}}},
                           ok, {ok, {Cb, fine}}, ok, none,
                           ok, {ok, {Cb, fine}}, {ok, {Cb, fine}}],
                          binary_to_term(Bin))
     end}.

%% heart_SUITE's options_api: check_schedulers runs before every beat; for about 3 s of
%% API calls (each one a beat) the node must not be taken down.
options_api() ->
    {fun(Dir, Marker) ->
             Exprs = "[heart:get_options(), heart:set_options(check_schedulers), heart:set_options([foo]), "
                     " heart:set_options([check_schedulers, foo]), heart:set_options([check_schedulers]), "
                     " heart:get_options(), "
                     " (fun Poll(Until) -> case erlang:monotonic_time(millisecond) < Until of "
                     "     true -> {ok, [check_schedulers]} = heart:get_options(), timer:sleep(100), Poll(Until); "
                     "     false -> ok end end)(erlang:monotonic_time(millisecond) + 3000), "
                     " heart:set_options([]), heart:get_options()]",
             {touch(Marker), write_result(Dir, Exprs)}
     end,
     fun(#{vm := Vm, heart := Heart, dir := Dir, marker := Marker}) ->
             ?assertEqual([none, {error, {bad_options, check_schedulers}}, {error, {bad_options, [foo]}},
                           {error, {bad_options, [check_schedulers, foo]}}, ok,
                           {ok, [check_schedulers]}, ok, ok, none],
                          result(Dir, Vm)),
             ?assertEqual(ok, wait_until(fun() -> not alive(Heart) end, 10000)),
             ?assertNot(filelib:is_regular(Marker))
     end}.
