%% SPDX-License-Identifier: Apache-2.0
%% The start script's hooks and extensions (extended_start_script_hooks,
%% extended_start_script_extensions) side by side with relx's start script on the same
%% project, then what fastrel adds: {pre|post, Command, Hooks} and
%% extended_start_script_commands. Every node is started on an epmd of the test's own and
%% killed by PID at the end; rebar3 and every script run are bounded in time.
-module(fastrel_hooks_tests).

-include_lib("eunit/include/eunit.hrl").
-import(fastrel_os, [rebar3/2, rebar3/3, run/3, run/4]).
-include("../erl_src/fastrel_config.hrl").

-import(fastrel_os, [wait_until/2, alive/1, kill/1, ppid_or_undefined/1]).

%%% ---------------------------------------------------------------- configuration

load(Terms) ->
    {ok, R} = fastrel_config:load([{release, {r, "1"}, []} | Terms], undefined),
    R.

error_text(Terms) ->
    {error, E} = fastrel_config:load([{release, {r, "1"}, []} | Terms], undefined),
    lists:flatten(fastrel_config:format_error(E)).

relx_forms_are_read_test() ->
    Hooks = [{pre_start, [{custom, "hooks/a.sh"}]},
             {post_start, [pid, {pid, "/tmp/x.pid"}, wait_for_vm_start, {wait_for_process, srv}]},
             {status, [builtin_status]},
             {pre, start, [{custom, "hooks/b.sh|x"}]}, {post, ping, [{custom, "hooks/c.sh"}]}],
    R = load([{extended_start_script_hooks, Hooks}, {extended_start_script_extensions, [{foo, "ext/foo"}]},
              {extended_start_script_commands, [start, stop, foo]}]),
    ?assertMatch(#relx{extended_start_script_hooks = [{pre_start, _}, {post_start, [_, _, _, _]}, {status, _},
                                                      {{pre, daemon}, _}, {{post, ping}, _}],
                       extended_start_script_extensions = [{foo, "ext/foo"}],
                       extended_start_script_commands = [daemon, foo, stop], unknown = []}, R),
    ?assertMatch(#relx{extended_start_script_hooks = [], extended_start_script_extensions = [],
                       extended_start_script_commands = all}, load([])).

bad_hooks_are_one_sentence_naming_the_key_test() ->
    ?assertEqual("relx configuration: pre_boot is not a phase of extended_start_script_hooks (pre_start, post_start, "
                 "pre_stop, post_stop, pre_install_upgrade, post_install_upgrade, status, {pre, Command, Hooks} "
                 "or {post, Command, Hooks})",
                 error_text([{extended_start_script_hooks, [{pre_boot, [{custom, "x"}]}]}])),
    ?assertEqual("relx configuration: pidfile (post_start in extended_start_script_hooks) is not a hook (pid, "
                 "{pid, File}, wait_for_vm_start, {wait_for_process, Name}, builtin_status or {custom, Script})",
                 error_text([{extended_start_script_hooks, [{post_start, [pidfile]}]}])),
    ?assertEqual("relx configuration: {wait_for_process,\"srv\"} (post_start in extended_start_script_hooks) is not "
                 "a hook (pid, {pid, File}, wait_for_vm_start, {wait_for_process, Name}, builtin_status or {custom, Script})",
                 error_text([{extended_start_script_hooks, [{post_start, [{wait_for_process, "srv"}]}]}])),
    ?assertEqual("relx configuration: pid cannot run in pre_start (extended_start_script_hooks): pid, "
                 "wait_for_vm_start and wait_for_process run in post_start only, around a command only {custom, Script}",
                 error_text([{extended_start_script_hooks, [{pre_start, [pid]}]}])),
    ?assertEqual("relx configuration: {post, console, ...} in extended_start_script_hooks would never run: "
                 "console replaces the start script with the VM or a shell",
                 error_text([{extended_start_script_hooks, [{post, console, [{custom, "x"}]}]}])),
    ?assertEqual("relx configuration: frob (in extended_start_script_hooks) is neither a command of the start "
                 "script nor an extension",
                 error_text([{extended_start_script_hooks, [{pre, frob, [{custom, "x"}]}]}])),
    ?assertEqual("relx configuration: frob (in extended_start_script_commands) is neither a command of the start "
                 "script nor an extension",
                 error_text([{extended_start_script_commands, [ping, frob]}])),
    ?assertEqual("relx configuration: extension ping (extended_start_script_extensions) has the name of a "
                 "built-in command of the start script",
                 error_text([{extended_start_script_extensions, [{ping, "x"}]}])),
    ?assertEqual("relx configuration: [{\"my-cmd\",\"x\"}] is not a valid value for extended_start_script_extensions "
                 "(a list of {Command, Script}, Command made of letters, digits and _)",
                 error_text([{extended_start_script_extensions, [{"my-cmd", "x"}]}])),
    %% A hook around an extension is fine whichever key comes first.
    ?assertMatch(#relx{}, load([{extended_start_script_hooks, [{post, foo, [{custom, "x"}]}]},
                                {extended_start_script_extensions, [{foo, "x"}]}])).

