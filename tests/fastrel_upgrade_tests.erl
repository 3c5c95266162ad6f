%% SPDX-License-Identifier: Apache-2.0
%% Hot upgrades end to end: the example counter server, version 1 built with `rebar3
%% fastrel tar' and deployed from its tarball, running as a daemon under fastrel's run_erl
%% and heart; version 2 (new code, new state shape, code_change/3) built with `rebar3
%% fastrel relup' and `tar', installed with `bin/NAME upgrade' into the same VM; a broken
%% version 3 refused with the reason; `downgrade' back to 1; heart's restart booting the
%% permanent version. Every OS process is bounded in time and killed by its PID.
-module(fastrel_upgrade_tests).

-include_lib("eunit/include/eunit.hrl").

-import(fastrel_os, [wait_until/2, alive/1, kill/1, ppid_or_undefined/1]).

repo() -> {ok, Cwd} = file:get_cwd(), Cwd.

%%% ---------------------------------------------------------------- helpers

%% What the test needs, asserted (a missing tool fails the test, it is not skipped).
prerequisites() ->
    [?assertNotEqual({tool, T, false}, {tool, T, os:find_executable(T)}) || T <- ["rebar3", "epmd", "shellcheck"]],
    [?assert(filelib:is_regular(filename:join([repo(), "priv", P]))) || P <- ["heart", "run_erl", "to_erl", "relnif_nif.so"]],
    ?assertNotEqual([], filelib:wildcard(filename:join([code:lib_dir(), "erl_interface-*", "bin", "erl_call"]))
                        ++ [E || E <- [os:find_executable("erl_call")], E =/= false]),
    ok.

%% A rebar3 project with the example server's sources and the plugin (fastrel_os).
project(Name, Relx) -> fastrel_os:example_project("upgrade_tests", Name, Relx).

relx_config(Dir, Relx) ->
    ok = file:write_file(filename:join(Dir, "rebar.config"),
                         io_lib:format("{project_plugins, [fastrel]}.~n{relx, ~p}.~n", [Relx])).

relx(Vsn) ->
    [{release, {example_server, Vsn}, [example_server, sasl]}, {include_erts, true}].

rebar3(Dir, Args) ->
    Env = [{"FASTREL_PREBUILT", filename:join(repo(), "priv")}, {"REBAR_OFFLINE", "1"}],
    run(os:find_executable("rebar3"), Args, [{cd, Dir}, {env, Env}]).

sh(Bin, Args, Env) -> run(Bin, Args, [{env, Env}]).

run(Exe, Args, Opts) ->
    Port = open_port({spawn_executable, Exe}, [{args, Args}, exit_status, stderr_to_stdout, binary | Opts]),
    {os_pid, OsPid} = erlang:port_info(Port, os_pid),
    out(Port, integer_to_list(OsPid), <<>>).

%% Bounded: a command still running after 240 s is killed (by its PID) and fails the test.
out(Port, OsPid, Acc) ->
    receive
        {Port, {data, D}} -> out(Port, OsPid, <<Acc/binary, D/binary>>);
        {Port, {exit_status, S}} -> {S, binary_to_list(Acc)}
    after 240000 ->
        kill([OsPid]),
        error({command_hangs, Acc})
    end.

has(Text, Needle) -> string:find(Text, Needle) =/= nomatch.

%% Version N of the application: the .app.src's vsn, and from version 2 on a counter whose
%% state is a map (code_change/3 both ways) and which answers vsn() -> N.
set_app_vsn(Dir, Vsn) ->
    AppSrc = filename:join([Dir, "src", "example_server.app.src"]),
    {ok, B} = file:read_file(AppSrc),
    ok = file:write_file(AppSrc, re:replace(B, "\\{vsn, \"[^\"]*\"\\}", "{vsn, \"" ++ Vsn ++ "\"}")).

