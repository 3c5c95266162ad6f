%% SPDX-License-Identifier: Apache-2.0
%% run_erl and to_erl with real nodes, in all four pairings of fastrel's and OTP's
%% programs (run_erl_SUITE's basic/heavy/heavier and the shell harness's attach, evaluate,
%% detach), and the release-handling chapter's scenario: a counter node under run_erl
%% -daemon and -heart that comes back after kill -9 with its count. Each test has its own
%% scratch directory, is bounded in time and kills what it started by PID.
-module(fastrel_console_tests).

-include_lib("eunit/include/eunit.hrl").

-import(fastrel_os, [wait_until/2, alive/1, kill/1, ppid/1, ppid_or_undefined/1, exe/1, program/1, collect/3]).

-define(PAIRINGS, [{fastrel, fastrel}, {otp, fastrel}, {fastrel, otp}, {otp, otp}]).

pairings_test_() ->
    {inparallel, 2,
     [{lists:flatten(io_lib:format("run_erl ~p, to_erl ~p", [R, T])),
       {timeout, 120, fun() -> session(R, T) end}} || {R, T} <- ?PAIRINGS]}.

scratch() ->
    Dir = fastrel_os:scratch("console_tests"),
    ok = filelib:ensure_path(filename:join(Dir, "p")),
    ok = filelib:ensure_path(filename:join(Dir, "l")),
    Dir.

program(fastrel, Name) -> filename:join(code:priv_dir(fastrel), Name);
program(otp, Name) ->
    filename:join([code:root_dir(), "erts-" ++ erlang:system_info(version), "bin", Name]).

erl() -> filename:join([code:root_dir(), "bin", "erl"]).

