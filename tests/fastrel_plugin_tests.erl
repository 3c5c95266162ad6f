%% SPDX-License-Identifier: Apache-2.0
%% `rebar3 fastrel release|tar' on a real rebar3 project (the example server), with the
%% plugin loaded offline from `_checkouts' (and from a `file://' git URL), against
%% `rebar3 release|tar' (relx) on the same project. rebar3 runs as an OS process; every
%% one is bounded in time.
-module(fastrel_plugin_tests).

-include_lib("eunit/include/eunit.hrl").
-import(fastrel_os, [rebar3/2, rebar3/3, run/3, run/4]).

-import(fastrel_os, [wait_until/2, alive/1, kill/1, ppid/1, ppid_or_undefined/1, exe/1, collect/3]).

repo() -> {ok, Cwd} = file:get_cwd(), Cwd.

%% A project with the example server's sources and the plugin (fastrel_os).
project(Name, Relx) -> fastrel_os:example_project("plugin_tests", Name, Relx).

read(F) -> {ok, B} = file:read_file(F), B.

relx() ->
    [{release, {example_server, "1.0.0"}, [example_server, sasl]},
     {include_erts, true}, {extended_start_script, true}].

same_release_as_relx_test_() ->
    {timeout, 300, fun() ->
        Dir = project("same", relx()),
        %% What a build without ERTS left in the output goes when ERTS is bundled.
        Stale = filename:join(Dir, "_build/default/rel/example_server/fastrel/bin/fastrel_programs"),
        ok = filelib:ensure_dir(Stale),
        ok = file:write_file(Stale, <<"stale">>),
        {0, Out} = rebar3(Dir, ["fastrel", "release"]),
        ?assertNotEqual(nomatch, string:find(Out, "Release successfully assembled")),
        {0, _} = rebar3(Dir, ["release", "-o", filename:join(Dir, "relx")]),
        Ours = filename:join([Dir, "_build", "default", "rel", "example_server"]),
        Theirs = filename:join([Dir, "relx", "example_server"]),
        [?assertEqual({F, read(filename:join(Theirs, F))}, {F, read(filename:join(Ours, F))})
         || F <- ["releases/1.0.0/example_server.rel", "releases/1.0.0/start.boot",
                  "releases/1.0.0/start_clean.boot", "releases/1.0.0/no_dot_erlang.boot",
                  "releases/RELEASES", "releases/start_erl.data"]],
        List = fun(D) -> lists:sort([F -- D || F <- filelib:wildcard(D ++ "/**"), not filelib:is_dir(F)]) end,
        Relx = List(Theirs), Fastrel = List(Ours),
        ?assertEqual(["/bin/install_upgrade.escript", "/bin/nodetool"], Relx -- Fastrel),
        ErtsBin = "/erts-" ++ erlang:system_info(version) ++ "/bin/",
        %% One copy of fastrel's programs, in the bundled ERTS (no fastrel/bin).
        ?assertEqual([ErtsBin ++ "fastrel_programs"], Fastrel -- Relx),
        ?assertNot(filelib:is_file(filename:join(Ours, "fastrel"))),
        %% The bundled ERTS runs fastrel's programs: one executable, each program a link
        %% to it beside it.
        [begin
             ?assertEqual(read(filename:join([repo(), "priv", P])), read(Ours ++ Dir1 ++ P)),
             ?assertEqual({ok, "fastrel_programs"}, file:read_link(Ours ++ Dir1 ++ P))
         end || P <- ["heart", "run_erl", "to_erl"], Dir1 <- [ErtsBin]],
        %% tar: relx's entries, in relx's order, with fastrel's programs for relx's scripts.
        {0, TarOut} = rebar3(Dir, ["fastrel", "tar"]),
        ?assertNotEqual(nomatch, string:find(TarOut, "Tarball successfully created")),
        {0, _} = rebar3(Dir, ["tar", "-o", filename:join(Dir, "relx")]),
        Names = fun(F) -> {ok, T} = erl_tar:table(F, [compressed]), T end,
        RelxTar = Names(filename:join(Theirs, "example_server-1.0.0.tar.gz")),
        OurTar = Names(filename:join(Ours, "example_server-1.0.0.tar.gz")),
        Programs = [tl(ErtsBin) ++ P || P <- ["fastrel_programs", "heart", "run_erl", "to_erl"]],
        ?assertEqual((RelxTar -- ["bin/nodetool", "bin/install_upgrade.escript"]) -- Programs, OurTar -- Programs),
        %% The programs are one file and links to it beside it, in the tarball too, and
        %% erl_tar (release_handler's unpacker) makes them so.
        {ok, Verbose} = erl_tar:table(filename:join(Ours, "example_server-1.0.0.tar.gz"), [compressed, verbose]),
        ?assertEqual(lists:sort([{tl(ErtsBin) ++ P, symlink} || P <- ["heart", "run_erl", "to_erl"]]),
                     lists:sort([{N, T} || {N, T, _, _, _, _, _} <- Verbose, T =:= symlink])),
        Unpacked = filename:join(Dir, "unpacked"),
        ok = erl_tar:extract(filename:join(Ours, "example_server-1.0.0.tar.gz"), [compressed, {cwd, Unpacked}]),
        ?assertEqual({ok, "fastrel_programs"}, file:read_link(filename:join(Unpacked, tl(ErtsBin) ++ "heart"))),
        ?assertEqual(read(filename:join([repo(), "priv", "fastrel_programs"])),
                     read(filename:join(Unpacked, tl(ErtsBin) ++ "run_erl"))),
        {0, Help} = rebar3(Dir, ["help", "fastrel", "tar"]),
        ?assertNotEqual(nomatch, string:find(Help, "--reproducible"))
    end}.

unsupported_keys_are_named_and_include_erts_false_has_no_erts_test_() ->
    {timeout, 300, fun() ->
        Dir = project("keys", [{release, {example_server, "1.0.0"}, [example_server]},
                               {include_erts, false}, {extended_start_script_hooks, []}, {upfrom, "0.9"}]),
        {0, Out} = rebar3(Dir, ["fastrel", "release"]),
        %% extended_start_script_hooks is read (fastrel_hooks_tests), upfrom is not.
        ?assertNotEqual(nomatch, string:find(Out, "Unsupported relx keys (ignored): upfrom")),
        ?assertEqual(nomatch, string:find(Out, "extended_start_script_hooks")),
        Rel = filename:join([Dir, "_build", "default", "rel", "example_server"]),
        ?assertEqual([], filelib:wildcard(filename:join(Rel, "erts-*"))),
        ?assert(filelib:is_regular(filename:join([Rel, "fastrel", "bin", "heart"]))),
        {1, Bad} = rebar3(Dir, ["fastrel", "release", "-n", "nope"]),
        ?assertNotEqual(nomatch, string:find(Bad, "No release named nope")),
        %% A goal with a version gets that version or an error.
        ok = file:write_file(filename:join(Dir, "rebar.config"), io_lib:format(
               "{project_plugins, [fastrel]}.~n{relx, ~p}.~n",
               [[{release, {example_server, "1.0.0"}, [example_server, {sasl, "0.0.1"}]}]])),
        {1, Vsn} = rebar3(Dir, ["fastrel", "release"]),
        ?assertNotEqual(nomatch, string:find(Vsn, "Application sasl version 0.0.1 is wanted by the release"))
    end}.

%% This checkout's HEAD, which the git plugin tests fetch the plugin from. Outside a git
%% checkout they fail, unless told to skip (FASTREL_SKIP_GIT_TESTS=1).
head() ->
    case string:trim(os:cmd("git -C " ++ repo() ++ " rev-parse HEAD 2>/dev/null")) of
        Sha when length(Sha) =:= 40 -> {ok, Sha};
        Other ->
            case os:getenv("FASTREL_SKIP_GIT_TESTS") of
                "1" -> skip;
                _ -> error({not_a_git_checkout, repo(), Other, "FASTREL_SKIP_GIT_TESTS=1 skips the git plugin tests"})
            end
    end.

%% The plugin fetched offline from a git repository on disk (spec: the file:// scheme is
%% required), at this checkout's HEAD.
git_file_url_plugin_works_offline_test_() ->
    {timeout, 300, fun() ->
        case head() of
            {ok, Sha} ->
                Dir = project("git", relx()),
                ok = file:delete(filename:join([Dir, "_checkouts", "fastrel"])),
                ok = file:write_file(filename:join(Dir, "rebar.config"), io_lib:format(
                       "{project_plugins, [{fastrel, {git, ~p, {ref, ~p}}}]}.~n{relx, ~p}.~n",
                       ["file://" ++ repo(), Sha, relx()])),
                {0, Out} = rebar3(Dir, ["fastrel", "release"]),
                ?assertNotEqual(nomatch, string:find(Out, "Release successfully assembled"));
            skip ->
                ?debugMsg("not a git checkout (FASTREL_SKIP_GIT_TESTS=1): the file:// plugin test skipped")
        end
    end}.

%% A global plugin (REBAR_GLOBAL_CONFIG_DIR/.config/rebar3/rebar.config) serves a project
%% whose rebar.config names no plugin at all.
global_config_plugin_works_offline_test_() ->
    {timeout, 300, fun() ->
        case head() of
            {ok, Sha} ->
                Dir = project("global", relx()),
                ok = file:delete(filename:join([Dir, "_checkouts", "fastrel"])),
                ok = file:write_file(filename:join(Dir, "rebar.config"), io_lib:format("{relx, ~p}.~n", [relx()])),
                Global = filename:join(Dir, "global"),
                ok = filelib:ensure_path(filename:join([Global, ".config", "rebar3"])),
                ok = file:write_file(filename:join([Global, ".config", "rebar3", "rebar.config"]), io_lib:format(
                       "{plugins, [{fastrel, {git, ~p, {ref, ~p}}}]}.~n", ["file://" ++ repo(), Sha])),
                {0, Out} = rebar3(Dir, ["fastrel", "release"],
                                  [{"REBAR_GLOBAL_CONFIG_DIR", Global}, {"REBAR_CACHE_DIR", filename:join(Global, "cache")}]),
                ?assertNotEqual(nomatch, string:find(Out, "Release successfully assembled"));
            skip ->
                ?debugMsg("not a git checkout (FASTREL_SKIP_GIT_TESTS=1): the global-config plugin test skipped")
        end
    end}.

%%% ---------------------------------------------------------------- the start script

%% A release with `-heart' in its vm.args, run through bin/NAME: daemon, ping, pid, eval,
%% rpc, versions, attach, kill -9 (back through fastrel's heart, the user's HEART_COMMAND
%% kept), stop (stays down). With and without a bundled ERTS.
start_script_test_() ->
    {timeout, 600, {inparallel, [{"include_erts " ++ atom_to_list(E),
                                  {timeout, 300, fun() -> fastrel_os:with_epmd(fun(Epmd) -> run_release(E, Epmd) end) end}}
                                 || E <- [true, false]]}}.

