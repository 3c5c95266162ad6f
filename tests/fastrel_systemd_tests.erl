%% SPDX-License-Identifier: Apache-2.0
%% `bin/NAME systemd-unit': the unit it prints (checked by systemd-analyze verify when
%% the host has it), and the protocol that unit relies on, with a notify socket of the
%% test's own standing in for systemd: the release's `foreground' with -heart and
%% NOTIFY_SOCKET sends READY=1, then WATCHDOG=1; after kill -9 of the VM heart starts
%% it again (as the unit has it) and the new node notifies too; STOPPING=1 at `bin/NAME stop'.
-module(fastrel_systemd_tests).

-include_lib("eunit/include/eunit.hrl").
-import(fastrel_os, [rebar3/2, rebar3/3, run/3, run/4]).

%% The next datagram on Sock (everything else is left in the mailbox), or timeout.
notification(Sock, Ms) ->
    receive {udp, Sock, _, _, Msg} -> Msg
    after Ms -> timeout
    end.

%% Notifications until one is Want (the others returned too), or timeout.
until(Sock, Want, Ms) -> until(Sock, Want, erlang:monotonic_time(millisecond) + Ms, []).

until(Sock, Want, Deadline, Seen) ->
    case notification(Sock, max(0, Deadline - erlang:monotonic_time(millisecond))) of
        Want -> lists:reverse([Want | Seen]);
        timeout -> error({no, Want, lists:reverse(Seen)});
        Other -> until(Sock, Want, Deadline, [Other | Seen])
    end.

release(Name, VmArgs) ->
    Dir = fastrel_os:example_project("systemd_tests", Name, [{release, {example_server, "1.0.0"}, [example_server, sasl]}]),
    ok = filelib:ensure_path(filename:join(Dir, "config")),
    ok = file:write_file(filename:join([Dir, "config", "vm.args"]), VmArgs),
    {0, _} = rebar3(Dir, ["fastrel", "release"]),
    {Dir, filename:join([Dir, "_build", "default", "rel", "example_server"])}.

unit_text_test_() ->
    {timeout, 300, fun() ->
        {Dir, Rel} = release("unit", "-sname unit\n-setcookie c\n-env HEART_BEAT_TIMEOUT 20\n"),
        Bin = filename:join([Rel, "bin", "example_server"]),
        {0, Unit} = run(Bin, ["systemd-unit"], [{"FASTREL_UNIT_USER", "nobody"}]),
        Lines = string:split(Unit, "\n", all),
        [?assert(lists:member(L, Lines)) || L <- ["Type=notify", "NotifyAccess=all", "ExitType=cgroup", "User=nobody",
                                                  "WorkingDirectory=" ++ Rel,
                                                  "ExecStart=\"" ++ Bin ++ "\" foreground",
                                                  "ExecStop=\"" ++ Bin ++ "\" stop",
                                                  "Environment=HEART_BEAT_TIMEOUT=20",
                                                  "Environment=\"HEART_COMMAND='" ++ Bin ++ "' daemon\"",
                                                  %% heart's 20 s, twice, and 30 s for a restarted node to beat.
                                                  "WatchdogSec=70", "KillMode=mixed", "TimeoutStopSec=90",
                                                  "Restart=on-failure",
                                                  %% No -heart in vm.args: the unit turns it on.
                                                  "Environment=ERL_FLAGS=-heart"]],
        ?assertEqual({0, Unit}, run(Bin, ["systemd_unit"], [{"FASTREL_UNIT_USER", "nobody"}])),
        %% vm.args' -env wins over the environment, as in the VM.
        {0, Unit2} = run(Bin, ["systemd-unit"], [{"HEART_BEAT_TIMEOUT", "99"}]),
        ?assertNotEqual(nomatch, string:find(Unit2, "WatchdogSec=70")),
        case os:find_executable("systemd-analyze") of
            false -> ok;
            Analyze ->
                %% A unit file's name is the unit's; verify prints what it dislikes (unknown
                %% keys too) but exits 0 for most of it, so the output must be empty (the unit with
                %% the release's owner: verify warns of nobody).
                ok = file:write_file(filename:join(Dir, "example_server.service"), Unit2),
                ?assertEqual({0, ""}, verify(Analyze, filename:join(Dir, "example_server.service")))
        end
    end}.

notify_protocol_test_() ->
    {timeout, 300, fun() -> fastrel_os:with_epmd(fun notify_protocol/1) end}.

notify_protocol(Epmd) ->
    Node = "sd" ++ os:getpid(),
    {_, Rel} = release("notify", ["-sname ", Node, "\n-setcookie c\n-heart\n-env HEART_BEAT_TIMEOUT 10\n"]),
    Bin = filename:join([Rel, "bin", "example_server"]),
    {0, Unit} = run(Bin, ["systemd-unit"], []),
    ?assertEqual(nomatch, string:find(Unit, "ERL_FLAGS")),
    ?assertNotEqual(nomatch, string:find(Unit, "WatchdogSec=50")),
    %% A socket path is at most 107 bytes: not under the scratch directory.
    Path = "/tmp/fastrel-notify-" ++ os:getpid() ++ "-" ++ integer_to_list(erlang:unique_integer([positive])),
    _ = file:delete(Path),
    {ok, Sock} = gen_udp:open(0, [local, binary, {active, true}, {ifaddr, {local, Path}}]),
    %% What the unit sets: heart restarts the node as a daemon, inside the unit.
    Heart = [{"HEART_COMMAND", "'" ++ Bin ++ "' daemon"}, {"PIPE_DIR", filename:join(filename:dirname(Rel), "pipes") ++ "/"}],
    Env = [{"NOTIFY_SOCKET", Path}, {"WATCHDOG_USEC", "50000000"} | Heart ++ Epmd],
    Fg = open_port({spawn_executable, Bin}, [{args, ["foreground"]}, {env, Env}, exit_status, stderr_to_stdout, binary]),
    try
        ?assertEqual([<<"READY=1">>], until(Sock, <<"READY=1">>, 60000)),
        ?assert(fastrel_os:wait_until(fun() -> run(Bin, ["ping"], Heart ++ Epmd) =:= {0, "pong\n"} end, 30000)),
        %% heart.erl beats every 10 s: one WATCHDOG=1 each time.
        ?assertEqual([<<"WATCHDOG=1">>], until(Sock, <<"WATCHDOG=1">>, 30000)),
        %% The VM dies: heart starts it again (bin/NAME daemon, the environment inherited),
        %% and the new node's heart goes on notifying the same socket.
        {0, Pid1} = run(Bin, ["pid"], Heart ++ Epmd),
        _ = os:cmd("kill -9 " ++ string:trim(Pid1)),
        receive {Fg, {exit_status, _}} -> ok after 10000 -> error(foreground_survives_kill) end,
        until(Sock, <<"READY=1">>, 60000),
        ?assertEqual([<<"WATCHDOG=1">>], until(Sock, <<"WATCHDOG=1">>, 30000)),
        {0, Pid2} = run(Bin, ["pid"], Heart ++ Epmd),
        ?assertNotEqual(Pid1, Pid2),
        ?assertMatch({0, _}, run(Bin, ["stop"], Heart ++ Epmd)),
        %% stop returned: the VM has exited.
        ?assertNot(fastrel_os:alive(string:trim(Pid2))),
        Seen = until(Sock, <<"STOPPING=1">>, 10000),
        ?assertEqual([], [M || M <- Seen, M =/= <<"WATCHDOG=1">>, M =/= <<"STOPPING=1">>])
    after
        fastrel_os:kill_within(Rel),
        gen_udp:close(Sock),
        file:delete(Path)
    end.

%% `fastrel systemd-unit REL_DIR' for a mix release (the layout mix writes; `fastrel mix
%% heart' has left its block in env.sh).
mix_unit_test() ->
    Dir = fastrel_os:scratch("systemd_tests"),
    Rel = filename:join(Dir, "my app"),
    VsnDir = filename:join([Rel, "releases", "0.1.0"]),
    ok = filelib:ensure_path(VsnDir),
    ok = filelib:ensure_path(filename:join(Rel, "bin")),
    ok = file:write_file(filename:join([Rel, "releases", "start_erl.data"]), "13.1.5 0.1.0"),
    ok = file:write_file(filename:join(VsnDir, "elixir"), "#!/bin/sh\n"),
    ok = file:write_file(filename:join(VsnDir, "server02.rel"),
                         "{release,{\"server02\",\"0.1.0\"},{erts,\"13.1.5\"},[{kernel,\"8.5.3\"}]}.\n"),
    ok = file:write_file(filename:join(VsnDir, "env.sh"), "#!/bin/sh\n"),
    ok = file:write_file(filename:join([Rel, "bin", "server02"]), "#!/bin/sh\n"),
    ok = file:change_mode(filename:join([Rel, "bin", "server02"]), 8#755),
    {error, E} = fastrel_mix:systemd_unit(Rel, #{}),
    ?assertNotEqual(nomatch, string:find(fastrel_mix:format_error(E), "run `fastrel mix heart")),
    ok = file:write_file(filename:join(VsnDir, "env.sh"),
                         "#!/bin/sh\n# >>> fastrel mix heart (managed block: edit with `fastrel mix heart', not by hand)\n"
                         "# <<< fastrel mix heart\n"),
    {ok, Text} = fastrel_mix:systemd_unit(Rel, #{timeout => 15}),
    Unit = unicode:characters_to_list(Text),
    Bin = filename:join([Rel, "bin", "server02"]),
    Lines = string:split(Unit, "\n", all),
    [?assert(lists:member(L, Lines)) || L <- ["Type=notify", "NotifyAccess=all", "ExitType=cgroup",
                                              "ExecStart=\"" ++ Bin ++ "\" start",
                                              "Environment=\"ELIXIR_ERL_OPTIONS=-heart -env HEART_BEAT_TIMEOUT 15\"",
                                              "Environment=\"HEART_COMMAND='" ++ Bin ++ "' daemon\"",
                                              "WatchdogSec=60", "KillMode=mixed"]],
    ?assertNotEqual(nomatch, string:find(Unit, "ExecStop=/bin/sh -c 'pid=$$(")),
    case os:find_executable("systemd-analyze") of
        false -> ok;
        Analyze ->
            ok = file:write_file(filename:join(Dir, "server02.service"), Text),
            ?assertEqual({0, ""}, verify(Analyze, filename:join(Dir, "server02.service")))
    end.

%% systemd-analyze verify on a unit file: {ExitStatus, what it says of the unit}. Newer
%% systemds (257, trixie) also say that the machine running the check has cgroups v1,
%% which is about the test host, not the unit.
verify(Analyze, Unit) ->
    {Status, Out} = run(Analyze, ["verify", Unit], []),
    {Status, lists:flatten([[L, $\n] || L <- string:split(Out, "\n", all), L =/= "",
                                        string:find(L, "legacy cgroups v1") =:= nomatch])}.
