%% SPDX-License-Identifier: Apache-2.0
%% What the suites that start OS processes share: bounded waits, process state from
%% /proc, killing by PID, and reading a port until a needle shows up.
-module(fastrel_os).

-export([scratch/1, example_project/3, wait_until/2, alive/1, kill/1, kill_within/1, ppid/1, ppid_or_undefined/1, exe/1, program/1, collect/3, with_epmd/1,
         rebar3/2, rebar3/3, run/3, run/4]).

%% A fresh directory of the suite's own under _build/SUITE/, unique per VM and call.
-spec scratch(string()) -> file:filename().
scratch(Suite) ->
    {ok, Cwd} = file:get_cwd(),
    Dir = filename:join([Cwd, "_build", Suite, os:getpid() ++ "-" ++ integer_to_list(erlang:unique_integer([positive]))]),
    _ = file:del_dir_r(Dir),
    ok = filelib:ensure_path(Dir),
    Dir.

%% A rebar3 project in _build/SUITE/NAME-OSPID: the example server's sources, this
%% repository as the plugin in _checkouts (its Rust programs copied, not rebuilt, through
%% FASTREL_PREBUILT), and Relx as the relx section of its rebar.config.
-spec example_project(string(), string(), [term()]) -> file:filename().
example_project(Suite, Name, Relx) ->
    {ok, Repo} = file:get_cwd(),
    Dir = filename:join([Repo, "_build", Suite, Name ++ "-" ++ os:getpid()]),
    _ = file:del_dir_r(Dir),
    ok = filelib:ensure_path(filename:join(Dir, "_checkouts")),
    ok = file:make_symlink(Repo, filename:join([Dir, "_checkouts", "fastrel"])),
    ok = filelib:ensure_path(filename:join(Dir, "src")),
    Src = filename:join([Repo, "examples", "example_server", "src"]),
    {ok, Files} = file:list_dir(Src),
    [{ok, _} = file:copy(filename:join(Src, F), filename:join([Dir, "src", F])) || F <- Files],
    ok = file:write_file(filename:join(Dir, "rebar.config"),
                         io_lib:format("{project_plugins, [fastrel]}.~n{relx, ~p}.~n", [Relx])),
    Dir.

%% Polls F every 100 ms until it is true or Ms have passed; returns F's last answer.
-spec wait_until(fun(() -> boolean()), integer()) -> boolean().
wait_until(F, Ms) when Ms =< 0 -> F();
wait_until(F, Ms) ->
    case F() of
        true -> true;
        false -> timer:sleep(100), wait_until(F, Ms - 100)
    end.

%% Running: exists and is not a zombie waiting to be reaped.
-spec alive(string() | undefined) -> boolean().
alive(undefined) -> false;
alive(P) ->
    case file:read_file("/proc/" ++ P ++ "/stat") of
        {ok, Stat} -> [_, After] = string:split(Stat, ") ", trailing), binary:first(After) =/= $Z;
        _ -> false
    end.

%% SIGKILL to each PID still running.
-spec kill([string() | undefined]) -> ok.
kill(Pids) -> [os:cmd("kill -9 " ++ P ++ " 2>/dev/null") || P <- Pids, alive(P)], ok.

%% Every process whose command line or executable names Dir, a directory unique to one test: what a
%% restart loop started after the PIDs the test knows (heart restarting a node that
%% dies at boot spawns a new run_erl, VM and heart each round). All are stopped first,
%% so no heart sees its VM die and starts another, then killed, until none is left.
-spec kill_within(file:filename()) -> ok.
kill_within(Dir) -> kill_within(list_to_binary(Dir), 20).

kill_within(_, 0) -> ok;
kill_within(Dir, Rounds) ->
    Own = os:getpid(),
    %% The command line, or the executable: a heart's command line is `heart -pid N', its
    %% executable the overlay's fastrel_programs.
    Names = fun(P) -> [Cmd || {ok, Cmd} <- [file:read_file(P ++ "/cmdline")]]
                          ++ [unicode:characters_to_binary(E) || {ok, E} <- [file:read_link(P ++ "/exe")]]
            end,
    Pids = [P || P <- filelib:wildcard("/proc/[0-9]*"), "/proc/" ++ Pid <- [P], Pid =/= Own,
                 lists:any(fun(N) -> binary:match(N, Dir) =/= nomatch end, Names(P))],
    case [Pid || "/proc/" ++ Pid <- Pids] of
        [] -> ok;
        Found ->
            _ = os:cmd("kill -STOP " ++ lists:join(" ", Found) ++ " 2>/dev/null"),
            _ = os:cmd("kill -9 " ++ lists:join(" ", Found) ++ " 2>/dev/null"),
            timer:sleep(100),
            kill_within(Dir, Rounds - 1)
    end.