run_release(IncludeErts, Epmd) ->
    Node = "fr" ++ os:getpid() ++ atom_to_list(IncludeErts),
    Dir = project("run-" ++ atom_to_list(IncludeErts),
                  [{release, {example_server, "1.0.0"}, [example_server, sasl]}, {include_erts, IncludeErts}]),
    ok = filelib:ensure_path(filename:join(Dir, "config")),
    ok = file:write_file(filename:join([Dir, "config", "vm.args"]),
                         ["-sname ", Node, "\n-setcookie fastrel_test\n-heart\n-env HEART_BEAT_TIMEOUT 10\n"]),
    {0, _} = rebar3(Dir, ["fastrel", "release"]),
    Rel = filename:join([Dir, "_build", "default", "rel", "example_server"]),
    Bin = filename:join([Rel, "bin", "example_server"]),
    ?assertEqual("", os:cmd("shellcheck -s sh " ++ Bin)),
    Pipes = filename:join(Dir, "pipes") ++ "/",
    UserCmd = "\"" ++ Bin ++ "\" daemon # set by the user",
    Env = [{"PIPE_DIR", Pipes}, {"HEART_COMMAND", UserCmd} | Epmd],
    Pid = fun() ->
              case run(Bin, ["pid"], Env) of
                  {0, Out} -> string:trim(Out);
                  _ -> undefined
              end
          end,
    ?assertMatch({1, "Node is not running!" ++ _}, run(Bin, ["ping"], Env)),
    {0, _} = run(Bin, ["daemon"], Env),
    Vm1 = Pid(),
    {0, HeartOut} = run(Bin, ["eval", "{os_pid, P} = erlang:port_info(whereis(heart_port), os_pid), P."], Env),
    Heart1 = string:trim(HeartOut),
    RunErl1 = ppid(Vm1),
    try
        ?assertEqual({0, "pong\n"}, run(Bin, ["ping"], Env)),
        %% relx prints erl_call's rendering, {ok, X} unwrapped.
        ?assertEqual({0, Node ++ "@" ++ string:trim(os:cmd("hostname -s")) ++ "\n"}, run(Bin, ["eval", "node()."], Env)),
        ?assertMatch({0, _}, run(Bin, ["rpc", "erlang", "node"], Env)),
        {0, Versions} = run(Bin, ["versions"], Env),
        ?assertNotEqual(nomatch, string:find(Versions, "1.0.0")),
        %% fastrel's programs, also when the system's ERTS runs the node.
        Ours = fun(P) -> {ok, B} = file:read_file(filename:join([repo(), "priv", P])), B end,
        ?assertEqual({ok, Ours("heart")}, file:read_file(exe(Heart1))),
        ?assertEqual({ok, Ours("run_erl")}, file:read_file(exe(RunErl1))),
        %% The user's HEART_COMMAND reached the VM unchanged.
        {ok, Environ} = file:read_file("/proc/" ++ Vm1 ++ "/environ"),
        ?assert(lists:member(list_to_binary("HEART_COMMAND=" ++ UserCmd), binary:split(Environ, <<0>>, [global]))),
        %% attach (fastrel's to_erl) with piped stdin, ^D detaches, the node lives on.
        Attach = open_port({spawn_executable, Bin}, [{args, ["attach"]}, {env, Env}, exit_status, stderr_to_stdout, binary]),
        %% to_erl's banner: it has opened the pipes, input now reaches the node.
        _ = collect(Attach, <<"(^D to exit)">>, 20000),
        port_command(Attach, "io:format(\"attached-~p~n\", [6 * 7]).\n"),
        ?assertNotEqual(nomatch, binary:match(collect(Attach, <<"attached-42">>, 20000), <<"attached-42">>)),
        port_command(Attach, <<4>>),
        receive {Attach, {exit_status, 0}} -> ok after 10000 -> error(attach_stays) end,
        ?assertEqual({0, "pong\n"}, run(Bin, ["ping"], Env)),
        %% kill -9: fastrel's heart runs the user's command, the node is back.
        os:cmd("kill -9 " ++ Vm1),
        true = wait_until(fun() -> P = Pid(), alive(P) andalso P =/= Vm1 end, 60000),
        Vm2 = Pid(),
        {0, HeartOut2} = run(Bin, ["eval", "{os_pid, P} = erlang:port_info(whereis(heart_port), os_pid), P."], Env),
        Heart2 = string:trim(HeartOut2),
        RunErl2 = ppid(Vm2),
        try
            {0, _} = run(Bin, ["stop"], Env),
            ?assert(wait_until(fun() -> not alive(Vm2) end, 5000)),
            timer:sleep(3000),
            ?assertMatch({1, _}, run(Bin, ["ping"], Env))
        after
            kill([Heart2]), kill([Vm2, RunErl2])
        end
    after
        kill([Heart1]), kill([Vm1, RunErl1])
    end.

%%% ---------------------------------------------------------------- relx keys

%% The keys beyond the basics, against relx where relx's result is comparable:
%% overlays with variables, vm.args.src rendered at start from the environment,
%% exclude_modules, extend with per-release config, a {cmd, ...} version, prod mode
%% (stripped beams, bundled ERTS), relx.config when rebar.config has no relx section.
relx_keys_test_() ->
    {timeout, 300, fun() -> fastrel_os:with_epmd(fun relx_keys/1) end}.

relx_keys(Epmd) ->
    begin
        Node = "frkeys" ++ os:getpid(),
        Relx = [{release, {base, "1.0.0"}, [example_server]},
                {release, {example_server, {cmd, "echo 2.0.$((1+2))"}, {extend, base}}, [sasl],
                 [{overlay_vars_values, [{greeting, "hello"}]}]},
                {default_release, {example_server, "2.0.3"}},
                {mode, prod},
                {vm_args_src, "config/vm.args.src"},
                %% A module the application never calls: a release without one it needs
                %% would not boot (that it booted on OTP 25/27 at all was an accident).
                {exclude_modules, [{example_server, [example_server_notes]}]},
                {overlay, [{mkdir, "log/{{release_name}}"},
                           %% A trailing slash means "into this directory", made if missing;
                           %% a name that merely starts with "bin" is still packed.
                           {copy, "README.txt", "binaries/"},
                           {copy, "README.txt", "doc/README-{{release_version}}.txt"},
                           {template, "info.tmpl", "etc/info.txt"}]}],
        Dir = project("keys2", []),
        ok = file:write_file(filename:join([Dir, "src", "example_server_notes.erl"]),
                             "-module(example_server_notes).\n-export([note/0]).\nnote() -> unused.\n"),
        %% No relx section in rebar.config: relx.config is read instead.
        ok = file:write_file(filename:join(Dir, "rebar.config"), "{project_plugins, [fastrel]}.\n"),
        ok = file:write_file(filename:join(Dir, "relx.config"), [io_lib:format("~p.~n", [T]) || T <- Relx]),
        ok = file:write_file(filename:join(Dir, "README.txt"), "read me\n"),
        ok = file:write_file(filename:join(Dir, "info.tmpl"), "{{greeting}} from {{release_name}} {{release_version}}\n"),
        ok = filelib:ensure_path(filename:join(Dir, "config")),
        ok = file:write_file(filename:join([Dir, "config", "vm.args.src"]),
                             "-sname ${NODE_NAME}\n-setcookie fastrel_test\n"),
        {0, Out} = rebar3(Dir, ["fastrel", "release"]),
        ?assertNotEqual(nomatch, string:find(Out, "example_server-2.0.3")),
        Rel = filename:join([Dir, "_build", "default", "rel", "example_server"]),
        F = fun(P) -> filename:join(Rel, P) end,
        ?assert(filelib:is_dir(F("log/example_server"))),
        ?assertEqual({ok, <<"read me\n">>}, file:read_file(F("doc/README-2.0.3.txt"))),
        ?assertEqual({ok, <<"read me\n">>}, file:read_file(F("binaries/README.txt"))),
        {0, _} = rebar3(Dir, ["fastrel", "tar"]),
        {ok, Entries} = erl_tar:table(F("example_server-2.0.3.tar.gz"), [compressed]),
        [?assert(lists:member(E, Entries)) || E <- ["binaries/README.txt", "doc/README-2.0.3.txt", "etc/info.txt",
                                                    "releases/2.0.3/vm.args.src"]],
        ?assertEqual({ok, <<"hello from example_server 2.0.3\n">>}, file:read_file(F("etc/info.txt"))),
        ?assert(filelib:is_regular(F("releases/2.0.3/vm.args.src"))),
        %% extend: base's goals plus sasl; exclude_modules: the beam and the .app entry.
        {ok, [{release, _, _, Apps}]} = file:consult(F("releases/2.0.3/example_server.rel")),
        ?assertEqual([kernel, stdlib, sasl, example_server], [element(1, A) || A <- Apps]),
        ?assertNot(filelib:is_regular(F("lib/example_server-1.0.0/ebin/example_server_notes.beam"))),
        ?assert(filelib:is_regular(F("lib/example_server-1.0.0/ebin/example_server_sup.beam"))),
        {ok, [{application, _, Props}]} = file:consult(F("lib/example_server-1.0.0/ebin/example_server.app")),
        ?assertNot(lists:member(example_server_notes, proplists:get_value(modules, Props))),
        ?assert(lists:member(example_server_sup, proplists:get_value(modules, Props))),
        %% prod: ERTS bundled, no sources, beams stripped of debug info.
        ?assertNotEqual([], filelib:wildcard(F("erts-*"))),
        ?assertNot(filelib:is_dir(F("lib/example_server-1.0.0/src"))),
        {ok, _, Chunks} = beam_lib:all_chunks(F("lib/example_server-1.0.0/ebin/example_server.beam")),
        ?assertNot(lists:keymember("Dbgi", 1, Chunks)),
        %% vm.args.src rendered at start from the environment.
        Bin = F("bin/example_server"),
        Env = [{"PIPE_DIR", filename:join(Dir, "pipes") ++ "/"}, {"NODE_NAME", Node} | Epmd],
        {0, _} = run(Bin, ["daemon"], Env),
        {0, PidOut} = run(Bin, ["pid"], Env),
        Vm = string:trim(PidOut),
        try
            ?assertEqual({0, Node ++ "@" ++ string:trim(os:cmd("hostname -s")) ++ "\n"}, run(Bin, ["eval", "node()."], Env)),
            {0, _} = run(Bin, ["stop"], Env),
            ?assert(wait_until(fun() -> not alive(Vm) end, 10000))
        after
            kill([Vm, ppid_or_undefined(Vm)])
        end
    end.