counter_v2(Dir, N) ->
    %% rebar3 recompiles a module whose source is newer than its beam, to the second: a
    %% source rewritten in the second of the last build would keep the old beam (seen: the
    %% new release then carried version 1's module, without code_change/3). So the old
    %% beam goes.
    ok = case file:delete(filename:join([Dir, "_build", "default", "lib", "example_server", "ebin", "example_server.beam"])) of
             {error, enoent} -> ok;
             Deleted -> Deleted
         end,
    ok = file:write_file(filename:join([Dir, "src", "example_server.erl"]), io_lib:format(
"-module(example_server).
-behaviour(gen_server).
-export([start_link/0, increment/0, value/0, vsn/0]).
-export([init/1, handle_call/3, handle_cast/2, code_change/3]).

start_link() -> gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).
increment() -> gen_server:call(?MODULE, increment).
value() -> gen_server:call(?MODULE, value).
vsn() -> ~p.

init([]) -> {ok, #{count => application:get_env(example_server, start_value, 0), ticks => 0}}.
handle_call(increment, _From, #{count := C, ticks := T} = S) -> {reply, C + 1, S#{count := C + 1, ticks := T + 1}};
handle_call(value, _From, #{count := C} = S) -> {reply, C, S}.
handle_cast(_Msg, S) -> {noreply, S}.

code_change({down, _}, #{count := C}, _Extra) -> {ok, C};
code_change(_OldVsn, C, _Extra) when is_integer(C) -> {ok, #{count => C, ticks => 0}};
code_change(_OldVsn, S, _Extra) -> {ok, S}.
", [N])).

%% The appup lives in the project's ebin/, which rebar3 copies into the built application.
appup(Dir, Term) ->
    ok = filelib:ensure_path(filename:join(Dir, "ebin")),
    ok = file:write_file(filename:join([Dir, "ebin", "example_server.appup"]), io_lib:format("~p.~n", [Term])).

%% The PIDs seen so far (VMs, their run_erl and heart), all killed at the end.
seen(Pids) -> put(seen, lists:usort([P || P <- Pids, P =/= undefined] ++ get_seen())).
get_seen() -> case get(seen) of undefined -> []; L -> L end.

%% Kills what the test started: every process below a seen PID first (heart is a child
%% of the VM's erl_child_setup: it must go before the VM or it restarts the node), then
%% the seen PIDs; again while bin/NAME still finds a node (one heart restarted).
cleanup(Pid) ->
    cleanup(Pid, 3).

cleanup(Pid, Tries) ->
    P = Pid(),
    seen([P, ppid_or_undefined(P)]),
    Seen = get_seen(),
    kill(descendants(Seen)),
    kill(Seen),
    case Tries > 1 andalso alive(Pid()) of
        true -> timer:sleep(1000), cleanup(Pid, Tries - 1);
        false -> ok
    end.

descendants(Pids) ->
    Parents = [{Pid, ppid_or_undefined(Pid)} || "/proc/" ++ Pid <- filelib:wildcard("/proc/[0-9]*")],
    descendants(Pids, Parents, []).

descendants([], _, Acc) -> Acc;
descendants(Pids, Parents, Acc) ->
    Children = [C || {C, Pp} <- Parents, lists:member(Pp, Pids), not lists:member(C, Acc)],
    descendants(Children, Parents, Children ++ Acc).

%%% ---------------------------------------------------------------- the test

upgrade_test_() ->
    {timeout, 600, fun() -> prerequisites(), fastrel_os:with_epmd(fun upgrade/1) end}.

upgrade(Epmd) ->
    Node = "frup" ++ os:getpid(),
    Dir = project("upgrade", relx("1.0.0")),
    ok = filelib:ensure_path(filename:join(Dir, "config")),
    ok = file:write_file(filename:join([Dir, "config", "vm.args"]),
                         ["-sname ", Node, "\n-setcookie fastrel_test\n-heart\n-env HEART_BEAT_TIMEOUT 10\n"]),
    Out = filename:join([Dir, "_build", "default", "rel", "example_server"]),
    %% Version 1: built and packed, deployed from the tarball into its own directory.
    {0, _} = rebar3(Dir, ["fastrel", "tar"]),
    Deploy = filename:join(Dir, "deploy"),
    ok = filelib:ensure_path(Deploy),
    ok = erl_tar:extract(filename:join(Out, "example_server-1.0.0.tar.gz"), [compressed, {cwd, Deploy}]),
    Bin = filename:join([Deploy, "bin", "example_server"]),
    ?assertEqual("", os:cmd("shellcheck -s sh " ++ Bin)),
    Env = [{"PIPE_DIR", filename:join(Dir, "pipes") ++ "/"} | Epmd],
    Eval = fun(E) ->
                   {0, R} = sh(Bin, ["eval", E], Env),
                   string:trim(R)
           end,
    Pid = fun() ->
                  case sh(Bin, ["pid"], Env) of
                      {0, P} -> string:trim(P);
                      _ -> undefined
                  end
          end,
    {0, _} = sh(Bin, ["daemon"], Env),
    try
        Vm1 = Pid(),
        seen([Vm1, ppid_or_undefined(Vm1), Eval("{os_pid, P} = erlang:port_info(whereis(heart_port), os_pid), P.")]),
        ?assertEqual("3", Eval("example_server:increment(), example_server:increment(), example_server:increment().")),
        ?assertEqual("permanent", status(Bin, Env, "1.0.0")),

        %% Version 2: new code and state shape, no appup written by hand: the relup from
        %% the newest earlier release (1.0.0) found in the output directory uses the one
        %% generated from the beams (the gen_server changed, nothing else did).
        relx_config(Dir, relx("2.0.0")),
        set_app_vsn(Dir, "2.0.0"),
        counter_v2(Dir, 2),
        {0, RelupOut} = rebar3(Dir, ["fastrel", "relup"]),
        ?assert(has(RelupOut, "Relup successfully created")),
        ?assert(has(RelupOut, "(generated)")),
        {ok, [{"2.0.0", [{"1.0.0", [{update, example_server, {advanced, []}, []}]}],
                        [{"1.0.0", [{update, example_server, {advanced, []}, []}]}]}]} =
            file:consult(filename:join([Out, "lib", "example_server-2.0.0", "ebin", "example_server.appup"])),
        {ok, [{"2.0.0", [{"1.0.0", _, _}], [{"1.0.0", _, _}]}]} = file:consult(filename:join([Out, "releases", "2.0.0", "relup"])),
        {0, _} = rebar3(Dir, ["fastrel", "tar"]),
        Tar2 = filename:join(Out, "example_server-2.0.0.tar.gz"),
        {ok, Entries} = erl_tar:table(Tar2, [compressed]),
        [?assert(lists:member(E, Entries)) || E <- ["releases/example_server.rel", "releases/2.0.0/relup",
                                                    "releases/2.0.0/start.boot", "releases/2.0.0/sys.config",
                                                    "releases/2.0.0/vm.args", "releases/2.0.0/example_server.rel",
                                                    "lib/example_server-2.0.0/ebin/example_server.beam"]],
        %% Shipped where relx looks for it; upgrade: same VM, new code, the counter goes on.
        {ok, _} = file:copy(Tar2, filename:join([Deploy, "releases", "example_server-2.0.0.tar.gz"])),
        T0 = erlang:monotonic_time(millisecond),
        {Up2, Up2Out} = sh(Bin, ["upgrade", "2.0.0"], Env),
        T1 = erlang:monotonic_time(millisecond),
        ?debugFmt("bin/example_server upgrade 2.0.0: ~b ms", [T1 - T0]),
        ?assertEqual({0, ["Unpacked release 2.0.0 (from releases/example_server-2.0.0.tar.gz)",
                          "Checked release 2.0.0: it can replace 1.0.0",
                          "Installed release 2.0.0 (was 1.0.0)",
                          "Made release 2.0.0 permanent"]}, {Up2, string:lexemes(Up2Out, "\n")}),
        ?assertEqual(Vm1, Pid()),
        ?assertEqual("2", Eval("example_server:vsn().")),
        ?assertEqual("4", Eval("example_server:increment().")),
        ?assertEqual("#{count => 4, ticks => 1}", Eval("sys:get_state(example_server).")),
        ?assertEqual("permanent", status(Bin, Env, "2.0.0")),
        ?assertEqual("old", status(Bin, Env, "1.0.0")),
        {0, Versions} = sh(Bin, ["versions"], Env),
        ?assert(has(Versions, "* 2.0.0\tpermanent")),
        %% The next boot runs 2.0.0: release_handler wrote start_erl.data.
        ?assertEqual({ok, list_to_binary(erlang:system_info(version) ++ " 2.0.0")},
                     file:read_file(filename:join([Deploy, "releases", "start_erl.data"]))),

        %% Version 3, broken: its appup adds a module whose object code is not in the
        %% tarball. The relup is made up from 2.0.0, the newest earlier one (no -u).
        relx_config(Dir, relx("3.0.0")),
        set_app_vsn(Dir, "3.0.0"),
        counter_v2(Dir, 3),
        ok = file:write_file(filename:join([Dir, "src", "example_server_ghost.erl"]),
                             "-module(example_server_ghost).\n-export([boo/0]).\nboo() -> boo.\n"),
        appup(Dir, {"3.0.0", [{"2.0.0", [{add_module, example_server_ghost}, {update, example_server, {advanced, []}}]}],
                    [{"2.0.0", [{delete_module, example_server_ghost}, {update, example_server, {advanced, []}}]}]}),
        {0, _} = rebar3(Dir, ["fastrel", "relup"]),
        {ok, [{"3.0.0", [{"2.0.0", _, _}], [{"2.0.0", _, _}]}]} = file:consult(filename:join([Out, "releases", "3.0.0", "relup"])),
        {0, _} = rebar3(Dir, ["fastrel", "tar"]),
        Bad = repack_without(filename:join(Out, "example_server-3.0.0.tar.gz"),
                             "lib/example_server-3.0.0/ebin/example_server_ghost.beam", filename:join(Dir, "bad")),
        ok = filelib:ensure_path(filename:join([Deploy, "releases", "3.0.0"])),
        {ok, _} = file:copy(Bad, filename:join([Deploy, "releases", "3.0.0", "example_server-3.0.0.tar.gz"])),
        {3, Up3Out} = sh(Bin, ["upgrade", "3.0.0"], Env),
        ?debugFmt("upgrade 3.0.0 (broken) said:~n~ts", [Up3Out]),
        ?assert(has(Up3Out, "Unpacked release 3.0.0")),
        ?assert(has(Up3Out, "Check failed: release_handler:check_install_release(\"3.0.0\") says: ")),
        ?assert(has(Up3Out, "example_server_ghost.beam does not exist; the node stays on 2.0.0.")),
        ?assertEqual(Vm1, Pid()),
        ?assertEqual("2", Eval("example_server:vsn().")),
        ?assertEqual("5", Eval("example_server:increment().")),
        %% Unpacking kept the deployed start_erl.data (release_handler extracts with
        %% keep_old_files): the next boot is still 2.0.0.
        ?assertEqual({ok, list_to_binary(erlang:system_info(version) ++ " 2.0.0")},
                     file:read_file(filename:join([Deploy, "releases", "start_erl.data"]))),
        ?assertEqual("permanent", status(Bin, Env, "2.0.0")),
        ?assertEqual({0, "Uninstalled release 3.0.0\n"}, sh(Bin, ["uninstall", "3.0.0"], Env)),
        ?assertEqual("none", status(Bin, Env, "3.0.0")),

        %% Downgrade: the same VM back on version 1's code and state shape.
        T2 = erlang:monotonic_time(millisecond),
        {0, DownOut} = sh(Bin, ["downgrade", "1.0.0"], Env),
        ?debugFmt("bin/example_server downgrade 1.0.0: ~b ms", [erlang:monotonic_time(millisecond) - T2]),
        ?assert(has(DownOut, "Installed release 1.0.0 (was 2.0.0)")),
        ?assert(has(DownOut, "Made release 1.0.0 permanent")),
        ?assertEqual(Vm1, Pid()),
        ?assertEqual("false", Eval("erlang:function_exported(example_server, vsn, 0).")),
        ?assertEqual("6", Eval("example_server:increment().")),
        ?assertEqual("6", Eval("sys:get_state(example_server).")),
        ?assertEqual("permanent", status(Bin, Env, "1.0.0")),

        %% Errors: relx's statuses, one sentence each.
        ?assertMatch({2, "Unpack failed: no tarball for release 9.9.9" ++ _}, sh(Bin, ["upgrade", "9.9.9"], Env)),
        ?assertMatch({2, "Release 1.0.0 is permanent: it cannot be uninstalled\n"}, sh(Bin, ["uninstall", "1.0.0"], Env)),
        ?assertEqual({0, "Release 1.0.0 is already installed and permanent\n"}, sh(Bin, ["upgrade", "1.0.0"], Env)),

        %% Up again without making it permanent, then for good; heart's restart (kill -9)
        %% boots 2.0.0 through start_erl.data with the same HEART_COMMAND.
        {0, NoPerm} = sh(Bin, ["upgrade", "2.0.0", "--no-permanent"], Env),
        ?assert(has(NoPerm, "Release 2.0.0 is marked old, switching to it")),
        ?assertEqual("current", status(Bin, Env, "2.0.0")),
        {0, Perm} = sh(Bin, ["upgrade", "2.0.0"], Env),
        ?assert(has(Perm, "Made release 2.0.0 permanent")),
        os:cmd("kill -9 " ++ Vm1),
        ?assert(wait_until(fun() -> P = Pid(), alive(P) andalso P =/= Vm1 andalso booted(Bin, Env) end, 90000)),
        Vm2 = Pid(),
        seen([Vm2, ppid_or_undefined(Vm2), Eval("{os_pid, P} = erlang:port_info(whereis(heart_port), os_pid), P.")]),
        ?assertEqual("{\"example_server\", \"2.0.0\"}", Eval("init:script_id().")),
        ?assertEqual("2", Eval("example_server:vsn().")),
        ?assertEqual("permanent", status(Bin, Env, "2.0.0")),
        {0, _} = sh(Bin, ["stop"], Env),
        ?assert(wait_until(fun() -> not alive(Vm2) end, 20000)),
        ?assertEqual({1, "Node is not running!\n"}, sh(Bin, ["upgrade", "2.0.0"], Env)),
        ?assertMatch({1, "Usage: example_server upgrade VSN [--no-permanent]" ++ _}, sh(Bin, ["upgrade"], Env))
    after
        cleanup(Pid)
    end.

%% An ERTS change: release_handler restarts the node into the new emulator (heart runs
%% bin/NAME with new_start_erl.data), finishes the upgrade there, and `upgrade' waits for
%% it and makes it permanent. The new ERTS is this one's under another version (a copy
%% named erts-VSN.1 in the release, the .rel saying so): what changes is only what
%% release_handler, the relup and the start script see.
new_erts_test_() ->
    {timeout, 600, fun() -> prerequisites(), fastrel_os:with_epmd(fun new_erts/1) end}.

new_erts(Epmd) ->
    Node = "frerts" ++ os:getpid(),
    Dir = project("erts", relx("1.0.0")),
    ok = filelib:ensure_path(filename:join(Dir, "config")),
    ok = file:write_file(filename:join([Dir, "config", "vm.args"]),
                         ["-sname ", Node, "\n-setcookie fastrel_test\n-heart\n-env HEART_BEAT_TIMEOUT 10\n"]),
    Out = filename:join([Dir, "_build", "default", "rel", "example_server"]),
    {0, _} = rebar3(Dir, ["fastrel", "tar"]),
    Deploy = filename:join(Dir, "deploy"),
    ok = filelib:ensure_path(Deploy),
    ok = erl_tar:extract(filename:join(Out, "example_server-1.0.0.tar.gz"), [compressed, {cwd, Deploy}]),
    Bin = filename:join([Deploy, "bin", "example_server"]),
    Env = [{"PIPE_DIR", filename:join(Dir, "pipes") ++ "/"} | Epmd],
    Eval = fun(E) ->
                   {0, R} = sh(Bin, ["eval", E], Env),
                   string:trim(R)
           end,
    Pid = fun() ->
                  case sh(Bin, ["pid"], Env) of
                      {0, P} -> string:trim(P);
                      _ -> undefined
                  end
          end,
    {0, _} = sh(Bin, ["daemon"], Env),
    try
        Vm1 = Pid(),
        seen([Vm1, ppid_or_undefined(Vm1), Eval("{os_pid, P} = erlang:port_info(whereis(heart_port), os_pid), P.")]),
        ?assertEqual("1", Eval("example_server:increment().")),
        %% Version 2 on "another" ERTS: the relup (made by the library `fastrel relup' runs,
        %% no rebuild) starts with restart_new_emulator; the tarball carries that ERTS.
        relx_config(Dir, relx("2.0.0")),
        set_app_vsn(Dir, "2.0.0"),
        counter_v2(Dir, 2),
        appup(Dir, {"2.0.0", [{"1.0.0", [{update, example_server, {advanced, []}}]}],
                    [{"1.0.0", [{update, example_server, {advanced, []}}]}]}),
        {0, _} = rebar3(Dir, ["fastrel", "release"]),
        Erts = erlang:system_info(version),
        NewErts = Erts ++ ".1",
        {0, _} = run(os:find_executable("cp"), ["-a", filename:join(Out, "erts-" ++ Erts), filename:join(Out, "erts-" ++ NewErts)], []),
        RelFile = filename:join([Out, "releases", "2.0.0", "example_server.rel"]),
        {ok, [{release, R, {erts, Erts}, Apps}]} = file:consult(RelFile),
        ok = file:write_file(RelFile, io_lib:format("~p.~n", [{release, R, {erts, NewErts}, Apps}])),
        {ok, #{upfrom := "1.0.0"}} = fastrel_upgrade:relup(#{dir => Out, name => example_server}),
        {ok, [{"2.0.0", [{"1.0.0", _, [restart_new_emulator | _]}], _}]} =
            file:consult(filename:join([Out, "releases", "2.0.0", "relup"])),
        {ok, Tar} = fastrel_release:tar(#{name => example_server, vsn => "2.0.0", dir => Out, erts_vsn => NewErts,
                                          include_erts => true, system_libs => true, include_src => false,
                                          overlay_targets => []}, []),
        {ok, Entries} = erl_tar:table(Tar, [compressed]),
        ?assert(lists:member("erts-" ++ NewErts ++ "/bin/beam.smp", Entries)),
        {ok, _} = file:copy(Tar, filename:join([Deploy, "releases", "example_server-2.0.0.tar.gz"])),
        T0 = erlang:monotonic_time(millisecond),
        {Status, UpOut} = sh(Bin, ["upgrade", "2.0.0"], Env),
        ?debugFmt("bin/example_server upgrade 2.0.0 (new ERTS, emulator restart): ~b ms~n~ts",
                  [erlang:monotonic_time(millisecond) - T0, UpOut]),
        ?assertEqual({0, ["Unpacked release 2.0.0 (from releases/example_server-2.0.0.tar.gz)",
                          "Checked release 2.0.0: it can replace 1.0.0",
                          "Installed release 2.0.0 up to its emulator restart (new ERTS): the node reboots",
                          "Installed release 2.0.0 in the new emulator (was 1.0.0)",
                          "Made release 2.0.0 permanent"]}, {Status, string:lexemes(UpOut, "\n")}),
        Vm2 = Pid(),
        seen([Vm2, ppid_or_undefined(Vm2), Eval("{os_pid, P} = erlang:port_info(whereis(heart_port), os_pid), P.")]),
        ?assertNotEqual(Vm1, Vm2),
        ?assertNot(alive(Vm1)),
        ?assertEqual(filename:join([Deploy, "erts-" ++ NewErts, "bin", "beam.smp"]), fastrel_os:exe(Vm2)),
        %% The new ERTS brought fastrel's programs (the release's one copy is in its bin).
        Heart2 = Eval("{os_pid, P} = erlang:port_info(whereis(heart_port), os_pid), P."),
        ?assertEqual(filename:join([Deploy, "erts-" ++ NewErts, "bin", "fastrel_programs"]), fastrel_os:exe(Heart2)),
        ?assertEqual("2", Eval("example_server:vsn().")),
        ?assertEqual("permanent", status(Bin, Env, "2.0.0")),
        ?assertEqual({ok, list_to_binary(NewErts ++ " 2.0.0")},
                     file:read_file(filename:join([Deploy, "releases", "start_erl.data"]))),
        %% Heart keeps working: a kill -9 comes back on the new ERTS and release.
        os:cmd("kill -9 " ++ Vm2),
        ?assert(wait_until(fun() -> P = Pid(), alive(P) andalso P =/= Vm2 andalso booted(Bin, Env) end, 90000)),
        Vm3 = Pid(),
        seen([Vm3, ppid_or_undefined(Vm3)]),
        ?assertEqual(filename:join([Deploy, "erts-" ++ NewErts, "bin", "beam.smp"]), fastrel_os:exe(Vm3)),
        ?assertEqual("{\"example_server\", \"2.0.0\"}", Eval("init:script_id().")),
        {0, _} = sh(Bin, ["stop"], Env),
        ?assert(wait_until(fun() -> not alive(Vm3) end, 20000))
    after
        cleanup(Pid)
    end.

%% The node answers and has finished its boot script (sasl's release_handler included).
booted(Bin, Env) ->
    sh(Bin, ["eval", "init:get_status()."], Env) =:= {0, "{started, started}\n"}.

%% The status release_handler gives version V on the node (none when it does not know it).
status(Bin, Env, V) ->
    {0, Out} = sh(Bin, ["eval", "case lists:keyfind(\"" ++ V ++ "\", 2, release_handler:which_releases()) of"
                                " {_, _, _, S} -> S; false -> none end."], Env),
    string:trim(Out).

%% A copy of tarball Tar without Entry, in Work.
repack_without(Tar, Entry, Work) ->
    Tmp = filename:join(Work, "x"),
    ok = filelib:ensure_path(Tmp),
    ok = erl_tar:extract(Tar, [compressed, {cwd, Tmp}]),
    ok = file:delete(filename:join(Tmp, Entry)),
    {ok, Top} = file:list_dir(Tmp),
    Out = filename:join(Work, filename:basename(Tar)),
    ok = erl_tar:create(Out, [{T, filename:join(Tmp, T)} || T <- Top], [compressed]),
    Out.

%%% ---------------------------------------------------------------- relup, the library

%% -v/-u and their errors, on an output directory holding 1.0.0 and 2.0.0.
relup_options_test_() ->
    {timeout, 300, fun() ->
        prerequisites(),
        Dir = project("relup_opts", relx("1.0.0")),
        Out = filename:join([Dir, "_build", "default", "rel", "example_server"]),
        {0, _} = rebar3(Dir, ["fastrel", "release"]),
        {1, NoBase} = rebar3(Dir, ["fastrel", "relup"]),
        ?assert(has(NoBase, "No release of example_server older than 1.0.0")),
        relx_config(Dir, relx("2.0.0")),
        set_app_vsn(Dir, "2.0.0"),
        appup(Dir, {"2.0.0", [{"1.0.0", [{load_module, example_server}]}], [{"1.0.0", [{load_module, example_server}]}]}),
        {1, Missing} = rebar3(Dir, ["fastrel", "relup", "-u", "0.9.0"]),
        ?assert(has(Missing, "Upfrom release example_server 0.9.0 not found (releases built: 1.0.0, 2.0.0)")),
        {0, _} = rebar3(Dir, ["fastrel", "relup", "--upfrom", "1.0.0", "-v", "2.0.0", "-n", "example_server"]),
        {ok, [{"2.0.0", [{"1.0.0", _, _}], _}]} = file:consult(filename:join([Out, "releases", "2.0.0", "relup"])),
        %% The escript (built by `rebar3 escriptize', as scripts/suite.sh does first).
        Escript = filename:join([repo(), "_build", "default", "bin", "fastrel"]),
        ?assert(filelib:is_regular(Escript)),
        Relup = filename:join([Out, "releases", "2.0.0", "relup"]),
        ok = file:delete(Relup),
        ?assertMatch({0, _}, run(Escript, ["relup", Out, "-n", "example_server", "-v", "2.0.0", "-u", "1.0.0"], [])),
        {ok, [{"2.0.0", [{"1.0.0", _, _}], _}]} = file:consult(Relup),
        ?assertEqual({1, "fastrel: Upfrom release example_server 0.9.0 not found (releases built: 1.0.0, 2.0.0)\n"},
                     run(Escript, ["relup", Out, "--upfrom", "0.9.0"], [])),
        ?assertMatch({2, "fastrel: unknown option for relup: --bogus" ++ _}, run(Escript, ["relup", Out, "--bogus"], [])),
        %% The library (what `fastrel relup REL_DIR' runs): the base found again each time.
        ?assertEqual({ok, "1.0.0"}, fastrel_upgrade:upfrom(Out, "example_server", "2.0.0")),
        ?assertEqual(none, fastrel_upgrade:upfrom(Out, "example_server", "1.0.0")),
        ?assertEqual(["1.0.0", "2.0.0"], fastrel_upgrade:versions(Out, "example_server")),
        ?assertMatch({ok, #{vsn := "2.0.0", upfrom := "1.0.0"}},
                     fastrel_upgrade:relup(#{dir => Out, name => example_server}))
    end}.

version_order_test() ->
    Dir = filename:join([repo(), "_build", "upgrade_tests", "order-" ++ os:getpid()]),
    _ = file:del_dir_r(Dir),
    [ok = filelib:ensure_path(filename:join([Dir, "releases", V])) || V <- ["1.9.0", "1.10.0", "1.2.0", "2.0.0-rc1"]],
    [ok = file:write_file(filename:join([Dir, "releases", V, "r.rel"]), "") || V <- ["1.9.0", "1.10.0", "1.2.0", "2.0.0-rc1"]],
    ?assertEqual(["1.2.0", "1.9.0", "1.10.0", "2.0.0-rc1"], fastrel_upgrade:versions(Dir, "r")),
    ?assertEqual({ok, "1.9.0"}, fastrel_upgrade:upfrom(Dir, "r", "1.10.0")),
    ?assertEqual({ok, "1.10.0"}, fastrel_upgrade:upfrom(Dir, "r", "2.0.0")),
    ok = file:del_dir_r(Dir).