%%% ---------------------------------------------------------------- side by side with relx

project(Name, Relx, Files) ->
    Dir = fastrel_os:example_project("hooks_tests", Name, Relx),
    [ok = write(filename:join(Dir, F), Text) || {F, Text} <- Files],
    Dir.

write(F, Text) -> ok = filelib:ensure_dir(F), file:write_file(F, Text).

%% Hooks that log what they see (sourced: the script's variables and functions), a hook
%% exporting a variable to the VM, relx's built-ins, a failing status hook, extensions.
hook_files() ->
    [{"hooks/log.sh", "echo \"$1 rel=$REL_NAME vsn=$REL_VSN erts=$ERTS_VSN root=$RELEASE_ROOT_DIR "
                      "name=$NAME cwd=$(pwd) args=$*\" >> \"$HOOK_LOG\"\n"},
     {"hooks/export.sh", "HOOK_EXPORTED=\"from pre_start\"\nexport HOOK_EXPORTED\n"},
     {"hooks/registered.sh", "echo \"registered=$(erl_eval 'is_pid(whereis(example_server)).')\" >> \"$HOOK_LOG\"\n"},
     {"hooks/status.sh", "echo \"status hook: $*\" >> \"$HOOK_LOG\"\nexit 5\n"},
     {"extensions/mycmd.sh", "echo \"mycmd: $* ($REL_NAME $(relx_get_pid | wc -l))\"\n"
                             "[ \"$1\" = fail ] && exit 3\nexit 0\n"},
     {"extensions/noexit.sh", "echo \"noexit: $*\"\n"}].

overlays() ->
    [{copy, F, "bin/" ++ F} || {F, _} <- hook_files()].

hooks_relx() ->
    [{release, {example_server, "1.0.0"}, [example_server, sasl]},
     {include_erts, true}, {extended_start_script, true},
     {overlay, overlays()},
     {extended_start_script_hooks,
      [{pre_start, [{custom, "hooks/log.sh|pre_start"}, {custom, "hooks/export.sh"}]},
       {post_start, [{custom, "hooks/log.sh|post_start"}, {pid, "$RELEASE_ROOT_DIR/node.pid"},
                     {wait_for_process, example_server}, {custom, "hooks/registered.sh"}, wait_for_vm_start]},
       {pre_stop, [{custom, "hooks/log.sh|pre_stop"}]},
       {post_stop, [{custom, "hooks/log.sh|post_stop"}]},
       {pre_install_upgrade, [{custom, "hooks/log.sh|pre_install_upgrade"}]},
       {post_install_upgrade, [{custom, "hooks/log.sh|post_install_upgrade"}]},
       {status, [{custom, "hooks/status.sh"}]}]},
     {extended_start_script_extensions, [{mycmd, "extensions/mycmd.sh"}, {noexit, "extensions/noexit.sh"}]}].

same_hooks_as_relx_test_() ->
    {timeout, 600, fun() -> fastrel_os:with_epmd(fun same_hooks_as_relx/1) end}.

same_hooks_as_relx(Epmd) ->
    [?assertNotEqual({tool, T, false}, {tool, T, os:find_executable(T)}) || T <- ["rebar3", "epmd", "shellcheck"]],
    Dir = project("relx", hooks_relx(), hook_files()),
    {0, Out} = rebar3(Dir, ["fastrel", "release"]),
    ?assertEqual(nomatch, string:find(Out, "Unsupported")),
    ?assertEqual(nomatch, string:find(Out, "not in the release")),
    {0, _} = rebar3(Dir, ["release", "-o", filename:join(Dir, "relx")]),
    Ours = filename:join([Dir, "_build", "default", "rel", "example_server"]),
    Theirs = filename:join([Dir, "relx", "example_server"]),
    %% The same hook files where relx puts them.
    Files = fun(R) -> lists:sort([F -- R || F <- filelib:wildcard(R ++ "/bin/{hooks,extensions}/**"), not filelib:is_dir(F)]) end,
    ?assertEqual(Files(Theirs), Files(Ours)),
    ?assertEqual(["/bin/extensions/mycmd.sh", "/bin/extensions/noexit.sh", "/bin/hooks/builtin/pid",
                  "/bin/hooks/builtin/wait_for_process", "/bin/hooks/builtin/wait_for_vm_start"],
                 [F || F <- Files(Ours), string:find(F, "log.sh") =:= nomatch, lists:prefix("/bin/e", F) orelse
                                                                                  lists:prefix("/bin/hooks/builtin", F)]),
    ?assertEqual("", os:cmd("shellcheck -s sh " ++ filename:join([Ours, "bin", "example_server"]))),
    Node = "frhk" ++ os:getpid(),
    [ok = file:write_file(filename:join([R, "releases", "1.0.0", "vm.args"]), ["-sname ", Node, "\n-setcookie frhk\n"])
     || R <- [Ours, Theirs]],
    RelxRun = session(Theirs, Dir, Epmd),
    OurRun = session(Ours, Dir, Epmd),
    %% The same statuses, outputs and hook logs (the release root written ROOT).
    ?assertEqual(maps:get(steps, RelxRun), maps:get(steps, OurRun)),
    RelxLog = maps:get(log, RelxRun),
    OurLog = maps:get(log, OurRun),
    %% relx execs install_upgrade.escript: its post_install_upgrade hooks never run.
    Post = "post_install_upgrade rel=example_server vsn=1.0.0 erts=" ++ erlang:system_info(version)
           ++ " root=ROOT name=" ++ Node ++ "@" ++ string:trim(os:cmd("hostname -s")) ++ " cwd=ROOT args=post_install_upgrade",
    ?assertEqual(RelxLog, OurLog -- [Post]),
    ?assert(lists:member(Post, OurLog)),
    ?assertEqual(["pre_start", "post_start", "registered=true", "status", "pre_install_upgrade", "pre_stop", "post_stop"],
                 [hd(string:lexemes(L, " ")) || L <- RelxLog]),
    ?assert(lists:member("status hook: status extra", RelxLog)).

%% Runs one release's script through the hooks; returns the steps (command, status,
%% output) and the hook log, the release root replaced by ROOT.
session(Rel, Dir, Epmd) ->
    Bin = filename:join([Rel, "bin", "example_server"]),
    Log = filename:join(Dir, filename:basename(filename:dirname(Rel)) ++ ".log"),
    Env = [{"PIPE_DIR", filename:join(Rel, "pipes") ++ "/"}, {"HOOK_LOG", Log} | Epmd],
    Norm = fun(S) -> string:replace(S, Rel, "ROOT", all) end,
    Sh = fun(Args) -> {S, O} = run(Bin, Args, Env), {Args, S, lists:flatten(Norm(O))} end,
    {0, _} = run(Bin, ["daemon"], Env),
    {0, PidOut} = run(Bin, ["pid"], Env),
    Vm = string:trim(PidOut),
    try
        %% The pid hook wrote the VM's pid; the pre_start hook's export reached the VM.
        ?assertEqual({ok, list_to_binary(Vm ++ "\n")}, file:read_file(filename:join(Rel, "node.pid"))),
        Steps = [Sh(["eval", "os:getenv(\"HOOK_EXPORTED\")."]),
                 Sh(["mycmd", "a", "b c"]),
                 Sh(["mycmd", "fail"]),
                 Sh(["noexit", "x"]),
                 Sh(["status", "extra"])],
        %% Statuses differ here (relx's install_upgrade.escript against fastrel's own);
        %% the hooks that ran are compared through the log.
        _ = run(Bin, ["unpack", "1.0.0"], Env),
        {0, _} = run(Bin, ["stop"], Env),
        ?assert(wait_until(fun() -> not alive(Vm) end, 10000)),
        {ok, LogText} = file:read_file(Log),
        #{steps => Steps, log => [lists:flatten(Norm(L)) || L <- string:lexemes(binary_to_list(LogText), "\n")]}
    after
        kill([Vm, ppid_or_undefined(Vm)])
    end.

