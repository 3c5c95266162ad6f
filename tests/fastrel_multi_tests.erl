%% SPDX-License-Identifier: Apache-2.0
%% Several releases of one project at once: `rebar3 fastrel release|tar --all', several
%% `-n', `-m a,b', on a relx configuration with `extend' and a release's own overlay,
%% against `rebar3 release --all' (relx) on the same project.
-module(fastrel_multi_tests).

-include_lib("eunit/include/eunit.hrl").
-import(fastrel_os, [rebar3/2, rebar3/3, run/3, run/4]).

%% base; full extends base (its own overlay replaces the global one); other extends
%% {base, "1.0.0"} with a goal of base's changed and one added.
relx() ->
    [{release, {base, "1.0.0"}, [example_server]},
     {release, {full, "1.0.0", {extend, base}}, [sasl], [{overlay, [{copy, "files/p.txt", "p.txt"}]}]},
     {release, {other, "2.0.0", {extend, {base, "1.0.0"}}}, [{example_server, load}, runtime_tools]},
     {overlay, [{copy, "files/g.txt", "g.txt"}]}, {debug_info, strip}].

project(Name, Relx) ->
    Dir = fastrel_os:example_project("multi_tests", Name, Relx),
    ok = filelib:ensure_path(filename:join(Dir, "files")),
    ok = file:write_file(filename:join([Dir, "files", "g.txt"]), "global\n"),
    ok = file:write_file(filename:join([Dir, "files", "p.txt"]), "own\n"),
    Dir.

rel_term(RelDir, Name, Vsn) ->
    {ok, [T]} = file:consult(filename:join([RelDir, "releases", Vsn, atom_to_list(Name) ++ ".rel"])),
    T.

%% Relative paths of the entries below Dir (the tarballs left out).
listing(Dir) ->
    lists:sort([F || F <- filelib:wildcard("**", Dir), not lists:suffix(".tar.gz", F)]).

%% Everything start.boot loads is in the release: each code path is a directory of it,
%% each module loaded at boot is a beam there.
check_boot(RelDir, Vsn) ->
    {ok, Bin} = file:read_file(filename:join([RelDir, "releases", Vsn, "start.boot"])),
    {script, _, Cmds} = binary_to_term(Bin),
    Paths = lists:append([[filename:join(RelDir, P -- "$ROOT/") || P <- Ps] || {path, Ps} <- Cmds]),
    ?assertEqual([], [P || P <- Paths, not filelib:is_dir(P)]),
    Mods = lists:append([Ms || {primLoad, Ms} <- Cmds]),
    ?assertMatch([_ | _], Mods),
    ?assertEqual([], [M || M <- Mods, [] =:= [P || P <- Paths, filelib:is_regular(filename:join(P, atom_to_list(M) ++ ".beam"))]]).

all_test_() ->
    {timeout, 600, fun() -> fastrel_os:with_epmd(fun all/1) end}.

all(Epmd) ->
    Dir = project("all", relx()),
    Node = "multi" ++ os:getpid(),
    ok = filelib:ensure_path(filename:join(Dir, "config")),
    ok = file:write_file(filename:join([Dir, "config", "vm.args"]), ["-sname ", Node, "\n-setcookie fastrel_test\n"]),
    {0, Out} = rebar3(Dir, ["fastrel", "tar", "--all"]),
    {0, _} = rebar3(Dir, ["release", "--all", "-o", filename:join(Dir, "relx")]),
    Rel = fun(N) -> filename:join([Dir, "_build", "default", "rel", atom_to_list(N)]) end,
    Relx = fun(N) -> filename:join([Dir, "relx", atom_to_list(N)]) end,
    [begin
         ?assertNotEqual(nomatch, string:find(Out, "Tarball successfully created: " ++ Rel(N) ++ "/"
                                              ++ atom_to_list(N) ++ "-" ++ V ++ ".tar.gz")),
         %% The same release as relx's: .rel, applications, overlays.
         ?assertEqual(rel_term(Relx(N), N, V), rel_term(Rel(N), N, V)),
         ?assertEqual([F || F <- listing(Relx(N)), lists:prefix("lib/", F) orelse not lists:member($/, F)],
                      [F || F <- listing(Rel(N)), lists:prefix("lib/", F) orelse not lists:member($/, F),
                            F =/= "fastrel"]),
         check_boot(Rel(N), V),
         {ok, Entries} = erl_tar:table(filename:join(Rel(N), atom_to_list(N) ++ "-" ++ V ++ ".tar.gz"), [compressed]),
         ?assert(lists:member("releases/" ++ V ++ "/start.boot", Entries)),
         %% Stripped once, copied stripped: no debug info in any release's beams.
         ?assertEqual([], [B || B <- filelib:wildcard(filename:join(Rel(N), "lib/*/ebin/*.beam")),
                                {ok, {_, [{debug_info, D}]}} <- [beam_lib:chunks(B, [debug_info])],
                                D =/= no_debug_info])
     end || {N, V} <- [{base, "1.0.0"}, {full, "1.0.0"}, {other, "2.0.0"}]],
    %% extend: goals inherited and merged per application, overlays not inherited.
    ?assertMatch({release, _, _, [_, _, _, {example_server, _, load}, {runtime_tools, _}]}, rel_term(Rel(other), other, "2.0.0")),
    ?assert(filelib:is_regular(filename:join(Rel(full), "p.txt"))),
    ?assertNot(filelib:is_regular(filename:join(Rel(full), "g.txt"))),
    ?assert(filelib:is_regular(filename:join(Rel(other), "g.txt"))),
    %% One of them boots and answers.
    Bin = filename:join([Rel(full), "bin", "full"]),
    Env = [{"PIPE_DIR", filename:join(Dir, "pipes") ++ "/"} | Epmd],
    {0, _} = run(Bin, ["daemon"], Env),
    try
        ?assertEqual({0, "pong\n"}, run(Bin, ["ping"], Env)),
        ?assertMatch({0, "{example_server," ++ _}, run(Bin, ["eval", "lists:keyfind(example_server, 1, application:which_applications())."], Env)),
        {0, _} = run(Bin, ["stop"], Env)
    after
        fastrel_os:kill_within(Rel(full))
    end.

%% -n twice and -m a,b build just those; a release that fails is named, the others are
%% still built, and the command fails.
some_test_() ->
    {timeout, 600, fun() ->
        Dir = project("some", relx() ++ [{release, {broken, "1.0.0"}, [no_such_app]}]),
        Rel = fun(N) -> filename:join([Dir, "_build", "default", "rel", atom_to_list(N)]) end,
        {0, _} = rebar3(Dir, ["fastrel", "release", "-n", "base", "-n", "other"]),
        ?assertEqual([true, false, true], [filelib:is_dir(Rel(N)) || N <- [base, full, other]]),
        %% In a namespace rebar3 splits commands at commas: -m takes spaces too.
        {0, _} = rebar3(Dir, ["fastrel", "release", "-m", "full base"]),
        ?assert(filelib:is_dir(Rel(full))),
        {1, Bad} = rebar3(Dir, ["fastrel", "release", "--all", "-o", filename:join(Dir, "all")]),
        ?assertNotEqual(nomatch, string:find(Bad, "Release broken: Application no_such_app not found")),
        ?assertEqual([true, true, true, false],
                     [filelib:is_regular(filename:join([Dir, "all", N, "releases", "start_erl.data"]))
                      || N <- ["base", "full", "other", "broken"]]),
        {1, Unknown} = rebar3(Dir, ["fastrel", "release", "-m", "base nope"]),
        ?assertNotEqual(nomatch, string:find(Unknown, "No release named nope"))
    end}.
