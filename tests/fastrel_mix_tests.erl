%% SPDX-License-Identifier: Apache-2.0
%% The release-handling chapter's heart exercise for Elixir, as one command: the
%% examples/server02 counter, built by `mix release' (Elixir from Debian, no hex), made to
%% run on fastrel's heart, run_erl and to_erl by `fastrel mix heart', then daemon, attach,
%% kill -9 (back through heart, count carried on), stop (stays down); and `fastrel tar'
%% against the :tar step. Bounded in time; every process started is killed by PID.
-module(fastrel_mix_tests).

-include_lib("eunit/include/eunit.hrl").

-import(fastrel_os, [wait_until/2, alive/1, kill/1, ppid/1, ppid_or_undefined/1, exe/1, program/1, collect/3]).

repo() -> {ok, Cwd} = file:get_cwd(), Cwd.

run(Cmd, Args, Dir, Env) ->
    Port = open_port({spawn_executable, Cmd}, [{args, Args}, {cd, Dir}, {env, Env}, exit_status,
                                                stderr_to_stdout, binary]),
    out(Port, <<>>, 240000).

out(Port, Acc, Ms) ->
    receive
        {Port, {data, D}} -> out(Port, <<Acc/binary, D/binary>>, Ms);
        {Port, {exit_status, S}} -> {S, binary_to_list(Acc)}
    after Ms -> error({hangs, Acc})
    end.

mix_release_runs_on_fastrels_programs_test_() ->
    {timeout, 600, {inparallel, [{"include_erts " ++ atom_to_list(E), {timeout, 300, fun() -> fastrel_os:with_epmd(fun(Epmd) -> chapter(E, Epmd) end) end}}
                                 || E <- [true, false]]}}.

chapter(IncludeErts, Epmd) ->
    Mix = case os:find_executable("mix") of
              false -> error("mix not found: scripts/test.sh installs Debian's elixir package");
              M -> M
          end,
    Dir = filename:join([repo(), "_build", "mix_tests", os:getpid() ++ "-" ++ atom_to_list(IncludeErts)]),
    _ = file:del_dir_r(Dir),
    ok = filelib:ensure_path(Dir),
    [] = os:cmd("cp -r " ++ filename:join([repo(), "examples", "server02"]) ++ "/. " ++ Dir),
    MixEnv = [{"MIX_ENV", "prod"}, {"HEX_OFFLINE", "1"}, {"INCLUDE_ERTS", atom_to_list(IncludeErts)}],
    {0, _} = run(Mix, ["release", "--overwrite"], Dir, MixEnv),
    Rel = filename:join([Dir, "_build", "prod", "rel", "server02"]),
    Bin = filename:join([Rel, "bin", "server02"]),
    %% fastrel tar: the :tar step's entries, in its order.
    MixTar = filename:join([Dir, "_build", "prod", "server02-0.1.0.tar.gz"]),
    Names = fun(F) -> {ok, T} = erl_tar:table(F, [compressed]), T end,
    Theirs = Names(MixTar),
    {ok, Ours} = fastrel_mix:tar(Rel, #{out => filename:join(Dir, "ours.tar.gz")}),
    case list_to_integer(erlang:system_info(otp_release)) of
        25 -> ?assertEqual(Theirs, Names(Ours));
        _ ->
            %% From OTP 26 mix orders lib/ by the atom-table order of the VM that ran
            %% it, which no other VM can see: the same entries, each application's in
            %% mix's order, the applications possibly in another.
            ByApp = fun(Es) -> lists:sort(maps:to_list(maps:groups_from_list(fun app_of/1, Es))) end,
            ?assertEqual(ByApp(Theirs), ByApp(Names(Ours)))
    end,
    %% fastrel mix heart, twice: the second run changes nothing.
    {ok, _} = fastrel_mix:heart(Rel, #{timeout => 10}),
    Snapshot = fun() -> [{F, erlang:md5(element(2, file:read_file(F)))}
                         || F <- [filename:join([Rel, "releases", "0.1.0", "env.sh"]),
                                  filename:join([Rel, "releases", "0.1.0", "elixir"])
                                  | filelib:wildcard(filename:join([Rel, "erts-*", "bin", "*"]))
                                    ++ filelib:wildcard(filename:join([Rel, "fastrel", "erts", "bin", "*"]))]] end,
    Before = Snapshot(),
    {ok, _} = fastrel_mix:heart(Rel, #{timeout => 10}),
    ?assertEqual(Before, Snapshot()),
    Counter = filename:join(Dir, "counter"),
    %% Two variants run at once: each its own node name.
    Env = [{"COUNTER_FILE", Counter}, {"HEART_COMMAND", false},
           {"RELEASE_NODE", "server02_" ++ atom_to_list(IncludeErts) ++ "_" ++ os:getpid()} | Epmd],
    Pid = fun() ->
              case run(Bin, ["pid"], Dir, Env) of
                  {0, Out} -> string:trim(Out);
                  _ -> undefined
              end
          end,
    {0, _} = run(Bin, ["daemon"], Dir, Env),
    true = wait_until(fun() -> alive(Pid()) end, 30000),
    Vm1 = Pid(),
    Heart1 = heart_of(Bin, Dir, Env),
    RunErl1 = ppid(ppid(Vm1)),
    %% Where fastrel's programs are: the bundled ERTS, or the release's private bin that
    %% releases/VSN/elixir's ERTS_BIN points at.
    Erts = case IncludeErts of
               true -> hd(filelib:wildcard(filename:join(Rel, "erts-*")));
               false -> filename:join([Rel, "fastrel", "erts"])
           end,
    ?assertEqual(IncludeErts, filelib:wildcard(filename:join(Rel, "erts-*")) =/= []),
    try
        Ours3 = fun(P) -> {ok, B} = file:read_file(filename:join([repo(), "priv", P])), B end,
        ?assertEqual(filename:join([Erts, "bin", "heart"]), program(Heart1)),
        ?assertEqual(filename:join([Erts, "bin", "run_erl"]), program(RunErl1)),
        [?assertEqual({ok, Ours3(P)}, file:read_file(filename:join([Erts, "bin", P]))) || P <- ["heart", "run_erl", "to_erl"]],
        %% to_erl (fastrel's, from the release) attaches and shows the console.
        ToErl = open_port({spawn_executable, filename:join([Erts, "bin", "to_erl"])},
                          [{args, [filename:join(Rel, "tmp/pipe") ++ "/"]}, exit_status, stderr_to_stdout, binary]),
        Attached = collect(ToErl, <<"count ">>, 20000),
        ?assertNotEqual(nomatch, binary:match(Attached, <<"Attaching to">>)),
        port_command(ToErl, <<4>>),
        receive {ToErl, {exit_status, 0}} -> ok after 10000 -> error(to_erl_stays) end,
        %% kill -9: heart starts it again through HEART_COMMAND; the count goes on.
        true = wait_until(fun() -> count(Counter) >= 2 end, 20000),
        os:cmd("kill -9 " ++ Vm1),
        Was = count(Counter),
        true = wait_until(fun() -> P = Pid(), alive(P) andalso P =/= Vm1 end, 60000),
        Vm2 = Pid(),
        Heart2 = heart_of(Bin, Dir, Env),
        RunErl2 = ppid(ppid(Vm2)),
        try
            ?assert(wait_until(fun() -> count(Counter) > Was end, 20000)),
            {ok, Log} = file:read_file(filename:join([Rel, "tmp", "log", "erlang.log.1"])),
            ?assertNotEqual(nomatch, binary:match(Log, <<"Executed">>)),
            ?assertEqual(filename:join([Erts, "bin", "heart"]), program(Heart2)),
            %% stop: for good.
            {0, _} = run(Bin, ["stop"], Dir, Env),
            ?assert(wait_until(fun() -> not alive(Vm2) end, 20000)),
            %% Stopped for good: heart must not bring it back in the next few seconds.
            timer:sleep(3000),
            ?assertEqual(undefined, Pid())
        after
            kill([Heart2]), kill([Vm2, RunErl2])
        end
    after
        kill([Heart1]), kill([Vm1, RunErl1])
    end.

heart_of(Bin, Dir, Env) ->
    {0, Out} = run(Bin, ["rpc", "{:os_pid, p} = :erlang.port_info(Process.whereis(:heart_port), :os_pid); IO.puts(p)"], Dir, Env),
    string:trim(Out).

count(File) ->
    case file:read_file(File) of
        {ok, B} when B =/= <<>> -> binary_to_integer(B);
        _ -> 0
    end.

app_of("lib/" ++ Rest) -> "lib/" ++ hd(string:split(Rest, "/"));
app_of(Other) -> Other.