-spec ppid(string()) -> string().
ppid(P) ->
    {ok, Stat} = file:read_file("/proc/" ++ P ++ "/stat"),
    [_, After] = string:split(Stat, ") ", trailing),
    binary_to_list(lists:nth(2, string:lexemes(After, " "))).

-spec ppid_or_undefined(string() | undefined) -> string() | undefined.
ppid_or_undefined(P) -> try ppid(P) catch _:_ -> undefined end.

-spec exe(string()) -> string().
exe(P) -> {ok, E} = file:read_link("/proc/" ++ P ++ "/exe"), E.

%% The program an OS process runs, as the path it was started by: fastrel's heart,
%% run_erl and to_erl are one executable run through links named so, so the executable's
%% directory and the process's name (its link's).
-spec program(string()) -> string().
program(P) ->
    {ok, Comm} = file:read_file("/proc/" ++ P ++ "/comm"),
    filename:join(filename:dirname(exe(P)), string:trim(binary_to_list(Comm))).

%% A port's output until Match (a binary to find, or a predicate on all output so far)
%% holds; an error if the port exits first or Ms pass.
-spec collect(port(), binary() | fun((binary()) -> boolean()), integer()) -> binary().
collect(Port, Match, Ms) -> collect(Port, Match, erlang:monotonic_time(millisecond) + Ms, <<>>).

collect(Port, Match, Deadline, Acc) ->
    Done = case Match of
               F when is_function(F, 1) -> F(Acc);
               Needle -> binary:match(Acc, Needle) =/= nomatch
           end,
    case Done of
        true -> Acc;
        false ->
            receive
                {Port, {data, D}} -> collect(Port, Match, Deadline, <<Acc/binary, D/binary>>);
                {Port, {exit_status, S}} -> error({exited, S, Acc})
            after max(0, Deadline - erlang:monotonic_time(millisecond)) -> error({timeout, Acc})
            end
    end.

%% Runs Fun(EpmdEnv) with an epmd of its own on a free port: distributed nodes started
%% with EpmdEnv in their environment register there, and that epmd is killed by its PID
%% afterwards (a node otherwise starts a shared epmd that outlives the test).
-spec with_epmd(fun(([{string(), string()}]) -> T)) -> T.
with_epmd(Fun) ->
    {ok, L} = gen_tcp:listen(0, []),
    {ok, Port} = inet:port(L),
    ok = gen_tcp:close(L),
    Epmd = open_port({spawn_executable, os:find_executable("epmd")},
                     [{args, ["-port", integer_to_list(Port)]}, exit_status, stderr_to_stdout]),
    {os_pid, OsPid} = erlang:port_info(Epmd, os_pid),
    try
        true = wait_until(fun() ->
                                  case gen_tcp:connect("localhost", Port, []) of
                                      {ok, S} -> gen_tcp:close(S), true;
                                      _ -> false
                                  end
                          end, 5000),
        Fun([{"ERL_EPMD_PORT", integer_to_list(Port)}])
    after
        kill([integer_to_list(OsPid)])
    end.

%% rebar3 Args in Dir with fastrel from this checkout (its Rust parts copied, not rebuilt:
%% FASTREL_PREBUILT; offline) and Extra environment: {ExitStatus, Output}.
-spec rebar3(file:filename(), [string()]) -> {integer(), string()}.
rebar3(Dir, Args) -> rebar3(Dir, Args, []).

-spec rebar3(file:filename(), [string()], [{string(), string() | false}]) -> {integer(), string()}.
rebar3(Dir, Args, Extra) ->
    {ok, Repo} = file:get_cwd(),
    Env = [{"FASTREL_PREBUILT", filename:join(Repo, "priv")}, {"REBAR_OFFLINE", "1"} | Extra],
    run(os:find_executable("rebar3"), Args, Env, Dir).

%% Exe with Args and Env, from the repository (or Cwd): {ExitStatus, stdout and stderr};
%% an error if it has not exited after three minutes.
-spec run(file:filename(), [string()], [{string(), string() | false}]) -> {integer(), string()}.
run(Exe, Args, Env) ->
    {ok, Repo} = file:get_cwd(),
    run(Exe, Args, Env, Repo).

-spec run(file:filename(), [string()], [{string(), string() | false}], file:filename()) -> {integer(), string()}.
run(Exe, Args, Env, Cwd) ->
    Port = open_port({spawn_executable, Exe}, [{args, Args}, {env, Env}, {cd, Cwd}, exit_status, stderr_to_stdout, binary]),
    run_out(Port, <<>>).

run_out(Port, Acc) ->
    receive
        {Port, {data, D}} -> run_out(Port, <<Acc/binary, D/binary>>);
        {Port, {exit_status, S}} -> {S, binary_to_list(Acc)}
    after 180000 -> error({hangs, Acc})
    end.