%%% ---------------------------------------------------------------- beyond relx

beyond_relx_test_() ->
    {timeout, 600, fun() -> fastrel_os:with_epmd(fun beyond_relx/1) end}.

beyond_relx(Epmd) ->
    Relx = [{release, {example_server, "1.0.0"}, [example_server, sasl]},
            {overlay, overlays()},
            {extended_start_script_hooks,
             [{pre, ping, [{custom, "hooks/log.sh|pre_ping"}]},
              {post, ping, [{custom, "hooks/log.sh|post_ping"}]},
              {post, mycmd, [{custom, "hooks/log.sh|post_mycmd"}]},
              {pre, start, [{custom, "hooks/log.sh|pre_daemon"}]},
              {post, daemon, [{custom, "hooks/log.sh|post_daemon"}]},
              {post_start, [{custom, "hooks/log.sh|post_start"}]}]},
            {extended_start_script_extensions, [{mycmd, "extensions/mycmd.sh"}]},
            {extended_start_script_commands, [daemon, stop, ping, pid]}],
    Dir = project("beyond", Relx, hook_files()),
    {0, _} = rebar3(Dir, ["fastrel", "release"]),
    Rel = filename:join([Dir, "_build", "default", "rel", "example_server"]),
    Bin = filename:join([Rel, "bin", "example_server"]),
    ?assertEqual("", os:cmd("shellcheck -s sh " ++ Bin)),
    ok = file:write_file(filename:join([Rel, "releases", "1.0.0", "vm.args"]),
                         ["-sname frhkb", os:getpid(), "\n-setcookie frhk\n"]),
    Log = filename:join(Dir, "beyond.log"),
    Env = [{"PIPE_DIR", filename:join(Rel, "pipes") ++ "/"}, {"HOOK_LOG", Log} | Epmd],
    %% daemon runs (its inner console is not listed, and runs all the same).
    {0, _} = run(Bin, ["start"], Env),
    {0, PidOut} = run(Bin, ["pid"], Env),
    Vm = string:trim(PidOut),
    try
        ?assertEqual({0, "pong\n"}, run(Bin, ["ping"], Env)),
        ?assertEqual({1, "example_server: eval is not available in this release\n"}, run(Bin, ["eval", "1."], Env)),
        ?assertEqual({1, "example_server: attach is not available in this release\n"}, run(Bin, ["attach"], Env)),
        ?assertMatch({1, "Unknown command: bogus\n" ++ _}, run(Bin, ["bogus"], Env)),
        {1, Help} = run(Bin, ["help"], Env),
        ?assertNotEqual(nomatch, string:find(Help, "Commands this release offers (the others exit 1): daemon pid ping stop")),
        ?assertNotEqual(nomatch, string:find(Help, "Extensions of this release: mycmd")),
        %% Extensions are always offered; post hooks run only when the command succeeded.
        {0, "mycmd: a (example_server 1)\n"} = run(Bin, ["mycmd", "a"], Env),
        {3, _} = run(Bin, ["mycmd", "fail"], Env),
        {0, _} = run(Bin, ["stop"], Env),
        ?assert(wait_until(fun() -> not alive(Vm) end, 10000)),
        ?assertMatch({1, "Node is not running!\n"}, run(Bin, ["ping"], Env)),
        {ok, LogText} = file:read_file(Log),
        ?assertEqual(["pre_daemon daemon", "post_start", "post_daemon daemon",
                      "pre_ping ping", "post_ping ping", "post_mycmd mycmd a", "pre_ping ping"],
                     [string:trim(hd(string:split(L, " rel="))) ++ args(L) || L <- string:lexemes(binary_to_list(LogText), "\n")])
    after
        kill([Vm, ppid_or_undefined(Vm)])
    end.

%% A hook's arguments after its own first one (the command and its arguments).
args(L) ->
    [_, A] = string:split(L, " args="),
    case string:split(A, " ") of
        [_] -> "";
        [_, Rest] -> " " ++ Rest
    end.

%% An unknown hook stops the build with the sentence naming the key.
unknown_hook_fails_the_build_test_() ->
    {timeout, 300, fun() ->
        Dir = project("bad", [{release, {example_server, "1.0.0"}, [example_server]},
                              {extended_start_script_hooks, [{post_start, [{wait_for, x}]}]}], []),
        {S, Out} = rebar3(Dir, ["fastrel", "release"]),
        ?assertNotEqual(0, S),
        ?assertNotEqual(nomatch, string:find(Out, "{wait_for,x} (post_start in extended_start_script_hooks) is not a hook"))
    end}.