%% The VM's OS pid: the child's exec trace in run_erl.log (`exec erl' keeps the pid).
vm_pid(Dir) ->
    case file:read_file(filename:join(Dir, "l/run_erl.log")) of
        {ok, <<"run_erl [", Rest/binary>>} -> hd(string:lexemes(binary_to_list(Rest), "]"));
        _ -> undefined
    end.

daemon(RunErl, Dir, Cmd, Env) ->
    Port = open_port({spawn_executable, RunErl},
                     [{args, ["-daemon", filename:join(Dir, "p") ++ "/", filename:join(Dir, "l"), Cmd]},
                      {env, Env}, exit_status, stderr_to_stdout, binary]),
    receive {Port, {exit_status, S}} -> S after 20000 -> error(run_erl_daemon_hangs) end.

%% to_erl as OTP's shell harness drives it: stdin and stdout are pipes.
to_erl(ToErl, Dir) ->
    open_port({spawn_executable, ToErl},
              [{args, [filename:join(Dir, "p") ++ "/"]}, exit_status, stderr_to_stdout, binary, stream]).

%% Collects the port's output until Pred(Output) holds; the port must not exit first.
has(Needle) -> fun(Bin) -> binary:match(Bin, Needle) =/= nomatch end.

%% Both to_erls say so once they hold the pipe; input sent before may be lost.
attached(Port) -> collect(Port, has(<<"(^D to exit)">>), 10000).

exit_status(Port, Ms) ->
    receive {Port, {exit_status, S}} -> S after Ms -> error(to_erl_does_not_exit) end.

session(RunErlFlavour, ToErlFlavour) ->
    Dir = scratch(),
    RunErl = program(RunErlFlavour, "run_erl"),
    ToErl = program(ToErlFlavour, "to_erl"),
    ?assertEqual(0, daemon(RunErl, Dir, "exec " ++ erl(), [])),
    true = wait_until(fun() -> vm_pid(Dir) =/= undefined end, 15000),
    Vm = vm_pid(Dir),
    Daemon = ppid(Vm),
    try
        %% Attach, evaluate, see the answer in to_erl and in the log, detach with ^D.
        A = to_erl(ToErl, Dir),
        attached(A),
        port_command(A, "io:format(\"~p~n\", [{answer, 6 * 7}]).\n"),
        collect(A, has(<<"{answer,42}">>), 20000),
        port_command(A, <<4>>),
        ?assertEqual(0, exit_status(A, 10000)),
        ?assert(wait_until(fun() -> log_has(Dir, <<"{answer,42}">>) end, 5000)),
        %% Detaching must not take the node down: it is still there a moment later.
        timer:sleep(500),
        ?assert(alive(Vm)),
        %% heavy: 30,000 newlines in bursts, none lost; heavier: 1,000 long lines intact
        %% and in order.
        B = to_erl(ToErl, Dir),
        attached(B),
        port_command(B, "[io:format(\"~s\", [lists:duplicate(10000, 10)]) || _ <- [1,2,3]], io:format(\"heavy-done~n\").\n"),
        Heavy = collect(B, has(<<"heavy-done\r\n">>), 60000),
        ?assert(length(binary:matches(Heavy, <<"\n">>)) > 30000),
        port_command(B, "[io:format(\"#~s~n\", [L]) || L <- [lists:duplicate(I rem 2000 + 1, $A + I rem 26) || I <- lists:seq(1, 1000)]], io:format(\"heavier-done~n\").\n"),
        Heavier = collect(B, has(<<"heavier-done\r\n">>), 60000),
        Got = [L || <<"#", L/binary>> <- binary:split(Heavier, <<"\r\n">>, [global])],
        Want = [list_to_binary(lists:duplicate(I rem 2000 + 1, $A + I rem 26)) || I <- lists:seq(1, 1000)],
        ?assertEqual(Want, Got),
        %% halt() through to_erl: the node goes, to_erl sees the end, run_erl leaves no FIFOs.
        port_command(B, "halt().\n"),
        ?assertEqual(0, exit_status(B, 20000)),
        ?assert(wait_until(fun() -> not alive(Vm) andalso not alive(Daemon) end, 15000)),
        ?assertEqual({ok, []}, file:list_dir(filename:join(Dir, "p")))
    after
        kill([Vm, Daemon])
    end.

log_has(Dir, Needle) ->
    {ok, Bin} = file:read_file(filename:join(Dir, "l/erlang.log.1")),
    binary:match(Bin, Needle) =/= nomatch.

%% The chapter's exercise: a counter node, detached under run_erl with -heart and a
%% HEART_COMMAND that starts it again the same way, all fastrel's programs (through the
%% overlay). kill -9 of beam.smp: heart restarts it, the count goes on from the file, the
%% log shows the second start.
chapter_counter_survives_kill_9_test_() ->
    {timeout, 120, fun() ->
        Dir = scratch(),
        {ok, Erl} = fastrel_overlay:create(filename:join(Dir, "ovl")),
        RunErl = filename:join([Dir, "ovl", "bin", "run_erl"]),
        Counter = filename:join(Dir, "counter"),
        Pids = filename:join(Dir, "pids"),
        %% The node's start: read the count back, write "VmPid HeartPid", count on.
        Eval = lists:flatten(io_lib:format(
                 "C = case file:read_file(~p) of {ok, B} -> binary_to_integer(B); _ -> 0 end, "
                 "io:format(\"counter resumes at ~~p~~n\", [C]), "
                 "{os_pid, H} = erlang:port_info(whereis(heart_port), os_pid), "
                 "ok = file:write_file(~p, io_lib:format(\"~~s ~~p\", [os:getpid(), H])), "
                 "ok = file:rename(~p, ~p), "
                 %% Written aside and renamed: a kill -9 mid-write must not leave an
                 %% empty count that the next boot cannot read (and crash-loops on).
                 "spawn(fun() -> L = fun L(N) -> ok = file:write_file(~p, integer_to_binary(N)), "
                 "ok = file:rename(~p, ~p), timer:sleep(50), L(N + 1) end, L(C + 1) end)",
                 [Counter, Pids ++ ".tmp", Pids ++ ".tmp", Pids, Counter ++ ".tmp", Counter ++ ".tmp", Counter])),
        Start = lists:flatten(io_lib:format("exec ~s -heart -noshell -eval '~s'", [Erl, Eval])),
        Restart = lists:flatten(io_lib:format("~s -daemon ~s/p/ ~s/l \"~s\"",
                                              [RunErl, Dir, Dir, string:replace(Start, "\"", "\\\"", all)])),
        Env = [{"HEART_COMMAND", Restart}],
        ?assertEqual(0, daemon(RunErl, Dir, Start, Env)),
        First = read_pids(Pids, undefined),
        {Vm1, Heart1} = First,
        Daemon1 = ppid(Vm1),
        ?assertEqual(filename:join([Dir, "ovl", "bin", "heart"]), program(Heart1)),
        ?assertEqual(RunErl, program(Daemon1)),
        try
            true = wait_until(fun() -> count(Counter) >= 5 end, 10000),
            os:cmd("kill -9 " ++ Vm1),
            Before = count(Counter),
            {Vm2, Heart2} = read_pids(Pids, First),
            try
                ?assertNotEqual(Vm1, Vm2),
                ?assert(wait_until(fun() -> count(Counter) > Before + 3 end, 15000)),
                {ok, Log} = file:read_file(filename:join(Dir, "l/erlang.log.1")),
                ?assertEqual(2, length(binary:matches(Log, <<"===== LOGGING STARTED">>))),
                ?assertMatch({match, _}, re:run(Log, "counter resumes at [1-9]")),
                ?assertEqual(RunErl, program(ppid(Vm2)))
            after
                %% heart first, so killing the VM does not start it again.
                kill([Heart2]), kill([Vm2, ppid_or_undefined(Vm2)])
            end
        after
            kill([Heart1]), kill([Vm1, Daemon1]),
            %% And whatever a restart started that the test never learnt the PID of.
            fastrel_os:kill_within(Dir)
        end
    end}.

read_pids(File, Previous) ->
    Read = fun() ->
               case file:read_file(File) of
                   {ok, B} -> list_to_tuple(string:lexemes(binary_to_list(B), " "));
                   _ -> undefined
               end
           end,
    true = wait_until(fun() -> not lists:member(Read(), [undefined, Previous]) end, 20000),
    Read().

count(File) ->
    case file:read_file(File) of
        {ok, B} when B =/= <<>> -> binary_to_integer(B);
        _ -> 0
    end.
